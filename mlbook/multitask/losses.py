"""Task losses: the vector (L_1, ..., L_T) that every weighting and aggregator starts from."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

#: The class label of an example that has no label for this task (partially labelled data).
MISSING = -1


def default_loss(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy for integer class labels (examples labelled ``MISSING`` left out; 0 when a batch has no label
    for the task), mean squared error for real-valued targets."""
    if not target.dtype.is_floating_point:
        labelled = target != MISSING
        if not labelled.any():
            return output.sum() * 0.0  # keeps the graph: this task simply contributes nothing to this step
        return F.cross_entropy(output[labelled], target[labelled].long())
    return F.mse_loss(output.reshape(target.shape), target)


def check_task_target(t: int, output: torch.Tensor, target: torch.Tensor) -> None:
    """Raise unless column ``t`` of the targets fits task t's output as ``default_loss`` and ``evaluate_multitask``
    read it: integer class labels in [0, classes) (or ``MISSING``) for an output [batch, classes]; real values for
    an output with one value per example. Catches labels out of range and fractional labels for a classifier."""
    if not isinstance(output, torch.Tensor):
        raise TypeError(f"outputs[{t}] must be a tensor, got {type(output).__name__}")
    if target.dtype.is_floating_point:
        if output.numel() != target.numel():
            raise ValueError(
                f"targets[:, {t}] holds real numbers (regression), so outputs[{t}] must have one value per example, "
                f"got shape {tuple(output.shape)}; class labels must be an integer tensor"
            )
        return
    if output.dim() != 2 or len(output) != len(target):
        raise ValueError(
            f"targets[:, {t}] holds class labels, so outputs[{t}] must be [{len(target)}, classes] (one row of "
            f"scores per example), got shape {tuple(output.shape)}"
        )
    labelled = target[target != MISSING]
    classes = output.shape[-1]
    if labelled.numel() and (int(labelled.min()) < 0 or int(labelled.max()) >= classes):
        raise ValueError(
            f"targets[:, {t}] must be class labels in [0, {classes}) (outputs[{t}] has shape {tuple(output.shape)}) "
            f"or MISSING = {MISSING}, got labels from {int(labelled.min())} to {int(labelled.max())}"
        )


def task_losses(
    outputs: Sequence[torch.Tensor], targets: torch.Tensor, loss_fns: Sequence[Callable] | None = None
) -> torch.Tensor:
    """``outputs``: one tensor per task (a multi-task model's forward); ``targets``: [batch, T], column t for task t.

    Returns the 1-D tensor of the T task losses (differentiable). With the default losses, a column of targets
    that does not fit its output (labels out of range, real numbers for a classifier) raises a ``ValueError``."""
    if not isinstance(outputs, (list, tuple)) or not outputs:
        raise TypeError(f"outputs must be a non-empty list with one tensor per task, got {type(outputs).__name__}")
    if not isinstance(targets, torch.Tensor) or targets.dim() != 2 or targets.shape[1] != len(outputs):
        shape = tuple(targets.shape) if isinstance(targets, torch.Tensor) else type(targets).__name__
        raise ValueError(f"targets must be a tensor [batch, {len(outputs)}] (one column per task), got {shape}")
    if isinstance(loss_fns, str):
        raise TypeError(f"loss_fns must be a list of {len(outputs)} callables (one per task), got {loss_fns!r}")
    loss_fns = list(loss_fns) if loss_fns is not None else [default_loss] * len(outputs)
    if len(loss_fns) != len(outputs) or not all(callable(f) for f in loss_fns):
        raise ValueError(f"loss_fns must be {len(outputs)} callables (one per task), got {loss_fns!r}")
    for t, (fn, output) in enumerate(zip(loss_fns, outputs, strict=True)):
        if fn is default_loss:
            check_task_target(t, output, targets[:, t])
    return torch.stack([fn(out, targets[:, t]) for t, (fn, out) in enumerate(zip(loss_fns, outputs, strict=True))])
