"""Loss weightings: the total loss sum_t w_t L_t of T task losses, with weights fixed, learned or adapted.

Every weighting is an ``nn.Module`` with ``forward(losses) -> scalar`` (the loss to backpropagate; ``losses`` is the
1-D tensor (L_1, ..., L_T)) and ``weights() -> Tensor[T]`` (the current task weights, detached). Stateful ones also
use the hooks ``after_step(losses)`` (after each optimiser step) and ``end_epoch(mean_losses)``.

* ``EqualWeighting``: w_t = 1, the plain sum.
* ``FixedWeighting(weights)``: hand-picked constants.
* ``UncertaintyWeighting`` (Kendall, Gal & Cipolla 2018, "Multi-task learning using uncertainty to weigh losses"):
  each task has a learnable s_t = log σ_t², its homoscedastic noise. From the Gaussian (regression) and the
  tempered softmax (classification) likelihoods the total loss is

      regression:      0.5 · exp(-s_t) · L_t + 0.5 · s_t     (= L_t / (2σ_t²) + log σ_t)
      classification:        exp(-s_t) · L_t + 0.5 · s_t     (= L_t / σ_t² + log σ_t)

  For a fixed L_t the regression term is smallest at s_t = log L_t (classification: s_t = log 2L_t): a task whose
  loss stays large learns a large σ_t and a small weight. The 0.5 · s_t term stops σ_t from growing without bound.
* ``DynamicWeightAverage`` (Liu, Johns & Davison 2019, "End-to-end multi-task learning with attention"): weights
  w_k(t) = K · softmax_k(r_k(t-1) / T) from the rate of descent r_k(t-1) = L_k(t-1) / L_k(t-2) of each task's
  mean epoch loss; a task whose loss falls slowly gets more weight. The first two epochs use w_k = 1.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from mlbook.validate import check_choice, check_positive, check_positive_int


def check_losses(losses, n_tasks: int, name: str = "losses") -> None:
    """Raise unless ``losses`` is a finite 1-D tensor of length ``n_tasks``."""
    if not isinstance(losses, torch.Tensor):
        raise TypeError(f"{name} must be a 1-D tensor of {n_tasks} task losses, got {type(losses).__name__}")
    if losses.shape != (n_tasks,):
        raise ValueError(f"{name} must be a 1-D tensor of length T={n_tasks}, got shape {tuple(losses.shape)}")
    if not bool(torch.isfinite(losses).all()):
        raise ValueError(f"{name} must be finite, got {losses.detach().tolist()}")


class LossWeighting(nn.Module):
    """Base class: ``forward(losses) = sum_t weights()[t] * losses[t]``; subclasses define ``weights()``."""

    def __init__(self, n_tasks: int) -> None:
        super().__init__()
        check_positive_int("n_tasks", n_tasks)
        self.n_tasks = n_tasks

    def weights(self) -> torch.Tensor:
        raise NotImplementedError

    def forward(self, losses: torch.Tensor) -> torch.Tensor:
        check_losses(losses, self.n_tasks)
        return (self.weights().to(losses) * losses).sum()

    def after_step(self, losses: torch.Tensor) -> None:
        """Called with the step's task losses after each optimiser step (a no-op unless a method needs it)."""

    def end_epoch(self, mean_losses: torch.Tensor | None = None) -> None:
        """Called at the end of each epoch with the epoch's mean task losses (a no-op unless a method needs it)."""


class EqualWeighting(LossWeighting):
    """The plain sum of the task losses."""

    def weights(self) -> torch.Tensor:
        return torch.ones(self.n_tasks)


class FixedWeighting(LossWeighting):
    """Constant weights chosen by hand, e.g. ``FixedWeighting([1.0, 0.1])`` (``n_tasks``: checks the count)."""

    def __init__(self, weights: Sequence[float] | torch.Tensor, n_tasks: int | None = None) -> None:
        if n_tasks is not None:
            check_positive_int("n_tasks", n_tasks)
        if isinstance(weights, str):
            raise TypeError(f"weights must be a sequence of numbers (one weight per task), got {weights!r}")
        try:
            values = torch.as_tensor(weights, dtype=torch.float32).detach().clone()
        except (TypeError, ValueError, RuntimeError) as error:
            raise TypeError(f"weights must be a sequence of numbers (one weight per task), got {weights!r}") from error
        if values.ndim != 1 or values.numel() == 0:
            raise ValueError(f"weights must be a non-empty 1-D sequence (one weight per task), got {weights!r}")
        if n_tasks is not None and values.numel() != n_tasks:
            raise ValueError(f"weights must have one entry per task (n_tasks={n_tasks}), got {values.numel()}")
        if not bool(torch.isfinite(values).all() and (values > 0).all()):
            raise ValueError(f"weights must be positive and finite, got {values.tolist()}")
        super().__init__(values.numel())
        self.register_buffer("fixed_weights", values)

    def weights(self) -> torch.Tensor:
        return self.fixed_weights.clone()


class UncertaintyWeighting(LossWeighting):
    """Kendall et al. (2018): learnable s_t = log σ_t² per task (``log_variances``, initialised at 0, i.e. σ_t = 1).

    ``kinds``: ``"regression"`` or ``"classification"`` per task (one string applies to all), which sets the factor
    in front of exp(-s_t) L_t: 0.5 for regression, 1 for classification (see the module docstring). Optimise
    ``self.parameters()`` together with the model's.
    """

    KINDS = ("regression", "classification")

    def __init__(self, n_tasks: int, kinds: str | Sequence[str] = "regression") -> None:
        super().__init__(n_tasks)
        kinds = [kinds] * n_tasks if isinstance(kinds, str) else list(kinds)
        if len(kinds) != n_tasks:
            raise ValueError(f"kinds must name one kind per task ({n_tasks}), got {len(kinds)}: {kinds!r}")
        for kind in kinds:
            check_choice("kinds", kind, self.KINDS)
        self.kinds = tuple(kinds)
        self.register_buffer("factors", torch.tensor([0.5 if kind == "regression" else 1.0 for kind in kinds]))
        self.log_variances = nn.Parameter(torch.zeros(n_tasks))

    def forward(self, losses: torch.Tensor) -> torch.Tensor:
        check_losses(losses, self.n_tasks)
        s = self.log_variances.to(losses)
        return (self.factors.to(losses) * torch.exp(-s) * losses + 0.5 * s).sum()

    def weights(self) -> torch.Tensor:
        """The effective weight of each loss: 0.5·exp(-s_t) (regression) or exp(-s_t) (classification)."""
        return (self.factors * torch.exp(-self.log_variances)).detach()

    def sigmas(self) -> torch.Tensor:
        """σ_t = exp(s_t / 2), the learned noise scale of each task."""
        return torch.exp(0.5 * self.log_variances).detach()


class DynamicWeightAverage(LossWeighting):
    """Liu et al. (2019). Give the epoch's mean losses to ``end_epoch(mean_losses)``, or call ``after_step(losses)``
    after every step and ``end_epoch()`` without arguments to use the mean of those."""

    def __init__(self, n_tasks: int, temperature: float = 2.0) -> None:
        super().__init__(n_tasks)
        check_positive("temperature", temperature)
        self.temperature = float(temperature)
        self.epoch_losses: list[torch.Tensor] = []  # mean losses of the last two finished epochs, oldest first
        self._step_losses: list[torch.Tensor] = []

    def weights(self) -> torch.Tensor:
        if len(self.epoch_losses) < 2:
            return torch.ones(self.n_tasks)
        rates = self.epoch_losses[-1] / self.epoch_losses[-2]
        return (self.n_tasks * torch.softmax(rates / self.temperature, dim=0)).float()

    def after_step(self, losses: torch.Tensor) -> None:
        check_losses(losses, self.n_tasks)
        self._step_losses.append(losses.detach().double().cpu())

    def end_epoch(self, mean_losses: torch.Tensor | None = None) -> None:
        if mean_losses is None:
            if not self._step_losses:
                raise ValueError("end_epoch() needs mean_losses, or after_step(losses) calls during the epoch")
            mean_losses = torch.stack(self._step_losses).mean(0)
        check_losses(mean_losses, self.n_tasks, name="mean_losses")
        if not bool((mean_losses > 0).all()):
            raise ValueError(f"mean_losses must be positive (DWA divides by them), got {mean_losses.tolist()}")
        self.epoch_losses = [*self.epoch_losses[-1:], mean_losses.detach().double().cpu()]
        self._step_losses = []
