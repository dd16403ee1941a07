import pytest
import torch

from mlbook.data import load_digits


def test_digits_are_a_ten_class_target_domain_in_omniglot_convention():
    digits = load_digits()
    assert len(digits) == 1797 and digits.num_classes == 10
    assert digits.images.shape[1:] == (1, 28, 28)
    assert 0.0 <= digits.images.min() and digits.images.max() <= 1.0
    assert digits.images[:, :, 0, :].mean() < digits.images.mean()  # ink in the middle, not the border
    assert torch.bincount(digits.labels).min() >= 170


def test_native_size_is_available():
    assert load_digits(image_size=8).images.shape[1:] == (1, 8, 8)


def test_an_image_size_that_needs_terabytes_is_refused_before_allocating():
    with pytest.raises(ValueError, match="image_size is too large"):
        load_digits(image_size=10**6)
    with pytest.raises(TypeError, match="image_size must be an int"):
        load_digits(image_size=28.0)
