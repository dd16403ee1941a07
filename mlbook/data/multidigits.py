"""Multi-digits: two handwritten digits overlaid on one canvas, one label per digit (two tasks).

This is MultiMNIST (Sabour et al. 2017, "Dynamic routing between capsules"; the multi-task version of Sener &
Koltun 2018, "Multi-task learning as multi-objective optimization") built offline from scikit-learn's 8x8
digits. Each example puts one digit towards the top-left of a ``canvas x canvas`` image and another towards the
bottom-right, each shifted by a random ``0..jitter`` pixels further in (rows and columns independently), and
combines them by a pixel-wise max (ink = 1, the Omniglot convention). The digits overlap in a band in the
middle, so reading each one needs the whole image. Task ``left`` is the label of the top-left digit, task
``right`` that of the bottom-right digit.

Split: the 1797 source images are split ONCE (stratified by class, seed ``SPLIT_SEED``) into a train pool
(70%) and a test pool (30%); ``split="train"`` pairs draw only from the train pool and ``split="test"`` only
from the test pool, so no source image is seen in both. The two digits of a pair are always two different
images (they may show the same class).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import torch

from mlbook.data.digits import load_digits
from mlbook.validate import (
    check_choice,
    check_device,
    check_int,
    check_memory,
    check_positive_int,
    check_seed,
    check_tensor,
)

DIGIT_SIZE = 8
SPLIT_SEED = 0
TEST_FRACTION = 0.3
SPLITS = ("train", "test")
MAX_CANVAS = 64
#: The largest jitter some canvas can hold (8 + 2 * jitter + 1 <= MAX_CANVAS).
MAX_JITTER = (MAX_CANVAS - DIGIT_SIZE - 1) // 2


@dataclass
class MultiTaskImages:
    """Images with one integer label per task: ``labels[i, t]`` is example ``i``'s class for task ``t``.

    ``images`` is ``[N, C, H, W]`` float32 in ``[0, 1]`` (ink = 1); ``labels`` is ``[N, T]`` long with
    ``labels[:, t]`` in ``range(num_classes[t])``; ``task_names[t]`` names task ``t``. ``info`` holds extra
    per-example tensors (first dimension ``N``) that say how each example was made, e.g. which source images.
    Images must be floating point and finite and labels integers (never truncated); a ``TypeError`` or
    ``ValueError`` naming the argument says otherwise.
    """

    images: torch.Tensor
    labels: torch.Tensor
    task_names: tuple[str, ...]
    num_classes: tuple[int, ...]
    info: dict[str, torch.Tensor] = field(default_factory=dict)

    def __post_init__(self) -> None:
        check_tensor("images", self.images, floating=True, finite=True)
        check_tensor("labels", self.labels, floating=False)
        if isinstance(self.task_names, str | bytes):
            raise TypeError(f"task_names must be a sequence of names, e.g. ({self.task_names!r},), got a string")
        if self.images.ndim != 4:
            raise ValueError(f"images must be [N, C, H, W], got shape {tuple(self.images.shape)}")
        n, tasks = self.images.shape[0], len(self.task_names)
        if self.labels.shape != (n, tasks):
            raise ValueError(f"labels must have shape ({n}, {tasks}) (examples, tasks), got {tuple(self.labels.shape)}")
        if len(self.num_classes) != tasks:
            raise ValueError(f"num_classes must have one entry per task ({tasks}), got {self.num_classes}")
        self.task_names, self.num_classes = tuple(self.task_names), tuple(self.num_classes)
        for t, count in enumerate(self.num_classes):
            check_positive_int(f"num_classes[{t}]", count)
        self.labels = self.labels.long()
        for t, (name, count) in enumerate(zip(self.task_names, self.num_classes, strict=True)):
            column = self.labels[:, t]
            if n and (column.min() < 0 or column.max() >= count):
                raise ValueError(f"labels of task {name!r} must lie in [0, {count - 1}]")
        if not isinstance(self.info, dict):
            raise TypeError(f"info must be a dict of tensors, got {type(self.info).__name__}")
        for key, value in self.info.items():
            check_tensor(f"info[{key!r}]", value)
        bad = [key for key, value in self.info.items() if value.shape[:1] != (n,)]
        if bad:
            raise ValueError(f"info tensors must have first dimension {n} (one row per example): {bad}")

    def __len__(self) -> int:
        return self.images.shape[0]

    def __repr__(self) -> str:
        tasks = ", ".join(f"{name}: {count}" for name, count in zip(self.task_names, self.num_classes, strict=True))
        return f"MultiTaskImages({len(self)} images of shape {tuple(self.images.shape[1:])}; classes per task {tasks})"

    @property
    def num_tasks(self) -> int:
        return len(self.task_names)

    def subset(self, index: torch.Tensor) -> MultiTaskImages:
        """The examples at ``index`` (positions or a boolean mask), with their labels and info."""
        if isinstance(index, torch.Tensor) and index.is_floating_point():
            raise TypeError(f"index must hold positions (integers) or a boolean mask, got dtype {index.dtype}")
        return MultiTaskImages(
            self.images[index],
            self.labels[index],
            self.task_names,
            self.num_classes,
            {key: value[index] for key, value in self.info.items()},
        )

    def to(self, device: torch.device | str) -> MultiTaskImages:
        check_device("device", device)
        info = {key: value.to(device) for key, value in self.info.items()}
        return MultiTaskImages(self.images.to(device), self.labels.to(device), self.task_names, self.num_classes, info)


@lru_cache(maxsize=1)
def _source_digits() -> tuple[torch.Tensor, torch.Tensor]:
    digits = load_digits(image_size=DIGIT_SIZE)
    return digits.images[:, 0], digits.labels


def digit_pools() -> dict[str, torch.Tensor]:
    """Sorted indices (into scikit-learn's 1797 digits) of the train and test pools: a fixed split,
    stratified by class, with ``round(TEST_FRACTION * count)`` images of each class in the test pool."""
    _, labels = _source_digits()
    generator = torch.Generator().manual_seed(SPLIT_SEED)
    pools: dict[str, list[torch.Tensor]] = {"train": [], "test": []}
    for digit in range(10):
        members = torch.nonzero(labels == digit).squeeze(1)
        members = members[torch.randperm(len(members), generator=generator)]
        n_test = round(TEST_FRACTION * len(members))
        pools["test"].append(members[:n_test])
        pools["train"].append(members[n_test:])
    return {split: torch.cat(parts).sort().values for split, parts in pools.items()}


def make_multidigits(
    n: int, split: str = "train", seed: int = 0, canvas: int = 14, jitter: int = 1
) -> MultiTaskImages:
    """``n`` two-digit images of shape ``[1, canvas, canvas]``, labels ``[n, 2]`` (``left``, ``right``).

    ``info["source_index"]`` ``[n, 2]`` holds the scikit-learn indices of the (left, right) digits and
    ``info["corner"]`` ``[n, 2, 2]`` the (row, column) of each digit's top-left pixel on the canvas. The left
    digit's corner is in ``[0, jitter]``, the right one's in ``[canvas - 8 - jitter, canvas - 8]`` (each axis).
    Same arguments, same images.
    """
    check_positive_int("n", n)
    check_choice("split", split, SPLITS)
    check_seed("seed", seed)
    check_int("jitter", jitter, minimum=0, maximum=MAX_JITTER)
    smallest = DIGIT_SIZE + 2 * jitter + 1
    if not isinstance(canvas, int) or isinstance(canvas, bool) or not smallest <= canvas <= MAX_CANVAS:
        raise ValueError(
            f"canvas must be an int in [{smallest}, {MAX_CANVAS}] (8 + 2 * jitter + 1 keeps the right digit "
            f"strictly below and right of the left one), got {canvas!r}"
        )
    check_memory("n", 4 * n * canvas * canvas * 4)  # float32 left, right, combined and a copy
    generator = _generator(seed, split)
    sources = _draw_distinct_pairs(digit_pools()[split], n, generator)
    left_corner = torch.randint(0, jitter + 1, (n, 2), generator=generator)
    right_corner = canvas - DIGIT_SIZE - torch.randint(0, jitter + 1, (n, 2), generator=generator)
    digits, labels = _source_digits()
    left = _place(digits[sources[:, 0]], left_corner, canvas)
    right = _place(digits[sources[:, 1]], right_corner, canvas)
    return MultiTaskImages(
        images=torch.maximum(left, right).unsqueeze(1),
        labels=labels[sources],
        task_names=("left", "right"),
        num_classes=(10, 10),
        info={"source_index": sources, "corner": torch.stack([left_corner, right_corner], dim=1)},
    )


def _generator(seed: int, split: str) -> torch.Generator:
    """A generator of its own for every (seed, split), so train and test streams are unrelated."""
    state = np.random.SeedSequence([seed, SPLITS.index(split)]).generate_state(1, dtype=np.uint64)[0]
    return torch.Generator().manual_seed(int(state))


def _draw_distinct_pairs(pool: torch.Tensor, n: int, generator: torch.Generator) -> torch.Tensor:
    """``[n, 2]`` pool members, each pair uniform over ordered pairs of two different images."""
    size = len(pool)
    first = torch.randint(0, size, (n,), generator=generator)
    second = (first + torch.randint(1, size, (n,), generator=generator)) % size  # any position but `first`
    return torch.stack([pool[first], pool[second]], dim=1)


def _place(digits: torch.Tensor, corners: torch.Tensor, canvas: int) -> torch.Tensor:
    """Paste ``digits`` ``[n, 8, 8]`` onto blank ``[n, canvas, canvas]`` images at ``corners`` ``[n, 2]``."""
    n = digits.shape[0]
    offsets = torch.arange(DIGIT_SIZE)
    rows = (corners[:, 0, None] + offsets)[:, :, None]
    cols = (corners[:, 1, None] + offsets)[:, None, :]
    images = torch.zeros(n, canvas, canvas)
    images[torch.arange(n)[:, None, None], rows, cols] = digits
    return images
