"""A short seeded meta-training run on real Omniglot must beat chance by a wide margin, for every method."""

import pytest
import torch

from mlbook.data import EpisodeSampler, minimal_splits
from mlbook.metric import build_method, training_sampler
from mlbook.training import evaluate, train


@pytest.fixture(scope="module")
def splits():
    return minimal_splits(train=1)


@pytest.mark.parametrize(
    "name,steps,threshold",
    [("protonet", 120, 0.6), ("matching", 120, 0.65), ("relation", 120, 0.4), ("siamese", 120, 0.35)],
)
def test_short_training_beats_chance(splits, name, steps, threshold):
    meta_train, meta_test = splits
    torch.manual_seed(0)
    method = build_method(name, hidden=32, channels_last=True)
    sampler = training_sampler(meta_train, n_way=10, k_shot=1, q_query=2, rotations=False, seed=0)
    before = evaluate(method, EpisodeSampler(meta_test, 5, 1, 3, seed=7), episodes=30, device="cpu", progress=False)
    history = train(method, sampler, steps=steps, lr=3e-3, seed=0, device="cpu", progress=False)
    after = evaluate(method, EpisodeSampler(meta_test, 5, 1, 3, seed=7), episodes=30, device="cpu", progress=False)
    assert len(history.steps) == steps
    # chance is 20% on 5-way episodes of alphabets never seen in meta-training. Over seeds 0..7 (every seed of the
    # test shifted) the four methods reached 71-80%, 74-80%, 50-68% and 42-60%: each threshold is below that range
    print(f"{name}: before {before}, after {after}")
    assert after.mean > threshold, f"{name}: {after}"
    assert after.mean > before.mean + 0.1, f"{name}: before {before}, after {after}"
