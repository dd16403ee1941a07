"""folded.py: conv + BatchNorm (+ ReLU + max-pool) on the network's input as one folded matrix product."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from mlbook.optimization import MAML, pure
from mlbook.optimization.folded import can_fold, folded_block, patch_statistics
from tests.optimization.conftest import image_episode, tiny_conv


def binary_images(n: int = 5, size: int = 12, seed: int = 0) -> torch.Tensor:
    """Omniglot-like: mostly background, so many pooling windows hold tied values."""
    gen = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 1, size, size, generator=gen) > 0.8).double()


def block(conv: nn.Conv2d, norm: nn.BatchNorm2d, pooled: bool) -> nn.Sequential:
    norm.track_running_stats, norm.running_mean, norm.running_var = False, None, None
    layers = [conv, norm] + ([nn.ReLU(), nn.MaxPool2d(2)] if pooled else [])
    return nn.Sequential(*layers).double()


def values_and_two_derivatives(forward, params: list[torch.Tensor]):
    out = forward()
    grads = torch.autograd.grad(out.sin().sum(), params, create_graph=True)
    return [out, *grads, *torch.autograd.grad(sum((g * g).sum() for g in grads), params)]


CASES = [
    dict(in_channels=1, kernel_size=3, padding=1),
    dict(in_channels=1, kernel_size=3, padding=0, stride=2),
    dict(in_channels=3, kernel_size=3, padding=2, dilation=2, bias=False),
    dict(in_channels=2, kernel_size=(3, 1), padding=(1, 0)),
]


@pytest.mark.parametrize("pooled", [True, False])
@pytest.mark.parametrize("case", CASES)
def test_folded_block_equals_conv_then_batch_norm_with_two_derivatives(case, pooled):
    torch.manual_seed(0)
    conv = nn.Conv2d(out_channels=6, **case)
    norm = nn.BatchNorm2d(6)
    with torch.no_grad():
        norm.weight.copy_(torch.tensor([1.5, -0.7, 0.2, 1.0, -2.0, 0.9]))  # negative scales flip the pooled order
        norm.bias.normal_()
    module = block(conv, norm, pooled)
    x = binary_images().repeat(1, case["in_channels"], 1, 1)
    x[:, -1] += torch.linspace(0, 0.3, x.shape[-1], dtype=x.dtype)  # a non-binary channel as well
    params = [p.detach().clone().requires_grad_() for p in module.parameters()]
    names = [n for n, _ in module.named_parameters()]
    pool = module[3] if pooled else None
    conv_bias = params[1] if conv.bias is not None else None
    gamma, beta = params[-2], params[-1]

    ours = values_and_two_derivatives(lambda: folded_block(x, conv, params[0], conv_bias, norm, gamma, beta, pool),
                                      params)
    reference = values_and_two_derivatives(
        lambda: torch.func.functional_call(module, dict(zip(names, params, strict=True)), (x,)), params)
    bias_at = [2, 2 + len(params)] if conv.bias is not None else []  # its gradients are 0 in exact arithmetic
    for k, (a, b) in enumerate(zip(ours, reference, strict=True)):
        if k in bias_at:  # the unfolded computation leaves rounding noise there, the fold an exact 0
            assert torch.equal(a, torch.zeros_like(a)) and b.abs().max() < 1e-6 * reference[k - 1].abs().max()
        else:  # float64 rounding relative to the tensor's size: second derivatives reach ~1e7 here, and their
            # small entries carry the rounding of the large ones (~1e-13 of the largest entry, over 40 seeds)
            torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10 * float(b.detach().abs().max()))
    assert ours[0].is_contiguous(memory_format=torch.channels_last)  # the following layers run channels-last


def test_the_convolution_bias_gets_its_exact_gradient_zero():
    module = block(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), pooled=True)
    weight, bias = (p.detach().clone().requires_grad_() for p in (module[0].weight, module[0].bias))
    out = folded_block(binary_images(), module[0], weight, bias, module[1], module[1].weight, module[1].bias, module[3])
    grad_weight, grad_bias = torch.autograd.grad(out.sum() + out.square().sum(), [weight, bias])
    assert torch.equal(grad_bias, torch.zeros_like(grad_bias))
    assert grad_weight.abs().sum() > 0


def test_patch_statistics_are_the_mean_and_covariance_of_the_convolution_inputs():
    x = binary_images(n=3, size=6)
    conv = nn.Conv2d(1, 2, 3, padding=1).double()
    patches, mean, covariance = patch_statistics(x, conv)
    assert patches.shape == (9, 3 * 36)
    torch.testing.assert_close(mean, patches.mean(dim=1))
    torch.testing.assert_close(covariance, torch.cov(patches, correction=0))


def test_only_an_input_without_gradient_and_a_transductive_batch_norm_are_folded():
    conv, norm = nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4, track_running_stats=False)
    x = torch.zeros(2, 1, 8, 8)
    assert can_fold(conv, norm, x)
    assert not can_fold(conv, norm, x.requires_grad_())  # a hidden layer: its input depends on θ
    assert not can_fold(conv, nn.BatchNorm2d(4), torch.zeros(2, 1, 8, 8))  # running statistics
    assert not can_fold(conv, nn.GroupNorm(2, 4), torch.zeros(2, 1, 8, 8))
    assert not can_fold(nn.Conv2d(2, 4, 3, groups=2), norm, torch.zeros(2, 2, 8, 8))
    assert not can_fold(nn.Conv2d(64, 4, 3), norm, torch.zeros(2, 64, 8, 8))  # patch covariance too large
    assert not can_fold(nn.Conv2d(1, 4, 3, padding="same"), norm, x.detach())


def test_a_single_value_per_channel_is_refused_like_batch_norm():
    module = block(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), pooled=False)
    x = torch.ones(1, 1, 3, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        F.batch_norm(module[0](x), None, None, training=True)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        folded_block(x, module[0], module[0].weight, module[0].bias, module[1], module[1].weight, module[1].bias)


def test_conv4_meta_gradient_is_unchanged_by_folding_its_first_block(monkeypatch):
    """The whole second-order MAML meta-gradient through pure_forward with and without the fold."""
    episodes = [image_episode(seed) for seed in range(2)]

    def meta_gradient():
        maml = MAML(tiny_conv(), inner_lr=0.3, inner_steps=2)
        return torch.autograd.grad(maml.batch_loss(episodes)[0], list(maml.parameters()))

    calls = []
    monkeypatch.setattr(pure, "folded_block", lambda *args: calls.append(1) or folded_block(*args))
    ours = meta_gradient()
    assert len(calls) == 2 * 3  # every forward: 2 episodes x (2 inner steps on the support set + 1 query)
    monkeypatch.setattr(pure, "can_fold", lambda *args: False)
    expected = meta_gradient()
    for a, b in zip(ours, expected, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-11)
