"""Argument checks at the package's public boundary: one helper per kind of argument.

Every public function and class of ``mlbook`` checks what a reader passes it with these helpers, so a mistake
gets a ``TypeError`` (wrong kind of thing) or a ``ValueError`` (right kind, wrong value) whose message names the
argument and says what is allowed, raised before any work is done, instead of a torch error from deep inside
or, worse, a plausible-looking wrong result.

The checks run once per call at the boundary, never inside a training step's inner loop.

>>> check_positive("inner_lr", 0.0)
Traceback (most recent call last):
...
ValueError: inner_lr must be a finite number > 0, got 0.0
"""

from __future__ import annotations

import math
import numbers
import os
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn

#: Seeds are what ``torch.Generator.manual_seed`` accepts without wrapping: 0 <= seed < 2**63.
SEED_LIMIT = 2**63


def describe(value) -> str:
    """``repr(value)`` short enough for an error message."""
    text = repr(value)
    return text if len(text) <= 80 else f"{type(value).__name__} {text[:60]}..."


# ------------------------------------------------------------------------------------------------ numbers


def check_int(name: str, value, minimum: int | None = None, maximum: int | None = None) -> int:
    """An integer (not a bool, not a float such as 3.0) within ``[minimum, maximum]``; returns it as ``int``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {describe(value)} ({type(value).__name__})")
    value = int(value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        low = "" if minimum is None else f">= {minimum}"
        high = "" if maximum is None else f"<= {maximum}"
        raise ValueError(f"{name} must be an int {' and '.join(filter(None, [low, high]))}, got {value!r}")
    return value


def check_positive_int(name: str, value, minimum: int = 1) -> int:
    """An int >= ``minimum`` (1 unless said otherwise)."""
    return check_int(name, value, minimum=minimum)


def check_number(
    name: str,
    value,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
    high_open: bool = False,
) -> float:
    """A finite real number (int or float, not bool, not NaN or inf) in the interval given; returns a float."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number, got {describe(value)} ({type(value).__name__})")
    value = float(value)
    below = low is not None and (value <= low if low_open else value < low)
    above = high is not None and (value >= high if high_open else value > high)
    if not math.isfinite(value) or below or above:
        bounds = []
        if low is not None:
            bounds.append(f"{'>' if low_open else '>='} {low:g}")
        if high is not None:
            bounds.append(f"{'<' if high_open else '<='} {high:g}")
        where = f" {' and '.join(bounds)}" if bounds else ""
        raise ValueError(f"{name} must be a finite number{where}, got {value!r}")
    return value


def check_positive(name: str, value) -> float:
    """A finite number > 0 (learning rates, temperatures, scales, ridge penalties)."""
    return check_number(name, value, low=0.0, low_open=True)


def check_non_negative(name: str, value) -> float:
    """A finite number >= 0."""
    return check_number(name, value, low=0.0)


def check_probability(name: str, value) -> float:
    """A number in [0, 1]."""
    return check_number(name, value, low=0.0, high=1.0)


def check_range(name: str, value) -> tuple[float, float]:
    """A pair ``(low, high)`` of finite numbers with low < high (e.g. an amplitude or phase range)."""
    if not isinstance(value, Sequence) or isinstance(value, str) or len(value) != 2:
        raise TypeError(f"{name} must be a pair (low, high) of numbers, got {describe(value)}")
    low = check_number(f"{name}[0]", value[0])
    high = check_number(f"{name}[1]", value[1])
    if not low < high:
        raise ValueError(f"{name} must be a pair (low, high) with low < high, got {tuple(value)!r}")
    return low, high


def check_bool(name: str, value) -> bool:
    """A switch: ``True`` or ``False`` (a string such as ``"no"`` would count as true, so it is refused)."""
    if not isinstance(value, bool):
        raise TypeError(f"{name} must be True or False, got {describe(value)} ({type(value).__name__})")
    return value


def check_seed(name: str, value) -> int:
    """A seed: an int with 0 <= seed < 2**63 (what ``torch.Generator.manual_seed`` takes without wrapping)."""
    return check_int(name, value, minimum=0, maximum=SEED_LIMIT - 1)


def check_choice(name: str, value, allowed: Sequence) -> None:
    """One of ``allowed``; raises a ``ValueError`` naming the argument and the allowed values."""
    try:
        ok = value in allowed
    except TypeError:  # an unhashable value tested against a dict or set
        ok = False
    if not ok:
        raise ValueError(f"{name} must be one of {list(allowed)}, got {describe(value)}")


# ---------------------------------------------------------------------------------------------- objects


def check_module(name: str, value) -> nn.Module:
    """A ``torch.nn.Module``."""
    if not isinstance(value, nn.Module):
        raise TypeError(f"{name} must be a torch.nn.Module, got {type(value).__name__}")
    return value


def check_callable(name: str, value):
    """Something callable (a function, a module, a class); a string is not."""
    if not callable(value):
        raise TypeError(f"{name} must be callable (a function or module), got {describe(value)}")
    return value


def check_device(name: str, value) -> torch.device:
    """A device torch understands ("cpu", "cuda", "cuda:0" or a ``torch.device``) that exists on this machine."""
    if not isinstance(value, str | torch.device):
        raise TypeError(f"{name} must be a str or torch.device such as 'cpu' or 'cuda', got {type(value).__name__}")
    try:
        device = torch.device(value)
    except RuntimeError as error:
        raise ValueError(f"{name} must be a device name such as 'cpu' or 'cuda', got {value!r}") from error
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{name} is {str(device)!r} but no CUDA GPU is available here; use 'cpu'")
    return device


def check_optimizer(name: str, value) -> torch.optim.Optimizer:
    """A ``torch.optim.Optimizer`` instance (not the class, not a name)."""
    if not isinstance(value, torch.optim.Optimizer):
        built = isinstance(value, type)
        hint = " (the class: build it, e.g. torch.optim.Adam(method.parameters()))" if built else ""
        raise TypeError(f"{name} must be a torch.optim.Optimizer{hint}, got {type(value).__name__}")
    return value


def check_path(name: str, value) -> Path:
    """A file system path (a str or a ``pathlib.Path``), returned as a ``Path``; existence is the caller's business."""
    if not isinstance(value, str | os.PathLike):
        raise TypeError(f"{name} must be a path (str or pathlib.Path), got {type(value).__name__}")
    return Path(value)


def check_folder(name: str, value) -> Path:
    """A path (``check_path``) to a folder that exists."""
    path = check_path(name, value)
    if not path.is_dir():
        raise ValueError(f"{name} must be an existing folder, got {str(path)!r}")
    return path


def check_tensor(
    name: str,
    value,
    *,
    ndim: int | Sequence[int] | None = None,
    floating: bool | None = None,
    finite: bool = False,
    non_empty: bool = False,
) -> torch.Tensor:
    """A ``torch.Tensor`` with ``ndim`` dimensions (one number or a choice), of a floating or an integer dtype
    when ``floating`` says so, with no NaN or inf when ``finite``, with at least one element when ``non_empty``."""
    if not isinstance(value, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if value.dim() not in allowed:
            shapes = " or ".join(str(n) for n in allowed)
            raise ValueError(f"{name} must have {shapes} dimensions, got shape {tuple(value.shape)}")
    if floating is True and not value.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got dtype {value.dtype}")
    if floating is False and (value.is_floating_point() or value.is_complex() or value.dtype == torch.bool):
        raise TypeError(f"{name} must be an integer tensor (e.g. torch.long), got dtype {value.dtype}")
    if non_empty and value.numel() == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(value.shape)}")
    if finite and value.is_floating_point() and not bool(torch.isfinite(value).all()):
        raise ValueError(f"{name} must contain finite numbers only, got NaN or inf")
    return value


def check_labels(name: str, labels, n_classes: int | None = None, *, ndim: int = 1) -> torch.Tensor:
    """Class labels: an integer tensor of ``ndim`` dimensions with values in ``[0, n_classes)``."""
    check_tensor(name, labels, ndim=ndim, floating=False)
    if labels.numel() and int(labels.min()) < 0:
        raise ValueError(f"{name} must be class indices >= 0, got {int(labels.min())}")
    if n_classes is not None and labels.numel() and int(labels.max()) >= n_classes:
        raise ValueError(
            f"{name} must be class indices < {n_classes} (the number of classes), got {int(labels.max())}"
        )
    return labels


def check_list_of(name: str, value, kind: type, what: str) -> Sequence:
    """A non-empty list or tuple whose items are all ``kind`` (``what`` names one in messages, e.g. "Episode").
    A single ``kind`` or a string is refused: ``[episode]`` was meant, not ``episode``."""
    if isinstance(value, (kind, str)) or not isinstance(value, Sequence):
        raise TypeError(f"{name} must be a list of {what}s, got {type(value).__name__}")
    if not value:
        raise ValueError(f"{name} must contain at least one {what}")
    for i, item in enumerate(value):
        if not isinstance(item, kind):
            raise TypeError(f"{name}[{i}] must be a {what}, got {type(item).__name__}")
    return value


def check_same_length(name_a: str, a, name_b: str, b) -> None:
    """Two sequences or tensors with the same length (first dimension)."""
    if len(a) != len(b):
        raise ValueError(f"{name_a} and {name_b} must have the same length, got {len(a)} and {len(b)}")


def check_memory(name: str, n_bytes: int) -> None:
    """Refuse a size that would need more memory than this machine has, naming the argument behind it."""
    try:
        available = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # no sysconf (Windows): assume a generous machine
        available = 2**40
    if n_bytes > available:
        raise ValueError(
            f"{name} is too large: it would allocate {n_bytes / 2**30:.1f} GiB, more than this machine's "
            f"{available / 2**30:.1f} GiB of memory"
        )
