"""GradNorm (Chen et al. 2018): its loss on gradient norms, what it reaches, and the balance it finds."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from mlbook.multitask.gradnorm import GradNorm
from mlbook.multitask.hard_sharing import HardSharing


def two_task_problem(scale: float = 1.0, seed: int = 0):
    """A hard-sharing MLP on two regression tasks; task 1's loss is multiplied by ``scale``."""
    model = HardSharing.mlp(4, [16, 8], [1, 1], seed=seed)
    x = torch.randn(64, 4, generator=torch.Generator().manual_seed(seed))
    targets = torch.stack([x[:, 0] - x[:, 1], x[:, 2] * x[:, 3]], dim=1)

    def losses() -> torch.Tensor:
        outputs = model(x)
        return torch.stack(
            [((outputs[t].squeeze(1) - targets[:, t]) ** 2).mean() * (scale if t == 1 else 1.0) for t in range(2)]
        )

    return model, losses


def last_shared_weight(model: HardSharing) -> nn.Parameter:
    return model.trunk[-1][0].weight


def test_forward_is_the_weighted_sum_and_gives_the_weights_no_gradient():
    method = GradNorm(2)
    with torch.no_grad():
        method.task_weights.copy_(torch.tensor([1.5, 0.5]))
    losses = torch.tensor([2.0, 4.0], requires_grad=True)
    total = method(losses)
    assert total.item() == pytest.approx(1.5 * 2.0 + 0.5 * 4.0)
    total.backward()
    assert torch.allclose(losses.grad, torch.tensor([1.5, 0.5]))
    assert method.task_weights.grad is None
    assert torch.equal(method.weights(), torch.tensor([1.5, 0.5]))


def test_gradnorm_loss_matches_the_formula_computed_by_hand():
    model, task_losses = two_task_problem()
    method = GradNorm(2, alpha=1.5)
    W = last_shared_weight(model)
    first = task_losses()
    method.gradnorm_loss(first, [W])  # records L(0)
    assert torch.equal(method.initial_losses, first.detach())
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
        method.task_weights.copy_(torch.tensor([1.3, 0.7]))
    losses = task_losses()
    w = torch.tensor([1.3, 0.7])
    norms = torch.stack([torch.autograd.grad(w[t] * losses[t], W, retain_graph=True)[0].norm() for t in range(2)])
    ratio = (losses / first).detach()
    r = ratio / ratio.mean()
    target = norms.mean() * r**1.5
    expected = (norms - target).abs().sum()
    balance = method.gradnorm_loss(losses, [W])
    assert balance.item() == pytest.approx(expected.item(), rel=1e-5)
    # the target is a constant: d L_grad / d w_t = sign(G_t - target_t) * ||grad_W L_t||
    (grad,) = torch.autograd.grad(balance, method.task_weights)
    assert torch.allclose(grad, torch.sign(norms - target) * norms / w, rtol=1e-5)


def test_gradnorm_loss_reaches_only_the_task_weights():
    model, task_losses = two_task_problem()
    method = GradNorm(2)
    losses = task_losses()
    balance = method.gradnorm_loss(losses, [last_shared_weight(model)])
    grads = torch.autograd.grad(balance, [*model.parameters(), method.task_weights], allow_unused=True)
    assert all(g is None or not bool(g.any()) for g in grads[:-1]), "L_grad must not train the network"
    assert grads[-1] is not None and bool(grads[-1].any())
    method(losses).backward()  # the graph of the losses is still there for the model's own backward
    assert all(p.grad is not None for p in model.parameters())


def test_renormalise_keeps_the_weights_positive_and_summing_to_t():
    method = GradNorm(3)
    with torch.no_grad():
        method.task_weights.copy_(torch.tensor([2.0, -0.5, 0.5]))
    method.renormalise()
    weights = method.weights()
    assert bool((weights > 0).all())
    assert weights.sum().item() == pytest.approx(3.0)
    with torch.no_grad():
        method.task_weights.copy_(torch.tensor([2.0, 1.0, 1.0]))
    method.after_step()
    assert torch.allclose(method.weights(), torch.tensor([1.5, 0.75, 0.75])), "rescaled, ratios kept"


def balanced_weights_with_the_network_frozen(scale: float) -> tuple[torch.Tensor, torch.Tensor]:
    """GradNorm's weights after 200 steps on fixed losses, and the gradient norms ||grad_W L_t||."""
    model, task_losses = two_task_problem(scale)
    method = GradNorm(2)
    optimizer = torch.optim.Adam(method.parameters(), lr=0.05)
    losses, W = task_losses(), last_shared_weight(model)
    for _ in range(200):
        optimizer.zero_grad()
        method.gradnorm_loss(losses, [W]).backward()
        optimizer.step()
        method.renormalise()
    norms = torch.stack([torch.autograd.grad(losses[t], W, retain_graph=True)[0].norm() for t in range(2)])
    return method.weights(), norms


def test_weights_converge_to_equal_gradient_norms_when_only_the_weights_learn():
    # network frozen, so r_t = 1 and the fixed point has w_t ||grad_W L_t|| equal for all t
    weights, norms = balanced_weights_with_the_network_frozen(scale=1.0)
    # (Adam on the non-smooth |.| hovers around the fixed point: a few percent)
    assert weights[1] / weights[0] == pytest.approx((norms[0] / norms[1]).item(), rel=0.05)
    assert weights.sum().item() == pytest.approx(2.0)
    scaled_weights, scaled_norms = balanced_weights_with_the_network_frozen(scale=10.0)
    assert torch.allclose(scaled_norms, norms * torch.tensor([1.0, 10.0]), rtol=1e-5)
    scaled_ratio = scaled_weights[1] / scaled_weights[0]
    assert scaled_ratio == pytest.approx((scaled_norms[0] / scaled_norms[1]).item(), rel=0.05)
    assert scaled_ratio == pytest.approx((weights[1] / weights[0]).item() / 10, rel=0.1), "10x gradient, 1/10 weight"


def weights_after_training(scale: float) -> torch.Tensor:
    """Train model and GradNorm weights jointly for 150 Adam steps, as the training loop does; the final weights."""
    model, task_losses = two_task_problem(scale)
    method = GradNorm(2, alpha=1.5)
    optimizer = torch.optim.Adam([*model.parameters(), *method.parameters()], lr=0.01)
    W = last_shared_weight(model)
    for _ in range(150):
        optimizer.zero_grad()
        losses = task_losses()
        method(losses).backward(retain_graph=True)
        method.gradnorm_loss(losses, [W]).backward()
        optimizer.step()
        method.renormalise()
        weights = method.weights()
        assert bool((weights > 0).all()) and weights.sum().item() == pytest.approx(2.0)
    return weights


def test_training_with_gradnorm_shrinks_the_weight_of_the_task_with_ten_times_the_gradient():
    plain, scaled = weights_after_training(scale=1.0), weights_after_training(scale=10.0)
    assert scaled[1] < scaled[0], f"the task with the 10x gradient kept weight {scaled.tolist()}"
    # measured: w_2 / w_1 about 3.5 without the factor 10 (task 2 learns slower) and about 0.3 with it
    assert scaled[1] / scaled[0] < 0.25 * plain[1] / plain[0]


def test_gradnorm_rejects_bad_arguments():
    with pytest.raises(ValueError, match="n_tasks"):
        GradNorm(0)
    for alpha in (-1.0, math.nan, math.inf):
        with pytest.raises(ValueError, match="alpha"):
            GradNorm(2, alpha=alpha)
    with pytest.raises(TypeError, match="alpha must be a number"):
        GradNorm(2, alpha="1")
    model, task_losses = two_task_problem()
    method = GradNorm(2)
    W = last_shared_weight(model)
    with pytest.raises(ValueError, match="losses.*length T=2"):
        method.gradnorm_loss(task_losses()[:1], [W])
    with pytest.raises(ValueError, match="losses must require grad"):
        method.gradnorm_loss(task_losses().detach(), [W])
    with pytest.raises(ValueError, match="shared_layer_params"):
        method.gradnorm_loss(task_losses(), [])
    with pytest.raises(ValueError, match="first losses must be positive"):
        GradNorm(2)(torch.tensor([0.0, 1.0]))
