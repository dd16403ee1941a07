"""Two synthetic multi-task problems whose answers are known in closed form.

1. ``kendall_toy``: regression tasks with a shared input and KNOWN noise scales, the setting in which
   uncertainty weighting (Kendall, Gal & Cipolla 2018, "Multi-task learning using uncertainty to weigh losses
   for scene geometry and semantics") should learn each task's noise. Task ``t`` is
   ``y_t = f_t(x) + sigma_t * eps_t`` with ``x ~ N(0, I)``, ``eps_t ~ N(0, 1)`` independent, and
   ``f_t(x) = w_t . h(x)``: one shared random-feature map ``h(x) = tanh(A x)`` (``HIDDEN`` features) read out by
   a different weight vector per task, scaled so every ``f_t`` has unit variance. The Bayes-optimal predictor is
   ``f_t`` itself, its residual standard deviation is ``sigma_t``, and with the Gaussian likelihood
   ``L_t / (2 s_t^2) + log s_t`` the optimal learned scale is ``s_t = sigma_t``.

2. ``cagrad_toy_losses``: the two-objective toy of Liu et al. 2021 ("Conflict-averse gradient descent for
   multi-task learning", Fig. 1; adapted from the toy of Yu et al. 2020, "Gradient surgery for multi-task
   learning"), written as in the authors' code. Above the axis ``theta_2 = 0`` each loss is a log-valley
   weighted by ``tanh(theta_2 / 2)``; below it each is a quadratic bowl weighted by ``tanh(-theta_2 / 2)``:

       L_1 = c_up * (log max(|(-theta_1 - 7) / 2 - tanh(-theta_2)|, 5e-6) + 6)
             + c_down * (((theta_1 - 7)^2 + 0.1 (theta_2 + 8)^2) / 10 - 20)
       L_2 = c_up * (log max(|(-theta_1 + 3) / 2 + tanh(-theta_2) + 2|, 5e-6) + 6)
             + c_down * (((theta_1 + 7)^2 + 0.1 (theta_2 + 8)^2) / 10 - 20)

   with ``c_up = max(tanh(theta_2 / 2), 0)`` and ``c_down = max(tanh(-theta_2 / 2), 0)``. The runs start from
   ``CAGRAD_TOY_STARTS``.

   Pareto set (derived here; the paper draws it as the segment ``theta_1 in [-7, 7]``, ``theta_2 = -8.3552``).
   Below the axis ``L_i = tanh(-theta_2 / 2) * bowl_i``. Minimising ``w L_1 + (1 - w) L_2`` over ``theta_1``
   gives ``theta_1 = 7 (2w - 1)`` and leaves ``phi_w(theta_2) = tanh(-theta_2 / 2) (19.6 w (1 - w)
   + 0.01 (theta_2 + 8)^2 - 20)``, whose minimum over ``theta_2 < 0`` is the one root of ``phi_w'`` in
   ``(-12, -8)`` (``phi_w' > 0`` on ``(-8, 0)``). Above the axis no loss goes below ``log(5e-6) + 6 = -6.2``,
   while every point of the curve has one loss below ``-15``, so nothing there dominates it. The Pareto set is
   therefore the curve ``w -> (7 (2w - 1), theta_2*(w))``, ``w in [0, 1]``: it bends from ``theta_2 = -8.4345``
   at the two single-task minima ``(+-7, -8.4345)`` up to ``-8.3551`` at ``theta_1 = 0`` (the minimum of the
   mean loss, the paper's star). Along it the two gradients are anti-parallel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from mlbook.validate import check_positive_int, check_same_length, check_seed, check_tensor

HIDDEN = 16
CAGRAD_TOY_STARTS = torch.tensor([[-8.5, 7.5], [-8.5, -5.0], [9.0, 9.0]])
_LOG_FLOOR = 5e-6
_REFERENCE_SAMPLES = 8192


@dataclass
class NoisyRegression:
    """Samples ``x`` ``[n, in_features]`` and targets ``y`` ``[n, T]``; the truth behind them: the noise-free
    targets ``mean`` ``[n, T]`` (``f_t(x)``), the shared features ``features = tanh(x @ projection)``
    ``[n, HIDDEN]``, the per-task ``readout`` ``[HIDDEN, T]`` (``mean = features @ readout``) and the noise
    scales ``sigmas`` ``[T]``."""

    x: torch.Tensor
    y: torch.Tensor
    mean: torch.Tensor
    features: torch.Tensor
    projection: torch.Tensor
    readout: torch.Tensor
    sigmas: torch.Tensor

    def __post_init__(self) -> None:
        for name in ("x", "y", "mean", "features"):
            check_tensor(name, getattr(self, name), ndim=2)
            check_same_length("x", self.x, name, getattr(self, name))
        check_tensor("sigmas", self.sigmas, ndim=1, non_empty=True)
        for name in ("y", "mean"):
            if getattr(self, name).shape[1] != len(self.sigmas):
                raise ValueError(
                    f"{name} must have one column per task (len(sigmas) = {len(self.sigmas)}), got "
                    f"shape {tuple(getattr(self, name).shape)}"
                )
        check_tensor("projection", self.projection, ndim=2)
        check_tensor("readout", self.readout, ndim=2)


def kendall_toy(
    n: int, sigmas: Sequence[float] = (1.0, 4.0), seed: int = 0, in_features: int = 4, function_seed: int = 0
) -> NoisyRegression:
    """``n`` samples of the noisy regression tasks (one per entry of ``sigmas``; see the module docstring).

    ``function_seed`` fixes the functions ``f_t`` and ``seed`` the samples: calls that differ only in ``seed``
    give independent train and test sets of the same tasks.
    """
    check_positive_int("n", n)
    check_seed("seed", seed)
    check_positive_int("in_features", in_features)
    check_seed("function_seed", function_seed)
    scales = _check_sigmas(sigmas)
    projection, readout = _random_functions(in_features, len(scales), function_seed)
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, in_features, generator=generator)
    features = torch.tanh(x @ projection)
    mean = features @ readout
    y = mean + scales * torch.randn(n, len(scales), generator=generator)
    return NoisyRegression(x, y, mean, features, projection, readout, scales)


def _check_sigmas(sigmas: Sequence[float]) -> torch.Tensor:
    try:
        scales = torch.as_tensor(sigmas, dtype=torch.float32)
    except (TypeError, ValueError) as error:
        raise ValueError(f"sigmas must be a sequence of positive numbers, got {sigmas!r}") from error
    if scales.ndim != 1 or len(scales) == 0 or not bool((scales > 0).all() and scales.isfinite().all()):
        raise ValueError(f"sigmas must be a non-empty sequence of positive numbers (one per task), got {sigmas!r}")
    return scales


def _random_functions(in_features: int, tasks: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The shared projection ``A`` and a readout whose every column gives a unit-variance ``f_t``."""
    generator = torch.Generator().manual_seed(seed)
    projection = torch.randn(in_features, HIDDEN, generator=generator)
    readout = torch.randn(HIDDEN, tasks, generator=generator)
    reference = torch.tanh(torch.randn(_REFERENCE_SAMPLES, in_features, generator=generator) @ projection)
    return projection, readout / (reference @ readout).std(dim=0)


def cagrad_toy_losses(theta: torch.Tensor) -> torch.Tensor:
    """``[..., 2]`` losses ``(L_1, L_2)`` at ``theta`` ``[..., 2]`` (differentiable, any batch shape)."""
    if not isinstance(theta, torch.Tensor) or not theta.is_floating_point() or theta.ndim == 0 or theta.shape[-1] != 2:
        shape = tuple(theta.shape) if isinstance(theta, torch.Tensor) else type(theta).__name__
        raise ValueError(f"theta must be a floating-point tensor of shape [..., 2], got {shape}")
    x1, x2 = theta.unbind(-1)
    up = torch.tanh(x2 / 2).clamp(min=0)
    down = torch.tanh(-x2 / 2).clamp(min=0)
    valley1 = torch.log(((-x1 - 7) / 2 - torch.tanh(-x2)).abs().clamp(min=_LOG_FLOOR)) + 6
    valley2 = torch.log(((-x1 + 3) / 2 + torch.tanh(-x2) + 2).abs().clamp(min=_LOG_FLOOR)) + 6
    bowl1 = ((x1 - 7) ** 2 + 0.1 * (x2 + 8) ** 2) / 10 - 20
    bowl2 = ((x1 + 7) ** 2 + 0.1 * (x2 + 8) ** 2) / 10 - 20
    return torch.stack([up * valley1 + down * bowl1, up * valley2 + down * bowl2], dim=-1)


def cagrad_toy_pareto_set(n_points: int = 101) -> torch.Tensor:
    """``[n_points, 2]`` float64 points of the Pareto set, from ``(-7, .)`` (L_2's minimum) to ``(7, .)`` (L_1's).

    Point ``i`` minimises ``w L_1 + (1 - w) L_2`` for ``w = i / (n_points - 1)`` (see the module docstring);
    ``theta_2`` is found by bisection to float64 precision.
    """
    check_positive_int("n_points", n_points, minimum=2)
    w = torch.linspace(0, 1, n_points, dtype=torch.float64)
    x1_part = 19.6 * w * (1 - w)  # min over theta_1 of (w (theta_1 - 7)^2 + (1 - w) (theta_1 + 7)^2) / 10
    low = torch.full_like(w, -12.0)
    high = torch.full_like(w, -8.0)
    for _ in range(64):  # phi_w' < 0 at low, > 0 at high: halve the bracket
        middle = (low + high) / 2
        rising = _scalarised_slope(middle, x1_part) > 0
        high = torch.where(rising, middle, high)
        low = torch.where(rising, low, middle)
    return torch.stack([7 * (2 * w - 1), (low + high) / 2], dim=1)


def _scalarised_slope(x2: torch.Tensor, offset: torch.Tensor) -> torch.Tensor:
    """``d/dx2 [tanh(-x2 / 2) * (offset + 0.01 (x2 + 8)^2 - 20)]``."""
    t = torch.tanh(-x2 / 2)
    return -0.5 * (1 - t**2) * (offset + 0.01 * (x2 + 8) ** 2 - 20) + t * 0.02 * (x2 + 8)
