"""Assertion helpers for exercise tests: short test code, messages that say which case failed and why.

Public tests ship to students and import these helpers, so a failure reads like
``support_x: expected shape (6, 1, 2, 2), got (6, 2, 2)`` instead of a bare ``AssertionError``. Nothing here
knows any solution; hidden tests use the same helpers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch


def _fmt(value) -> str:
    if isinstance(value, torch.Tensor):
        if value.ndim == 0:
            return f"{value.item():.6g}"
        if value.numel() <= 12:
            return str([round(v, 6) if isinstance(v, float) else v for v in value.detach().cpu().flatten().tolist()])
        return f"tensor of shape {tuple(value.shape)}"
    return repr(value)


def expect_tensor(
    name: str,
    value,
    shape: Sequence[int] | None = None,
    dtype: torch.dtype | Sequence[torch.dtype] | None = None,
) -> torch.Tensor:
    """``value`` is a tensor with the given shape and dtype (or one of the dtypes); returns it."""
    if not isinstance(value, torch.Tensor):
        raise AssertionError(f"{name}: expected a torch.Tensor, got {type(value).__name__}")
    if shape is not None and tuple(value.shape) != tuple(shape):
        raise AssertionError(f"{name}: expected shape {tuple(shape)}, got {tuple(value.shape)}")
    if dtype is not None:
        allowed = (dtype,) if isinstance(dtype, torch.dtype) else tuple(dtype)
        if value.dtype not in allowed:
            names = " or ".join(str(d) for d in allowed)
            raise AssertionError(f"{name}: expected dtype {names}, got {value.dtype}")
    return value


def expect_close(name: str, actual, expected, atol: float = 1e-6, rtol: float = 1e-5) -> None:
    """``actual`` equals ``expected`` within ``atol + rtol * |expected|`` (numbers or tensors)."""
    expected_t = torch.as_tensor(expected, dtype=torch.float64)
    if isinstance(actual, torch.Tensor):
        actual_t = actual.detach().to(torch.float64).cpu()
    else:
        try:
            actual_t = torch.as_tensor(actual, dtype=torch.float64)
        except (TypeError, ValueError, RuntimeError):
            raise AssertionError(f"{name}: expected a number or tensor, got {type(actual).__name__}") from None
    if actual_t.shape != expected_t.shape:
        raise AssertionError(f"{name}: expected shape {tuple(expected_t.shape)}, got {tuple(actual_t.shape)}")
    if not torch.isfinite(actual_t).all():
        raise AssertionError(f"{name}: contains NaN or infinity: {_fmt(actual_t)}")
    error = (actual_t - expected_t).abs()
    bound = atol + rtol * expected_t.abs()
    if (error > bound).any():
        worst = int((error - bound).flatten().argmax())
        where = (
            tuple(int(i) for i in torch.unravel_index(torch.tensor(worst), expected_t.shape)) if expected_t.ndim else ()
        )
        if expected_t.numel() <= 12:
            detail = f"expected {_fmt(expected_t)}, got {_fmt(actual_t)}"
        else:
            detail = f"at index {where}: expected {expected_t[where].item():.6g}, got {actual_t[where].item():.6g}"
        raise AssertionError(f"{name}: {detail} (off by up to {float(error.max()):.3g})")


def expect_equal(name: str, actual, expected) -> None:
    """Exact equality of tensors (values and shape) or of plain Python values."""
    if isinstance(expected, torch.Tensor):
        if not isinstance(actual, torch.Tensor):
            raise AssertionError(f"{name}: expected a torch.Tensor, got {type(actual).__name__}")
        if actual.shape != expected.shape or not torch.equal(actual.detach().cpu(), expected.detach().cpu()):
            raise AssertionError(f"{name}: expected {_fmt(expected)}, got {_fmt(actual)}")
    elif actual != expected:
        raise AssertionError(f"{name}: expected {expected!r}, got {actual!r}")


def expect_raises(
    exception: type[BaseException], call: Callable[[], object], what: str, mentions: str | None = None
) -> None:
    """``call()`` raises ``exception`` (whose message contains ``mentions`` when given)."""
    try:
        call()
    except exception as error:
        if mentions is not None and mentions not in str(error):
            raise AssertionError(
                f"{what}: the {exception.__name__} should mention {mentions!r}, got: {error}"
            ) from None
        return
    except Exception as error:  # noqa: BLE001 - report what was raised instead
        raise AssertionError(f"{what}: expected {exception.__name__}, got {type(error).__name__}: {error}") from None
    raise AssertionError(f"{what}: expected {exception.__name__}, but nothing was raised")


def expect(condition: bool, message: str) -> None:
    """A plain check with a message (``assert`` statements vanish under ``python -O``)."""
    if not condition:
        raise AssertionError(message)
