"""Small shared helpers: seeding, device choice, confidence intervals."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import numpy as np
import torch

# Two-sided 95% quantile of the standard normal; with hundreds of episodes the t quantile is the same
# to three decimals, so the book uses the normal approximation throughout.
Z_95 = 1.959963984540054


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and PyTorch; return a ``torch.Generator`` seeded the same way."""
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


def default_device() -> torch.device:
    """The GPU when one is present, else the CPU. Code is the same on both."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def mean_confidence_interval(values: Sequence[float] | np.ndarray | torch.Tensor) -> tuple[float, float]:
    """Mean and half-width of the 95% confidence interval of the mean (normal approximation).

    >>> mean_confidence_interval([0.5, 0.7])
    (0.6, 0.27718585822512665)
    """
    arr = np.asarray(torch.as_tensor(values, dtype=torch.float64).cpu(), dtype=np.float64).ravel()
    if arr.size == 0:
        raise ValueError("values must contain at least one number")
    mean = float(arr.mean())
    if arr.size == 1:
        return mean, float("nan")
    half_width = Z_95 * float(arr.std(ddof=1)) / math.sqrt(arr.size)
    return mean, half_width


def check_choice(name: str, value, allowed: Sequence) -> None:
    """Raise a ``ValueError`` naming the argument and the allowed values."""
    if value not in allowed:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {value!r}")


def check_positive_int(name: str, value, minimum: int = 1) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an int >= {minimum}, got {value!r}")
