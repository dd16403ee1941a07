"""Colab support: Colab opens a single notebook, so fetch the set's public tests (otter needs them in files).

The student notebook's set-up cell calls :func:`fetch_public_tests` only on Colab. It downloads one archive of
the book's repository at the ref the pages are built from (``mlbook.project.REF``) and unpacks
``exercises/<set>/tests/*.py`` into ``tests/`` beside the notebook's working directory. Nothing else of the
repository is kept, and no hidden test is ever in it.
"""

from __future__ import annotations

import tarfile
import urllib.request
from pathlib import Path, PurePosixPath

from mlbook.project import REF, REPOSITORY

ARCHIVE_URL = "https://codeload.github.com/{repository}/tar.gz/{ref}"


def fetch_public_tests(
    exercise_set: str, dest: str | Path = "tests", *, ref: str | None = None, url: str | None = None
) -> list[Path]:
    """Unpack ``exercises/<exercise_set>/tests/*.py`` from the repository archive into ``dest``.

    ``ref`` (a branch or tag) defaults to ``mlbook.project.REF``; ``url`` overrides the archive address (any
    ``urllib`` URL, ``file://`` included). Returns the files written.
    """
    url = url or ARCHIVE_URL.format(repository=REPOSITORY, ref=REF if ref is None else ref)
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    written = []
    with urllib.request.urlopen(url, timeout=60) as response, tarfile.open(fileobj=response, mode="r|gz") as archive:
        for member in archive:
            parts = PurePosixPath(member.name).parts
            # <repo>-<ref>/exercises/<set>/tests/<name>.py
            if (
                member.isfile()
                and len(parts) == 5
                and parts[1:4] == ("exercises", exercise_set, "tests")
                and parts[4].endswith(".py")
            ):
                handle = archive.extractfile(member)
                if handle is None:
                    continue
                target = dest / parts[4]
                target.write_bytes(handle.read())
                written.append(target)
    if not written:
        raise FileNotFoundError(f"no public tests for exercise set {exercise_set!r} in {url}")
    return sorted(written)
