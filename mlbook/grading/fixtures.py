"""Small deterministic data for exercise tests (no randomness whose stream could change across torch versions)."""

from __future__ import annotations

import torch


def indexed_images(
    num_classes: int,
    per_class: int | list[int],
    *,
    label_step: int = 1,
    label_offset: int = 0,
    interleave: bool = False,
    size: int = 2,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Images ``[M, 1, size, size]`` whose every pixel is the image's own index (so a test can tell which
    examples were picked) and labels ``label_offset + label_step * class``.

    ``per_class`` is one count for every class or a count per class. ``interleave=True`` orders examples
    round-robin over classes instead of class by class (labels are then not sorted).
    """
    counts = [per_class] * num_classes if isinstance(per_class, int) else list(per_class)
    if len(counts) != num_classes:
        raise ValueError(f"per_class must have {num_classes} counts, got {len(counts)}")
    classes = []
    if interleave:
        for round_ in range(max(counts)):
            classes += [c for c in range(num_classes) if round_ < counts[c]]
    else:
        for c, count in enumerate(counts):
            classes += [c] * count
    labels = torch.tensor(classes, dtype=torch.long) * label_step + label_offset
    images = torch.arange(len(classes), dtype=torch.float32).view(-1, 1, 1, 1).expand(-1, 1, size, size).clone()
    return images, labels


def example_ids(images: torch.Tensor) -> list[int]:
    """The index stored in each image made by :func:`indexed_images`."""
    return images[:, 0, 0, 0].round().long().tolist()


def smooth_matrix(rows: int, cols: int, phase: float = 0.0, dtype: torch.dtype = torch.float64) -> torch.Tensor:
    """A deterministic, irregular-looking ``[rows, cols]`` matrix (sines of distinct frequencies), for
    value tests whose expected numbers must not depend on a random number generator."""
    i = torch.arange(rows, dtype=dtype).view(-1, 1)
    j = torch.arange(cols, dtype=dtype).view(1, -1)
    return torch.sin(1.3 * i + 0.7 * j * j + phase) + 0.5 * torch.cos(0.9 * i * j + 2.1 * phase)
