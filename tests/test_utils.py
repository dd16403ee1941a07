import math

import numpy as np
import pytest
import torch

from mlbook.utils import check_choice, mean_confidence_interval, seed_everything


def test_confidence_interval_by_hand():
    mean, half = mean_confidence_interval([1.0, 2.0, 3.0, 4.0])
    assert mean == 2.5
    assert half == pytest.approx(1.959964 * math.sqrt(5 / 3) / 2, rel=1e-6)
    assert math.isnan(mean_confidence_interval([0.3])[1])
    with pytest.raises(ValueError, match="at least one"):
        mean_confidence_interval([])


def test_seed_everything_makes_torch_and_numpy_repeat():
    seed_everything(3)
    a = (torch.rand(3), np.random.rand(3))
    seed_everything(3)
    assert torch.equal(a[0], torch.rand(3)) and np.array_equal(a[1], np.random.rand(3))
    with pytest.raises(ValueError, match="seed must be"):
        seed_everything(-1)


def test_check_choice_lists_the_allowed_values():
    with pytest.raises(ValueError, match=r"norm must be one of \['a', 'b'\], got 'c'"):
        check_choice("norm", "c", ["a", "b"])


@pytest.mark.parametrize("values", [[0.5, float("nan"), 0.7], [0.5, float("inf")], torch.tensor([0.1, float("nan")])])
def test_confidence_interval_refuses_nan_and_inf_instead_of_returning_nan(values):
    with pytest.raises(ValueError, match="values must be finite numbers"):
        mean_confidence_interval(values)


@pytest.mark.parametrize("values", [None, "0.5", ["0.5", "0.7"], [[0.5, 0.7], [0.1]]])
def test_confidence_interval_names_values_when_they_are_not_numbers(values):
    with pytest.raises(TypeError, match="values must be a sequence"):
        mean_confidence_interval(values)
