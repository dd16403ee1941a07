import pytest
import torch

from mlbook.baselines import (
    PixelNearestNeighbour,
    hausdorff_distance,
    hausdorff_nearest_neighbour,
    ink_points,
    modified_hausdorff,
    pixel_distance,
    pixel_nearest_neighbour,
)
from mlbook.data import Episode, EpisodeSampler, LabelledImages, load_oneshot_runs, score_oneshot
from mlbook.training import evaluate, evaluate_oneshot


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


def test_tree_search_gives_exactly_the_brute_force_distances(oneshot_runs):
    run = load_oneshot_runs(image_size=None)[2]
    fast = hausdorff_distance(run.query[:3], run.support[:4])
    brute = torch.stack([
        torch.stack([modified_hausdorff(ink_points(q), ink_points(s)) for s in run.support[:4]]) for q in run.query[:3]
    ])
    assert torch.allclose(fast, brute, rtol=1e-12, atol=1e-12)


def test_pixel_nearest_neighbour_method_agrees_with_the_classifier_and_uses_all_shots(oneshot_runs, indexed_dataset):
    method = PixelNearestNeighbour()
    assert torch.equal(evaluate_oneshot(method, oneshot_runs, device="cpu").predictions,
                       score_oneshot(pixel_nearest_neighbour(), oneshot_runs).predictions)
    # images = 100 x class + a within-class offset: the nearest support is always of the query's class
    spread = LabelledImages(indexed_dataset.labels.float().view(-1, 1, 1, 1).expand(-1, 1, 4, 4) * 100
                            + indexed_dataset.images % 10, indexed_dataset.labels, indexed_dataset.class_names)
    assert evaluate(method, EpisodeSampler(spread, 5, 3, 2, seed=0), 20, progress=False).mean == 1.0
    with pytest.raises(TypeError, match="no parameters to meta-train"):
        method.episode_loss(None)


def test_ink_points_refuses_a_batch_of_images_it_used_to_read_as_4_d_points():
    with pytest.raises(ValueError, match="image must have 2 or 3 dimensions"):
        ink_points(torch.ones(3, 1, 4, 4))
    with pytest.raises(ValueError, match=r"image must be one image \[1, H, W\]"):
        ink_points(torch.ones(3, 4, 4))
    with pytest.raises(TypeError, match="threshold must be a number"):
        ink_points(torch.ones(1, 4, 4), "0.5")


def test_pixel_distance_refuses_empty_and_integer_images():
    with pytest.raises(ValueError, match="support must not be empty"):
        pixel_distance(torch.rand(2, 1, 4, 4), torch.rand(0, 1, 4, 4))
    with pytest.raises(TypeError, match="query must be a floating-point tensor"):
        pixel_distance(torch.zeros(2, 1, 4, 4, dtype=torch.uint8), torch.rand(3, 1, 4, 4))


def test_hausdorff_names_the_blank_image_and_mismatched_point_sets():
    blank = torch.zeros(2, 1, 6, 6)
    blank[0, 0, 2, 2] = 1.0
    with pytest.raises(ValueError, match=r"support\[1\]: image has no ink"):
        hausdorff_distance(blank[:1], blank)
    with pytest.raises(ValueError, match="points_a and points_b must have the same number of coordinates"):
        modified_hausdorff(torch.rand(3, 2), torch.rand(4, 3))
    with pytest.raises(ValueError, match="points_a must not be empty"):
        modified_hausdorff(torch.rand(0, 2), torch.rand(4, 2))


def test_pixel_nearest_neighbour_checks_its_episodes():
    support = torch.rand(2, 1, 4, 4, generator=torch.Generator().manual_seed(0))
    episode = Episode(support, torch.tensor([0, 5]), support.clone(), torch.tensor([0, 1]), n_way=2, k_shot=1)
    with pytest.raises(ValueError, match="support_y must be class indices < 2"):
        PixelNearestNeighbour().predict(episode)
    floats = Episode(support, torch.tensor([0.0, 1.0]), support.clone(), torch.tensor([0, 1]), n_way=2, k_shot=1)
    with pytest.raises(TypeError, match="support_y must be an integer tensor"):
        PixelNearestNeighbour().predict(floats)
