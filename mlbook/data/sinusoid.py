"""The sinusoid regression task family of the MAML paper (Finn et al. 2017, section 5.1).

Each task is y = A sin(x - phi) with amplitude A ~ U[0.1, 5.0], phase phi ~ U[0, pi], inputs x ~ U[-5, 5].
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from mlbook.data.episodes import Episode
from mlbook.validate import (
    check_callable,
    check_int,
    check_memory,
    check_number,
    check_positive_int,
    check_range,
    check_seed,
    check_tensor,
)

#: Bytes per point of an episode: x and y, float32 each.
_BYTES_PER_POINT = 2 * 4


@dataclass(frozen=True)
class SinusoidTask:
    amplitude: float
    phase: float

    def __post_init__(self) -> None:
        check_number("amplitude", self.amplitude)
        check_number("phase", self.phase)

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        check_tensor("x", x)
        return self.amplitude * torch.sin(x - self.phase)


class SinusoidTasks:
    """A seeded stream of sinusoid tasks and K-shot regression episodes (x and y are ``[K, 1]``).

    Has the same ``sample()`` / ``sample_batch()`` / ``reset()`` interface as ``EpisodeSampler``, so the
    shared training loop and ``evaluate`` take it unchanged. ``amplitude``, ``phase`` and ``x_range`` are
    ``(low, high)`` pairs of finite numbers with ``low < high``.
    """

    def __init__(
        self,
        amplitude: tuple[float, float] = (0.1, 5.0),
        phase: tuple[float, float] = (0.0, math.pi),
        x_range: tuple[float, float] = (-5.0, 5.0),
        k_shot: int = 10,
        q_query: int = 10,
        seed: int = 0,
    ) -> None:
        _check_sizes(k_shot, q_query)
        check_seed("seed", seed)
        self.k_shot, self.q_query = k_shot, q_query
        for name, pair in {"amplitude": amplitude, "phase": phase, "x_range": x_range}.items():
            check_range(name, pair)
        self.amplitude, self.phase, self.x_range = amplitude, phase, x_range
        self.seed = seed
        self.generator = torch.Generator().manual_seed(seed)

    def _uniform(self, low: float, high: float, *shape: int) -> torch.Tensor:
        return low + (high - low) * torch.rand(*shape, generator=self.generator)

    def sample_task(self) -> SinusoidTask:
        return SinusoidTask(float(self._uniform(*self.amplitude, 1)), float(self._uniform(*self.phase, 1)))

    def sample_inputs(self, count: int) -> torch.Tensor:
        return self._uniform(*self.x_range, count, 1)

    def sample_episode(
        self, k_shot: int | None = None, q_query: int | None = None, task: SinusoidTask | None = None
    ) -> Episode:
        """K support and Q query points of one task (a new task unless ``task`` is given)."""
        k_shot = self.k_shot if k_shot is None else k_shot
        q_query = self.q_query if q_query is None else q_query
        _check_sizes(k_shot, q_query)
        if task is not None:
            check_callable("task", task)
        task = task or self.sample_task()
        support_x, query_x = self.sample_inputs(k_shot), self.sample_inputs(q_query)
        episode = Episode(support_x, task(support_x), query_x, task(query_x), n_way=None, k_shot=k_shot)
        episode.task = task  # kept for plotting the true curve
        return episode

    def sample_half_interval_episode(
        self, half: int, k_shot: int | None = None, q_query: int | None = None
    ) -> Episode:
        """The MAML paper's extrapolation test: a new task with K support points from one half of ``x_range`` only
        (``half`` 0: the lower half, 1: the upper) and Q query points on *each* half, those of the support's half
        first: ``query_x[:Q]`` is where the task gave points, ``query_x[Q:]`` where it gave none."""
        check_int("half", half, minimum=0, maximum=1)
        k_shot = self.k_shot if k_shot is None else k_shot
        q_query = self.q_query if q_query is None else q_query
        _check_sizes(k_shot, q_query)
        middle = sum(self.x_range) / 2
        halves = ((self.x_range[0], middle), (middle, self.x_range[1]))
        seen, unseen = halves[half], halves[1 - half]
        task = self.sample_task()
        support_x = self._uniform(*seen, k_shot, 1)
        query_x = torch.cat([self._uniform(*seen, q_query, 1), self._uniform(*unseen, q_query, 1)])
        episode = Episode(support_x, task(support_x), query_x, task(query_x), n_way=None, k_shot=k_shot)
        episode.task = task
        return episode

    def sample(self) -> Episode:
        """An episode with the default ``k_shot`` and ``q_query`` (the sampler interface of the loop)."""
        return self.sample_episode()

    def sample_batch(self, meta_batch: int, k_shot: int | None = None, q_query: int | None = None) -> list[Episode]:
        check_positive_int("meta_batch", meta_batch)
        return [self.sample_episode(k_shot, q_query) for _ in range(meta_batch)]

    def reset(self) -> None:
        """Restart the task stream from the beginning (same seed, same tasks)."""
        self.generator = torch.Generator().manual_seed(self.seed)


def _check_sizes(k_shot: int, q_query: int) -> None:
    check_positive_int("k_shot", k_shot)
    check_positive_int("q_query", q_query)
    check_memory("k_shot", k_shot * _BYTES_PER_POINT)
    check_memory("q_query", q_query * _BYTES_PER_POINT)
