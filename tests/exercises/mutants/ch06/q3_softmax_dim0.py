"""Softmax over the queries (dim 0): rows do not sum to one."""

import torch
import torch.nn.functional as F


def matching_attention(support_embeddings, query_embeddings):
    cosine = F.normalize(query_embeddings, dim=1) @ F.normalize(support_embeddings, dim=1).T
    return torch.softmax(cosine, dim=0)
