"""Checkpoints: method, optimiser, step, history and every random state, written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import torch

from mlbook.validate import check_path


def _checkpoint_path(path) -> Path:
    path = check_path("path", path)
    if path.is_dir():
        raise ValueError(f"path must be a file, got the folder {path}")
    return path


def save_checkpoint(path: str | os.PathLike, **state: Any) -> Path:
    """``torch.save`` to a temporary file then rename: a crash never leaves a half-written checkpoint, and a
    failed save (a full disk, an object that cannot be pickled) removes its temporary file and re-raises."""
    path = _checkpoint_path(path)
    if not state:
        raise ValueError("state is empty: pass what to save as keyword arguments, e.g. save_checkpoint(path, step=3)")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            torch.save(state, handle)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """The state saved by ``save_checkpoint`` (on the CPU). A missing file raises ``FileNotFoundError``; a file
    that is not a checkpoint (truncated, or something else) a ``ValueError`` naming it."""
    path = _checkpoint_path(path)
    if not path.exists():
        raise FileNotFoundError(f"checkpoint path {path} does not exist")
    try:
        state = torch.load(path, map_location="cpu", weights_only=False)
    except OSError:
        raise
    except Exception as error:  # noqa: BLE001 - torch and pickle raise many kinds on a damaged file
        raise ValueError(_not_a_checkpoint(path, f"{type(error).__name__}: {error}")) from error
    if not isinstance(state, dict):
        raise ValueError(_not_a_checkpoint(path, f"it holds a {type(state).__name__}, not a dict of state"))
    return state


def _not_a_checkpoint(path: Path, why: str) -> str:
    return (
        f"checkpoint {path} is corrupt or not a checkpoint ({why}); delete it, or give another path "
        "(checkpoint= in train)"
    )
