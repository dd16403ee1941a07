import errno
import os
import time

import numpy as np
import pytest
import torch

from mlbook.data import load_omniglot, minimal_splits
from mlbook.data import omniglot as omniglot_module
from mlbook.data.sources import cache_dir


def test_small1_has_five_alphabets_136_characters_20_drawers(omniglot_small1):
    data = omniglot_small1
    assert data.groups == ["Balinese", "Early_Aramaic", "Greek", "Korean", "Latin"]
    assert data.num_classes == 136 and len(data) == 136 * 20
    assert torch.bincount(data.labels).tolist() == [20] * 136
    assert data.images.shape == (2720, 1, 28, 28) and data.images.dtype == torch.float32


def test_images_are_inverted_so_ink_is_one(omniglot_small1):
    images = omniglot_small1.images
    assert images.min() == 0.0 and images.max() == 1.0
    assert images[:, :, 0, :].mean() < 0.01  # the border is background
    assert 0.03 < images.mean() < 0.25  # strokes cover a small part of each glyph


def test_original_size_keeps_binary_105_pixel_images():
    data = load_omniglot("background_small2", image_size=None)
    assert data.images.shape[1:] == (1, 105, 105)
    assert set(torch.unique(data.images).tolist()) == {0.0, 1.0}


@pytest.mark.parametrize("kwargs, message", [
    ({"split": "training"}, "split must be one of"),
    ({"image_size": 4}, "image_size must be None"),
    ({"image_size": 28.0}, "image_size must be None"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        load_omniglot(**kwargs)


def test_second_load_comes_from_the_cache_in_well_under_a_second(omniglot_small1, monkeypatch):
    def no_decoding(*args):
        raise AssertionError("a second load must not decode the PNGs again")

    monkeypatch.setattr(omniglot_module, "_decode_archive", no_decoding)
    timings = []
    for _ in range(3):  # the best of three: a busy machine may stall any single load
        began = time.perf_counter()
        again = load_omniglot("background_small1")
        timings.append(time.perf_counter() - began)
    assert min(timings) < 1.0  # ~0.04 s measured
    assert torch.equal(again.images, omniglot_small1.images)


def test_corrupt_cache_is_detected_and_rebuilt(tmp_path, monkeypatch, omniglot_small1):
    monkeypatch.setenv("MLBOOK_CACHE", str(tmp_path))
    load_omniglot("background_small1", image_size=20)
    (cached,) = cache_dir().glob("omniglot-*-20-*.npz")
    raw = bytearray(cached.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    cached.write_bytes(bytes(raw))
    assert omniglot_module._load_cached(cached.stem) is None
    rebuilt = load_omniglot("background_small1", image_size=20)
    reference = torch.nn.functional.interpolate(omniglot_small1.images[:5], size=20, mode="area")
    assert rebuilt.images.shape == (2720, 1, 20, 20)
    assert (rebuilt.images[:5] - reference).abs().mean() < 0.05


@pytest.mark.parametrize("train", [1, 2])
def test_minimal_splits_never_share_a_character_or_alphabet(train):
    meta_train, meta_test = minimal_splits(train=train)
    assert not set(meta_train.class_names) & set(meta_test.class_names)
    assert not set(meta_train.groups) & set(meta_test.groups)
    assert len(meta_train.groups) == 5 and len(meta_test.groups) == 3
    assert meta_test.groups == (
        ["Japanese_(katakana)", "Sanskrit", "Tagalog"] if train == 1 else ["Balinese", "Early_Aramaic", "Korean"]
    )


def test_minimal_splits_rejects_a_third_split():
    with pytest.raises(ValueError, match=r"train must be one of \[1, 2\]"):
        minimal_splits(train=3)


def test_rotations_become_new_classes_in_the_same_alphabet(omniglot_small1):
    rotated = omniglot_small1.with_rotations()
    assert rotated.num_classes == 4 * 136 and len(rotated) == 4 * 2720
    first = omniglot_small1.indices_by_class[0][0]
    same_in_rot90 = rotated.indices_by_class[136][0]
    assert torch.equal(rotated.images[same_in_rot90], torch.rot90(omniglot_small1.images[first], 1, dims=(1, 2)))
    assert rotated.class_names[136].endswith("/rot90") and rotated.class_groups[136] == "Balinese"
    with pytest.raises(ValueError, match="multiples of 90"):
        omniglot_small1.with_rotations((0, 45))


def test_subset_relabels_in_the_given_order(omniglot_small1):
    subset = omniglot_small1.subset_classes([5, 2])
    assert subset.class_names == [omniglot_small1.class_names[5], omniglot_small1.class_names[2]]
    assert torch.bincount(subset.labels).tolist() == [20, 20]
    original = omniglot_small1.images[omniglot_small1.indices_by_class[5]]
    assert torch.equal(subset.images[subset.indices_by_class[0]], original)
    with pytest.raises(ValueError, match="classes must lie in"):
        omniglot_small1.subset_classes([500])


def test_decoding_matches_an_independent_read_of_one_png():
    import io
    import zipfile

    from PIL import Image

    from mlbook.data.sources import OMNIGLOT_FILES, fetch

    with zipfile.ZipFile(fetch(OMNIGLOT_FILES["background_small1"])) as zf:
        first = sorted(n for n in zf.namelist() if n.endswith(".png"))[0]
        pixels = np.array(Image.open(io.BytesIO(zf.read(first))).convert("1"))
    data = load_omniglot("background_small1", image_size=None)
    assert np.array_equal(data.images[0, 0].numpy() == 1.0, ~pixels)


def _tiny_arrays(*args) -> dict[str, np.ndarray]:
    """What ``_decode_archive`` returns, for two 4x4 characters: keeps the fault tests cheap."""
    return {
        "images": np.arange(32, dtype=np.uint8).reshape(2, 4, 4),
        "labels": np.array([0, 1], dtype=np.int32),
        "class_names": np.array(["A/c1", "A/c2"]),
        "class_groups": np.array(["A", "A"]),
    }


def test_download_and_train_must_be_what_they_say():
    with pytest.raises(TypeError, match="download must be True or False"):
        load_omniglot(download="no")
    with pytest.raises(TypeError, match="train must be an int"):
        minimal_splits(train=True)


def test_a_read_only_cache_loads_without_caching_and_warns_once(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    cache.mkdir()
    monkeypatch.setenv("MLBOOK_CACHE", str(cache))
    monkeypatch.setattr(omniglot_module, "_decode_archive", _tiny_arrays)
    if os.geteuid() == 0:  # root writes through a read-only mode: make the write fail as it would for a reader

        def refused(*args, **kwargs):
            raise PermissionError(errno.EACCES, "Permission denied", str(cache))

        monkeypatch.setattr(omniglot_module.tempfile, "mkstemp", refused)
    else:
        cache.chmod(0o555)
    try:
        with pytest.warns(RuntimeWarning, match="MLBOOK_CACHE") as caught:
            first = load_omniglot("background_small1")
            second = load_omniglot("background_small1")
    finally:
        cache.chmod(0o755)
    assert sum("MLBOOK_CACHE" in str(w.message) for w in caught) == 1
    assert first.images.shape == (2, 1, 4, 4) and torch.equal(first.images, second.images)
    assert list(cache.iterdir()) == []


def test_a_full_disk_leaves_no_part_file_and_the_decoded_data_still_load(tmp_path, monkeypatch):
    monkeypatch.setenv("MLBOOK_CACHE", str(tmp_path))
    monkeypatch.setattr(omniglot_module, "_decode_archive", _tiny_arrays)

    def full_disk(handle, **arrays):
        handle.write(b"half an archive")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(omniglot_module.np, "savez", full_disk)
    with pytest.warns(RuntimeWarning, match="No space left on device"):
        data = load_omniglot("background_small1")
    assert len(data) == 2 and data.class_names == ["A/c1", "A/c2"]
    assert list(tmp_path.iterdir()) == []


def test_a_cache_directory_that_cannot_be_created_is_skipped_with_a_warning(monkeypatch):
    def cannot_create():
        raise PermissionError(errno.EACCES, "Permission denied", "/read-only/mlbook-cache")

    monkeypatch.setattr(omniglot_module, "cache_dir", cannot_create)
    monkeypatch.setattr(omniglot_module, "_decode_archive", _tiny_arrays)
    with pytest.warns(RuntimeWarning, match="read-only/mlbook-cache"):
        assert len(load_omniglot("background_small1")) == 2


def test_a_cache_variable_naming_a_file_is_said_clearly(tmp_path, monkeypatch):
    not_a_directory = tmp_path / "cache.txt"
    not_a_directory.write_text("a file")
    monkeypatch.setenv("MLBOOK_CACHE", str(not_a_directory))
    with pytest.raises(NotADirectoryError, match="MLBOOK_CACHE must name a directory"):
        load_omniglot("background_small1")
