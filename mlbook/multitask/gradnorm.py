"""GradNorm (Chen, Badrinarayanan, Lee & Rabinovich 2018, "GradNorm: gradient normalization for adaptive loss
balancing in deep multitask networks").

The total loss is sum_t w_t L_t with learnable task weights w_t. GradNorm moves the weights so that every task's
gradient on the last shared layer W has a norm proportional to how far behind that task is in training:

    G_W^t  = || ∇_W (w_t L_t) || = w_t || ∇_W L_t ||                      (the task's gradient norm)
    r_t    = L̃_t / mean_s L̃_s,   L̃_t = L_t / L_t(0)                       (relative inverse training rate)
    L_grad = sum_t | G_W^t − mean_s(G_W^s) · r_t^α |                         (target held constant)

Only the weights are trained on L_grad (the network is trained on sum_t w_t L_t), and after each step they are
renormalised to sum to T. α sets how strongly slow tasks are pushed (α = 0: equal gradient norms); the paper uses
α = 1.5 for its NYUv2 experiments. L_t(0) is the first loss seen. Since w_t is a scalar, ||∇_W (w_t L_t)|| =
w_t ||∇_W L_t|| with the norm computed once, without a graph: so no second-order derivative is needed and the
gradient of L_grad reaches the weights alone.

A training step with a model whose last shared weight matrix is ``W``::

    method(losses).backward(retain_graph=True)             # model gradients: sum_t w_t L_t (weights get none)
    method.gradnorm_loss(losses, [W]).backward()           # weight gradients only
    optimizer.step(); method.renormalise()
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import nn

from mlbook.multitask.weighting import LossWeighting, check_losses
from mlbook.validate import check_non_negative


class GradNorm(LossWeighting):
    """Learnable weights ``task_weights`` (initialised at 1) balanced by GradNorm's loss with asymmetry ``alpha``."""

    #: ``renormalise`` first lifts every weight to at least this, so weights stay positive after any step.
    min_weight = 1e-3

    def __init__(self, n_tasks: int, alpha: float = 1.5) -> None:
        super().__init__(n_tasks)
        check_non_negative("alpha", alpha)
        self.alpha = float(alpha)
        self.task_weights = nn.Parameter(torch.ones(n_tasks))
        self.register_buffer("initial_losses", torch.full((n_tasks,), math.nan))

    def weights(self) -> torch.Tensor:
        return self.task_weights.detach().clone()

    def forward(self, losses: torch.Tensor) -> torch.Tensor:
        """sum_t w_t L_t with the weights held constant (they learn from ``gradnorm_loss`` only)."""
        check_losses(losses, self.n_tasks)
        self._record_initial_losses(losses)
        return (self.task_weights.detach().to(losses) * losses).sum()

    def gradnorm_loss(
        self, losses: torch.Tensor, shared_layer_params: torch.Tensor | Sequence[torch.Tensor]
    ) -> torch.Tensor:
        """L_grad for these task losses; ``shared_layer_params``: the last shared layer's weight(s), W.

        The graph of ``losses`` is kept (``retain_graph=True``), so the model's backward can come before or after.
        """
        check_losses(losses, self.n_tasks)
        if not losses.requires_grad:
            raise ValueError("losses must require grad (GradNorm differentiates them with respect to the shared layer)")
        params = self._check_params(shared_layer_params)
        self._record_initial_losses(losses)
        norms = torch.stack([self._gradient_norm(losses, t, params) for t in range(self.n_tasks)])
        grad_norms = self.task_weights.to(norms) * norms  # G_W^t; w_t > 0 after every renormalise
        training_rates = losses.detach() / self.initial_losses.to(losses)
        relative_rates = training_rates / training_rates.mean()
        target = (grad_norms.mean() * relative_rates**self.alpha).detach()
        return (grad_norms - target).abs().sum()

    @torch.no_grad()
    def renormalise(self) -> None:
        """Lift every weight to at least ``min_weight``, then rescale the weights to sum to T."""
        lifted = self.task_weights.clamp_min(self.min_weight)
        self.task_weights.copy_(self.n_tasks * lifted / lifted.sum())

    def after_step(self, losses: torch.Tensor | None = None) -> None:
        self.renormalise()

    def _record_initial_losses(self, losses: torch.Tensor) -> None:
        if not bool(torch.isnan(self.initial_losses).any()):
            return
        if not bool((losses > 0).all()):
            raise ValueError(f"the first losses must be positive (GradNorm divides by L_t(0)), got {losses.tolist()}")
        self.initial_losses.copy_(losses.detach())

    @staticmethod
    def _check_params(shared_layer_params) -> list[torch.Tensor]:
        params = [shared_layer_params] if isinstance(shared_layer_params, torch.Tensor) else list(shared_layer_params)
        if not params or not all(isinstance(p, torch.Tensor) and p.requires_grad for p in params):
            raise ValueError("shared_layer_params must be tensors that require grad (the last shared layer's weights)")
        return params

    @staticmethod
    def _gradient_norm(losses: torch.Tensor, t: int, params: list[torch.Tensor]) -> torch.Tensor:
        grads = torch.autograd.grad(losses[t], params, retain_graph=True, allow_unused=True)
        return torch.sqrt(sum((g.pow(2).sum() for g in grads if g is not None), torch.zeros((), dtype=losses.dtype)))
