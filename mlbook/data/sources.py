"""Where data files come from: a local mirror, the cache, or a checksummed download.

Lookup order for a file such as ``images_background_small1.zip``:

1. ``$MLBOOK_DATA/<file>`` -- a local directory of mirrored zips (CI points it at ``shared/data/omniglot``);
2. ``<cache>/<file>`` -- a copy downloaded earlier (cache is ``$MLBOOK_CACHE``, default ``~/.cache/mlbook``);
3. a download from the upstream URL into the cache.

Every file is verified against its md5 before it is used, wherever it came from. A file that fails the
check is never used: a cached one is moved aside and downloaded again, a mirrored one raises.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
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
    """The directory for downloads and decoded arrays (``$MLBOOK_CACHE`` or ``~/.cache/mlbook``)."""
    root = os.environ.get(CACHE_ENV) or os.path.join(os.path.expanduser("~"), ".cache", "mlbook")
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


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
    if cached.exists():
        if _verified(cached, remote):
            return cached
        corrupt = cached.with_name(cached.name + ".corrupt")
        cached.replace(corrupt)  # keep it for inspection, never use it

    if not download:
        raise DataNotFoundError(_missing_message(remote, mirror, cached))
    try:
        _download(remote, cached)
    except (urllib.error.URLError, OSError, ChecksumError) as error:
        raise DataNotFoundError(_missing_message(remote, mirror, cached, error)) from error
    return cached


def _download(remote: RemoteFile, target: Path) -> None:
    """Download to a temporary file, verify, then move into place (never a half-written file)."""
    with tempfile.NamedTemporaryFile(dir=target.parent, prefix=target.name, suffix=".part", delete=False) as tmp:
        tmp_path = Path(tmp.name)
        try:
            with urllib.request.urlopen(remote.url, timeout=60) as response:
                shutil.copyfileobj(response, tmp)
        except BaseException:
            tmp.close()
            tmp_path.unlink(missing_ok=True)
            raise
    if not _verified(tmp_path, remote):
        got = md5_of(tmp_path)
        tmp_path.unlink(missing_ok=True)
        raise ChecksumError(f"downloaded {remote.url} has md5 {got}, expected {remote.md5}")
    tmp_path.replace(target)


def _missing_message(remote: RemoteFile, mirror: str | None, cached: Path, error: Exception | None = None) -> str:
    looked = [f"{Path(mirror) / remote.name} (${DATA_ENV})"] if mirror else [f"${DATA_ENV} is not set"]
    looked.append(f"{cached} (cache, ${CACHE_ENV})")
    lines = [
        f"Omniglot file {remote.name} is not available.",
        "Looked in: " + "; ".join(looked) + ".",
    ]
    if error is not None:
        lines.append(f"Download from {remote.url} failed: {error}.")
    lines.append(
        f"To fix: connect to the internet and retry (it downloads automatically), or download {remote.url} "
        f"yourself (md5 {remote.md5}) and put it in a directory named by ${DATA_ENV}."
    )
    return "\n".join(lines)
