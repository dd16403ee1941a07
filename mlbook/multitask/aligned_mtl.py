"""Aligned-MTL, independent component alignment (Senushkin et al. 2023, Algorithm 1).

Conflicts and dominance between task gradients show as a badly conditioned system of gradients: G = J J^T with a
large ratio of eigenvalues. Aligned-MTL replaces J by the closest (Procrustes) matrix B J whose rows are orthogonal
and of equal norm. With G = V diag(lambda) V^T (keeping the rank r eigenvalues above rounding),

    B = sqrt(scale) V_r diag(lambda_r)^{-1/2} V_r^T,    so that (B J)(B J)^T = scale * V_r V_r^T,

i.e. the aligned gradients are orthogonal with squared norm ``scale`` (on the range of G). ``scale`` is the smallest
kept eigenvalue (``"min"``, the paper's choice, default), the median (``"median"``) or the mean (``"rmse"``, as in the
authors' code's option of that name). The update is the aligned gradients combined with preference weights
(1/T, ..., 1/T), so the weights on the rows of J are  B 1 / T.

Convention: torchjd 0.18's ``AlignedMTL`` (default preference vector = mean, eigenvalue cut-off
max(lambda) * T * eps, B = identity when G = 0); the tests check equality with it. The authors' code sums the aligned
gradients instead (preference weights 1): its update is T times ours.
"""

from __future__ import annotations

import torch

from mlbook.multitask.aggregator import Aggregator, check_gram
from mlbook.validate import check_choice

SCALE_MODES = ("min", "median", "rmse")


def balance_matrix(gram: torch.Tensor, scale_mode: str = "min") -> torch.Tensor:
    """The [T, T] matrix B of Aligned-MTL for a Gram matrix G (symmetric positive semi-definite)."""
    check_gram(gram)
    check_choice("scale_mode", scale_mode, SCALE_MODES)
    gram = (gram + gram.T) / 2
    eigenvalues, eigenvectors = torch.linalg.eigh(gram)
    cutoff = eigenvalues.max() * gram.shape[0] * torch.finfo(gram.dtype).eps
    kept = eigenvalues > cutoff
    if not bool(kept.any()):  # G = 0: nothing to align
        return torch.eye(gram.shape[0], dtype=gram.dtype, device=gram.device)
    eigenvalues, eigenvectors = eigenvalues[kept], eigenvectors[:, kept]
    if scale_mode == "min":
        scale = eigenvalues.min()
    elif scale_mode == "median":
        scale = eigenvalues.median()  # the lower middle value for an even count, as torch (and torchjd) do
    else:
        scale = eigenvalues.mean()
    return scale.sqrt() * (eigenvectors * eigenvalues.rsqrt()) @ eigenvectors.T


class AlignedMTL(Aggregator):
    """Weights B 1 / T, with B the balance matrix that makes the task gradients orthogonal and equally long."""

    def __init__(self, scale_mode: str = "min") -> None:
        check_choice("scale_mode", scale_mode, SCALE_MODES)
        self.scale_mode = scale_mode

    def _compute_weights(self, gram: torch.Tensor) -> torch.Tensor:
        n_tasks = gram.shape[0]
        return balance_matrix(gram, self.scale_mode) @ torch.full((n_tasks,), 1.0 / n_tasks, dtype=gram.dtype)

    def __repr__(self) -> str:
        return f"AlignedMTL(scale_mode={self.scale_mode!r})"
