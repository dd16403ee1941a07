"""Random affine distortions of character images (Koch et al., 2015), seeded and batched, torch only.

Koch et al. distorted every training pair with a random affine map whose components are each switched
on with probability 1/2: rotation θ ∈ [-10°, 10°], shear ρ ∈ [-0.3, 0.3] (both axes), scale s ∈ [0.8, 1.2]
(both axes) and translation t ∈ [-2, 2] pixels on 105x105 images (``translate`` here is a fraction of the
image side, so it means the same at any resolution). One ``affine_grid``/``grid_sample`` call distorts a
whole batch, each image with its own map. Ink is 1 and background 0, so padding with zeros is right.

``AugmentedSampler`` wraps any ``EpisodeSampler`` so the shared training loop sees distorted episodes
without knowing about it; the distortions draw from the wrapped sampler's own generator, so ``reset()``,
checkpoints and resumption stay bit-exact.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F

from mlbook.data.episodes import Episode, EpisodeStream
from mlbook.utils import check_positive_int


@dataclass(frozen=True)
class RandomAffine:
    """Parameters of the random distortion. Each component is applied with probability ``p``.

    ``rotation`` in degrees, ``shear`` as a slope, ``scale`` a (low, high) range per axis, ``translate`` a
    fraction of the image side. ``RandomAffine()`` is Koch et al.'s setting.
    """

    rotation: float = 10.0
    shear: float = 0.3
    scale: tuple[float, float] = (0.8, 1.2)
    translate: float = 2.0 / 105.0
    p: float = 0.5

    def __post_init__(self) -> None:
        if not 0.0 <= self.p <= 1.0:
            raise ValueError(f"p must lie in [0, 1], got {self.p!r}")
        if self.rotation < 0 or self.shear < 0 or self.translate < 0:
            raise ValueError(
                f"rotation, shear and translate must be >= 0, got {self.rotation!r}, {self.shear!r}, {self.translate!r}"
            )
        low, high = self.scale
        if not 0 < low <= high:
            raise ValueError(f"scale must be a range (low, high) with 0 < low <= high, got {self.scale!r}")

    def matrices(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``[n, 2, 3]`` affine maps (``affine_grid`` convention: output coordinates -> input coordinates)."""
        check_positive_int("n", n)

        def uniform(low: float, high: float, size=(n,)) -> torch.Tensor:
            return low + (high - low) * torch.rand(size, generator=generator, dtype=torch.float64)

        def switch(size=(n,)) -> torch.Tensor:
            return (torch.rand(size, generator=generator, dtype=torch.float64) < self.p).double()

        angle = math.radians(self.rotation) * uniform(-1.0, 1.0) * switch()
        shear = uniform(-self.shear, self.shear, (n, 2)) * switch((n, 1))
        low, high = self.scale
        scale = 1.0 + (uniform(low, high, (n, 2)) - 1.0) * switch((n, 1))
        shift = 2.0 * uniform(-self.translate, self.translate, (n, 2)) * switch((n, 1))  # [-1, 1] spans the image

        cos, sin = torch.cos(angle), torch.sin(angle)
        rotate = torch.stack([torch.stack([cos, -sin], -1), torch.stack([sin, cos], -1)], -2)
        ones = torch.ones(n, dtype=torch.float64)
        shear_m = torch.stack([torch.stack([ones, shear[:, 0]], -1), torch.stack([shear[:, 1], ones], -1)], -2)
        linear = rotate @ shear_m @ torch.diag_embed(scale)
        return torch.cat([linear, shift.unsqueeze(-1)], dim=-1).float()

    def __call__(self, images: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        return random_affine(images, generator, self)


def apply_affine(images: torch.Tensor, matrices: torch.Tensor) -> torch.Tensor:
    """Warp ``images`` ``[B, C, H, W]`` with ``matrices`` ``[B, 2, 3]`` (bilinear, zero padding)."""
    if images.ndim != 4:
        raise ValueError(f"images must be [batch, C, H, W], got shape {tuple(images.shape)}")
    if matrices.shape != (images.shape[0], 2, 3):
        raise ValueError(f"matrices must have shape ({images.shape[0]}, 2, 3), got {tuple(matrices.shape)}")
    theta = matrices.to(device=images.device, dtype=images.dtype)
    grid = F.affine_grid(theta, list(images.shape), align_corners=False)
    return F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def random_affine(
    images: torch.Tensor, generator: torch.Generator | None = None, distortion: RandomAffine | None = None
) -> torch.Tensor:
    """Each image of ``images`` ``[B, C, H, W]`` distorted by its own random affine map.

    The randomness comes from ``generator`` (a CPU ``torch.Generator``; the global one if ``None``).
    """
    if images.ndim != 4:
        raise ValueError(f"images must be [batch, C, H, W], got shape {tuple(images.shape)}")
    distortion = distortion or RandomAffine()
    return apply_affine(images, distortion.matrices(images.shape[0], generator))


class AugmentedSampler(EpisodeStream):
    """Wrap a sampler so every episode's support and query images are randomly distorted.

    Everything else (``n_way``, ``k_shot``, labels, ``classes``) passes through unchanged. The distortions
    use the wrapped sampler's generator, so two wrappers built alike give identical episodes and
    ``reset()`` restarts both the episode stream and the distortions.
    """

    def __init__(self, sampler, distortion: RandomAffine | None = None) -> None:
        if not hasattr(sampler, "sample") or not hasattr(sampler, "generator"):
            raise ValueError(f"sampler must be an episode sampler with .sample() and .generator, got {sampler!r}")
        self.sampler = sampler
        self.distortion = distortion or RandomAffine()

    @property
    def generator(self) -> torch.Generator:
        return self.sampler.generator

    def __getattr__(self, name: str):  # n_way, k_shot, q_query, dataset, ... of the wrapped sampler
        if name == "sampler":
            raise AttributeError(name)
        return getattr(self.sampler, name)

    def reset(self) -> None:
        self.sampler.reset()

    def sample(self, group: str | None = None) -> Episode:
        episode = self.sampler.sample(group) if group is not None else self.sampler.sample()
        n_support = episode.support_x.shape[0]
        images = random_affine(torch.cat([episode.support_x, episode.query_x]), self.generator, self.distortion)
        return replace(episode, support_x=images[:n_support], query_x=images[n_support:])

    def __repr__(self) -> str:
        return f"AugmentedSampler({self.sampler!r}, {self.distortion})"
