"""MGDA, the multiple-gradient descent algorithm (Désidéri 2012; Sener & Koltun 2018).

Multi-task learning as multi-objective optimisation: step along the min-norm element d = J^T w* of the convex hull
of the task gradients (``min_norm.min_norm_weights``). Unless d = 0 (a Pareto-stationary point), every task loss
decreases to first order along -d, since g_t . d >= ||d||^2 for all t.

``normalization`` rescales the gradients before the min-norm problem, as in Sener & Koltun's code:
``"none"`` (default) uses G as is; ``"l2"`` uses the Gram of the unit gradients g_t / ||g_t||, i.e.
G_ij / (||g_i|| ||g_j||). Convention (theirs): the weights found on the normalised gradients multiply the *raw*
gradients (their code scales the raw losses by them). Their ``"loss"`` and ``"loss+"`` variants divide by the loss
values, which the Gram matrix does not contain, so they are not offered here.
"""

from __future__ import annotations

import torch

from mlbook.multitask.aggregator import Aggregator
from mlbook.multitask.min_norm import min_norm_weights
from mlbook.validate import check_choice, check_non_negative, check_positive_int


class MGDA(Aggregator):
    """Weights = min-norm weights of G (of the unit gradients' Gram with ``normalization="l2"``)."""

    NORMALIZATIONS = ("none", "l2")

    def __init__(self, normalization: str = "none", max_iter: int = 1000, tol: float = 1e-10) -> None:
        check_choice("normalization", normalization, self.NORMALIZATIONS)
        check_positive_int("max_iter", max_iter)
        check_non_negative("tol", tol)
        self.normalization = normalization
        self.max_iter = max_iter
        self.tol = tol

    def _compute_weights(self, gram: torch.Tensor) -> torch.Tensor:
        if self.normalization == "l2":
            norms = gram.diagonal().clamp_min(0.0).sqrt()
            norms = torch.where(norms > 0, norms, torch.ones_like(norms))  # a zero gradient stays zero
            gram = gram / torch.outer(norms, norms)
        return min_norm_weights(gram, max_iter=self.max_iter, tol=self.tol)

    def __repr__(self) -> str:
        return f"MGDA(normalization={self.normalization!r})"
