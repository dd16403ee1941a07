"""PCGrad, "gradient surgery" (Yu et al. 2020, Algorithm 1).

Two task gradients conflict when g_i . g_j < 0. For each task i, PCGrad starts from g_i^PC = g_i and, visiting the
other tasks j in a random order, removes from g_i^PC its component along g_j whenever they conflict:

    if g_i^PC . g_j < 0:   g_i^PC <- g_i^PC - (g_i^PC . g_j / ||g_j||^2) g_j

and the update is the SUM of the projected gradients, sum_i g_i^PC.

Conventions (stated because the paper leaves room):
- projections are against the ORIGINAL g_j, not its projected version (the paper's Algorithm 1 and the authors'
  code);
- for each task i a fresh random permutation of the tasks is drawn (i itself is skipped) from a
  ``torch.Generator`` the aggregator owns, seeded in the constructor: the same seed gives the same sequence of
  orders, and successive calls use new orders (the authors' code shuffles once per call and uses that one order
  for every task; the paper's "random order" allows both);
- the result is the sum (the paper's Algorithm 1; the authors' TensorFlow code sums too). torchjd 0.18's ``PCGrad``
  follows the same three conventions, drawing one ``torch.randperm(T)`` per task from torch's global generator, so
  it gives the same result as ``PCGrad(seed=s)`` after ``torch.manual_seed(s)``. (Some PyTorch ports average instead
  of summing: their result is ours divided by T.)

Every g_i^PC is a combination of the original rows, so the weights are tracked as coefficient vectors c_i
(g_i^PC = J^T c_i) and all inner products come from G: g_i^PC . g_j = (G c_i)_j.
"""

from __future__ import annotations

import torch

from mlbook.multitask.aggregator import Aggregator
from mlbook.validate import check_seed


class PCGrad(Aggregator):
    """Projecting conflicting gradients; ``seed`` seeds the generator of the random task orders."""

    def __init__(self, seed: int = 0) -> None:
        check_seed("seed", seed)
        self.seed = seed
        self.generator = torch.Generator().manual_seed(seed)

    def _compute_weights(self, gram: torch.Tensor) -> torch.Tensor:
        n_tasks = gram.shape[0]
        weights = torch.zeros(n_tasks, dtype=gram.dtype)
        for i in range(n_tasks):
            weights += self._projected_coefficients(gram, i, torch.randperm(n_tasks, generator=self.generator))
        return weights

    @staticmethod
    def _projected_coefficients(gram: torch.Tensor, i: int, order: torch.Tensor) -> torch.Tensor:
        """Coefficients c with g_i^PC = J^T c after projecting g_i away from the tasks in ``order``."""
        coefficients = torch.zeros(gram.shape[0], dtype=gram.dtype)
        coefficients[i] = 1.0
        for j in order.tolist():
            if j == i or gram[j, j] <= 0:  # a zero gradient conflicts with nothing
                continue
            inner = gram[j] @ coefficients  # g_i^PC . g_j
            if inner < 0:
                coefficients[j] -= inner / gram[j, j]
        return coefficients

    def __repr__(self) -> str:
        return f"PCGrad(seed={self.seed})"
