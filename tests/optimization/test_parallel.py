"""Task-parallel meta-gradients: the same numbers as the sequential loop, whatever the number of threads."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mlbook.optimization import MAML
from mlbook.optimization.parallel import meta_gradient, split_chunks
from tests.optimization.conftest import image_episode, tiny_conv


@pytest.mark.parametrize("n, parts", [(7, 2), (7, 3), (2, 5), (1, 1), (16, 4)])
def test_split_chunks_is_contiguous_balanced_and_never_empty(n, parts):
    chunks = split_chunks(list(range(n)), parts)
    assert [x for chunk in chunks for x in chunk] == list(range(n))
    assert len(chunks) == min(n, parts)
    assert all(chunk for chunk in chunks)
    assert max(map(len, chunks)) - min(map(len, chunks)) <= 1


def episodes(count: int = 5):
    return [image_episode(seed) for seed in range(count)]


@pytest.mark.parametrize("workers", [2, 3, 8])
@pytest.mark.parametrize("mode", ["fixed", "per_step"])
def test_threaded_meta_gradient_equals_the_sequential_one(workers, mode):
    eps = episodes()
    results = {}
    for w in (1, workers):
        maml = MAML(tiny_conv(), inner_lr=0.3, inner_steps=2, inner_lr_mode=mode, workers=w)
        results[w] = maml.meta_gradient(eps)
    (loss1, metrics1, grads1), (loss_w, metrics_w, grads_w) = results[1], results[workers]
    assert grads1.keys() == grads_w.keys()
    if mode == "per_step":
        assert any(name.startswith("inner_lrs.") for name in grads1)  # learned step sizes get meta-gradients
    for name in grads1:
        torch.testing.assert_close(grads_w[name], grads1[name], rtol=0, atol=1e-12)
    torch.testing.assert_close(loss_w, loss1, rtol=0, atol=1e-12)
    assert metrics_w.keys() == metrics1.keys()
    for name in metrics1:
        assert metrics_w[name] == pytest.approx(metrics1[name], abs=1e-12)


def test_meta_gradient_equals_backward_of_the_batch_loss():
    eps = episodes(4)
    maml = MAML(tiny_conv(), inner_lr=0.3, workers=2)
    _, _, grads = maml.meta_gradient(eps)
    loss, _ = MAML.batch_loss(maml, eps)
    reference = torch.autograd.grad(loss, list(maml.parameters()))
    for (name, _), ref in zip(maml.named_parameters(), reference, strict=True):
        torch.testing.assert_close(grads[name], ref, rtol=0, atol=1e-12)


def test_threaded_meta_gradient_is_deterministic():
    eps = episodes(6)
    maml = MAML(tiny_conv(), workers=3)
    first = maml.meta_gradient(eps)[2]
    for _ in range(3):
        again = maml.meta_gradient(eps)[2]
        assert all(torch.equal(first[n], again[n]) for n in first)


def test_training_step_with_workers_updates_like_the_sequential_step():
    eps = episodes(4)
    states = []
    for workers in (1, 2):
        maml = MAML(tiny_conv(), inner_lr=0.3, workers=workers)
        optimizer = torch.optim.SGD(maml.parameters(), lr=0.1)
        metrics = maml.training_step(eps, optimizer)
        assert set(metrics) >= {"loss", "accuracy"}
        states.append({n: p.detach().clone() for n, p in maml.named_parameters()})
    for name in states[0]:
        torch.testing.assert_close(states[1][name], states[0][name], rtol=0, atol=1e-12)
    assert torch.get_num_threads() >= 1


def test_threads_setting_is_restored():
    before = torch.get_num_threads()
    MAML(tiny_conv(), workers=2).meta_gradient(episodes(2))
    assert torch.get_num_threads() == before


@pytest.mark.parametrize("workers", [0, -1, True, 1.5])
def test_bad_workers_are_rejected(workers):
    with pytest.raises((ValueError, TypeError), match="workers"):
        MAML(tiny_conv(), workers=workers)
    with pytest.raises((ValueError, TypeError), match="workers"):
        meta_gradient(lambda chunk: (torch.zeros(()), {}), episodes(1), [], workers)


def test_workers_with_batched_or_an_unsupported_model_are_rejected():
    with pytest.raises(ValueError, match="batched=True"):
        MAML(tiny_conv(), batched=True, workers=2)
    model = nn.Sequential(nn.Flatten(), nn.Linear(256, 3), nn.Dropout(0.1))
    with pytest.raises(TypeError, match="workers > 1 needs a model that pure_forward can run"):
        MAML(model, workers=2)


def test_empty_meta_batch_is_rejected():
    with pytest.raises(ValueError, match="at least one Episode"):
        MAML(tiny_conv(), workers=2).meta_gradient([])
