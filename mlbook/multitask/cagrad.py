"""CAGrad, conflict-averse gradient descent (Liu et al. 2021).

Look for the update d that maximises the worst task's local improvement, min_t g_t . d, while staying in a ball
around the average gradient g0 = (1/T) sum_t g_t:

    max_d min_t g_t . d   subject to   ||d - g0|| <= c ||g0||,   c in [0, 1).

With phi = c^2 ||g0||^2 its dual (the paper's, and the authors' code) is a small problem over the simplex,

    min_{w in simplex} F(w) = g_w . g0 + sqrt(phi) ||g_w||,   g_w = sum_t w_t g_t,

and the primal solution is d = g0 + sqrt(phi) / ||g_w|| g_w, a combination of the rows with weights
1/T + sqrt(phi) / ||g_w|| w. Everything is written with G: g_w . g0 = w^T G 1 / T, ||g_w||^2 = w^T G w,
||g0||^2 = 1^T G 1 / T^2. At the optimum min_t g_t . d = F(w*) (strong duality) and every task in the support of w*
attains that minimum (the optimality condition the tests check).

The dual is solved with scipy's SLSQP on the simplex (the authors' solver) from the uniform point, with the exact
gradient, on G scaled to unit trace (the weights do not depend on the scale of G).

Conventions:
- ``rescale=True`` (default, the authors' code default ``rescale=1``) divides the weights by 1 + c^2;
  ``rescale=False`` returns d itself, which is torchjd's ``CAGrad`` (torchjd 0.18 solves the same dual with cvxpy,
  which this environment does not have, so it is not compared in the tests).
- c = 0 gives the mean gradient g0 (divided by 1 + 0 = 1).
- if the optimal g_w is zero (up to rounding), the point is treated as Pareto-stationary and the weights are zero
  (torchjd's convention; the authors' code divides by ||g_w|| + 1e-8 instead).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.optimize import minimize

from mlbook.multitask.aggregator import Aggregator
from mlbook.validate import check_number


class CAGrad(Aggregator):
    """Conflict-averse aggregation with ball radius ``c`` times the norm of the mean gradient."""

    def __init__(self, c: float = 0.4, rescale: bool = True) -> None:
        check_number("c", c, low=0.0, high=1.0, high_open=True)
        if not isinstance(rescale, bool):
            raise TypeError(f"rescale must be a bool, got {rescale!r}")
        self.c = float(c)
        self.rescale = rescale

    def _compute_weights(self, gram: torch.Tensor) -> torch.Tensor:
        n_tasks = gram.shape[0]
        mean = torch.full((n_tasks,), 1.0 / n_tasks, dtype=gram.dtype)
        trace = float(gram.trace())
        g0_norm = max(float(mean @ gram @ mean), 0.0) ** 0.5 if trace > 0 else 0.0
        sqrt_phi = self.c * g0_norm
        if sqrt_phi == 0.0:
            weights = mean
        else:
            w = cagrad_dual_weights(gram / trace, self.c)
            gw_norm = max(float(w @ gram @ w), 0.0) ** 0.5
            if gw_norm <= 1e-9 * trace**0.5:
                weights = torch.zeros(n_tasks, dtype=gram.dtype)
            else:
                weights = mean + (sqrt_phi / gw_norm) * w
        return weights / (1.0 + self.c**2) if self.rescale else weights

    def __repr__(self) -> str:
        return f"CAGrad(c={self.c}, rescale={self.rescale})"


def cagrad_dual_weights(gram: torch.Tensor, c: float) -> torch.Tensor:
    """argmin over the simplex of F(w) (float64), by SLSQP from the uniform point with the exact gradient."""
    a = gram.detach().to(torch.float64).numpy()
    n_tasks = a.shape[0]
    if n_tasks == 1:
        return torch.ones(1, dtype=torch.float64)
    b = a.mean(axis=1)
    sqrt_phi = c * max(float(a.mean()), 0.0) ** 0.5
    smoothing = 1e-20 * max(float(np.trace(a)), 1e-300)  # keeps the gradient finite where g_w = 0

    def objective(w: np.ndarray) -> tuple[float, np.ndarray]:
        aw = a @ w
        norm = np.sqrt(max(float(w @ aw), 0.0) + smoothing)
        return float(w @ b + sqrt_phi * norm), b + sqrt_phi * aw / norm

    result = minimize(
        objective,
        np.full(n_tasks, 1.0 / n_tasks),
        jac=True,
        method="SLSQP",
        bounds=[(0.0, 1.0)] * n_tasks,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1.0, "jac": lambda w: np.ones_like(w)}],
        options={"ftol": 1e-15, "maxiter": 500},
    )
    w = np.clip(result.x, 0.0, None)
    return torch.from_numpy(w / w.sum())
