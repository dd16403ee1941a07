"""The min-norm point of the convex hull of the task gradients (Sener & Koltun 2018, Algorithms 1 and 2).

    min_{w in simplex} || sum_t w_t g_t ||^2 = w^T G w,   G = J J^T.

Its solution d = J^T w* is the MGDA direction (Désidéri 2012): either d = 0 (the point is Pareto-stationary) or
-d is a descent direction for every task at once, since g_t . d >= ||d||^2 > 0 for all t (the optimality condition).

- T = 1: w = [1].
- T = 2: the exact closed form of Algorithm 1, gamma = clamp((g2 - g1) . g2 / ||g1 - g2||^2, 0, 1), w = [gamma,
  1 - gamma], written with Gram entries; when g1 = g2 every gamma is optimal and we return [1/2, 1/2].
- T > 2: Frank-Wolfe on the simplex from the uniform point with Algorithm 1 as its exact line search (the segment
  between the current point and a vertex is a two-point min-norm problem). Convention: plain Frank-Wolfe converges
  at rate 1/k when the solution lies on a face of the simplex (a task with weight 0, common under strong conflict),
  so we add two classical accelerations. Away steps (Lacoste-Julien & Jaggi 2015) move weight away from the worst
  task in use, with the same exact line search. After each step Wolfe's (1976) minor cycle jumps to the exact
  minimiser on the current support (a small KKT linear system), dropping tasks whose weight would turn negative.
  The answer is then exact as soon as the support is right, usually after a few steps. It stops when the
  Frank-Wolfe duality gap w^T G w - min_t (G w)_t (half of which bounds the excess of w^T G w over its minimum)
  falls below ``tol * max_t G_tt``.
"""

from __future__ import annotations

import torch

from mlbook.multitask.aggregator import check_gram
from mlbook.validate import check_non_negative, check_positive_int


def min_norm_weights(gram: torch.Tensor, max_iter: int = 1000, tol: float = 1e-10) -> torch.Tensor:
    """Weights w [T] on the simplex minimising w^T G w, in ``gram``'s dtype and device."""
    check_gram(gram)
    check_positive_int("max_iter", max_iter)
    check_non_negative("tol", tol)
    g = gram.detach().to(device="cpu", dtype=torch.float64)
    g = (g + g.T) / 2
    if g.shape[0] == 1:
        w = torch.ones(1, dtype=torch.float64)
    elif g.shape[0] == 2:
        w = _two_point_weights(g)
    else:
        w = _frank_wolfe(g, max_iter, tol)
    return w.to(device=gram.device, dtype=gram.dtype)


def _two_point_weights(gram: torch.Tensor) -> torch.Tensor:
    """Sener & Koltun's Algorithm 1: the min-norm point on the segment [g1, g2]."""
    g11, g12, g22 = gram[0, 0], gram[0, 1], gram[1, 1]
    gamma = _segment_step(g22 - g12, g11 + g22 - 2 * g12, 1.0)
    if gamma is None:  # g1 == g2: every point of the segment is the same vector
        gamma = 0.5
    return torch.stack([torch.as_tensor(gamma, dtype=gram.dtype), torch.as_tensor(1.0 - gamma, dtype=gram.dtype)])


def _segment_step(slope: torch.Tensor, curvature: torch.Tensor, max_step: float) -> float | None:
    """argmin over gamma in [0, max_step] of curvature/2 gamma^2 - slope gamma (an exact line search on a
    quadratic). None when the quadratic is flat (curvature 0), where every step is as good."""
    if float(curvature) <= 0.0:
        return None if float(slope) == 0.0 else (max_step if float(slope) > 0 else 0.0)
    return min(max(float(slope / curvature), 0.0), max_step)


def _frank_wolfe(gram: torch.Tensor, max_iter: int, tol: float) -> torch.Tensor:
    """Away-step Frank-Wolfe with exact line search for min w^T G w over the simplex (T > 2)."""
    n = gram.shape[0]
    w = torch.full((n,), 1.0 / n, dtype=gram.dtype)
    stop_gap = tol * float(gram.diagonal().max())
    for _ in range(max_iter):
        gw = gram @ w
        value = float(w @ gw)
        toward = int(torch.argmin(gw))
        fw_gap = value - float(gw[toward])
        if fw_gap <= stop_gap:
            break
        support = w > 0
        away = int(torch.argmax(torch.where(support, gw, torch.full_like(gw, -torch.inf))))
        away_gap = float(gw[away]) - value
        is_away_step = away_gap > fw_gap
        if not is_away_step:  # toward vertex e_toward: d = e_toward - w
            direction = -w.clone()
            direction[toward] += 1.0
            max_step = 1.0
        else:  # away from vertex e_away: d = w - e_away
            direction = w.clone()
            direction[away] -= 1.0
            max_step = float(w[away] / (1.0 - w[away]))
        step = _segment_step(-(direction @ gw), direction @ gram @ direction, max_step)
        if step is None or step == 0.0:
            break
        w = (w + step * direction).clamp_min(0.0)
        if is_away_step and step == max_step:
            w[away] = 0.0  # a drop step removes the away vertex exactly
        w = _polish_on_support(gram, w / w.sum())
    return w


def _polish_on_support(gram: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """Wolfe's minor cycle: jump to the minimiser of w^T G w on the affine hull of w's support (a KKT linear
    system); while it leaves the simplex, move toward it only until a weight hits zero and drop that task. Ends at
    the exact minimiser on the final support, never worse than w."""
    value = float(w @ gram @ w)
    while True:
        support = torch.nonzero(w > 0).flatten()
        target = torch.zeros_like(w)
        target[support] = _affine_minimiser(gram[support][:, support])
        if bool((target >= 0).all()):
            return target if float(target @ gram @ target) <= value else w
        leaving = target < 0
        ratios = w[leaving] / (w[leaving] - target[leaving])
        first = torch.nonzero(leaving).flatten()[int(torch.argmin(ratios))]
        w = (w + ratios.min() * (target - w)).clamp_min(0.0)
        w[first] = 0.0
        w = w / w.sum()


def _affine_minimiser(gram: torch.Tensor) -> torch.Tensor:
    """argmin of w^T G w subject to sum(w) = 1 (no sign constraint), from its KKT system [[G, 1], [1^T, 0]]."""
    k = gram.shape[0]
    kkt = torch.ones(k + 1, k + 1, dtype=gram.dtype)
    kkt[:k, :k] = gram
    kkt[k, k] = 0.0
    rhs = torch.zeros(k + 1, 1, dtype=gram.dtype)
    rhs[k] = 1.0
    return torch.linalg.lstsq(kkt, rhs).solution.flatten()[:k]
