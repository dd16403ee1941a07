"""``LabelledImages``: the one labelled-image container every sampler and split works on."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import torch

from mlbook.validate import check_device, check_int, check_tensor


@dataclass
class LabelledImages:
    """Images with integer class labels, a name for every class and a group (alphabet) per class.

    ``images`` is ``[N, C, H, W]`` float32 in ``[0, 1]`` with ink = 1; ``labels[i]`` is in
    ``range(num_classes)``; ``class_names[c]`` and ``class_groups[c]`` describe class ``c``.
    NumPy arrays are taken as tensors. A ``TypeError``/``ValueError`` naming the argument refuses an empty data
    set, images that are not floating point or contain NaN/inf, and labels that are not integers (never
    truncated) or lie outside ``range(num_classes)``.
    """

    images: torch.Tensor
    labels: torch.Tensor
    class_names: list[str]
    class_groups: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.images, self.labels = _as_tensor(self.images), _as_tensor(self.labels)
        check_tensor("images", self.images, floating=True, non_empty=True)
        if self.images.ndim != 4:
            raise ValueError(f"images must be [N, C, H, W], got shape {tuple(self.images.shape)}")
        check_tensor("images", self.images, finite=True)
        _check_names("class_names", self.class_names)
        check_tensor("labels", self.labels, floating=False)
        if self.labels.shape != (self.images.shape[0],):
            raise ValueError(f"labels must have shape ({self.images.shape[0]},), got {tuple(self.labels.shape)}")
        self.labels = self.labels.long()
        if not self.class_groups:
            self.class_groups = ["all"] * len(self.class_names)
        _check_names("class_groups", self.class_groups)
        if len(self.class_groups) != len(self.class_names):
            raise ValueError("class_groups must have one entry per class name")
        if len(self.labels) and (self.labels.min() < 0 or self.labels.max() >= len(self.class_names)):
            raise ValueError(f"labels must lie in [0, {len(self.class_names) - 1}]")

    def __len__(self) -> int:
        return self.images.shape[0]

    def __repr__(self) -> str:
        return (
            f"LabelledImages({len(self)} images of shape {tuple(self.images.shape[1:])}, "
            f"{self.num_classes} classes in {len(self.groups)} groups)"
        )

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    @property
    def groups(self) -> list[str]:
        """The distinct groups (alphabets), in order of first appearance."""
        return list(dict.fromkeys(self.class_groups))

    @cached_property
    def indices_by_class(self) -> list[torch.Tensor]:
        """``indices_by_class[c]`` holds the positions of class ``c``'s examples."""
        order = torch.argsort(self.labels, stable=True)
        counts = torch.bincount(self.labels, minlength=self.num_classes).tolist()
        return list(torch.split(order, counts))

    def classes_in_group(self, group: str) -> list[int]:
        if group not in self.groups:
            raise ValueError(f"group must be one of {self.groups}, got {group!r}")
        return [c for c, g in enumerate(self.class_groups) if g == group]

    def min_examples_per_class(self) -> int:
        return min(len(ix) for ix in self.indices_by_class)

    def subset_classes(self, classes: Iterable[int]) -> LabelledImages:
        """A new dataset with only ``classes``, relabelled ``0..len(classes)-1`` in the given order."""
        classes = [check_int(f"classes[{i}]", c) for i, c in enumerate(_check_names_or_ids("classes", classes))]
        if not classes:
            raise ValueError("classes must name at least one class (an empty data set cannot be sampled)")
        if len(set(classes)) != len(classes):
            raise ValueError("classes must not repeat")
        bad = [c for c in classes if not 0 <= c < self.num_classes]
        if bad:
            raise ValueError(f"classes must lie in [0, {self.num_classes - 1}], got {bad[:5]}")
        new_label = torch.full((self.num_classes,), -1, dtype=torch.long)
        new_label[torch.tensor(classes, dtype=torch.long)] = torch.arange(len(classes))
        keep = new_label[self.labels] >= 0
        return LabelledImages(
            images=self.images[keep],
            labels=new_label[self.labels[keep]],
            class_names=[self.class_names[c] for c in classes],
            class_groups=[self.class_groups[c] for c in classes],
        )

    def select_groups(self, groups: Sequence[str]) -> LabelledImages:
        """Only the classes of ``groups`` (alphabets)."""
        groups = _check_names_or_ids("groups", groups)
        if not groups:
            raise ValueError(f"groups must name at least one of {self.groups}, got none")
        unknown = [g for g in groups if g not in self.groups]
        if unknown:
            raise ValueError(f"groups must be among {self.groups}, unknown: {unknown}")
        wanted = set(groups)
        return self.subset_classes(c for c, g in enumerate(self.class_groups) if g in wanted)

    def drop_groups(self, groups: Iterable[str]) -> LabelledImages:
        """All classes except those of ``groups`` (groups absent from this dataset are ignored)."""
        unwanted = set(_check_names_or_ids("groups", groups))
        if unwanted.issuperset(self.groups):
            raise ValueError(f"groups must leave at least one group of {self.groups}, got {sorted(unwanted)}")
        return self.subset_classes(c for c, g in enumerate(self.class_groups) if g not in unwanted)

    def with_rotations(self, angles: Sequence[int] = (0, 90, 180, 270)) -> LabelledImages:
        """Each rotation of each class becomes a new class (the standard Omniglot augmentation).

        A rotated character stays in its alphabet's group, so within-alphabet episodes can mix
        rotations of the same alphabet.
        """
        angles = [check_int(f"angles[{i}]", a) for i, a in enumerate(_check_names_or_ids("angles", angles))]
        bad = [a for a in angles if a % 90 != 0]
        if bad or not angles or len(set(angles)) != len(angles):
            raise ValueError(f"angles must be distinct multiples of 90 degrees, got {list(angles)}")
        images, labels, names, groups = [], [], [], []
        for k, angle in enumerate(angles):
            images.append(torch.rot90(self.images, k=(angle // 90) % 4, dims=(2, 3)))
            labels.append(self.labels + k * self.num_classes)
            names += [f"{name}/rot{angle % 360}" for name in self.class_names]
            groups += self.class_groups
        return LabelledImages(torch.cat(images), torch.cat(labels), names, groups)

    def to(self, device: torch.device | str) -> LabelledImages:
        check_device("device", device)
        return LabelledImages(self.images.to(device), self.labels.to(device), self.class_names, self.class_groups)


def _as_tensor(value):
    """NumPy arrays become tensors (sharing memory); anything else is left for the checks to judge."""
    return torch.from_numpy(value) if isinstance(value, np.ndarray) else value


def _check_names_or_ids(name: str, values) -> list:
    """A list, tuple or other iterable of names or indices; a lone string (a common slip for ``[string]``)
    or a lone number is refused instead of being read character by character."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise TypeError(f"{name} must be a list (e.g. [{values!r}]), got {type(values).__name__} {values!r}")
    return values.tolist() if isinstance(values, torch.Tensor | np.ndarray) else list(values)


def _check_names(name: str, values) -> None:
    """A sequence (list, tuple, array) with one name per class, not a lone string."""
    if isinstance(values, str | bytes) or not isinstance(values, Sequence | np.ndarray):
        raise TypeError(f"{name} must be a list with one name per class, got {type(values).__name__} {values!r}")


