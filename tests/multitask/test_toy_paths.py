"""mlbook.multitask.toy_paths: paths on the two-objective toy follow each aggregator's direction with Adam."""

from __future__ import annotations

import pytest
import torch
from torch.func import jacrev

from mlbook.multitask import CAGRAD_TOY_STARTS, Aggregator, Mean, cagrad_toy_losses
from mlbook.multitask.toy_paths import toy_jacobian, toy_path


def test_toy_jacobian_equals_torch_func_jacobian():
    g = torch.Generator().manual_seed(0)
    for theta in torch.rand(5, 2, generator=g, dtype=torch.float64) * 20 - 10:
        torch.testing.assert_close(toy_jacobian(theta), jacrev(cagrad_toy_losses)(theta))


def test_mean_path_is_adam_on_the_mean_loss():
    start = CAGRAD_TOY_STARTS[1].tolist()
    path = toy_path(Mean(), start, steps=40, lr=0.1)
    theta = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.Adam([theta], lr=0.1)
    for step in range(40):
        optimizer.zero_grad()
        cagrad_toy_losses(theta).mean().backward()
        optimizer.step()
        torch.testing.assert_close(path[step + 1], theta.detach(), rtol=1e-10, atol=1e-12)


class Refuses(Aggregator):
    def _compute_weights(self, gram):
        raise ValueError("no direction here")


def test_a_path_ends_where_the_aggregator_has_no_direction():
    path = toy_path(Refuses(), [1.0, 2.0], steps=10)
    assert path.shape == (1, 2)
    torch.testing.assert_close(path[0], torch.tensor([1.0, 2.0], dtype=torch.float64))


@pytest.mark.parametrize(("kwargs", "message"), [({"aggregator": "mean"}, "aggregator"), ({"steps": 0}, "steps"),
                                                 ({"lr": -1.0}, "lr")])
def test_toy_path_rejects_bad_input(kwargs, message):
    arguments = {"aggregator": Mean(), "start": [0.0, 0.0], "steps": 2, "lr": 0.1, **kwargs}
    with pytest.raises((TypeError, ValueError), match=message):
        toy_path(**arguments)
