"""Looking inside a trained metric method: embeddings of many images and a 2-D projection for plots."""

from __future__ import annotations

import torch

from mlbook.metric.base import MetricMethod
from mlbook.validate import check_module, check_positive_int, check_tensor


@torch.no_grad()
def embed_images(method: MetricMethod, images: torch.Tensor, batch_size: int = 256) -> torch.Tensor:
    """f_θ(x) for ``images`` ``[B, C, H, W]`` in evaluation mode, flattened to ``[B, D]``, in batches."""
    check_module("method", method)
    check_positive_int("batch_size", batch_size)
    check_tensor("images", images, floating=True, non_empty=True)
    if images.ndim != 4:
        raise ValueError(f"images must be [batch, C, H, W], got shape {tuple(images.shape)}")
    was_training = method.training
    method.eval()
    try:
        device = next(method.parameters()).device
        chunks = [method.embed(chunk.to(device)).flatten(1).cpu() for chunk in images.split(batch_size)]
    finally:
        method.train(was_training)
    return torch.cat(chunks)


def pca_2d(points: torch.Tensor, *others: torch.Tensor) -> list[torch.Tensor]:
    """Project ``points`` ``[n, D]`` onto their first two principal components; ``others`` (e.g. the
    prototypes) go through the same projection so everything lands in one picture."""
    check_tensor("points", points, floating=True, finite=True)
    for index, other in enumerate(others):
        check_tensor(f"others[{index}]", other, ndim=2)
        if other.shape[1] != points.shape[-1]:
            raise ValueError(
                f"others[{index}] must have the {points.shape[-1]} features of points, got {tuple(other.shape)}"
            )
    if points.ndim != 2 or points.shape[0] < 2:
        raise ValueError(f"points must be [n >= 2, D], got shape {tuple(points.shape)}")
    points = points.double()
    mean = points.mean(dim=0, keepdim=True)
    _, _, v = torch.linalg.svd(points - mean, full_matrices=False)
    basis = v[:2].T
    if basis.shape[1] < 2:
        raise ValueError("points must have at least 2 features for a 2-D projection")
    return [((x.double() - mean) @ basis).float() for x in (points, *others)]
