"""Joint multi-task training: one loop for every way of combining T task losses (chapter 3).

A *method* is one of

* a ``LossWeighting`` (equal, fixed, uncertainty, dynamic weight average): backpropagate ``method(losses)``;
* ``GradNorm``: the same, plus its own loss on the gradient norms that moves only the task weights;
* an ``Aggregator`` (PCGrad, MGDA, CAGrad, Nash-MTL, Aligned-MTL, ...): per-task gradients of the shared
  parameters (the Jacobian J, T backward passes) combined into one update; task-specific parameters get the
  gradient of their own loss;
* ``OnRepresentation(aggregator)``: the same aggregator, but its weights computed from the gradients with respect
  to the shared *representation* (one backward pass through the heads only; Sener & Koltun's MGDA-UB).

The loop draws mini-batches without replacement (a fresh seeded permutation each epoch), takes ``steps`` Adam steps
and records per-task losses, task weights, wall time and, optionally, held-out metrics and look-ahead affinities.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from mlbook.multitask.affinity import lookahead_affinity
from mlbook.multitask.aggregator import Aggregator
from mlbook.multitask.gradnorm import GradNorm
from mlbook.multitask.jacobian import aggregated_backward
from mlbook.multitask.losses import MISSING, check_task_target, task_losses
from mlbook.multitask.weighting import LossWeighting
from mlbook.progress import progress_bar
from mlbook.utils import seed_everything
from mlbook.validate import check_module, check_positive, check_positive_int, check_same_length, check_tensor


@dataclass(frozen=True)
class OnRepresentation:
    """Use ``aggregator`` on gradients w.r.t. the shared representation z instead of the shared parameters."""

    aggregator: Aggregator

    def __post_init__(self) -> None:
        if not isinstance(self.aggregator, Aggregator):
            raise TypeError(f"aggregator must be an Aggregator, got {type(self.aggregator).__name__}")


@dataclass
class MultiTaskHistory:
    """Per-step task losses and weights; held-out metrics (step -> one value per task); look-ahead affinities."""

    losses: list[list[float]] = field(default_factory=list)
    weights: list[list[float]] = field(default_factory=list)
    evals: dict[int, list[float]] = field(default_factory=dict)
    affinities: dict[int, torch.Tensor] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def seconds_per_step(self) -> float:
        return self.seconds / max(len(self.losses), 1)

    def mean_affinity(self) -> torch.Tensor:
        """Z averaged over the recorded steps (Fifty et al.'s inter-task affinity)."""
        if not self.affinities:
            raise ValueError("no affinities recorded: train with affinity_every > 0")
        return torch.stack(list(self.affinities.values())).mean(0)


def check_method(method) -> None:
    if not isinstance(method, (LossWeighting, Aggregator, OnRepresentation)):
        raise TypeError(
            "method must be a LossWeighting (e.g. EqualWeighting()), an Aggregator (e.g. PCGrad()) or "
            f"OnRepresentation(aggregator), got {type(method).__name__}"
        )


def check_multitask_model(model: nn.Module, method) -> None:
    for attribute in ("shared_parameters", "task_parameters"):
        if not callable(getattr(model, attribute, None)):
            raise TypeError(f"model must have a {attribute}() method (see mlbook.multitask.HardSharing)")
    if isinstance(method, OnRepresentation) and not (
        callable(getattr(model, "representation", None)) and callable(getattr(model, "heads_forward", None))
    ):
        raise TypeError(
            "method=OnRepresentation(...) needs a model with representation() and heads_forward() (hard sharing), "
            f"got {type(model).__name__}"
        )


def check_examples(inputs_name: str, inputs, targets_name: str, targets, n_tasks: int) -> None:
    """Raise unless ``inputs`` and ``targets`` are finite tensors with the same number of examples and
    ``targets`` has one column per task."""
    check_tensor(inputs_name, inputs, non_empty=True, finite=True)
    check_tensor(targets_name, targets, ndim=2, finite=True)
    check_same_length(inputs_name, inputs, targets_name, targets)
    if targets.shape[1] != n_tasks:
        raise ValueError(
            f"{targets_name} must have one column per task ({n_tasks}, as the model has), got shape "
            f"{tuple(targets.shape)}"
        )


def check_method_fits(method, n_tasks: int) -> None:
    """Raise when a loss weighting was built for another number of tasks than the model has."""
    if isinstance(method, LossWeighting) and method.n_tasks != n_tasks:
        raise ValueError(
            f"method was built with n_tasks={method.n_tasks}, but the model has {n_tasks} tasks: "
            f"build it as {type(method).__name__}({n_tasks}, ...)"
        )


def last_shared_weight(model: nn.Module) -> nn.Parameter:
    """The weight matrix of the last shared layer: where GradNorm measures gradient norms."""
    weights = [p for p in model.shared_parameters() if p.dim() >= 2]
    if not weights:
        raise ValueError("model has no shared weight matrix for GradNorm to measure")
    return weights[-1]


def training_step(
    model: nn.Module,
    method,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    optimizer: torch.optim.Optimizer,
    loss_fns: Sequence[Callable] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """One optimiser step on one batch; returns the task losses and the weights the method gave them."""
    optimizer.zero_grad(set_to_none=True)
    if isinstance(method, OnRepresentation):
        z = model.representation(inputs)
        losses = task_losses(model.heads_forward(z), targets, loss_fns)
        weights = aggregated_backward(
            losses, model.shared_parameters(), model.task_parameters(), method.aggregator, representation=z
        )
    elif isinstance(method, Aggregator):
        losses = task_losses(model(inputs), targets, loss_fns)
        weights = aggregated_backward(losses, model.shared_parameters(), model.task_parameters(), method)
    else:
        losses = task_losses(model(inputs), targets, loss_fns)
        weights = method.weights()
        if isinstance(method, GradNorm):
            gradnorm_backward(model, method, losses)
        else:
            method(losses).backward()
    optimizer.step()
    if isinstance(method, GradNorm):
        method.renormalise()
    return losses.detach(), torch.as_tensor(weights).detach().float()


def gradnorm_backward(model: nn.Module, method: GradNorm, losses: torch.Tensor) -> None:
    """Model parameters get the gradient of sum_t w_t L_t; the task weights get only GradNorm's own loss."""
    method(losses).backward(retain_graph=True, inputs=[p for p in model.parameters() if p.requires_grad])
    balance = method.gradnorm_loss(losses, [last_shared_weight(model)])
    grads = torch.autograd.grad(balance, list(method.parameters()), allow_unused=True)
    for p, g in zip(method.parameters(), grads, strict=True):
        p.grad = g if g is not None else torch.zeros_like(p)


def train_multitask(
    model: nn.Module,
    method,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    *,
    steps: int,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    loss_fns: Sequence[Callable] | None = None,
    eval_inputs: torch.Tensor | None = None,
    eval_targets: torch.Tensor | None = None,
    eval_every: int = 0,
    affinity_every: int = 0,
    affinity_lr: float | None = None,
    progress: bool | None = None,
) -> MultiTaskHistory:
    """Train ``model`` (T task outputs) with ``method`` for ``steps`` Adam steps on (``inputs``, ``targets``).

    ``affinity_every=k`` records the look-ahead affinity every k steps, with a look-ahead SGD step of
    ``affinity_lr`` (default: the training ``lr``, as Fifty et al.).

    Every argument is checked before training starts (``TypeError`` / ``ValueError`` naming it): among others
    the inputs and targets must be finite, with one target column per task of the model. ``progress``: a text
    progress bar; ``None`` shows it on Colab and in a terminal only (``mlbook.progress``)."""
    check_method(method)
    check_multitask_model(model, method)
    n_tasks = len(model.task_parameters())
    check_method_fits(method, n_tasks)
    check_positive_int("steps", steps)
    check_positive_int("batch_size", batch_size)
    check_positive_int("eval_every", eval_every, minimum=0)
    check_positive_int("affinity_every", affinity_every, minimum=0)
    check_positive("lr", lr)
    if affinity_lr is not None:
        check_positive("affinity_lr", affinity_lr)
    check_examples("inputs", inputs, "targets", targets, n_tasks)
    if eval_every and (eval_inputs is None or eval_targets is None):
        raise ValueError("eval_every > 0 needs eval_inputs and eval_targets")
    if eval_every:
        check_examples("eval_inputs", eval_inputs, "eval_targets", eval_targets, n_tasks)
    generator = seed_everything(seed)
    learnable = list(method.parameters()) if isinstance(method, LossWeighting) else []
    optimizer = torch.optim.Adam([*model.parameters(), *learnable], lr=lr)
    history = MultiTaskHistory()
    batches = _batches(len(inputs), batch_size, generator)
    epoch_losses: list[torch.Tensor] = []
    began = time.perf_counter()
    for step in progress_bar(range(1, steps + 1), progress=progress, desc="multi-task train"):
        model.train()
        index, epoch_ended = next(batches)
        losses, weights = training_step(model, method, inputs[index], targets[index], optimizer, loss_fns)
        history.losses.append(losses.tolist())
        history.weights.append(weights.tolist())
        epoch_losses.append(losses)
        if epoch_ended and hasattr(method, "end_epoch"):
            method.end_epoch(torch.stack(epoch_losses).mean(0))
        if epoch_ended:
            epoch_losses = []
        if affinity_every and step % affinity_every == 0:
            history.affinities[step] = lookahead_affinity(
                model, inputs[index], targets[index], loss_fns, lr if affinity_lr is None else affinity_lr
            )
        if eval_every and step % eval_every == 0:
            history.evals[step] = evaluate_multitask(model, eval_inputs, eval_targets)
    history.seconds = time.perf_counter() - began
    return history


def _batches(n: int, batch_size: int, generator: torch.Generator):
    """Endless mini-batch indices: each epoch a fresh permutation; yields (indices, is_last_batch_of_epoch)."""
    batch_size = min(batch_size, n)
    while True:
        order = torch.randperm(n, generator=generator)
        starts = range(0, n - batch_size + 1, batch_size)
        for i, start in enumerate(starts):
            yield order[start : start + batch_size], i == len(starts) - 1


@torch.no_grad()
def evaluate_multitask(
    model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, batch_size: int = 2048
) -> list[float]:
    """Per task: accuracy for integer labels (over the examples not labelled ``MISSING``), mean squared error for
    real-valued targets. Targets that do not fit the outputs (another number of tasks, labels out of range, real
    numbers for a classifier) raise a ``ValueError``."""
    check_module("model", model)
    check_tensor("inputs", inputs, non_empty=True)
    check_tensor("targets", targets, ndim=2)
    check_same_length("inputs", inputs, "targets", targets)
    check_positive_int("batch_size", batch_size)
    model.eval()
    outputs = [torch.cat(parts) for parts in zip(*(model(x) for x in inputs.split(batch_size)), strict=True)]
    if len(outputs) != targets.shape[1]:
        raise ValueError(
            f"targets must have one column per task ({len(outputs)} outputs), got shape {tuple(targets.shape)}"
        )
    for t, output in enumerate(outputs):
        check_task_target(t, output, targets[:, t])
    scores = []
    for t, output in enumerate(outputs):
        target = targets[:, t]
        if target.dtype.is_floating_point:
            scores.append(float(torch.mean((output.reshape(target.shape) - target) ** 2)))
        else:
            labelled = target != MISSING
            scores.append(float((output[labelled].argmax(-1) == target[labelled]).float().mean()))
    return scores
