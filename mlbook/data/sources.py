"""Where data files come from: a local mirror, the cache, or a checksummed download.

Lookup order for a file such as ``images_background_small1.zip``:

1. ``$MLBOOK_DATA/<file>`` -- a local directory of mirrored zips (CI points it at ``shared/data/omniglot``);
2. ``<cache>/<file>`` -- a copy downloaded earlier (cache is ``$MLBOOK_CACHE``, default ``~/.cache/mlbook``);
3. a download from the upstream URL into the cache.

Every file is verified against its md5 before it is used, wherever it came from. A file that fails the
check is never used: a cached one is moved aside and downloaded again, a mirrored one raises.

The cache is a convenience: where it cannot be written (a read-only directory, a full disk) a load that has
its data goes on without it, after one warning per cache directory naming ``$MLBOOK_CACHE``, and leaves no
``.part`` file behind.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import warnings
from dataclasses import dataclass
from pathlib import Path

DATA_ENV = "MLBOOK_DATA"
CACHE_ENV = "MLBOOK_CACHE"
OMNIGLOT_URL = "https://github.com/brendenlake/omniglot/raw/master/python/"


class DataNotFoundError(FileNotFoundError):
    """A data file is neither mirrored, cached nor downloadable. The message says what to do."""


class ChecksumError(RuntimeError):
    """A data file exists but its md5 is not the published one."""


@dataclass(frozen=True)
class RemoteFile:
    name: str
    md5: str
    url: str


OMNIGLOT_FILES = {
    "background": RemoteFile(
        "images_background.zip", "68d2efa1b9178cc56df9314c21c6e718", OMNIGLOT_URL + "images_background.zip"
    ),
    "evaluation": RemoteFile(
        "images_evaluation.zip", "6b91aef0f799c5bb55b94e3f2daec811", OMNIGLOT_URL + "images_evaluation.zip"
    ),
    "background_small1": RemoteFile(
        "images_background_small1.zip",
        "e704a628b5459e08445c13499850abc4",
        OMNIGLOT_URL + "images_background_small1.zip",
    ),
    "background_small2": RemoteFile(
        "images_background_small2.zip",
        "b75a71a51d3b13f821f212756fe481fd",
        OMNIGLOT_URL + "images_background_small2.zip",
    ),
    "all_runs": RemoteFile(
        "all_runs.zip", "e8996daecdf12afeeb4a53a179f06b19", OMNIGLOT_URL + "one-shot-classification/all_runs.zip"
    ),
}


def cache_dir() -> Path:
    """The directory for downloads and decoded arrays (``$MLBOOK_CACHE`` or ``~/.cache/mlbook``), created if
    needed. Raises ``NotADirectoryError`` naming ``$MLBOOK_CACHE`` when that path is a file."""
    root = os.environ.get(CACHE_ENV) or os.path.join(os.path.expanduser("~"), ".cache", "mlbook")
    path = Path(root)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError) as error:  # the path, or a folder above it, is a file
        raise NotADirectoryError(
            f"${CACHE_ENV} must name a directory for downloaded and decoded data, but {path} is (or lies inside) a "
            f"file: point ${CACHE_ENV} at a directory, or unset it to use ~/.cache/mlbook"
        ) from error
    return path


_UNWRITABLE_CACHES: set[str] = set()
#: errno values that mean "this directory cannot take the file": read-only, full, over quota, file too large.
_DISK_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def is_disk_error(error: BaseException | None) -> bool:
    """Whether ``error`` says a file could not be written here (permissions, read-only, full disk, size limit)."""
    return isinstance(error, OSError) and not isinstance(error, urllib.error.URLError) and error.errno in _DISK_ERRNOS


def warn_cache_unwritable(directory: Path, error: OSError) -> None:
    """Warn, once per cache directory and process, that data load without caching because writing failed."""
    if str(directory) in _UNWRITABLE_CACHES:
        return
    _UNWRITABLE_CACHES.add(str(directory))
    warnings.warn(
        f"cannot write to the data cache {directory} ({error.strerror or error}); loading without caching, so "
        f"every load decodes the data again. Point ${CACHE_ENV} at a writable directory with free space to cache.",
        RuntimeWarning,
        stacklevel=3,
    )


def md5_of(path: Path, chunk_size: int = 1 << 20) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        while block := handle.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()


def _verified(path: Path, remote: RemoteFile) -> bool:
    return md5_of(path) == remote.md5


def fetch(remote: RemoteFile, *, download: bool = True) -> Path:
    """Return a local, md5-verified path to ``remote``; mirror first, then cache, then download."""
    mirror = os.environ.get(DATA_ENV)
    if mirror:
        candidate = Path(mirror) / remote.name
        if candidate.exists():
            if not _verified(candidate, remote):
                raise ChecksumError(
                    f"{candidate} has md5 {md5_of(candidate)} but {remote.name} must have md5 {remote.md5}. "
                    f"The file is corrupt or not the published one: replace it with a fresh copy of "
                    f"{remote.url} (or unset {DATA_ENV} to download into the cache)."
                )
            return candidate

    cached = cache_dir() / remote.name
    moved_aside = None
    if cached.exists():
        if _verified(cached, remote):
            return cached
        moved_aside = f"The cached copy {cached} was corrupt (md5 {md5_of(cached)}, expected {remote.md5})"
        corrupt = cached.with_name(cached.name + ".corrupt")
        try:
            cached.replace(corrupt)  # keep it for inspection, never use it
            moved_aside += f" and was moved aside to {corrupt}."
        except OSError as error:
            moved_aside += f"; moving it aside to {corrupt} failed ({error.strerror or error}): delete it."

    if not download:
        raise DataNotFoundError(_missing_message(remote, mirror, cached, note=moved_aside))
    try:
        _download(remote, cached)
    except (urllib.error.URLError, OSError, ChecksumError) as error:
        raise DataNotFoundError(_missing_message(remote, mirror, cached, error, note=moved_aside)) from error
    return cached


def _download(remote: RemoteFile, target: Path) -> None:
    """Download to a temporary file, verify, then move into place (never a half-written file, and no
    ``.part`` file left behind whatever fails: the network, a full disk, the final move)."""
    tmp_path = None
    try:
        with tempfile.NamedTemporaryFile(dir=target.parent, prefix=target.name, suffix=".part", delete=False) as tmp:
            tmp_path = Path(tmp.name)
            with urllib.request.urlopen(remote.url, timeout=60) as response:
                shutil.copyfileobj(response, tmp)
        if not _verified(tmp_path, remote):
            raise ChecksumError(f"downloaded {remote.url} has md5 {md5_of(tmp_path)}, expected {remote.md5}")
        tmp_path.replace(target)
    finally:
        if tmp_path is not None:
            tmp_path.unlink(missing_ok=True)  # gone already after a successful move


def _missing_message(
    remote: RemoteFile, mirror: str | None, cached: Path, error: Exception | None = None, note: str | None = None
) -> str:
    looked = [f"{Path(mirror) / remote.name} (${DATA_ENV})"] if mirror else [f"${DATA_ENV} is not set"]
    looked.append(f"{cached} (cache, ${CACHE_ENV})")
    lines = [
        f"Omniglot file {remote.name} is not available.",
        "Looked in: " + "; ".join(looked) + ".",
    ]
    if note is not None:
        lines.append(note)
    if is_disk_error(error):
        lines.append(
            f"Download from {remote.url} could not be written to the cache {cached.parent} ({error}): point "
            f"${CACHE_ENV} at a writable directory with free space."
        )
    elif error is not None:
        lines.append(f"Download from {remote.url} failed: {error}.")
    lines.append(
        f"To fix: connect to the internet and retry (it downloads automatically), or download {remote.url} "
        f"yourself (md5 {remote.md5}) and put it in a directory named by ${DATA_ENV}."
    )
    return "\n".join(lines)
