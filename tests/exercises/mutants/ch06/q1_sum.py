"""Wrong normalisation: sums the class embeddings instead of averaging them."""

import torch.nn.functional as F


def prototypes(support_embeddings, support_labels, n_way):
    return F.one_hot(support_labels, n_way).to(support_embeddings.dtype).T @ support_embeddings
