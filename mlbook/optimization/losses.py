"""Task losses shared by the family: cross-entropy for classification episodes, mean squared error for
regression (sinusoids). The kind is read from the targets: integer labels mean classification.

The public functions check their arguments' shapes (a wrong shape would otherwise broadcast or be reshaped
into a plausible number) and label ranges; the methods, which check each episode once, call the
``unchecked_*`` versions inside their inner loops."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from mlbook.validate import check_labels, check_tensor


def _is_classification(targets: torch.Tensor) -> bool:
    return targets.dtype in (torch.int64, torch.int32)


def _check_pair(outputs, targets, *, tasks: bool) -> None:
    """``outputs`` fit ``targets``: ``[B, N]`` scores for ``[B]`` labels in ``0..N-1`` (``tasks``: ``[T, B, N]``
    for ``[T, B]``), or for regression floating-point targets with one output per target value."""
    check_tensor("outputs", outputs, floating=True)
    check_tensor("targets", targets)
    batch_dims = 2 if tasks else 1
    if _is_classification(targets):
        check_tensor("outputs", outputs, ndim=batch_dims + 1)
        if targets.shape != outputs.shape[:-1]:
            raise ValueError(
                f"targets must hold one label per row of outputs, shape {tuple(outputs.shape[:-1])}, got "
                f"{tuple(targets.shape)}"
            )
        check_labels("targets", targets, outputs.shape[-1], ndim=batch_dims)
        return
    if not targets.is_floating_point():
        raise TypeError(
            f"targets must be class labels (torch.long) or floating-point regression targets, got dtype {targets.dtype}"
        )
    if (
        targets.ndim < batch_dims
        or outputs.shape[:batch_dims] != targets.shape[:batch_dims]
        or outputs.numel() != targets.numel()
    ):
        raise ValueError(
            f"outputs must give one value per target, with the same leading {'[tasks, batch]' if tasks else 'batch'} "
            f"dimensions: got outputs {tuple(outputs.shape)} for targets {tuple(targets.shape)}"
        )


def task_loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean loss of one task: cross-entropy for integer ``targets``, MSE otherwise."""
    _check_pair(outputs, targets, tasks=False)
    return unchecked_task_loss(outputs, targets)


def unchecked_task_loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """``task_loss`` without its checks (the methods' inner loops, on checked episodes)."""
    if targets.dtype in (torch.int64, torch.int32):
        return F.cross_entropy(outputs, targets)
    return F.mse_loss(outputs.reshape(targets.shape), targets)


def per_task_losses(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """``[T]`` mean losses of T stacked tasks: ``outputs`` ``[T, B, ...]``, ``targets`` ``[T, B, ...]``."""
    _check_pair(outputs, targets, tasks=True)
    return unchecked_per_task_losses(outputs, targets)


def unchecked_per_task_losses(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """``per_task_losses`` without its checks (the task-batched inner loop, on checked episodes)."""
    tasks, batch = targets.shape[:2]
    if targets.dtype in (torch.int64, torch.int32):
        losses = F.cross_entropy(outputs.reshape(tasks * batch, -1), targets.reshape(-1), reduction="none")
        return losses.view(tasks, batch).mean(dim=1)
    errors = (outputs.reshape(targets.shape) - targets) ** 2
    return errors.reshape(tasks, -1).mean(dim=1)


def task_metrics(outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
    """Accuracy for classification (mean over all tasks and queries given); nothing extra for regression.
    For classification, ``outputs`` must be ``[..., N]`` scores for ``targets`` ``[...]`` in ``0..N-1``."""
    check_tensor("outputs", outputs, floating=True)
    check_tensor("targets", targets)
    if _is_classification(targets):
        if outputs.ndim == 0 or targets.shape != outputs.shape[:-1]:
            raise ValueError(
                f"targets must hold one label per row of outputs, shape {tuple(outputs.shape[:-1])}, got "
                f"{tuple(targets.shape)}"
            )
        check_labels("targets", targets, outputs.shape[-1], ndim=targets.ndim)
    return unchecked_task_metrics(outputs, targets)


def unchecked_task_metrics(outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
    """``task_metrics`` without its checks (the methods, on checked episodes and outputs)."""
    if targets.dtype in (torch.int64, torch.int32):
        predicted = outputs.reshape(-1, outputs.shape[-1]).argmax(dim=1)
        return {"accuracy": float((predicted == targets.reshape(-1)).float().mean())}
    return {}
