"""Episodes (tasks) and the seeded N-way K-shot sampler every chapter trains and evaluates with.

Notation: an episode is a task T_i with a support set D_i^tr (``support_x``, ``support_y``) and a query
set D_i^ts (``query_x``, ``query_y``). Labels are relabelled ``0..N-1`` inside every episode.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace

import torch

from mlbook.data.dataset import LabelledImages
from mlbook.validate import check_device, check_labels, check_positive_int, check_seed, check_tensor


@dataclass
class Episode:
    """One task. Classification: ``n_way`` classes, ``k_shot`` support and ``q_query`` query examples per
    class, support and query ordered class by class. Regression (sinusoids): ``n_way`` is ``None``.
    ``classes[i]`` is the dataset class behind episode label ``i`` (``None`` for regression).

    Construction refuses non-tensors, inputs and targets of different lengths and an ``n_way``/``k_shot`` that is
    not a positive int; the labels' values are for the methods that consume an episode to judge."""

    support_x: torch.Tensor
    support_y: torch.Tensor
    query_x: torch.Tensor
    query_y: torch.Tensor
    n_way: int | None
    k_shot: int
    classes: torch.Tensor | None = None

    def __post_init__(self) -> None:
        for x_name, y_name in (("support_x", "support_y"), ("query_x", "query_y")):
            x, y = check_tensor(x_name, getattr(self, x_name)), check_tensor(y_name, getattr(self, y_name))
            if x.dim() == 0 or y.dim() == 0 or len(x) != len(y):
                raise ValueError(
                    f"{y_name} must have one target per row of {x_name}, got shapes {tuple(y.shape)} and "
                    f"{tuple(x.shape)}"
                )
        if self.n_way is not None:
            check_positive_int("n_way", self.n_way)
        check_positive_int("k_shot", self.k_shot)

    @property
    def q_query(self) -> int:
        ways = self.n_way or 1
        return self.query_y.shape[0] // ways

    def to(self, device: torch.device | str) -> Episode:
        check_device("device", device)
        return replace(
            self,
            support_x=self.support_x.to(device),
            support_y=self.support_y.to(device),
            query_x=self.query_x.to(device),
            query_y=self.query_y.to(device),
        )


class EpisodeStream:
    """What every episode source offers on top of its own ``sample()``: batches, a finite take, iteration."""

    def sample(self) -> Episode:
        raise NotImplementedError

    def sample_batch(self, meta_batch: int) -> list[Episode]:
        check_positive_int("meta_batch", meta_batch)
        return [self.sample() for _ in range(meta_batch)]

    def take(self, count: int) -> Iterator[Episode]:
        """The next ``count`` episodes, sampled lazily (``count`` is checked at the call, not at the first one)."""
        check_positive_int("count", count)
        return (self.sample() for _ in range(count))

    def __iter__(self) -> Iterator[Episode]:
        while True:
            yield self.sample()


class EpisodeSampler(EpisodeStream):
    """Seeded N-way K-shot Q-query episodes from a ``LabelledImages`` dataset.

    ``within_group=True`` draws all N classes of an episode from one group (alphabet), as in the
    original Omniglot one-shot benchmark; the group is drawn uniformly among those with at least N classes.
    Two samplers built with the same arguments produce the same episodes.
    """

    def __init__(
        self,
        dataset: LabelledImages,
        n_way: int,
        k_shot: int,
        q_query: int = 15,
        *,
        within_group: bool = False,
        seed: int = 0,
    ) -> None:
        if not isinstance(dataset, LabelledImages):
            raise TypeError(f"dataset must be a LabelledImages (e.g. from load_omniglot), got {type(dataset).__name__}")
        check_positive_int("n_way", n_way, minimum=2)
        check_positive_int("k_shot", k_shot)
        check_positive_int("q_query", q_query)
        check_seed("seed", seed)
        if not isinstance(within_group, bool):
            raise TypeError(f"within_group must be a bool, got {within_group!r}")
        self.dataset = dataset
        self.n_way, self.k_shot, self.q_query = n_way, k_shot, q_query
        self.within_group = within_group
        self.seed = seed
        self._check_enough_examples()
        self._eligible_groups = self._check_enough_classes()
        self.reset()

    def reset(self) -> None:
        """Restart the episode stream from the beginning (same seed, same episodes)."""
        self.generator = torch.Generator().manual_seed(self.seed)

    def _check_enough_examples(self) -> None:
        available = self.dataset.min_examples_per_class()
        needed = self.k_shot + self.q_query
        if needed > available:
            raise ValueError(
                f"k_shot + q_query = {self.k_shot} + {self.q_query} = {needed} examples per class, but some classes "
                f"have only {available}: choose k_shot + q_query <= {available}"
            )

    def _check_enough_classes(self) -> list[str]:
        if not self.within_group:
            if self.n_way > self.dataset.num_classes:
                raise ValueError(
                    f"n_way={self.n_way} is larger than the {self.dataset.num_classes} classes available: "
                    f"choose n_way in [2, {self.dataset.num_classes}]"
                )
            return []
        sizes = {g: len(self.dataset.classes_in_group(g)) for g in self.dataset.groups}
        eligible = [g for g, size in sizes.items() if size >= self.n_way]
        if not eligible:
            largest = max(sizes, key=sizes.get)
            raise ValueError(
                f"n_way={self.n_way} within one group needs a group with at least {self.n_way} classes; the largest, "
                f"{largest}, has {sizes[largest]}: choose n_way in [2, {sizes[largest]}] or within_group=False"
            )
        return eligible

    def _randperm(self, n: int) -> torch.Tensor:
        return torch.randperm(n, generator=self.generator)

    def _pick_classes(self, group: str | None) -> torch.Tensor:
        if group is None and not self.within_group:
            return self._randperm(self.dataset.num_classes)[: self.n_way]
        if group is None:
            group = self._eligible_groups[int(self._randperm(len(self._eligible_groups))[0])]
        members = self.dataset.classes_in_group(group)
        if len(members) < self.n_way:
            raise ValueError(f"group {group!r} has {len(members)} classes, fewer than n_way={self.n_way}")
        return torch.tensor(members)[self._randperm(len(members))[: self.n_way]]

    def sample(self, group: str | None = None) -> Episode:
        """One episode; ``group`` pins the alphabet (otherwise drawn when ``within_group``)."""
        classes = self._pick_classes(group)
        k, q = self.k_shot, self.q_query
        support, query = [], []
        for c in classes.tolist():
            members = self.dataset.indices_by_class[c]
            chosen = members[self._randperm(len(members))[: k + q]]
            support.append(chosen[:k])
            query.append(chosen[k:])
        support_idx, query_idx = torch.cat(support), torch.cat(query)
        ways = torch.arange(self.n_way)
        return Episode(
            support_x=self.dataset.images[support_idx],
            support_y=ways.repeat_interleave(k),
            query_x=self.dataset.images[query_idx],
            query_y=ways.repeat_interleave(q),
            n_way=self.n_way,
            k_shot=k,
            classes=classes,
        )

    def __repr__(self) -> str:
        mode = ", within_group" if self.within_group else ""
        return f"EpisodeSampler({self.n_way}-way {self.k_shot}-shot {self.q_query}-query{mode}, seed={self.seed})"


#: the integer label dtypes read as class labels (others would be taken for regression)
LABEL_DTYPES = (torch.int64, torch.int32)


def check_episode(episode, name: str = "episode") -> Episode:
    """An ``Episode`` a method can use: floating-point inputs with at least one row, support and
    query inputs of one shape per example, integer labels in ``0..n_way-1`` (classification) or floating-point
    targets of one shape (regression). The methods add what they need on top (a model's input shape, images,
    every class in the support set)."""
    if not isinstance(episode, Episode):
        raise TypeError(f"{name} must be an Episode (e.g. from EpisodeSampler.sample()), got {type(episode).__name__}")
    sx, sy, qx, qy = episode.support_x, episode.support_y, episode.query_x, episode.query_y
    check_tensor(f"{name}.support_x", sx, floating=True, non_empty=True)
    check_tensor(f"{name}.query_x", qx, floating=True, non_empty=True)
    if sx.shape[1:] != qx.shape[1:] or sx.dtype != qx.dtype:
        raise ValueError(
            f"{name}.query_x must hold examples of the shape and dtype of {name}.support_x (one shape for the "
            f"whole episode), got "
            f"{tuple(qx.shape)} {qx.dtype} and {tuple(sx.shape)} {sx.dtype}"
        )
    if episode.n_way is None:
        check_tensor(f"{name}.support_y", sy, floating=True)
        check_tensor(f"{name}.query_y", qy, floating=True)
        if sy.shape[1:] != qy.shape[1:]:
            raise ValueError(
                f"{name}.query_y must hold targets of the shape of {name}.support_y, got {tuple(qy.shape)} and "
                f"{tuple(sy.shape)}"
            )
    else:
        for y_name, labels in (("support_y", sy), ("query_y", qy)):
            check_labels(f"{name}.{y_name}", labels, episode.n_way)
            if labels.dtype not in LABEL_DTYPES:
                raise TypeError(f"{name}.{y_name} must be torch.long class labels, got dtype {labels.dtype}")
    return episode
