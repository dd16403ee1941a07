"""pure_forward: the same outputs and (second-order) gradients as functional_call, without touching the module."""

from __future__ import annotations

import threading

import pytest
import torch
from torch import nn
from torch.func import functional_call

from mlbook.optimization import MAML, transductive_batchnorm
from mlbook.optimization.pure import pure_forward, supports_pure_forward
from tests.optimization.conftest import image_episode, tiny_conv, tiny_mlp


def shifted(module: nn.Module, seed: int) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {n: (p + 0.1 * torch.randn(p.shape, generator=gen, dtype=p.dtype)).requires_grad_()
            for n, p in module.named_parameters()}


@pytest.mark.parametrize("norm", ["batch", "group", "layer", "instance", "none"])
def test_pure_forward_matches_functional_call_values_and_second_order_gradients(norm):
    model = transductive_batchnorm(tiny_conv(norm))
    assert supports_pure_forward(model)
    params = shifted(model, 1)
    x = torch.randn(6, 1, 16, 16, dtype=torch.float64)
    x[:, :, :8] -= 3.0  # many windows with only negative pre-activations: ReLU/max-pool order must not matter

    def second_order(forward):
        out = forward(params, x)
        grads = torch.autograd.grad(out.square().sum(), list(params.values()), create_graph=True)
        return out, torch.autograd.grad(sum(g.square().sum() for g in grads), list(params.values()))

    ours = second_order(lambda p, inp: pure_forward(model, p, inp))
    reference = second_order(lambda p, inp: functional_call(model, p, (inp,)))
    # float64 rounding relative to the size of what is compared: the second-order gradients reach ~1e4, and a
    # conv bias before BatchNorm has an exactly zero one, which both computations leave as rounding noise
    # (~1e-15 of the largest gradient); an absolute tolerance alone would compare that noise
    torch.testing.assert_close(ours[0], reference[0], rtol=0, atol=1e-12 * float(reference[0].detach().abs().max()))
    largest = max(float(g.abs().max()) for g in reference[1])
    for a, b in zip(ours[1], reference[1], strict=True):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12 * largest)


def test_pure_forward_matches_the_mlp_and_uses_the_modules_own_missing_parameters():
    model = tiny_mlp()
    params = {"head.weight": torch.ones_like(model.head.weight)}
    x = torch.randn(7, 1, dtype=torch.float64)
    torch.testing.assert_close(pure_forward(model, params, x), functional_call(model, params, (x,), strict=False))


def test_pure_forward_never_touches_the_module():
    model = transductive_batchnorm(tiny_conv())
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    pure_forward(model, shifted(model, 2), torch.randn(4, 1, 16, 16, dtype=torch.float64))
    for name, p in model.named_parameters():
        assert torch.equal(p, before[name])


def test_threads_with_different_parameters_do_not_see_each_others():
    model = transductive_batchnorm(tiny_conv())
    x = torch.randn(4, 1, 16, 16, dtype=torch.float64)
    params = [shifted(model, seed) for seed in range(4)]
    expected = [functional_call(model, p, (x,)).detach() for p in params]
    results: dict[int, list[torch.Tensor]] = {}

    def work(k: int) -> None:
        results[k] = [pure_forward(model, params[k], x).detach() for _ in range(20)]

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(4):
        for out in results[k]:
            torch.testing.assert_close(out, expected[k], rtol=0, atol=1e-12)


class Custom(nn.Module):
    def forward(self, x):
        return x


@pytest.mark.parametrize(
    "module",
    [
        nn.Sequential(nn.Linear(2, 2), Custom()),
        nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5)),
        nn.BatchNorm2d(3),  # running statistics: a forward pass would mutate buffers
        nn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect"),
    ],
)
def test_unsupported_modules_are_rejected_with_a_clear_error(module):
    assert not supports_pure_forward(module)
    with pytest.raises(TypeError, match="pure_forward cannot run"):
        pure_forward(module, {}, torch.zeros(1, 1, 4, 4))


def test_conv4_input_check_is_kept():
    model = transductive_batchnorm(tiny_conv())
    with pytest.raises(ValueError, match=r"x must be \[batch, 1, H, W\]"):
        pure_forward(model, {}, torch.zeros(4, 16, 16, dtype=torch.float64))


def test_maml_uses_the_pure_path_and_keeps_its_meta_gradient():
    episode = image_episode(0)
    grads = []
    for use_pure in (True, False):
        maml = MAML(tiny_conv(), inner_lr=0.3, inner_steps=2)
        if not use_pure:  # force functional_call by wrapping the model in a type pure_forward does not know
            maml.model = nn.Sequential(maml.model)
            maml.model.__class__ = type("Opaque", (nn.Sequential,), {})
            maml.adaptable = tuple(n for n, _ in maml.model.named_parameters())
        assert supports_pure_forward(maml.model) is use_pure
        loss, _ = maml.episode_loss(episode)
        grads.append(torch.autograd.grad(loss, list(maml.model.parameters())))
    for a, b in zip(*grads, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
