import errno
import hashlib
from pathlib import Path

import pytest

from mlbook.data import sources
from mlbook.data.sources import OMNIGLOT_FILES, ChecksumError, DataNotFoundError, RemoteFile, fetch


def _remote_for(path: Path, name: str = "thing.zip") -> RemoteFile:
    return RemoteFile(name, hashlib.md5(path.read_bytes()).hexdigest(), path.as_uri())


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    mirror, cache, upstream = tmp_path / "mirror", tmp_path / "cache", tmp_path / "upstream"
    for d in (mirror, cache, upstream):
        d.mkdir()
    monkeypatch.setenv(sources.DATA_ENV, str(mirror))
    monkeypatch.setenv(sources.CACHE_ENV, str(cache))
    original = upstream / "thing.zip"
    original.write_bytes(b"the published bytes" * 100)
    return mirror, cache, _remote_for(original)


def test_shared_mirror_matches_published_checksums():
    mirror = Path(__import__("os").environ["MLBOOK_DATA"])
    listed = dict(reversed(line.split()) for line in (mirror / "MD5SUMS").read_text().splitlines() if line.strip())
    for key in ("background_small1", "background_small2", "all_runs"):
        remote = OMNIGLOT_FILES[key]
        assert listed[remote.name] == remote.md5
        assert sources.md5_of(mirror / remote.name) == remote.md5


def test_fetch_prefers_a_verified_mirror_copy(isolated):
    mirror, cache, remote = isolated
    (mirror / remote.name).write_bytes(Path(remote.url[len("file://") :]).read_bytes())
    assert fetch(remote) == mirror / remote.name
    assert not (cache / remote.name).exists()


def test_corrupt_mirror_copy_raises_with_instructions(isolated):
    mirror, _, remote = isolated
    (mirror / remote.name).write_bytes(b"truncated")
    with pytest.raises(ChecksumError, match=r"thing\.zip.*md5.*replace it"):
        fetch(remote)


def test_download_is_verified_and_cached(isolated):
    _, cache, remote = isolated
    path = fetch(remote)
    assert path == cache / remote.name
    assert sources.md5_of(path) == remote.md5
    assert not list(cache.glob("*.part"))


def test_download_with_wrong_checksum_leaves_nothing_behind(isolated):
    _, cache, remote = isolated
    wrong = RemoteFile(remote.name, "0" * 32, remote.url)
    with pytest.raises(DataNotFoundError, match="md5"):
        fetch(wrong)
    assert list(cache.iterdir()) == []


def test_corrupt_cached_copy_is_never_used_and_is_kept_aside(isolated):
    _, cache, remote = isolated
    (cache / remote.name).write_bytes(b"bit rot")
    path = fetch(remote)  # downloads a good copy again
    assert sources.md5_of(path) == remote.md5
    assert (cache / (remote.name + ".corrupt")).read_bytes() == b"bit rot"


def test_missing_file_offline_says_where_it_looked_and_what_to_do(isolated):
    mirror, cache, remote = isolated
    unreachable = RemoteFile(remote.name, remote.md5, (mirror / "nowhere.zip").as_uri())
    with pytest.raises(DataNotFoundError) as error:
        fetch(unreachable)
    message = str(error.value)
    assert remote.name in message
    assert str(mirror / remote.name) in message and str(cache / remote.name) in message
    assert "MLBOOK_DATA" in message and "To fix" in message


def test_download_false_never_touches_the_network(isolated):
    _, _, remote = isolated
    with pytest.raises(DataNotFoundError, match="not available"):
        fetch(remote, download=False)


def test_a_corrupt_cached_copy_is_reported_as_corrupt_with_where_it_went(isolated):
    _, cache, remote = isolated
    (cache / remote.name).write_bytes(b"bit rot")
    with pytest.raises(DataNotFoundError) as error:
        fetch(remote, download=False)
    message = str(error.value)
    assert "was corrupt" in message and str(cache / (remote.name + ".corrupt")) in message


def test_a_download_that_fills_the_disk_leaves_no_part_file_and_names_the_cache(isolated, monkeypatch):
    _, cache, remote = isolated

    def full_disk(source, target):
        target.write(b"some bytes")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(sources.shutil, "copyfileobj", full_disk)
    with pytest.raises(DataNotFoundError, match="MLBOOK_CACHE at a writable directory"):
        fetch(remote)
    assert list(cache.iterdir()) == []


def test_a_cache_variable_naming_a_file_is_refused_by_name(tmp_path, monkeypatch):
    not_a_directory = tmp_path / "cache.txt"
    not_a_directory.write_text("a file")
    monkeypatch.setenv(sources.CACHE_ENV, str(not_a_directory / "inside"))
    with pytest.raises(NotADirectoryError, match="MLBOOK_CACHE must name a directory"):
        sources.cache_dir()
