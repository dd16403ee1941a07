"""Normalises each feature over the examples (dim 0) instead of each embedding."""

import torch
import torch.nn.functional as F


def matching_attention(support_embeddings, query_embeddings):
    cosine = F.normalize(query_embeddings, dim=0) @ F.normalize(support_embeddings, dim=0).T
    return torch.softmax(cosine, dim=1)
