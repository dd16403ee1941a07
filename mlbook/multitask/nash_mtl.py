"""Nash-MTL, multi-task learning as a bargaining game (Navon et al. 2022).

The update d = sum_t alpha_t g_t is the Nash bargaining solution between tasks: it maximises
sum_t log(g_t . d) in a ball, and its weights alpha > 0 solve

    G alpha = 1 / alpha        (elementwise: alpha_t (G alpha)_t = 1 for every t).

That equation is the stationarity condition of the strictly convex function
f(alpha) = 1/2 alpha^T G alpha - sum_t log alpha_t on the positive orthant, so we solve it by damped Newton on f
(Hessian G + diag(1 / alpha^2), backtracking that keeps alpha > 0) from alpha_t = 1 / ||g_t||, the solution when the
gradients are orthogonal. Newton is affine-invariant: scaling J by s scales alpha by exactly 1/s (up to rounding).
Two consequences worth knowing: g_t . d = 1 / alpha_t > 0 for every task (each loss decreases to first order), and
||d||^2 = alpha^T G alpha = T whatever the gradients.

Differences from the paper's code (and torchjd's ``NashMTL``, which wraps it and needs cvxpy + ECOS, not installed
here, so it is not a test peer): they approximate the solution by at most 20 convex programs warm-started from the
previous step's alpha (stateful), and clip the update norm to ``max_norm = 1`` (which, for the exact solution, divides
the weights by sqrt(T)). This aggregator is stateless and returns the exact solution, unclipped.

A solution exists when no non-negative combination of the task gradients is zero (e.g. linearly independent
gradients); otherwise (for instance a task with a zero gradient) a clear ValueError is raised.
"""

from __future__ import annotations

import torch

from mlbook.multitask.aggregator import Aggregator
from mlbook.validate import check_positive, check_positive_int


class NashMTL(Aggregator):
    """Weights alpha > 0 with G alpha = 1 / alpha, to relative accuracy ``tol`` (at most ``max_iter`` Newton steps)."""

    def __init__(self, max_iter: int = 100, tol: float = 1e-10) -> None:
        check_positive_int("max_iter", max_iter)
        check_positive("tol", tol)
        self.max_iter = max_iter
        self.tol = tol

    def _compute_weights(self, gram: torch.Tensor) -> torch.Tensor:
        squared_norms = gram.diagonal()
        if bool((squared_norms <= 0).any()):
            raise ValueError(
                "gram has a zero diagonal entry (a task with a zero gradient): Nash-MTL's G alpha = 1/alpha "
                "has no solution"
            )
        alpha = squared_norms.rsqrt()
        for _ in range(self.max_iter):
            residual = alpha * (gram @ alpha) - 1.0
            if float(residual.abs().max()) <= self.tol:
                return alpha
            alpha = self._newton_step(gram, alpha)
            if alpha is None:
                break
        raise ValueError(
            f"Nash-MTL did not converge (at most {self.max_iter} Newton steps): G alpha = 1/alpha has no solution "
            "when a non-negative combination of the task gradients is zero (gram singular in a non-negative direction)"
        )

    @staticmethod
    def _newton_step(gram: torch.Tensor, alpha: torch.Tensor) -> torch.Tensor | None:
        """One damped Newton step on f(alpha) = alpha^T G alpha / 2 - sum log alpha, staying in alpha > 0; None
        when no step makes progress (f unbounded below: alpha runs off to infinity and the Hessian degenerates)."""

        def f(a: torch.Tensor) -> float:
            return float(a @ gram @ a / 2 - a.log().sum())

        gradient = gram @ alpha - 1.0 / alpha
        hessian = gram + torch.diag(alpha.pow(-2))
        step, info = torch.linalg.solve_ex(hessian, -gradient)
        if int(info) != 0 or not bool(torch.isfinite(step).all()):
            return None
        decrease = float(gradient @ step)  # < 0: a descent direction
        value = f(alpha)
        rounding = 1e-13 * max(1.0, abs(value))  # below this, f cannot tell better from worse
        t = 1.0
        while t > 1e-12:
            candidate = alpha + t * step
            if bool((candidate > 0).all()) and f(candidate) <= value + 0.25 * t * decrease + rounding:
                return candidate
            t /= 2
        return None

    def __repr__(self) -> str:
        return f"NashMTL(max_iter={self.max_iter}, tol={self.tol})"
