"""Inter-task affinity by look-ahead (Fifty et al. 2021, "Efficiently identifying task groupings").

How much does a step on task i's loss help task j? Take one SGD step of the shared parameters on L_i alone,
keep every task-specific parameter where it is, and measure task j's loss on the same batch before and after:

    Z_{i→j} = 1 − L_j(θ_sh − η ∇_{θ_sh} L_i, θ_j) / L_j(θ_sh, θ_j).

Z_{i→j} > 0: the step for task i also lowered task j's loss (the tasks help each other through the shared
parameters); Z_{i→j} < 0: it raised it (they conflict). The diagonal Z_{i→i} is the task's own progress. Fifty et
al. average Z over training; ``train_multitask(..., affinity_every=k)`` records it along the way.

η must be a *small* step, of the size training takes (Fifty et al. use the training learning rate): Z is meant to
measure the first-order effect ``η ∇L_i · ∇L_j / L_j``. With a step far outside that regime every Z, even a task's
own Z_{i→i}, turns negative (the step overshoots), and the matrix says nothing about the tasks: check the diagonal.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn
from torch.func import functional_call

from mlbook.multitask.losses import task_losses
from mlbook.validate import check_module, check_positive, check_tensor


def lookahead_affinity(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    loss_fns: Sequence[Callable] | None = None,
    lr: float = 1e-3,
) -> torch.Tensor:
    """The T x T matrix Z with Z[i, j] = Z_{i→j} on one batch (``lr`` is the look-ahead SGD step η)."""
    check_positive("lr", lr)
    check_module("model", model)
    if not callable(getattr(model, "shared_parameters", None)):
        raise TypeError(
            f"model must be a multi-task model with shared_parameters() (e.g. HardSharing), got {type(model).__name__}"
        )
    check_tensor("inputs", inputs, non_empty=True)
    names = {id(p): name for name, p in model.named_parameters()}
    shared = model.shared_parameters()
    losses = task_losses(model(inputs), targets, loss_fns)
    n_tasks = len(losses)
    affinity = torch.empty(n_tasks, n_tasks)
    for i in range(n_tasks):
        grads = torch.autograd.grad(losses[i], shared, retain_graph=True, allow_unused=True)
        stepped = {
            names[id(p)]: p.detach() - lr * g if g is not None else p.detach()
            for p, g in zip(shared, grads, strict=True)
        }
        with torch.no_grad():
            after = task_losses(functional_call(model, stepped, (inputs,)), targets, loss_fns)
        affinity[i] = 1.0 - after / losses.detach()
    return affinity
