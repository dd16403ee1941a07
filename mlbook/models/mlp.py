"""A plain multilayer perceptron (the MAML sinusoid network is ``MLP(1, 1, hidden=(40, 40))``)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from mlbook.models.conv4 import check_model_input
from mlbook.validate import check_positive_int


class MLP(nn.Module):
    """Linear + ReLU layers of widths ``hidden`` (a sequence of ints, possibly empty), then a linear ``head``."""

    def __init__(self, in_features: int, out_features: int, hidden: Sequence[int] = (40, 40)) -> None:
        super().__init__()
        check_positive_int("in_features", in_features)
        check_positive_int("out_features", out_features)
        if not isinstance(hidden, Sequence) or isinstance(hidden, str):
            raise TypeError(f"hidden must be a sequence of layer widths such as (40, 40), got {hidden!r}")
        for i, width in enumerate(hidden):
            check_positive_int(f"hidden[{i}]", width)
        sizes = [in_features, *hidden]
        layers: list[nn.Module] = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(sizes[-1], out_features)
        self.in_features = in_features

    def check_input(self, x: torch.Tensor, name: str = "x") -> None:
        """Refuse anything but a tensor with ``in_features`` in its last dimension (``name``: the caller's name)."""
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor [..., {self.in_features}], got {type(x).__name__}")
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(
                f"{name} must have {self.in_features} features in its last dimension, got {tuple(x.shape)}"
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        check_model_input("x", x, self.head.weight)
        return self.head(self.features(x))
