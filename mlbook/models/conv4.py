"""The Conv4 backbone of the few-shot literature: 4 x [conv3x3(64), norm, ReLU, maxpool2].

On 28x28 Omniglot it maps an image to a 64-d embedding (28 -> 14 -> 7 -> 3 -> 1). The normalisation is an
explicit choice because it matters for meta-learning (BatchNorm statistics leak across a batch and behave
differently in train and eval mode); the model works with ``torch.func.functional_call``.
"""

from __future__ import annotations

import torch
from torch import nn

from mlbook.utils import check_choice, check_positive_int

NORMS = ("batch", "group", "layer", "instance", "none")


def make_norm(norm: str, channels: int, track_running_stats: bool = True) -> nn.Module:
    check_choice("norm", norm, NORMS)
    if norm == "batch":
        return nn.BatchNorm2d(channels, track_running_stats=track_running_stats)
    if norm == "group":
        return nn.GroupNorm(min(8, channels), channels)
    if norm == "layer":
        return nn.GroupNorm(1, channels)
    if norm == "instance":
        return nn.GroupNorm(channels, channels)
    return nn.Identity()


def conv_block(in_channels: int, out_channels: int, norm: str, track_running_stats: bool = True) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1),
        make_norm(norm, out_channels, track_running_stats),
        nn.ReLU(),
        nn.MaxPool2d(2),
    )


class Conv4(nn.Module):
    """``features`` (four conv blocks + flatten) and an optional linear ``head``.

    With ``out_features=None`` the model returns embeddings of size ``embedding_dim``; otherwise logits.
    """

    def __init__(
        self,
        in_channels: int = 1,
        hidden: int = 64,
        out_features: int | None = None,
        *,
        norm: str = "batch",
        image_size: int = 28,
        track_running_stats: bool = True,
        depth: int = 4,
    ) -> None:
        super().__init__()
        check_positive_int("in_channels", in_channels)
        check_positive_int("hidden", hidden)
        check_positive_int("depth", depth)
        check_choice("norm", norm, NORMS)
        if image_size < 2**depth:
            raise ValueError(f"image_size must be >= {2**depth} for depth={depth}, got {image_size}")
        widths = [in_channels] + [hidden] * depth
        blocks = [conv_block(widths[i], hidden, norm, track_running_stats) for i in range(depth)]
        self.features = nn.Sequential(*blocks, nn.Flatten())
        side = image_size
        for _ in range(depth):
            side //= 2
        self.embedding_dim = hidden * side * side
        self.norm = norm
        self.in_channels = in_channels
        self.head = nn.Linear(self.embedding_dim, out_features) if out_features else nn.Identity()

    def check_input(self, x: torch.Tensor) -> None:
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"x must be [batch, {self.in_channels}, H, W], got shape {tuple(x.shape)}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        return self.head(self.features(x))
