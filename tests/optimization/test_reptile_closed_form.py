"""Reptile's update against its formula, and the closed-form ridge head against the primal solution."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mlbook.models import MLP, Conv4
from mlbook.optimization import R2D2, Reptile, ridge_predict, ridge_solution

from .conftest import image_episode, max_abs_diff, tiny_conv


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
    """The paper's MLP(1, 1, (40, 40)): the 8x8 network used elsewhere here is too small to show learning
    reliably (its adapted error fell to 0.75x for one seed and rose to 1.1x for the next)."""
    from mlbook.data import SinusoidTasks
    from mlbook.training import evaluate, train

    torch.manual_seed(0)
    reptile = Reptile(MLP(1, 1, hidden=(40, 40)), inner_lr=0.02, inner_steps=5)
    tasks = SinusoidTasks(k_shot=10, q_query=10, seed=1)
    before = evaluate(reptile, SinusoidTasks(k_shot=10, seed=99), 50, progress=False).mean
    train(reptile, tasks, steps=150, meta_batch=5, optimizer=torch.optim.SGD(reptile.parameters(), lr=1.0),
          progress=False, device="cpu")
    after = evaluate(reptile, SinusoidTasks(k_shot=10, seed=99), 50, progress=False).mean
    assert after < 0.7 * before  # 0.31x-0.51x over seeds 0..7 (every seed of this test shifted)


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


def _r2d2_gradients(method: R2D2, seed: int) -> dict[str, torch.Tensor]:
    loss, metrics = method.episode_loss(image_episode(seed))
    assert 0.0 <= metrics["accuracy"] <= 1.0
    loss.backward()
    return {name: p.grad for name, p in method.named_parameters()}


@pytest.mark.parametrize("seed", range(3))
def test_r2d2_meta_gradient_reaches_every_parameter_that_can_learn(seed):
    """The meta-gradient flows through the ridge solve into every parameter of the encoder and into α and λ,
    except the conv biases: each sits directly before a BatchNorm, which subtracts the batch mean and with it any
    per-channel constant, so their gradient is exactly zero (rounding leaves ~1e-14 of the largest gradient;
    the others are at least ~5e-3 of it, over 100 seeds)."""
    torch.manual_seed(seed)
    method = R2D2(Conv4(hidden=4, image_size=16, depth=3).double())
    grads = _r2d2_gradients(method, seed)
    assert all(g is not None for g in grads.values())
    largest = max(float(g.abs().max()) for g in grads.values())
    before_batchnorm = {f"encoder.features.{i}.0.bias" for i in range(3)}
    assert before_batchnorm <= grads.keys()
    for name, g in grads.items():
        if name in before_batchnorm:
            assert float(g.abs().max()) <= 1e-10 * largest, name
        else:
            assert float(g.abs().max()) > 1e-4 * largest, name
    assert method.predict(image_episode(seed + 1)).shape == (6, 3)


@pytest.mark.parametrize("seed", range(3))
def test_r2d2_has_no_parameter_that_cannot_learn(seed):
    """R2D2's own meta-parameters are α (``scale``) and λ (``log_ridge``), and both get a gradient. The "adjust"
    layer's scalar bias β of the paper is not one of them: a constant added to every logit cancels in the
    softmax, so its gradient is exactly zero (checked below). With an encoder that has no such structural zero
    (a linear map), no parameter of the whole method has an identically zero meta-gradient."""
    torch.manual_seed(seed)
    method = R2D2(nn.Sequential(nn.Flatten(), nn.Linear(16 * 16, 8)).double())
    own = {name for name, _ in method.named_parameters() if not name.startswith("encoder.")}
    assert own == {"scale", "log_ridge"}
    grads = _r2d2_gradients(method, seed)
    largest = max(float(g.abs().max()) for g in grads.values())
    for name, g in grads.items():
        assert g is not None and float(g.abs().max()) > 1e-5 * largest, name

    episode = image_episode(seed)
    bias = torch.zeros((), dtype=torch.float64, requires_grad=True)
    logits = method.predict(episode).detach()
    (grad,) = torch.autograd.grad(F.cross_entropy(logits + bias, episode.query_y), bias)
    assert abs(float(grad)) < 1e-12


def test_r2d2_regression_on_sinusoids(sine_episodes):
    method = R2D2(MLP(1, 8, hidden=(16,)).double(), ridge=0.1)
    out = method.predict(sine_episodes[0])
    assert out.shape == sine_episodes[0].query_y.shape


def test_ridge_solution_refuses_a_nan_or_negative_ridge():
    x, y = torch.rand(5, 3), torch.rand(5, 2)
    for ridge in (float("nan"), -1.0):
        with pytest.raises(ValueError, match="ridge must be a finite number > 0"):
            ridge_solution(x, y, ridge)
    with pytest.raises(ValueError, match="ridge must be a finite number > 0"):
        R2D2(torch.nn.Flatten(), ridge=float("inf"))


def test_ridge_predict_refuses_one_dimensional_weights():
    with pytest.raises(ValueError, match="weights must have 2 dimensions"):
        ridge_predict(torch.rand(4), torch.rand(5, 3))


def test_r2d2_refuses_query_images_of_another_size():
    episode = image_episode(0)
    episode.query_x = torch.rand(6, 1, 20, 20, dtype=torch.float64)
    torch.manual_seed(0)
    encoder = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.AdaptiveAvgPool2d(2), torch.nn.Flatten()).double()
    with pytest.raises(ValueError, match="episode.query_x must hold examples of the shape"):
        R2D2(encoder).episode_loss(episode)


def test_r2d2_and_reptile_switches_must_be_booleans():
    with pytest.raises(TypeError, match="learn_ridge must be True or False"):
        R2D2(torch.nn.Flatten(), learn_ridge="no")
    with pytest.raises(TypeError, match="train must be True or False"):
        Reptile(tiny_conv()).adapt_to(image_episode(0), train="yes")
