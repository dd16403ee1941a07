"""MAML's meta-gradient against independent computations: a hand-written network differentiated with plain
autograd, central finite differences, ``higher``, and the per-task loop vs the task-batched kernels."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from mlbook.optimization import ANIL, FOMAML, MAML, MetaSGD, task_loss

from .conftest import max_abs_diff, tiny_conv, tiny_mlp


def hand_mlp(w, x):
    """The MLP(1, 1, (8, 8)) written out by hand: no nn.Module, no functional_call."""
    h = torch.relu(x @ w[0].T + w[1])
    h = torch.relu(h @ w[2].T + w[3])
    return h @ w[4].T + w[5]


def hand_maml_loss(weights, episodes, lr, steps):
    """Mean query MSE after ``steps`` inner SGD steps, with create_graph=True (the textbook MAML)."""
    losses = []
    for e in episodes:
        w = list(weights)
        for _ in range(steps):
            inner = torch.mean((hand_mlp(w, e.support_x) - e.support_y) ** 2)
            grads = torch.autograd.grad(inner, w, create_graph=True)
            w = [p - lr * g for p, g in zip(w, grads, strict=True)]
        losses.append(torch.mean((hand_mlp(w, e.query_x) - e.query_y) ** 2))
    return torch.stack(losses).mean()


@pytest.mark.parametrize("steps", [1, 3])
@pytest.mark.parametrize("batched", [False, True])
def test_maml_meta_gradient_equals_hand_written_autograd(sine_episodes, steps, batched):
    maml = MAML(tiny_mlp(), inner_lr=0.05, inner_steps=steps, batched=batched)
    loss, _ = maml.batch_loss(sine_episodes)
    ours = torch.autograd.grad(loss, list(maml.parameters()))
    weights = [p.detach().clone().requires_grad_() for p in maml.parameters()]
    reference = hand_maml_loss(weights, sine_episodes, 0.05, steps)
    expected = torch.autograd.grad(reference, weights)
    assert abs(float(loss.detach()) - float(reference.detach())) < 1e-12
    assert max_abs_diff(ours, expected) < 1e-10


def test_maml_meta_gradient_equals_finite_differences(sine_episodes):
    maml = MAML(tiny_mlp(), inner_lr=0.05, inner_steps=2)
    loss, _ = maml.batch_loss(sine_episodes)
    grads = torch.autograd.grad(loss, list(maml.parameters()))
    gen = torch.Generator().manual_seed(0)
    directions = [torch.randn(p.shape, generator=gen, dtype=p.dtype) for p in maml.parameters()]
    analytic = sum(float((g * d).sum()) for g, d in zip(grads, directions, strict=True))
    eps = 1e-6

    def meta_loss_at(sign):
        weights = [p.detach() + sign * eps * d for p, d in zip(maml.parameters(), directions, strict=True)]
        weights = [w.requires_grad_() for w in weights]
        return float(hand_maml_loss(weights, sine_episodes, 0.05, 2).detach())

    numeric = (meta_loss_at(+1) - meta_loss_at(-1)) / (2 * eps)
    assert abs(analytic - numeric) < 1e-5 * max(1.0, abs(numeric))
    # the second-order term matters here: first-order MAML's directional derivative is measurably different
    fo = FOMAML(tiny_mlp(), inner_lr=0.05, inner_steps=2)
    fo_grads = torch.autograd.grad(fo.batch_loss(sine_episodes)[0], list(fo.parameters()))
    assert abs(sum(float((g * d).sum()) for g, d in zip(fo_grads, directions, strict=True)) - numeric) > 1e-4


def hand_conv_forward(w, x, norm):
    """Conv4(depth=3) by hand with F.conv2d and per-call batch statistics (the chapter's BatchNorm policy)."""
    h = x
    for i in range(3):
        h = F.conv2d(h, w[4 * i], w[4 * i + 1], padding=1)
        if norm == "batch":
            h = F.batch_norm(h, None, None, w[4 * i + 2], w[4 * i + 3], training=True)
        else:
            h = F.group_norm(h, 4, w[4 * i + 2], w[4 * i + 3])
        h = F.max_pool2d(F.relu(h), 2)
    return F.linear(h.flatten(1), w[12], w[13])


@pytest.mark.parametrize("norm", ["batch", "group"])
@pytest.mark.parametrize("batched", [False, True])
def test_conv_maml_meta_gradient_equals_hand_written_autograd(image_episodes, norm, batched):
    """Every normalisation we support, looped and task-batched, against plain autograd with create_graph."""
    maml = MAML(tiny_conv(norm), inner_lr=0.3, inner_steps=2, batched=batched)
    loss, _ = maml.batch_loss(image_episodes)
    ours = torch.autograd.grad(loss, list(maml.parameters()))
    weights = [p.detach().clone().requires_grad_() for p in maml.parameters()]
    losses = []
    for e in image_episodes:
        w = list(weights)
        for _ in range(2):
            inner = F.cross_entropy(hand_conv_forward(w, e.support_x, norm), e.support_y)
            w = [p - 0.3 * g for p, g in zip(w, torch.autograd.grad(inner, w, create_graph=True), strict=True)]
        losses.append(F.cross_entropy(hand_conv_forward(w, e.query_x, norm), e.query_y))
    expected = torch.autograd.grad(torch.stack(losses).mean(), weights)
    assert max_abs_diff(ours, expected) < 1e-10


@pytest.mark.parametrize("norm", ["batch", "none"])
def test_conv_maml_meta_gradient_equals_higher(image_episodes, norm):
    higher = pytest.importorskip("higher")
    maml = MAML(tiny_conv(norm), inner_lr=0.3, inner_steps=2, batched=True)
    ours = torch.autograd.grad(maml.batch_loss(image_episodes)[0], list(maml.parameters()))
    model = maml.model
    inner_opt = torch.optim.SGD(model.parameters(), lr=0.3)
    losses = []
    for e in image_episodes:
        with higher.innerloop_ctx(model, inner_opt, copy_initial_weights=False) as (fmodel, diffopt):
            for _ in range(2):
                diffopt.step(F.cross_entropy(fmodel(e.support_x), e.support_y))
            losses.append(F.cross_entropy(fmodel(e.query_x), e.query_y))
    expected = torch.autograd.grad(torch.stack(losses).mean(), list(model.parameters()))
    assert max_abs_diff(ours, expected) < 1e-10


def test_first_order_drops_exactly_the_hessian_term(sine_episodes):
    """One step: ∇MAML - ∇FOMAML = -α H_support(θ) ∇_φ L_query(φ), the Hessian-vector product computed apart."""
    lr = 0.05
    maml = MAML(tiny_mlp(), inner_lr=lr)
    fomaml = FOMAML(tiny_mlp(), inner_lr=lr)
    episode = sine_episodes[0]
    second = torch.autograd.grad(maml.episode_loss(episode)[0], list(maml.parameters()))
    first = torch.autograd.grad(fomaml.episode_loss(episode)[0], list(fomaml.parameters()))

    theta = [p.detach().clone().requires_grad_() for p in maml.parameters()]
    support_grad = torch.autograd.grad(
        torch.mean((hand_mlp(theta, episode.support_x) - episode.support_y) ** 2), theta, create_graph=True
    )
    phi = [(t - lr * g).detach().requires_grad_() for t, g in zip(theta, support_grad, strict=True)]
    query_grad = torch.autograd.grad(torch.mean((hand_mlp(phi, episode.query_x) - episode.query_y) ** 2), phi)
    assert max_abs_diff(first, query_grad) < 1e-12  # FOMAML's meta-gradient is ∇_φ L_query at φ
    hvp = torch.autograd.grad(support_grad, theta, grad_outputs=query_grad)
    difference = [s - f for s, f in zip(second, first, strict=True)]
    assert max_abs_diff(difference, [-lr * h for h in hvp]) < 1e-12
    assert max(float(h.abs().max()) for h in hvp) > 1e-3  # the term is not trivially zero


def test_meta_sgd_steps_with_learned_elementwise_rates(sine_episodes):
    method = MetaSGD(tiny_mlp(), inner_lr=0.05)
    with torch.no_grad():
        for rate in method.inner_lrs.values():
            rate.uniform_(-0.1, 0.1)  # any values, even negative: α is a free meta-parameter
    episode = sine_episodes[0]
    learner = method.clone()
    inner = task_loss(learner(episode.support_x), episode.support_y)
    grads = torch.autograd.grad(inner, [learner.params[n] for n in method.adaptable], retain_graph=True)
    learner.adapt(inner)
    for (name, theta), grad in zip(method.model.named_parameters(), grads, strict=True):
        expected = theta - method.inner_lrs[name.replace(".", "__")] * grad
        assert torch.allclose(learner.params[name], expected, atol=1e-14)
    loss, _ = method.episode_loss(episode)
    loss.backward()
    assert all(rate.grad is not None and rate.grad.abs().sum() > 0 for rate in method.inner_lrs.values())


@pytest.mark.parametrize("batched", [False, True])
def test_anil_equals_maml_adapting_the_head(image_episodes, batched):
    """ANIL's precomputed-features inner loop gives MAML(adapt='head')'s meta-gradient."""
    anil = ANIL(tiny_conv(), inner_lr=0.3, inner_steps=3, batched=batched)
    reference = MAML(tiny_conv(), inner_lr=0.3, inner_steps=3, adapt="head")
    ours = torch.autograd.grad(anil.batch_loss(image_episodes)[0], list(anil.parameters()))
    expected = torch.autograd.grad(reference.batch_loss(image_episodes)[0], list(reference.parameters()))
    assert max_abs_diff(ours, expected) < 1e-10
    # the body learns through the head's inner loop (a conv bias right before BatchNorm cancels: gradient 0)
    names = [name for name, _ in anil.named_parameters()]
    assert all(g.abs().sum() > 0 for name, g in zip(names, ours, strict=True) if name.endswith("weight"))
    assert torch.allclose(anil.predict(image_episodes[0]), reference.predict(image_episodes[0]), atol=1e-10)


def test_maml_plus_plus_multi_step_loss_and_per_step_rates(sine_episodes):
    maml = MAML(tiny_mlp(), inner_lr=0.05, inner_steps=3, inner_lr_mode="per_step", multi_step_loss=True)
    with torch.no_grad():
        for rate in maml.inner_lrs.values():
            rate.copy_(torch.tensor([0.01, 0.05, 0.1], dtype=rate.dtype))
    maml.step_weights = [0.2, 0.3, 0.5]
    episode = sine_episodes[0]
    objective, _ = maml.episode_loss(episode)
    w = list(maml.model.parameters())
    expected = 0.0
    for step, rate in enumerate([0.01, 0.05, 0.1]):
        inner = torch.mean((hand_mlp(w, episode.support_x) - episode.support_y) ** 2)
        w = [p - rate * g for p, g in zip(w, torch.autograd.grad(inner, w, create_graph=True), strict=True)]
        query = torch.mean((hand_mlp(w, episode.query_x) - episode.query_y) ** 2)
        expected = expected + maml.step_weights[step] * query
    assert abs(float(objective.detach()) - float(expected.detach())) < 1e-12
    objective.backward()
    assert all(rate.grad[:3].abs().sum() > 0 for rate in maml.inner_lrs.values())
