"""Reptile's update against its formula, and the closed-form ridge head against the primal solution."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F

from mlbook.models import Conv4
from mlbook.optimization import R2D2, Reptile, ridge_predict, ridge_solution

from .conftest import image_episode, max_abs_diff, tiny_conv, tiny_mlp


@pytest.mark.parametrize("train_on", ["support+query", "support"])
def test_reptile_update_equals_its_formula(image_episodes, train_on):
    """θ ← θ + ε · mean_i (SGD^k(θ; D_i) - θ), with SGD^k run by torch.optim.SGD on a deep copy of the model."""
    reptile = Reptile(tiny_conv(), inner_lr=0.1, inner_steps=3, train_on=train_on)
    theta = [p.detach().clone() for p in reptile.model.parameters()]
    adapted = []
    for e in image_episodes:
        model = copy.deepcopy(reptile.model)
        sgd = torch.optim.SGD(model.parameters(), lr=0.1)
        x, y = (e.support_x, e.support_y) if train_on == "support" else (
            torch.cat([e.support_x, e.query_x]), torch.cat([e.support_y, e.query_y]))
        for _ in range(3):
            sgd.zero_grad()
            F.cross_entropy(model(x), y).backward()
            sgd.step()
        adapted.append([p.detach() for p in model.parameters()])
    epsilon = 0.25
    expected = [t + epsilon * (torch.stack([a[i] for a in adapted]).mean(0) - t) for i, t in enumerate(theta)]
    reptile.training_step(image_episodes, torch.optim.SGD(reptile.parameters(), lr=epsilon))
    assert max_abs_diff(list(reptile.model.parameters()), expected) < 1e-12
    assert max_abs_diff(list(reptile.model.parameters()), theta) > 1e-3


def test_reptile_trains_on_sinusoids():
    from mlbook.data import SinusoidTasks
    from mlbook.training import evaluate, train

    torch.manual_seed(0)
    reptile = Reptile(tiny_mlp().float(), inner_lr=0.02, inner_steps=5)
    tasks = SinusoidTasks(k_shot=10, q_query=10, seed=1)
    before = evaluate(reptile, SinusoidTasks(k_shot=10, seed=99), 50, progress=False).mean
    train(reptile, tasks, steps=300, meta_batch=5, optimizer=torch.optim.SGD(reptile.parameters(), lr=0.5),
          progress=False, device="cpu")
    after = evaluate(reptile, SinusoidTasks(k_shot=10, seed=99), 50, progress=False).mean
    assert after < 0.8 * before


def test_ridge_solution_equals_the_primal_solution():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(6, 10, generator=gen, dtype=torch.float64)
    y = F.one_hot(torch.arange(3).repeat(2), 3).double()
    w = ridge_solution(x, y, 0.7)
    xb = torch.cat([x, torch.ones(6, 1, dtype=torch.float64)], 1)
    primal = torch.linalg.solve(xb.T @ xb + 0.7 * torch.eye(11, dtype=torch.float64), xb.T @ y)
    assert torch.allclose(w, primal, atol=1e-10)
    q = torch.randn(4, 10, generator=gen, dtype=torch.float64)
    assert torch.allclose(ridge_predict(w, q), torch.cat([q, torch.ones(4, 1, dtype=torch.float64)], 1) @ primal)


def test_ridge_head_is_differentiable():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(5, 4, generator=gen, dtype=torch.float64, requires_grad=True)
    y = torch.randn(5, 2, generator=gen, dtype=torch.float64)
    ridge = torch.tensor(0.5, dtype=torch.float64, requires_grad=True)
    q = torch.randn(3, 4, generator=gen, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x, r: ridge_predict(ridge_solution(x, y, r), q), (x, ridge))


def test_r2d2_learns_and_its_meta_gradient_reaches_everything():
    method = R2D2(Conv4(hidden=4, image_size=16, depth=3).double())
    loss, metrics = method.episode_loss(image_episode(0))
    loss.backward()
    assert 0.0 <= metrics["accuracy"] <= 1.0
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in method.parameters())
    assert method.predict(image_episode(1)).shape == (6, 3)


def test_r2d2_regression_on_sinusoids(sine_episodes):
    from mlbook.models import MLP

    method = R2D2(MLP(1, 8, hidden=(16,)).double(), ridge=0.1)
    out = method.predict(sine_episodes[0])
    assert out.shape == sine_episodes[0].query_y.shape
