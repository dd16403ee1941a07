"""``LabelledImages`` refuses what would otherwise give a silently wrong data set."""

import math

import numpy as np
import pytest
import torch

from mlbook.data import LabelledImages


def _parts(n_classes: int = 3, per_class: int = 4):
    images = torch.linspace(0, 1, n_classes * per_class * 4).view(-1, 1, 2, 2)
    labels = torch.arange(n_classes).repeat_interleave(per_class)
    return images, labels, [f"c{i}" for i in range(n_classes)]


def test_numpy_arrays_are_taken_as_tensors():
    images, labels, names = _parts()
    data = LabelledImages(images.numpy(), labels.numpy(), names)
    assert isinstance(data.images, torch.Tensor) and torch.equal(data.images, images)
    assert data.labels.dtype == torch.long and torch.equal(data.labels, labels)


def test_fractional_labels_are_refused_not_truncated():
    images, labels, names = _parts()
    with pytest.raises(TypeError, match="labels must be an integer tensor"):
        LabelledImages(images, labels.float() + 0.5, names)
    with pytest.raises(TypeError, match="labels must be an integer tensor"):
        LabelledImages(images, labels.numpy() + 0.5, names)


def test_nan_and_integer_images_are_refused():
    images, labels, names = _parts()
    images[0, 0, 0, 0] = math.nan
    with pytest.raises(ValueError, match="images must contain finite numbers"):
        LabelledImages(images, labels, names)
    with pytest.raises(TypeError, match="images must be a floating-point tensor"):
        LabelledImages(torch.zeros(12, 1, 2, 2, dtype=torch.uint8), labels, names)


def test_an_empty_data_set_is_refused():
    with pytest.raises(ValueError, match="images must not be empty"):
        LabelledImages(torch.zeros(0, 1, 2, 2), torch.zeros(0, dtype=torch.long), ["c0"])


def test_names_given_as_one_string_are_refused_not_split_into_letters():
    images, labels, _ = _parts()
    with pytest.raises(TypeError, match="class_names must be a list"):
        LabelledImages(images, labels, "abc")
    with pytest.raises(TypeError, match="class_groups must be a list"):
        LabelledImages(images, labels, ["a", "b", "c"], "xyz")


def test_subset_classes_refuses_fractional_and_empty_selections():
    data = LabelledImages(*_parts())
    with pytest.raises(TypeError, match=r"classes\[0\] must be an int"):
        data.subset_classes([0.5, 1])
    with pytest.raises(ValueError, match="classes must name at least one class"):
        data.subset_classes([])
    assert torch.equal(data.subset_classes(torch.tensor([2, 0])).labels, data.subset_classes([2, 0]).labels)


def test_group_selections_refuse_a_bare_string_and_selecting_nothing():
    images, labels, names = _parts()
    data = LabelledImages(images, labels, names, ["alpha", "alpha", "beta"])
    with pytest.raises(TypeError, match="groups must be a list"):
        data.drop_groups("alpha")
    with pytest.raises(ValueError, match="groups must leave at least one group"):
        data.drop_groups(["alpha", "beta"])
    with pytest.raises(ValueError, match="groups must name at least one"):
        data.select_groups([])
    assert data.drop_groups(["alpha"]).class_names == ["c2"]


def test_rotation_angles_must_be_a_list_of_ints():
    data = LabelledImages(*_parts())
    with pytest.raises(TypeError, match=r"angles\[1\] must be an int"):
        data.with_rotations([0, 90.0])
    with pytest.raises(TypeError, match="angles must be a list"):
        data.with_rotations(90)


def test_a_misspelt_device_is_named():
    with pytest.raises(ValueError, match="device must be a device name"):
        LabelledImages(*_parts()).to("gpu")


def test_numpy_int32_labels_still_work():
    images, labels, names = _parts()
    data = LabelledImages(images, np.asarray(labels.numpy(), dtype=np.int32), names)
    assert data.labels.dtype == torch.long
