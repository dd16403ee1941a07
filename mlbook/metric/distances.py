"""Distances and similarities between embeddings, and class means (prototypes).

Every function maps ``a`` ``[Q, D]`` and ``b`` ``[S, D]`` to a ``[Q, S]`` matrix. Distances are small for
similar pairs, similarities large; ``pairwise_logits`` turns either into "larger is more similar" scores.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from mlbook.validate import check_choice, check_labels, check_positive, check_positive_int, check_tensor


def _check_pair(a: torch.Tensor, b: torch.Tensor) -> None:
    """``a`` and ``b``: floating-point ``[rows, features]`` matrices with the same number of features."""
    for name, matrix in (("a", a), ("b", b)):
        check_tensor(name, matrix, floating=True)
        if matrix.ndim != 2:
            raise ValueError(f"{name} must be a [rows, features] matrix, got shape {tuple(matrix.shape)}")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"a and b must have the same number of features, got {a.shape[1]} and {b.shape[1]}")


def squared_euclidean(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``d[i, j] = ||a_i - b_j||^2``, computed exactly (no ``|a|^2 - 2ab + |b|^2`` cancellation).

    >>> squared_euclidean(torch.tensor([[0.0, 0.0]]), torch.tensor([[3.0, 4.0]]))
    tensor([[25.]])
    """
    _check_pair(a, b)
    return (a.unsqueeze(1) - b.unsqueeze(0)).pow(2).sum(dim=-1)


def euclidean(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``d[i, j] = ||a_i - b_j||``."""
    return squared_euclidean(a, b).clamp_min(1e-12).sqrt()


def cosine_similarity(a: torch.Tensor, b: torch.Tensor, eps: float = 1e-8) -> torch.Tensor:
    """``s[i, j] = a_i . b_j / (||a_i|| ||b_j||)`` in ``[-1, 1]`` (``eps``, a finite number > 0, guards against
    division by zero)."""
    _check_pair(a, b)
    check_positive("eps", eps)
    return F.normalize(a, dim=1, eps=eps) @ F.normalize(b, dim=1, eps=eps).T


def l1_distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``d[i, j] = sum_k |a_ik - b_jk|`` (the component-wise distance of Siamese networks, summed)."""
    _check_pair(a, b)
    return (a.unsqueeze(1) - b.unsqueeze(0)).abs().sum(dim=-1)


#: name -> (function, is_similarity)
DISTANCES = {
    "squared_euclidean": (squared_euclidean, False),
    "euclidean": (euclidean, False),
    "cosine": (cosine_similarity, True),
    "l1": (l1_distance, False),
}


def pairwise_logits(a: torch.Tensor, b: torch.Tensor, distance: str = "squared_euclidean") -> torch.Tensor:
    """Scores where larger means closer: minus a distance, or a similarity as is."""
    check_choice("distance", distance, list(DISTANCES))
    fn, is_similarity = DISTANCES[distance]
    scores = fn(a, b)
    return scores if is_similarity else -scores


def class_means(embeddings: torch.Tensor, labels: torch.Tensor, n_way: int) -> torch.Tensor:
    """``[n_way, D]`` mean embedding of each class ``0..n_way-1`` (the prototypes of a ProtoNet).

    Works for any order of the examples and any number of shots per class (even unequal ones).
    """
    check_positive_int("n_way", n_way)
    check_tensor("embeddings", embeddings, ndim=2, floating=True)
    check_labels("labels", labels, n_way)
    if labels.shape != (embeddings.shape[0],):
        raise ValueError(
            f"embeddings must be [S, D] and labels [S], got shapes {tuple(embeddings.shape)} and {tuple(labels.shape)}"
        )
    counts = torch.bincount(labels, minlength=n_way)
    if counts.numel() != n_way or bool((counts == 0).any()):
        raise ValueError(f"labels must cover every class 0..{n_way - 1} at least once, got counts {counts.tolist()}")
    sums = torch.zeros(n_way, embeddings.shape[1], dtype=embeddings.dtype, device=embeddings.device)
    sums.index_add_(0, labels, embeddings)
    return sums / counts.unsqueeze(1).to(embeddings.dtype)
