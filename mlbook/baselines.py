"""Chapter 1's baselines on the one-shot benchmark: pixel nearest neighbour and modified Hausdorff distance.

Neither learns anything; they show how far raw pixels and a hand-made shape distance get.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from scipy.spatial import cKDTree

from mlbook.data.episodes import Episode
from mlbook.data.oneshot import Classifier, nearest_by_distance
from mlbook.metric.base import check_episode
from mlbook.training.method import EpisodicMethod
from mlbook.validate import check_number, check_tensor


def pixel_distance(query: torch.Tensor, support: torch.Tensor) -> torch.Tensor:
    """Euclidean distance between flattened images: ``[Q, ...]`` x ``[S, ...]`` -> ``[Q, S]``.

    Both are non-empty floating-point stacks of images of one shape (at least ``[count, pixels]``)."""
    check_tensor("query", query, ndim=(2, 3, 4), floating=True, non_empty=True)
    check_tensor("support", support, ndim=(2, 3, 4), floating=True, non_empty=True)
    if query.shape[1:] != support.shape[1:]:
        raise ValueError(
            f"query and support images must have one shape, got {tuple(query.shape)} and {tuple(support.shape)}"
        )
    return torch.cdist(query.flatten(1).double(), support.flatten(1).double())


def ink_points(image: torch.Tensor, threshold: float = 0.5) -> torch.Tensor:
    """Centred (row, col) coordinates of the inked pixels of one image ``[1, H, W]`` or ``[H, W]``."""
    check_tensor("image", image, ndim=(2, 3))
    if image.ndim == 3 and image.shape[0] != 1:
        raise ValueError(f"image must be one image [1, H, W] or [H, W], got shape {tuple(image.shape)} (a batch?)")
    check_number("threshold", threshold)
    points = torch.nonzero(image.squeeze(0) > threshold).double()
    if points.shape[0] == 0:
        raise ValueError("image has no ink above the threshold: cannot compute its point set")
    return points - points.mean(dim=0)


def modified_hausdorff(points_a: torch.Tensor, points_b: torch.Tensor) -> torch.Tensor:
    """Modified Hausdorff distance (Dubuisson & Jain 1994): the larger of the two mean nearest-point distances.

    ``points_a`` ``[n, d]`` and ``points_b`` ``[m, d]`` are non-empty floating-point point sets (``ink_points``)."""
    for name, points in (("points_a", points_a), ("points_b", points_b)):
        check_tensor(name, points, ndim=2, floating=True, non_empty=True)
    if points_a.shape[1] != points_b.shape[1]:
        raise ValueError(
            f"points_a and points_b must have the same number of coordinates, got shapes {tuple(points_a.shape)} "
            f"and {tuple(points_b.shape)}"
        )
    distances = torch.cdist(points_a, points_b)
    return torch.maximum(distances.min(dim=1).values.mean(), distances.min(dim=0).values.mean())


def hausdorff_distance(query: torch.Tensor, support: torch.Tensor) -> torch.Tensor:
    """``[Q, S]`` modified Hausdorff distances between the ink point sets of two stacks of images.

    Same numbers as ``modified_hausdorff`` on every pair, found with one k-d tree per image (exact nearest
    neighbours) instead of a full pairwise distance matrix: several times faster on ~1000-point glyphs.
    ``query`` and ``support`` are stacks ``[M, 1, H, W]`` or ``[M, H, W]`` of images with some ink each.
    """
    query_points = _ink_point_sets("query", query)
    support_points = _ink_point_sets("support", support)
    query_trees = [cKDTree(points) for points in query_points]
    support_trees = [cKDTree(points) for points in support_points]
    distances = np.empty((len(query_points), len(support_points)))
    for i, (q_points, q_tree) in enumerate(zip(query_points, query_trees, strict=True)):
        for j, (s_points, s_tree) in enumerate(zip(support_points, support_trees, strict=True)):
            query_to_support = s_tree.query(q_points)[0].mean()
            support_to_query = q_tree.query(s_points)[0].mean()
            distances[i, j] = max(query_to_support, support_to_query)
    return torch.from_numpy(distances)


def _ink_point_sets(name: str, images: torch.Tensor) -> list[np.ndarray]:
    """``ink_points`` of every image of a stack, as NumPy arrays; an error names the stack and the image."""
    check_tensor(name, images, ndim=(3, 4), non_empty=True)
    point_sets = []
    for index, image in enumerate(images):
        try:
            point_sets.append(ink_points(image).numpy())
        except ValueError as error:
            raise ValueError(f"{name}[{index}]: {error}") from error
    return point_sets


def pixel_nearest_neighbour() -> Classifier:
    """One-shot classifier: the support image closest in pixel space."""
    return nearest_by_distance(pixel_distance)


def hausdorff_nearest_neighbour() -> Classifier:
    """One-shot classifier of Lake's demo: the support image with the smallest modified Hausdorff distance
    (use it on the 105x105 originals, ``load_oneshot_runs(image_size=None)``, to reproduce the 38.8%)."""
    return nearest_by_distance(hausdorff_distance)


class PixelNearestNeighbour(EpisodicMethod):
    """K-shot nearest neighbour in pixel space as an ``EpisodicMethod``: no meta-parameters at all, the task
    parameters are the support set itself. Scores are one-hot votes of the nearest support example."""

    def predict(self, episode: Episode) -> torch.Tensor:
        """One-hot votes ``[Q, N]``; ``episode`` must pass ``mlbook.metric.check_episode``."""
        if isinstance(episode, Episode) and episode.n_way is None:
            raise ValueError("PixelNearestNeighbour classifies: episode.n_way must be set (not a regression episode)")
        check_episode(episode)
        nearest = pixel_distance(episode.query_x, episode.support_x).argmin(dim=1)
        return F.one_hot(episode.support_y[nearest], episode.n_way).float()

    def episode_loss(self, episode: Episode):
        raise TypeError("PixelNearestNeighbour has no parameters to meta-train; use it with evaluate() only")
