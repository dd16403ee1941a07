"""Applies a second softmax to the class probabilities."""

import torch
import torch.nn.functional as F


def matching_predict(attention, support_labels, n_way):
    return torch.softmax(attention @ F.one_hot(support_labels, n_way).to(attention.dtype), dim=1)
