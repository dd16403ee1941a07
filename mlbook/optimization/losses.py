"""Task losses shared by the family: cross-entropy for classification episodes, mean squared error for
regression (sinusoids). The kind is read from the targets: integer labels mean classification."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def task_loss(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean loss of one task: cross-entropy for integer ``targets``, MSE otherwise."""
    if targets.dtype in (torch.int64, torch.int32):
        return F.cross_entropy(outputs, targets)
    return F.mse_loss(outputs.reshape(targets.shape), targets)


def per_task_losses(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """``[T]`` mean losses of T stacked tasks: ``outputs`` ``[T, B, ...]``, ``targets`` ``[T, B, ...]``."""
    tasks, batch = targets.shape[:2]
    if targets.dtype in (torch.int64, torch.int32):
        losses = F.cross_entropy(outputs.reshape(tasks * batch, -1), targets.reshape(-1), reduction="none")
        return losses.view(tasks, batch).mean(dim=1)
    errors = (outputs.reshape(targets.shape) - targets) ** 2
    return errors.reshape(tasks, -1).mean(dim=1)


def task_metrics(outputs: torch.Tensor, targets: torch.Tensor) -> dict[str, float]:
    """Accuracy for classification (mean over all tasks and queries given); nothing extra for regression."""
    if targets.dtype in (torch.int64, torch.int32):
        predicted = outputs.reshape(-1, outputs.shape[-1]).argmax(dim=1)
        return {"accuracy": float((predicted == targets.reshape(-1)).float().mean())}
    return {}
