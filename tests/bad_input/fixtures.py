"""Small valid inputs that the tables' rows then spoil, built only when a row runs."""

from __future__ import annotations

import torch

from mlbook.data import Episode


def make_episode(n_way: int, queries_per_class: int, size: int, **changes) -> Episode:
    """A valid ``n_way``-way 1-shot episode of ``size`` x ``size`` images (seeded); ``changes`` replace fields."""
    g = torch.Generator().manual_seed(0)
    fields = {
        "support_x": torch.rand(n_way, 1, size, size, generator=g),
        "support_y": torch.arange(n_way),
        "query_x": torch.rand(n_way * queries_per_class, 1, size, size, generator=g),
        "query_y": torch.arange(n_way).repeat_interleave(queries_per_class),
        "n_way": n_way,
        "k_shot": 1,
    } | changes
    return Episode(**fields)
