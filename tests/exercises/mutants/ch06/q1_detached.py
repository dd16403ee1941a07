"""Detaches the embeddings, so no gradient reaches the encoder."""

import torch


def prototypes(support_embeddings, support_labels, n_way):
    embeddings = support_embeddings.detach()
    return torch.stack([embeddings[support_labels == c].mean(dim=0) for c in range(n_way)])
