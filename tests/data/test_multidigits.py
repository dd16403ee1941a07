import time

import pytest
import torch
from sklearn.datasets import load_digits as sklearn_digits

from mlbook.data.multidigits import MultiTaskImages, digit_pools, make_multidigits


@pytest.fixture(scope="module")
def sklearn_source():
    """The 8x8 digits read straight from scikit-learn, scaled to [0, 1]: an independent reference."""
    bunch = sklearn_digits()
    return torch.tensor(bunch.images, dtype=torch.float32) / 16.0, torch.tensor(bunch.target)


def test_shapes_types_and_ranges():
    data = make_multidigits(50, canvas=14, jitter=1)
    assert data.images.shape == (50, 1, 14, 14) and data.images.dtype == torch.float32
    assert data.labels.shape == (50, 2) and data.labels.dtype == torch.long
    assert 0.0 <= data.images.min() and data.images.max() <= 1.0
    assert data.labels.min() >= 0 and data.labels.max() <= 9
    assert data.task_names == ("left", "right") and data.num_classes == (10, 10) and data.num_tasks == 2
    assert len(data) == 50 and "50 images" in repr(data)


def test_same_seed_same_images_other_seed_other_images():
    first, again = make_multidigits(200, seed=3), make_multidigits(200, seed=3)
    other = make_multidigits(200, seed=4)
    assert torch.equal(first.images, again.images) and torch.equal(first.labels, again.labels)
    assert not torch.equal(first.info["source_index"], other.info["source_index"])


@pytest.mark.parametrize("split", ["train", "test"])
def test_labels_and_pixels_match_the_source_digits(split, sklearn_source):
    source_images, source_labels = sklearn_source
    data = make_multidigits(300, split=split, seed=1, canvas=16, jitter=2)
    sources, corners = data.info["source_index"], data.info["corner"]
    assert torch.equal(data.labels, source_labels[sources])
    for i in range(len(data)):
        placed = []
        for slot in range(2):
            blank = torch.zeros(16, 16)
            r, c = corners[i, slot].tolist()
            blank[r : r + 8, c : c + 8] = source_images[sources[i, slot]]
            placed.append(blank)
        canvas = data.images[i, 0]
        assert torch.equal(canvas, torch.maximum(*placed))
        for slot in range(2):  # each digit's region shows the source image wherever the other digit has no ink
            r, c = corners[i, slot].tolist()
            other_ink = placed[1 - slot][r : r + 8, c : c + 8] > 0
            region = canvas[r : r + 8, c : c + 8]
            assert torch.equal(region[~other_ink], source_images[sources[i, slot]][~other_ink])


def test_left_digit_sits_top_left_and_right_digit_bottom_right():
    data = make_multidigits(2000, canvas=14, jitter=1)
    left, right = data.info["corner"][:, 0], data.info["corner"][:, 1]
    assert set(left.unique().tolist()) == {0, 1} and set(right.unique().tolist()) == {5, 6}
    rows = torch.arange(14, dtype=torch.float32)
    ink_row = (data.images[:, 0].sum(dim=2) * rows).sum(1) / data.images[:, 0].sum(dim=(1, 2))
    assert 5.0 < ink_row.mean() < 8.0  # the ink's centre lies on the diagonal, between the two digits
    fixed = make_multidigits(20, canvas=12, jitter=0)
    assert (fixed.info["corner"][:, 0] == 0).all() and (fixed.info["corner"][:, 1] == 4).all()


def test_pools_partition_the_digits_stratified_seventy_thirty(sklearn_source):
    _, source_labels = sklearn_source
    pools = digit_pools()
    train, test = set(pools["train"].tolist()), set(pools["test"].tolist())
    assert not train & test and train | test == set(range(1797))
    for digit in range(10):
        count = int((source_labels == digit).sum())
        in_test = int((source_labels[pools["test"]] == digit).sum())
        assert abs(in_test - 0.3 * count) <= 0.5
    assert torch.equal(digit_pools()["test"], pools["test"])  # the split is fixed, not redrawn


def test_no_source_image_is_used_by_both_splits():
    train = make_multidigits(5000, split="train", seed=0)
    test = make_multidigits(5000, split="test", seed=0)
    used_train = set(train.info["source_index"].flatten().tolist())
    used_test = set(test.info["source_index"].flatten().tolist())
    assert not used_train & used_test
    assert used_train <= set(digit_pools()["train"].tolist()) and used_test <= set(digit_pools()["test"].tolist())


def test_the_two_digits_are_different_images_but_may_share_a_class():
    data = make_multidigits(20000, seed=2)
    sources = data.info["source_index"]
    assert (sources[:, 0] != sources[:, 1]).all()
    same_class = (data.labels[:, 0] == data.labels[:, 1]).float().mean()
    assert 0.08 < same_class < 0.12  # about 1 in 10, as for independent labels


def test_labels_are_roughly_uniform_for_both_tasks():
    data = make_multidigits(20000, seed=5)
    for task in range(2):
        frequencies = torch.bincount(data.labels[:, task], minlength=10).float() / len(data)
        assert (frequencies - 0.1).abs().max() < 0.015


def test_ten_thousand_examples_take_well_under_half_a_second():
    make_multidigits(10)  # loads and caches the source digits
    timings = []
    for _ in range(3):  # best of three: a busy machine may stall any single run
        began = time.perf_counter()
        make_multidigits(10000)
        timings.append(time.perf_counter() - began)
    assert min(timings) < 0.5


@pytest.mark.parametrize("kwargs, message", [
    ({"n": 0}, "n must be an int >= 1"),
    ({"n": 10.0}, "n must be an int"),
    ({"n": 10, "split": "val"}, "split must be one of"),
    ({"n": 10, "seed": -1}, "seed must be an int >= 0"),
    ({"n": 10, "jitter": -1}, "jitter must be an int >= 0"),
    ({"n": 10, "canvas": 10, "jitter": 1}, r"canvas must be an int in \[11, 64\]"),
    ({"n": 10, "canvas": 14.0}, "canvas must be an int"),
    ({"n": 10, "canvas": 100}, "canvas must be an int"),
])
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises((TypeError, ValueError), match=message):
        make_multidigits(**kwargs)


def test_container_rejects_inconsistent_labels():
    images = torch.zeros(4, 1, 3, 3)
    with pytest.raises(ValueError, match=r"labels must have shape \(4, 2\)"):
        MultiTaskImages(images, torch.zeros(4, 3, dtype=torch.long), ("a", "b"), (2, 2))
    with pytest.raises(ValueError, match="num_classes must have one entry per task"):
        MultiTaskImages(images, torch.zeros(4, 2, dtype=torch.long), ("a", "b"), (2,))
    with pytest.raises(ValueError, match="labels of task 'b' must lie in"):
        MultiTaskImages(images, torch.tensor([[0, 0], [0, 2], [1, 1], [0, 0]]), ("a", "b"), (2, 2))
    with pytest.raises(ValueError, match="info tensors must have first dimension 4"):
        MultiTaskImages(images, torch.zeros(4, 2, dtype=torch.long), ("a", "b"), (2, 2), {"source": torch.zeros(3)})


def test_subset_keeps_labels_and_info_aligned():
    data = make_multidigits(30)
    part = data.subset(torch.tensor([4, 2]))
    assert torch.equal(part.images, data.images[[4, 2]]) and torch.equal(part.labels, data.labels[[4, 2]])
    assert torch.equal(part.info["source_index"], data.info["source_index"][[4, 2]])


def test_sizes_that_need_terabytes_or_no_canvas_are_named():
    with pytest.raises(ValueError, match="n is too large"):
        make_multidigits(10**12)
    with pytest.raises(ValueError, match="jitter must be an int >= 0 and <= 27"):
        make_multidigits(4, jitter=100)


def test_container_refuses_fractional_labels_nan_images_and_a_bare_task_name():
    images, labels = torch.zeros(2, 1, 3, 3), torch.tensor([[0, 1], [1, 0]])
    with pytest.raises(TypeError, match="labels must be an integer tensor"):
        MultiTaskImages(images, labels + 0.5, ("a", "b"), (2, 2))
    with pytest.raises(ValueError, match="images must contain finite numbers"):
        MultiTaskImages(torch.full((2, 1, 3, 3), float("nan")), labels, ("a", "b"), (2, 2))
    with pytest.raises(TypeError, match="task_names must be a sequence of names"):
        MultiTaskImages(images, labels, "ab", (2, 2))
    with pytest.raises(TypeError, match="index must hold positions"):
        MultiTaskImages(images, labels, ("a", "b"), (2, 2)).subset(torch.tensor([0.5]))
