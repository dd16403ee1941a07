"""Hierarchical sharing (Søgaard & Goldberg 2016, "Deep multi-task learning with low level tasks supervised at lower
layers").

A stack of layers h_k = f_k(h_{k-1}) (h_0 = x) where each task reads the layer that suits its level: a low-level
task (their part-of-speech tagging) is supervised at a lower layer, a high-level task (CCG supertagging) at the
top. Task t with supervision depth d_t predicts ŷ_t = g_t(h_{d_t}). The lower layers learn what the low-level task
needs and the layers above build on it; the low-level output does not depend on any layer above d_t.

Which parameters are shared follows from the depths: layer k is reached by every task with d_t >= k. Layers reached
by two or more tasks are ``shared_parameters()``; a layer only one task reaches (above every other task's depth)
belongs to that task's ``task_parameters()``, with its head. The deepest supervision must be the top layer.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from mlbook.multitask.hard_sharing import (
    check_modules,
    check_out_features,
    check_partition,
    initialised_with,
    mlp_blocks,
)


def check_depths(supervision_depths: Sequence[int], n_layers: int, n_tasks: int) -> list[int]:
    if isinstance(supervision_depths, int) or not isinstance(supervision_depths, Sequence):
        raise TypeError(f"supervision_depths must be a sequence of ints (one per task), got {supervision_depths!r}")
    depths = list(supervision_depths)
    if len(depths) != n_tasks:
        raise ValueError(f"supervision_depths must have one depth per task ({n_tasks}), got {len(depths)}")
    for depth in depths:
        if isinstance(depth, bool) or not isinstance(depth, int) or not 1 <= depth <= n_layers:
            raise ValueError(f"supervision_depths entries must be ints in 1..{n_layers} (layers), got {depths}")
    if max(depths) != n_layers:
        raise ValueError(
            f"the deepest task must read the top layer: max(supervision_depths) must be {n_layers}, got {max(depths)}"
        )
    return depths


class HierarchicalSharing(nn.Module):
    """``layers`` stacked in order; ``heads[t]`` reads the output of layer ``supervision_depths[t]`` (1 = first)."""

    def __init__(
        self, layers: Sequence[nn.Module], heads: Sequence[nn.Module], supervision_depths: Sequence[int]
    ) -> None:
        super().__init__()
        self.layers = nn.ModuleList(check_modules("layers", layers))
        self.heads = nn.ModuleList(check_modules("heads", heads))
        self.supervision_depths = check_depths(supervision_depths, len(self.layers), len(self.heads))
        check_partition(self)

    @property
    def n_tasks(self) -> int:
        return len(self.heads)

    def layer_outputs(self, x: torch.Tensor) -> list[torch.Tensor]:
        """[h_1, ..., h_L]."""
        outputs = []
        for layer in self.layers:
            x = layer(x)
            outputs.append(x)
        return outputs

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        hidden = self.layer_outputs(x)
        return [head(hidden[depth - 1]) for head, depth in zip(self.heads, self.supervision_depths, strict=True)]

    def tasks_reaching(self, layer: int) -> list[int]:
        """The tasks whose loss reaches layer ``layer`` (1-based): those supervised at or above it."""
        return [t for t, depth in enumerate(self.supervision_depths) if depth >= layer]

    def shared_parameters(self) -> list[nn.Parameter]:
        return [
            p
            for k, layer in enumerate(self.layers, start=1)
            if len(self.tasks_reaching(k)) > 1
            for p in layer.parameters()
        ]

    def task_parameters(self) -> list[list[nn.Parameter]]:
        own: list[list[nn.Parameter]] = [[] for _ in self.heads]
        for k, layer in enumerate(self.layers, start=1):
            reaching = self.tasks_reaching(k)
            if len(reaching) == 1:
                own[reaching[0]] += list(layer.parameters())
        for t, head in enumerate(self.heads):
            own[t] += list(head.parameters())
        return own

    @classmethod
    def mlp(
        cls,
        in_features: int,
        hidden: Sequence[int],
        out_features_per_task: Sequence[int],
        supervision_depths: Sequence[int],
        *,
        seed: int | None = None,
    ) -> HierarchicalSharing:
        """Layer k: ``Linear + ReLU`` to width ``hidden[k-1]``; head t: ``Linear(hidden[d_t - 1], out_t)``.

        E.g. ``HierarchicalSharing.mlp(8, [32, 32, 32], [1, 1], [1, 3])``: task 0 at layer 1, task 1 at the top."""
        outs = check_out_features(out_features_per_task)
        with initialised_with(seed):
            layers = mlp_blocks(in_features, hidden)
            depths = check_depths(supervision_depths, len(layers), len(outs))
            heads = [nn.Linear(hidden[depth - 1], out) for depth, out in zip(depths, outs, strict=True)]
        return cls(layers, heads, depths)
