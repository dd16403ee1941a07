"""The chapter's BatchNorm policy: per-task batch statistics, no running statistics, no leakage, no mutation."""

from __future__ import annotations

import copy

import pytest
import torch

from mlbook.models import Conv4
from mlbook.optimization import ANIL, MAML, R2D2, MetaSGD, Reptile, transductive_batchnorm, uses_running_statistics

from .conftest import image_episode, tiny_conv


def test_transductive_batchnorm_removes_running_statistics():
    model = Conv4(norm="batch")
    assert uses_running_statistics(model)
    transductive_batchnorm(model)
    assert uses_running_statistics(model) == []
    assert not any("running" in name for name, _ in model.named_buffers())
    x = torch.rand(6, 1, 28, 28)
    model.eval()
    evaluated = model(x)
    model.train()
    assert torch.equal(evaluated, model(x))  # no train/eval mismatch: both use the batch's statistics


@pytest.mark.parametrize("method_cls", [MAML, MetaSGD, ANIL, Reptile])
def test_methods_apply_the_policy(method_cls):
    method = method_cls(Conv4(out_features=5, norm="batch"))
    assert uses_running_statistics(method.model) == []


@pytest.mark.parametrize("norm", ["batch", "group"])
def test_no_leakage_between_tasks_of_a_meta_batch(norm):
    """Task 0's adapted query predictions do not depend on which other tasks share its meta-batch."""
    maml = MAML(tiny_conv(norm), inner_lr=0.3, inner_steps=2, batched=True)
    first = [image_episode(0), image_episode(1), image_episode(2)]
    second = [image_episode(0), image_episode(7), image_episode(8)]
    outputs = [maml.predict_batch(batch, steps=2)[0] for batch in (first, second)]
    assert torch.allclose(outputs[0], outputs[1], atol=1e-12)
    alone = maml.predict(image_episode(0), steps=2)
    assert torch.allclose(outputs[0], alone, atol=1e-10)  # and equals the task adapted on its own


def test_query_predictions_use_query_statistics_not_support_statistics():
    """The documented price of the policy: predictions are transductive over the query set of one task."""
    maml = MAML(tiny_conv("batch"), inner_lr=0.3)
    episode = image_episode(0)
    full = maml.predict(episode)
    half = copy.copy(episode)
    half.query_x, half.query_y = episode.query_x[:3], episode.query_y[:3]
    assert not torch.allclose(maml.predict(half), full[:3])


@pytest.mark.parametrize(
    "make",
    [
        lambda: MAML(tiny_conv(), inner_lr=0.3, inner_steps=2),
        lambda: MAML(tiny_conv(), inner_lr=0.3, inner_steps=2, batched=True, inner_lr_mode="per_step"),
        lambda: MetaSGD(tiny_conv(), inner_lr=0.3),
        lambda: ANIL(tiny_conv(), inner_lr=0.3, inner_steps=2),
        lambda: Reptile(tiny_conv(), inner_lr=0.3, inner_steps=2),
        lambda: R2D2(Conv4(hidden=4, image_size=16, depth=3).double()),
    ],
)
def test_inner_loop_does_not_mutate_meta_parameters(make, image_episodes):
    method = make()
    before = copy.deepcopy(method.state_dict())
    method.batch_loss(image_episodes) if not isinstance(method, Reptile) else method.meta_direction(image_episodes)
    method.predict(image_episodes[0])
    method.eval()
    method.predict(image_episodes[1])
    if hasattr(method, "clone"):
        learner = method.clone()
        support = image_episodes[0]
        learner.adapt(torch.nn.functional.cross_entropy(learner(support.support_x), support.support_y))
        assert any(not torch.equal(learner.params[n], p) for n, p in method.model.named_parameters())
    after = method.state_dict()
    assert before.keys() == after.keys()
    assert all(torch.equal(before[k], after[k]) for k in before)
