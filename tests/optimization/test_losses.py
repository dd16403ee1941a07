"""Task losses and metrics refuse shapes that would broadcast or be reshaped into a plausible number."""

from __future__ import annotations

import pytest
import torch

from mlbook.optimization import per_task_losses, task_loss, task_metrics


def test_task_metrics_refuses_fewer_targets_than_outputs():
    with pytest.raises(ValueError, match="targets must hold one label per row of outputs"):
        task_metrics(torch.rand(1, 3), torch.tensor([0, 1]))


def test_task_metrics_refuses_targets_that_only_match_after_a_reshape():
    with pytest.raises(ValueError, match="targets must hold one label per row of outputs"):
        task_metrics(torch.rand(6, 3), torch.tensor([[0, 1], [2, 0], [1, 2]]))


def test_task_metrics_refuses_labels_out_of_range():
    with pytest.raises(ValueError, match="targets must be class indices < 3"):
        task_metrics(torch.rand(3, 3), torch.tensor([0, 1, 5]))


def test_task_loss_refuses_out_of_range_labels_with_its_own_error():
    with pytest.raises(ValueError, match="targets must be class indices < 3"):
        task_loss(torch.rand(4, 3), torch.tensor([0, 1, 2, 7]))


def test_task_loss_refuses_transposed_regression_outputs():
    with pytest.raises(ValueError, match="outputs must give one value per target"):
        task_loss(torch.rand(1, 5), torch.rand(5, 1))


def test_per_task_losses_refuses_outputs_without_a_task_dimension():
    with pytest.raises(ValueError, match="outputs must have 3 dimensions"):
        per_task_losses(torch.rand(4, 3), torch.tensor([[0, 1], [2, 0]]))


def test_per_task_losses_refuses_regression_outputs_of_another_layout():
    with pytest.raises(ValueError, match="outputs must give one value per target"):
        per_task_losses(torch.rand(3, 2, 1), torch.rand(2, 3, 1))


def test_valid_losses_are_unchanged():
    g = torch.Generator().manual_seed(0)
    logits, labels = torch.randn(6, 3, generator=g), torch.tensor([0, 1, 2, 0, 1, 2])
    assert torch.equal(task_loss(logits, labels), torch.nn.functional.cross_entropy(logits, labels))
    outputs, targets = torch.randn(2, 4, 1, generator=g), torch.randn(2, 4, 1, generator=g)
    assert torch.equal(per_task_losses(outputs, targets), ((outputs - targets) ** 2).reshape(2, -1).mean(dim=1))
