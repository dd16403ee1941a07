"""Small shared helpers: seeding, device choice, confidence intervals (argument checks live in ``mlbook.validate``
and are re-exported here for older imports)."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import numpy as np
import torch

from mlbook.validate import check_choice, check_positive_int, check_seed

# Two-sided 95% quantile of the standard normal; with hundreds of episodes the t quantile is the same
# to three decimals, so the book uses the normal approximation throughout.
Z_95 = 1.959963984540054


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and PyTorch; return a ``torch.Generator`` seeded the same way."""
    check_seed("seed", seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def default_device() -> torch.device:
    """The GPU when one is present, else the CPU. Code is the same on both."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def mean_confidence_interval(values: Sequence[float] | np.ndarray | torch.Tensor) -> tuple[float, float]:
    """Mean and half-width of the 95% confidence interval of the mean (normal approximation). ``values``
    must be finite (a NaN would silently make both NaN); one value gives a NaN half-width.

    >>> mean_confidence_interval([0.5, 0.7])
    (0.6, 0.27718585822512665)
    """
    if isinstance(values, str | bytes) or values is None:
        raise TypeError(f"values must be a sequence of numbers, got {type(values).__name__}")
    try:
        arr = np.asarray(torch.as_tensor(values, dtype=torch.float64).cpu(), dtype=np.float64).ravel()
    except (TypeError, ValueError, RuntimeError) as error:
        raise TypeError(f"values must be a sequence (or array) of numbers, got {values!r:.80}: {error}") from error
    if arr.size == 0:
        raise ValueError("values must contain at least one number")
    if not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).sum())
        raise ValueError(f"values must be finite numbers, got {bad} NaN or inf among {arr.size} values")
    mean = float(arr.mean())
    if arr.size == 1:
        return mean, float("nan")
    half_width = Z_95 * float(arr.std(ddof=1)) / math.sqrt(arr.size)
    return mean, half_width


__all__ = [
    "Z_95",
    "check_choice",
    "check_positive_int",
    "default_device",
    "mean_confidence_interval",
    "seed_everything",
]
