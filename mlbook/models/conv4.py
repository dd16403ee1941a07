"""The Conv4 backbone of the few-shot literature: 4 x [conv3x3(64), norm, ReLU, maxpool2].

On 28x28 Omniglot it maps an image to a 64-d embedding (28 -> 14 -> 7 -> 3 -> 1). The normalisation is an
explicit choice because it matters for meta-learning (BatchNorm statistics leak across a batch and behave
differently in train and eval mode); the model works with ``torch.func.functional_call``.
"""

from __future__ import annotations

import torch
from torch import nn

from mlbook.validate import check_bool, check_choice, check_positive_int

NORMS = ("batch", "group", "layer", "instance", "none")


def check_model_input(name: str, x, weight: torch.Tensor) -> None:
    """``x`` is a tensor of the dtype of the model's ``weight`` (float64 images into a float32 model, or integer
    images, are refused here instead of as a torch error from inside the first layer)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dtype != weight.dtype and not torch.is_autocast_enabled(x.device.type):
        raise TypeError(
            f"{name} must have the model's dtype {weight.dtype}, got {x.dtype} (convert the input with "
            f"x.to({weight.dtype}), or the model with model.to({x.dtype}))"
        )


def make_norm(norm: str, channels: int, track_running_stats: bool = True) -> nn.Module:
    check_choice("norm", norm, NORMS)
    check_positive_int("channels", channels)
    check_bool("track_running_stats", track_running_stats)
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
    check_positive_int("in_channels", in_channels)
    check_positive_int("out_channels", out_channels)
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1),
        make_norm(norm, out_channels, track_running_stats),
        nn.ReLU(),
        nn.MaxPool2d(2),
    )


class Conv4(nn.Module):
    """``features`` (four conv blocks + flatten) and an optional linear ``head``.

    With ``out_features=None`` the model returns embeddings of size ``embedding_dim``; otherwise logits
    (``out_features`` must then be an int >= 1: ``0`` is refused rather than read as "no head").
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
        if out_features is not None:
            check_positive_int("out_features", out_features)
        check_positive_int("depth", depth)
        check_choice("norm", norm, NORMS)
        check_positive_int("image_size", image_size)
        check_bool("track_running_stats", track_running_stats)
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

    def check_input(self, x: torch.Tensor, name: str = "x") -> None:
        """Refuse anything but a ``[batch, in_channels, H, W]`` tensor (``name``: what the caller calls it)."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor [batch, {self.in_channels}, H, W], got {type(x).__name__}")
        if x.ndim != 4 or x.shape[1] != self.in_channels:
            raise ValueError(f"{name} must be [batch, {self.in_channels}, H, W], got shape {tuple(x.shape)}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        check_model_input("x", x, self.features[0][0].weight)
        return self.head(self.features(x))
