"""Omniglot (Lake et al. 2015): loading, decoding, caching and the alphabet splits used in the book."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import zipfile
from contextlib import suppress
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from mlbook.data.dataset import LabelledImages
from mlbook.data.sources import OMNIGLOT_FILES, cache_dir, fetch, is_disk_error, warn_cache_unwritable
from mlbook.validate import check_bool, check_choice, check_int

SPLITS = ("background", "evaluation", "background_small1", "background_small2")
RAW_SIZE = 105
_CACHE_VERSION = 1


def load_omniglot(
    split: str = "background_small1", image_size: int | None = 28, download: bool = True
) -> LabelledImages:
    """Load an Omniglot split as ``LabelledImages`` (groups are alphabets).

    ``image_size`` resizes the 105x105 originals (28 is the literature's choice); ``None`` keeps them.
    Pixels are in ``[0, 1]`` with ink = 1. The first load decodes the PNGs and caches an array on disk;
    later loads read the cache (verified by checksum) in well under a second. Where the cache cannot be
    written (read-only, full disk) the load goes on without it after one warning naming ``$MLBOOK_CACHE``.
    """
    check_choice("split", split, SPLITS)
    _check_image_size(image_size)
    check_bool("download", download)
    archive = fetch(OMNIGLOT_FILES[split], download=download)
    key = f"omniglot-v{_CACHE_VERSION}-{split}-{image_size or RAW_SIZE}-{OMNIGLOT_FILES[split].md5[:8]}"
    arrays = _load_cached(key)
    if arrays is None:
        arrays = _decode_archive(archive, image_size)
        _save_cached(key, arrays)
    return LabelledImages(
        images=torch.from_numpy(arrays["images"].astype(np.float32) / 255.0).unsqueeze(1),
        labels=torch.from_numpy(arrays["labels"].astype(np.int64)),
        class_names=arrays["class_names"].tolist(),
        class_groups=arrays["class_groups"].tolist(),
    )


def minimal_splits(
    train: int = 1, image_size: int | None = 28, download: bool = True
) -> tuple[LabelledImages, LabelledImages]:
    """The "minimal" protocol offline: meta-train on one 5-alphabet small split, meta-test on the
    alphabets of the other small split that the first does not contain.

    ``train=1``: meta-train Balinese, Early_Aramaic, Greek, Korean, Latin; meta-test Japanese_(katakana),
    Sanskrit, Tagalog. ``train=2``: meta-train Greek, Japanese_(katakana), Latin, Sanskrit, Tagalog;
    meta-test Balinese, Early_Aramaic, Korean. No character is ever in both.
    """
    check_int("train", train)
    check_choice("train", train, (1, 2))
    meta_train = load_omniglot(f"background_small{train}", image_size, download)
    other = load_omniglot(f"background_small{3 - train}", image_size, download)
    return meta_train, other.drop_groups(meta_train.groups)


def decode_png(data: bytes, image_size: int | None) -> np.ndarray:
    """One Omniglot PNG as uint8 ``[H, W]`` with ink = 255 (resized with Lanczos when asked)."""
    with Image.open(io.BytesIO(data)) as image:
        gray = image.convert("L")
        if image_size is not None and image_size != gray.size[0]:
            gray = gray.resize((image_size, image_size), Image.Resampling.LANCZOS)
        return 255 - np.asarray(gray, dtype=np.uint8)


def _check_image_size(image_size: int | None) -> None:
    if image_size is not None and (not isinstance(image_size, int) or not 8 <= image_size <= RAW_SIZE):
        raise ValueError(f"image_size must be None (keep 105x105) or an int in [8, {RAW_SIZE}], got {image_size!r}")


def _decode_archive(archive: Path, image_size: int | None) -> dict[str, np.ndarray]:
    images, labels, names, groups = [], [], [], []
    with zipfile.ZipFile(archive) as zf:
        pngs = sorted(n for n in zf.namelist() if n.endswith(".png"))
        for path in pngs:
            _, alphabet, character, _ = path.split("/")
            name = f"{alphabet}/{character}"
            if not names or names[-1] != name:
                names.append(name)
                groups.append(alphabet)
            images.append(decode_png(zf.read(path), image_size))
            labels.append(len(names) - 1)
    return {
        "images": np.stack(images),
        "labels": np.asarray(labels, dtype=np.int32),
        "class_names": np.asarray(names),
        "class_groups": np.asarray(groups),
    }


# ---- on-disk cache of decoded arrays, protected by a checksum sidecar ---------------------------------


def _cache_paths(key: str) -> tuple[Path, Path] | None:
    """The cached array and its checksum sidecar, or ``None`` (after one warning) when the cache directory
    cannot be created."""
    try:
        directory = cache_dir()
    except OSError as error:
        if not is_disk_error(error):
            raise
        warn_cache_unwritable(Path(error.filename or "the cache directory"), error)
        return None
    path = directory / f"{key}.npz"
    return path, path.with_suffix(".npz.sha256")


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _load_cached(key: str) -> dict[str, np.ndarray] | None:
    """The cached arrays, or ``None`` when absent, unavailable or when their checksum does not match."""
    paths = _cache_paths(key)
    if paths is None:
        return None
    path, digest = paths
    if not (path.exists() and digest.exists()):
        return None
    if digest.read_text().strip() != _sha256(path):
        return None  # corrupt or half-written: rebuilt by the caller, never used
    with np.load(path, allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def _save_cached(key: str, arrays: dict[str, np.ndarray]) -> None:
    """Cache ``arrays`` under ``key``. Where the cache cannot be written (read-only, full disk, file-size limit)
    warn once and go on without it: the caller has its arrays, and no ``.part`` file is left behind."""
    paths = _cache_paths(key)
    if paths is None:
        return
    path, digest = paths
    tmp_path = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".part")
        tmp_path = Path(tmp)
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)
        checksum = _sha256(tmp_path)
        tmp_path.replace(path)
        digest.write_text(checksum + "\n")
    except OSError as error:
        if tmp_path is not None:
            with suppress(OSError):
                tmp_path.unlink(missing_ok=True)
        if not is_disk_error(error):
            raise
        warn_cache_unwritable(path.parent, error)  # a half-written sidecar never matches: the cache is not used
