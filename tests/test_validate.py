"""The argument checks of ``mlbook.validate``: what each accepts, what it refuses, and that it names the argument."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from mlbook import validate


@pytest.mark.parametrize("value", [0, 3, np.int64(7), torch.tensor(2).item()])
def test_check_int_accepts_integers_and_returns_python_ints(value):
    assert validate.check_int("n", value) == int(value)
    assert type(validate.check_int("n", value)) is int


@pytest.mark.parametrize("value", [2.0, 2.5, True, "3", None, torch.tensor(3)])
def test_check_int_refuses_non_integers_with_a_type_error_naming_the_argument(value):
    with pytest.raises(TypeError, match="n_way must be an int"):
        validate.check_int("n_way", value)


def test_check_int_bounds_are_inclusive_and_named():
    assert validate.check_int("k", 1, minimum=1, maximum=1) == 1
    with pytest.raises(ValueError, match=r"k must be an int >= 1 and <= 5, got 6"):
        validate.check_int("k", 6, minimum=1, maximum=5)
    with pytest.raises(ValueError, match=r"k must be an int >= 1, got 0"):
        validate.check_positive_int("k", 0)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_check_number_refuses_nan_and_inf(value):
    with pytest.raises(ValueError, match="lr must be a finite number"):
        validate.check_number("lr", value)


def test_check_number_intervals_open_and_closed():
    assert validate.check_number("p", 0.0, low=0.0) == 0.0
    with pytest.raises(ValueError, match=r"p must be a finite number > 0"):
        validate.check_number("p", 0.0, low=0.0, low_open=True)
    assert validate.check_probability("p", 1.0) == 1.0
    with pytest.raises(ValueError, match=r"p must be a finite number >= 0 and <= 1, got 1.5"):
        validate.check_probability("p", 1.5)
    with pytest.raises(ValueError, match=r"< 1"):
        validate.check_number("c", 1.0, low=0.0, high=1.0, high_open=True)
    with pytest.raises(ValueError, match="scale"):
        validate.check_positive("scale", -1)
    assert validate.check_non_negative("ridge", 0) == 0.0


@pytest.mark.parametrize("value", ["0.1", None, True, torch.ones(2), [0.1]])
def test_check_number_refuses_non_numbers_with_a_type_error(value):
    with pytest.raises(TypeError, match="inner_lr must be a number"):
        validate.check_positive("inner_lr", value)


def test_check_range_wants_an_increasing_pair_of_finite_numbers():
    assert validate.check_range("amplitude", (0.1, 5)) == (0.1, 5.0)
    with pytest.raises(ValueError, match="amplitude must be a pair"):
        validate.check_range("amplitude", (5.0, 0.1))
    with pytest.raises(ValueError, match=r"amplitude\[1\] must be a finite number"):
        validate.check_range("amplitude", (0.1, float("nan")))
    with pytest.raises(TypeError, match="amplitude must be a pair"):
        validate.check_range("amplitude", 5.0)


def test_check_seed_is_what_a_torch_generator_takes():
    largest = validate.SEED_LIMIT - 1
    torch.Generator().manual_seed(validate.check_seed("seed", largest))
    for bad in (-1, validate.SEED_LIMIT):
        with pytest.raises(ValueError, match="seed"):
            validate.check_seed("seed", bad)
    with pytest.raises(TypeError, match="seed"):
        validate.check_seed("seed", 1.0)


def test_check_choice_names_the_allowed_values_even_for_unhashable_values():
    validate.check_choice("norm", "batch", ["batch", "group"])
    with pytest.raises(ValueError, match=r"norm must be one of \['batch', 'group'\], got 'btach'"):
        validate.check_choice("norm", "btach", ["batch", "group"])
    with pytest.raises(ValueError, match="norm must be one of"):
        validate.check_choice("norm", ["batch"], {"batch": 1})


def test_check_module_and_check_callable():
    layer = nn.Linear(2, 2)
    assert validate.check_module("model", layer) is layer
    with pytest.raises(TypeError, match="model must be a torch.nn.Module, got str"):
        validate.check_module("model", "conv4")
    assert validate.check_callable("loss", math.sqrt) is math.sqrt
    with pytest.raises(TypeError, match="loss must be callable"):
        validate.check_callable("loss", "mse")


def test_check_tensor_dimensions_dtype_emptiness_and_finiteness():
    images = torch.zeros(2, 1, 4, 4)
    assert validate.check_tensor("images", images, ndim=4, floating=True, finite=True) is images
    validate.check_tensor("images", images, ndim=(3, 4))
    with pytest.raises(ValueError, match=r"images must have 4 dimensions, got shape \(4, 4\)"):
        validate.check_tensor("images", torch.zeros(4, 4), ndim=4)
    with pytest.raises(TypeError, match="images must be a floating-point tensor"):
        validate.check_tensor("images", images.long(), floating=True)
    with pytest.raises(TypeError, match="labels must be an integer tensor"):
        validate.check_tensor("labels", torch.zeros(3), floating=False)
    with pytest.raises(TypeError, match="labels must be an integer tensor"):
        validate.check_tensor("labels", torch.zeros(3, dtype=torch.bool), floating=False)
    with pytest.raises(ValueError, match="images must not be empty"):
        validate.check_tensor("images", torch.zeros(0, 1, 4, 4), non_empty=True)
    images[1, 0, 2, 2] = float("nan")
    with pytest.raises(ValueError, match="images must contain finite numbers only"):
        validate.check_tensor("images", images, finite=True)
    with pytest.raises(TypeError, match="images must be a torch.Tensor, got ndarray"):
        validate.check_tensor("images", np.zeros((2, 2)))


def test_check_labels_range_and_dtype():
    labels = torch.tensor([0, 2, 1])
    assert validate.check_labels("labels", labels, 3) is labels
    with pytest.raises(ValueError, match=r"labels must be class indices < 3 \(the number of classes\), got 3"):
        validate.check_labels("labels", torch.tensor([0, 3]), 3)
    with pytest.raises(ValueError, match="labels must be class indices >= 0, got -1"):
        validate.check_labels("labels", torch.tensor([0, -1]))
    with pytest.raises(TypeError, match="labels must be an integer tensor"):
        validate.check_labels("labels", torch.tensor([0.0, 1.5]), 3)
    validate.check_labels("labels", torch.zeros(0, dtype=torch.long), 3)  # empty is the caller's decision


def test_check_same_length_and_check_memory():
    validate.check_same_length("images", [1, 2], "labels", (3, 4))
    with pytest.raises(ValueError, match="images and labels must have the same length, got 2 and 3"):
        validate.check_same_length("images", [1, 2], "labels", [1, 2, 3])
    validate.check_memory("n", 1024)
    with pytest.raises(ValueError, match="n is too large: it would allocate"):
        validate.check_memory("n", 2**80)


def test_utils_keeps_exporting_the_old_check_names():
    from mlbook import utils

    assert utils.check_positive_int is validate.check_positive_int
    assert utils.check_choice is validate.check_choice


def test_check_bool_refuses_truthy_strings_and_numbers():
    assert validate.check_bool("fce", False) is False
    for bad in ("no", 1, None):
        with pytest.raises(TypeError, match="fce must be True or False"):
            validate.check_bool("fce", bad)


def test_check_device_parses_names_and_refuses_misspelt_or_missing_devices():
    assert validate.check_device("device", "cpu") == torch.device("cpu")
    assert validate.check_device("device", torch.device("cpu")) == torch.device("cpu")
    with pytest.raises(ValueError, match="device must be a device name"):
        validate.check_device("device", "cpu0")
    with pytest.raises(TypeError, match="device must be a str or torch.device"):
        validate.check_device("device", 0.5)
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="no CUDA GPU is available"):
            validate.check_device("device", "cuda")


def test_check_list_of_wants_a_non_empty_list_of_the_kind_and_refuses_a_lone_item():
    assert validate.check_list_of("rows", [{"a": 1}], dict, "dict") == [{"a": 1}]
    with pytest.raises(TypeError, match="rows must be a list of dicts, got dict"):
        validate.check_list_of("rows", {"a": 1}, dict, "dict")
    with pytest.raises(TypeError, match="rows must be a list of dicts, got str"):
        validate.check_list_of("rows", "ab", dict, "dict")
    with pytest.raises(ValueError, match="rows must contain at least one dict"):
        validate.check_list_of("rows", [], dict, "dict")
    with pytest.raises(TypeError, match=r"rows\[1\] must be a dict, got int"):
        validate.check_list_of("rows", [{}, 3], dict, "dict")


def test_check_path_check_folder_and_check_optimizer(tmp_path):
    assert validate.check_path("root", str(tmp_path)) == tmp_path
    assert validate.check_folder("root", tmp_path) == tmp_path
    with pytest.raises(TypeError, match=r"root must be a path \(str or pathlib.Path\), got int"):
        validate.check_path("root", 3)
    with pytest.raises(ValueError, match="root must be an existing folder"):
        validate.check_folder("root", tmp_path / "missing")
    optimizer = torch.optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1)
    assert validate.check_optimizer("optimizer", optimizer) is optimizer
    with pytest.raises(TypeError, match="the class: build it"):
        validate.check_optimizer("optimizer", torch.optim.SGD)


def test_describe_shortens_long_values():
    assert validate.describe("ab") == "'ab'"
    assert validate.describe("x" * 500).startswith("str 'xxx") and len(validate.describe("x" * 500)) < 80
