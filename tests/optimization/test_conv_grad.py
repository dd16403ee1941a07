"""conv_grad.py: a convolution whose second derivative calls the convolution backward kernels directly."""

from __future__ import annotations

import threading

import pytest
import torch
import torch.nn.functional as F

from mlbook.optimization import MAML, pure
from mlbook.optimization.conv_grad import conv2d
from tests.optimization.conftest import image_episode, tiny_conv


def three_derivatives(convolution, x, weight, bias, **geometry):
    """Values, first, second and third derivatives w.r.t. (x, w, b) of nonlinear scalar functions of each."""
    params = [t for t in (x, weight, bias) if t is not None]
    y = convolution(x, weight, bias, **geometry)
    cotangent = torch.sin(torch.arange(y.numel(), dtype=y.dtype)).view_as(y)
    firsts = torch.autograd.grad((y * cotangent).sum() + (y**2).sum(), params, create_graph=True)
    second = sum((g * g.detach().cos()).sum() + (g**2).sum() for g in firsts)
    seconds = torch.autograd.grad(second, params, create_graph=True, allow_unused=True, materialize_grads=True)
    thirds = torch.autograd.grad(sum((s**2).sum() for s in seconds), params, allow_unused=True, materialize_grads=True)
    return [y, *firsts, *seconds, *thirds]


GEOMETRIES = [
    dict(padding=1),
    dict(padding=0, stride=2),
    dict(padding=2, dilation=2),
    dict(padding=(1, 0), stride=(1, 2)),
    dict(padding=1, groups=2),
]


@pytest.mark.parametrize("geometry", GEOMETRIES)
@pytest.mark.parametrize("with_bias", [True, False])
@pytest.mark.parametrize("channels_last", [False, True])
def test_values_and_three_derivatives_equal_pytorchs_conv2d(geometry, with_bias, channels_last):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, 4, 7, 7, generator=gen, dtype=torch.float64)
    if channels_last:
        x = x.to(memory_format=torch.channels_last)
    x.requires_grad_()
    weight = torch.randn(6, 4 // geometry.get("groups", 1), 3, 3, generator=gen, dtype=torch.float64)
    weight.requires_grad_()
    bias = torch.randn(6, generator=gen, dtype=torch.float64).requires_grad_() if with_bias else None
    ours = three_derivatives(conv2d, x, weight, bias, **geometry)
    theirs = three_derivatives(F.conv2d, x, weight, bias, **geometry)
    for a, b in zip(ours, theirs, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-12)


def test_second_derivative_matches_finite_differences():
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(2, 2, 5, 5, generator=gen, dtype=torch.float64, requires_grad=True)
    weight = torch.randn(3, 2, 3, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(3, generator=gen, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradgradcheck(lambda x, w, b: conv2d(x, w, b, padding=1).tanh(), (x, weight, bias))


def test_string_padding_is_refused_with_a_clear_error():
    with pytest.raises(ValueError, match="padding"):
        conv2d(torch.randn(1, 1, 5, 5), torch.randn(1, 1, 3, 3), padding="same")


def episodes():
    return [image_episode(seed) for seed in range(2)]


def maml_meta_gradient(workers: int = 1):
    maml = MAML(tiny_conv(), inner_lr=0.3, inner_steps=2, workers=workers)
    _, _, grads = maml.meta_gradient(episodes())
    return grads


def pytorch_batch_norm(x, weight, bias, eps):
    return F.batch_norm(x, None, None, weight, bias, True, 0.0, eps)


def test_maml_meta_gradient_is_unchanged_by_the_hand_written_derivatives(monkeypatch):
    ours = maml_meta_gradient()
    monkeypatch.setattr(pure, "conv2d", F.conv2d)
    monkeypatch.setattr(pure, "batch_norm_train", pytorch_batch_norm)
    theirs = maml_meta_gradient()
    assert ours.keys() == theirs.keys()
    for name in ours:
        torch.testing.assert_close(ours[name], theirs[name], rtol=1e-10, atol=1e-12)


class Recorder:
    def __init__(self, monkeypatch):
        self.calls: list[str] = []
        for name in ("conv2d", "batch_norm_train"):
            original = getattr(pure, name)
            monkeypatch.setattr(pure, name, self.wrap(name, original))

    def wrap(self, name, original):
        def recorded(*args, **kwargs):
            self.calls.append(name)
            return original(*args, **kwargs)

        return recorded


def test_pytorch_derivatives_switches_to_pytorchs_operators_in_the_calling_thread_only(monkeypatch):
    recorder = Recorder(monkeypatch)
    model = tiny_conv()
    MAML(model)  # transductive BatchNorm
    x = image_episode(0).support_x
    params = dict(model.named_parameters())
    pure.pure_forward(model, params, x)
    assert "conv2d" in recorder.calls and "batch_norm_train" in recorder.calls
    recorder.calls.clear()
    seen_in_other_thread = []
    with pure.pytorch_derivatives():
        pure.pure_forward(model, params, x)
        assert recorder.calls == []
        other = threading.Thread(target=lambda: seen_in_other_thread.append(pure.pure_forward(model, params, x)))
        other.start()
        other.join()
        assert "conv2d" in recorder.calls  # the other thread still used the hand-written derivatives
    recorder.calls.clear()
    pure.pure_forward(model, params, x)
    assert "conv2d" in recorder.calls  # restored on exit


def test_task_threads_use_pytorchs_operators_and_agree_with_one_thread(monkeypatch):
    single = maml_meta_gradient(workers=1)
    recorder = Recorder(monkeypatch)
    threaded = maml_meta_gradient(workers=2)
    assert recorder.calls == []
    for name in single:
        torch.testing.assert_close(threaded[name], single[name], rtol=1e-10, atol=1e-12)
