"""Wrong normalisation: sums the query losses instead of averaging."""

import torch.nn.functional as F


def protonet_loss(support_embeddings, support_labels, query_embeddings, query_labels, n_way):
    centres = prototypes(support_embeddings, support_labels, n_way)  # noqa: F821 (the reference's, in scope)
    logits = -((query_embeddings.unsqueeze(1) - centres.unsqueeze(0)) ** 2).sum(dim=-1)
    return F.cross_entropy(logits, query_labels, reduction="sum"), logits
