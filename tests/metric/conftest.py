import pytest
import torch

from mlbook.data import Episode


def make_episode(n_way=3, k_shot=2, q_query=2, size=28, seed=0) -> Episode:
    """A random classification episode (images in [0, 1]) ordered class by class, like EpisodeSampler's."""
    g = torch.Generator().manual_seed(seed)
    ways = torch.arange(n_way)
    return Episode(
        support_x=torch.rand(n_way * k_shot, 1, size, size, generator=g),
        support_y=ways.repeat_interleave(k_shot),
        query_x=torch.rand(n_way * q_query, 1, size, size, generator=g),
        query_y=ways.repeat_interleave(q_query),
        n_way=n_way,
        k_shot=k_shot,
    )


@pytest.fixture(name="make_episode")
def make_episode_fixture():
    """The ``make_episode`` factory, for tests (test modules cannot import conftest)."""
    return make_episode


@pytest.fixture(autouse=True)
def _few_threads():
    torch.set_num_threads(1)
    yield
