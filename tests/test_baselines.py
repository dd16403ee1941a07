import pytest
import torch

from mlbook.baselines import (
    hausdorff_distance,
    hausdorff_nearest_neighbour,
    ink_points,
    modified_hausdorff,
    pixel_distance,
    pixel_nearest_neighbour,
)
from mlbook.data import load_oneshot_runs, score_oneshot


def test_modified_hausdorff_by_hand():
    a = torch.tensor([[0.0, 0.0], [0.0, 2.0]])
    b = torch.tensor([[0.0, 0.0], [0.0, 2.0], [0.0, 10.0]])
    # a -> b: both points have distance 0; b -> a: 0, 0 and 8, mean 8/3; the larger wins
    assert modified_hausdorff(a, b).item() == pytest.approx(8 / 3)
    assert modified_hausdorff(b, a).item() == pytest.approx(8 / 3)


def test_ink_points_are_centred_pixel_coordinates():
    image = torch.zeros(1, 5, 5)
    image[0, 1, 1] = image[0, 3, 3] = 1.0
    assert ink_points(image).tolist() == [[-1.0, -1.0], [1.0, 1.0]]
    with pytest.raises(ValueError, match="no ink"):
        ink_points(torch.zeros(1, 5, 5))


def test_shape_distance_ignores_translation_and_pixel_distance_does_not():
    image = torch.zeros(1, 1, 12, 12)
    image[0, 0, 2:6, 3] = 1.0
    shifted = torch.roll(image, shifts=4, dims=3)
    assert hausdorff_distance(image, shifted).item() == 0.0
    assert pixel_distance(image, shifted).item() > 0.0


def test_pixel_nearest_neighbour_on_the_benchmark_is_far_better_than_chance_but_poor(oneshot_runs):
    error = score_oneshot(pixel_nearest_neighbour(), oneshot_runs).error_percent
    assert 60.0 < error < 90.0  # chance is 95%


def test_hausdorff_reproduces_lakes_published_demo_error():
    # github.com/brendenlake/omniglot python/one-shot-classification/demo_classification.py: "38.8 percent errors"
    result = score_oneshot(hausdorff_nearest_neighbour(), load_oneshot_runs(image_size=None))
    assert result.error_percent == pytest.approx(38.75)
