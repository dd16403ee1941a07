"""batchnorm_grad.py: training-mode BatchNorm with a hand-derived second derivative."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from mlbook.optimization import MAML, pure
from mlbook.optimization.batchnorm_grad import batch_norm_train
from tests.optimization.conftest import image_episode, tiny_conv


def native(x, weight, bias, eps=1e-5):
    return F.batch_norm(x, None, None, weight, bias, True, 0.0, eps)


def inputs(shape, channels_last=False, seed=0, affine=True):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(*shape, generator=gen, dtype=torch.float64) * 3 + 1
    if channels_last:
        x = x.to(memory_format=torch.channels_last)
    c = shape[1]
    weight = torch.randn(c, generator=gen, dtype=torch.float64) if affine else None
    bias = torch.randn(c, generator=gen, dtype=torch.float64) if affine else None
    return [t.requires_grad_() if t is not None else None for t in (x, weight, bias)]


def values_and_two_derivatives(norm, x, weight, bias, second):
    """y, its gradient w.r.t. (x, γ, β) for a fixed cotangent, and the gradient of ``second(grads)`` w.r.t.
    (x, γ, β): the computation second-order MAML performs for every BatchNorm of an inner step."""
    params = [t for t in (x, weight, bias) if t is not None]
    y = norm(x, weight, bias)
    cotangent = torch.sin(torch.arange(y.numel(), dtype=y.dtype)).view_as(y)
    grads = torch.autograd.grad((y * cotangent).sum(), params, create_graph=True)
    seconds = torch.autograd.grad(second(x, grads), params, allow_unused=True, materialize_grads=True)
    return [y, *grads, *seconds]


SECOND_ORDER_OBJECTIVES = {
    "all outputs": lambda x, grads: (grads[0] * x.detach().cos()).sum() + sum((g**2).sum() for g in grads[1:]),
    "only dγ": lambda x, grads: (grads[1] ** 2).sum(),
    "only dx": lambda x, grads: (grads[0] ** 3).sum(),
}


@pytest.mark.parametrize("objective", SECOND_ORDER_OBJECTIVES)
@pytest.mark.parametrize(
    "shape, channels_last", [((5, 4, 6, 6), False), ((5, 4, 6, 6), True), ((7, 3), False), ((3, 2, 5), False)]
)
def test_values_and_two_derivatives_equal_pytorchs_batch_norm(shape, channels_last, objective):
    x, weight, bias = inputs(shape, channels_last)
    second = SECOND_ORDER_OBJECTIVES[objective]
    ours = values_and_two_derivatives(batch_norm_train, x, weight, bias, second)
    theirs = values_and_two_derivatives(native, x, weight, bias, second)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
    assert ours[-1].abs().max() < 1e-12  # β does not enter the backward: its second derivative is exactly 0


def test_without_affine_parameters_equals_pytorchs_batch_norm():
    x, _, _ = inputs((4, 3, 5, 5), affine=False)
    second = SECOND_ORDER_OBJECTIVES["all outputs"]
    ours = values_and_two_derivatives(batch_norm_train, x, None, None, second)
    theirs = values_and_two_derivatives(native, x, None, None, second)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_second_derivative_matches_finite_differences():
    x, weight, bias = inputs((4, 3, 3, 3), seed=1)
    assert torch.autograd.gradgradcheck(batch_norm_train, (x, weight, bias))


def test_a_third_derivative_matches_finite_differences():
    """With create_graph in the second backward, the formulas run on recomputed statistics so that autograd can
    differentiate them once more. (PyTorch's own BatchNorm gets this wrong in training mode, pytorch#186256:
    its double backward treats the saved batch statistics as constants.)"""
    x0, weight, bias = inputs((4, 3, 3, 3))
    x0 = x0.detach()
    cotangent = torch.sin(torch.arange(x0.numel(), dtype=x0.dtype)).view_as(x0)

    def second_order_objective(x, create_graph):
        y = batch_norm_train(x, weight, bias)
        grads = torch.autograd.grad((y * cotangent).sum(), (x, weight), create_graph=True)
        second = (grads[0] * cotangent).sum() + (grads[1] ** 2).sum()
        seconds = torch.autograd.grad(second, (x, weight), create_graph=create_graph)
        return (seconds[0] * cotangent).sum() + (seconds[1] ** 2).sum()

    x = x0.clone().requires_grad_()
    (third,) = torch.autograd.grad(second_order_objective(x, True), x)
    direction = torch.randn(x0.shape, generator=torch.Generator().manual_seed(5), dtype=x0.dtype)
    h = 1e-5
    plus, minus = ((x0 + s * h * direction).detach().requires_grad_() for s in (1, -1))
    finite_difference = (second_order_objective(plus, False) - second_order_objective(minus, False)) / (2 * h)
    torch.testing.assert_close((third * direction).sum(), finite_difference, rtol=1e-6, atol=0)


def test_a_single_value_per_channel_is_refused_like_batch_norm():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        batch_norm_train(torch.randn(1, 3, 1, 1), None, None)
    with pytest.raises(ValueError, match="batch and a channel dimension"):
        batch_norm_train(torch.randn(3), None, None)


def test_maml_meta_gradient_is_unchanged_by_the_hand_written_second_derivative(monkeypatch):
    episodes = [image_episode(seed) for seed in range(2)]

    def meta_gradient():
        maml = MAML(tiny_conv(), inner_lr=0.3, inner_steps=2)
        loss, _ = maml.batch_loss(episodes)
        return torch.autograd.grad(loss, list(maml.parameters()))

    ours = meta_gradient()
    monkeypatch.setattr(pure, "batch_norm_train", native)
    theirs = meta_gradient()
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)
