"""One-hot without num_classes: a class absent from the support set loses its column."""

import torch.nn.functional as F


def matching_predict(attention, support_labels, n_way):
    return attention @ F.one_hot(support_labels).to(attention.dtype)
