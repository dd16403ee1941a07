"""scikit-learn's bundled 8x8 handwritten digits (1797 images, 10 classes), a transfer target domain.

The data ship inside scikit-learn, so they work offline. Images are scaled to ``[0, 1]`` with ink = 1,
the Omniglot convention, and resized (bilinear) to ``image_size``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from mlbook.data.dataset import LabelledImages
from mlbook.validate import check_int, check_memory

#: How many images scikit-learn ships.
N_DIGITS = 1797


def load_digits(image_size: int = 28) -> LabelledImages:
    """The digits as ``[1797, 1, image_size, image_size]`` images; ``image_size`` is an int >= 8."""
    check_int("image_size", image_size, minimum=8)
    check_memory("image_size", 2 * N_DIGITS * image_size * image_size * 4)  # the resized images and a clamped copy
    from sklearn.datasets import load_digits as sklearn_digits

    bunch = sklearn_digits()
    images = torch.tensor(bunch.images, dtype=torch.float32).unsqueeze(1) / 16.0
    if image_size != 8:
        images = F.interpolate(images, size=(image_size, image_size), mode="bilinear", align_corners=False)
    return LabelledImages(
        images=images.clamp(0.0, 1.0),
        labels=torch.tensor(bunch.target, dtype=torch.long),
        class_names=[str(d) for d in range(10)],
        class_groups=["digits"] * 10,
    )
