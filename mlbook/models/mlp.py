"""A plain multilayer perceptron (the MAML sinusoid network is ``MLP(1, 1, hidden=(40, 40))``)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from mlbook.utils import check_positive_int


class MLP(nn.Module):
    def __init__(self, in_features: int, out_features: int, hidden: Sequence[int] = (40, 40)) -> None:
        super().__init__()
        check_positive_int("in_features", in_features)
        check_positive_int("out_features", out_features)
        for width in hidden:
            check_positive_int("hidden width", width)
        sizes = [in_features, *hidden]
        layers: list[nn.Module] = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
            layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(sizes[-1], out_features)
        self.in_features = in_features

    def check_input(self, x: torch.Tensor) -> None:
        if x.shape[-1] != self.in_features:
            raise ValueError(f"x must have {self.in_features} features in its last dimension, got {tuple(x.shape)}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.check_input(x)
        return self.head(self.features(x))
