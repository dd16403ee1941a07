"""Tiny float64 models and episodes: exact enough that independent computations must agree to 1e-10."""

from __future__ import annotations

import pytest
import torch

from mlbook.data import Episode, SinusoidTasks
from mlbook.models import MLP, Conv4


def image_episode(seed: int, n_way: int = 3, k_shot: int = 2, q_query: int = 2, size: int = 16) -> Episode:
    gen = torch.Generator().manual_seed(seed)
    return Episode(
        support_x=torch.rand(n_way * k_shot, 1, size, size, generator=gen, dtype=torch.float64),
        support_y=torch.arange(n_way).repeat_interleave(k_shot),
        query_x=torch.rand(n_way * q_query, 1, size, size, generator=gen, dtype=torch.float64),
        query_y=torch.arange(n_way).repeat_interleave(q_query),
        n_way=n_way,
        k_shot=k_shot,
    )


def tiny_conv(norm: str = "batch", seed: int = 0, n_way: int = 3) -> Conv4:
    torch.manual_seed(seed)
    return Conv4(out_features=n_way, hidden=4, norm=norm, image_size=16, depth=3).double()


def tiny_mlp(seed: int = 0) -> MLP:
    torch.manual_seed(seed)
    return MLP(1, 1, hidden=(8, 8)).double()


@pytest.fixture
def image_episodes() -> list[Episode]:
    return [image_episode(seed) for seed in range(3)]


@pytest.fixture
def sine_episodes() -> list[Episode]:
    tasks = SinusoidTasks(k_shot=5, q_query=6, seed=3)
    episodes = tasks.sample_batch(3)
    for e in episodes:
        e.support_x, e.support_y = e.support_x.double(), e.support_y.double()
        e.query_x, e.query_y = e.query_x.double(), e.query_y.double()
    return episodes


def max_abs_diff(a, b) -> float:
    return max(float((x - y).detach().abs().max()) for x, y in zip(a, b, strict=True))
