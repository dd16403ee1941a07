"""Cross-stitch networks (Misra, Shrivastava, Gupta & Hebert 2016, "Cross-stitch networks for multi-task learning").

Soft sharing: each task t has its own column of blocks, and after every block a cross-stitch unit mixes the T
columns' activations with a learnable T x T matrix α:

    x̃_t = sum_s α_ts x_s          (t = 1..T; the activations x_s of all columns have the same shape)

α = I gives T independent single-task networks; an α with equal entries makes the columns identical (hard sharing
of everything). The network learns where between the two each layer should sit. Following the paper, α starts
near the identity: α_tt = ``alpha_same`` = 0.9 and α_ts = (1 − 0.9) / (T − 1) for s ≠ t (rows sum to 1; for two
tasks the paper's (α_S, α_D) = (0.9, 0.1)). The paper also trains α with a learning rate about 10³ times larger than
the network's, since its gradients are small: ``stitch_parameters()`` makes that a separate parameter group.

Through the units every column's blocks reach every task's loss (unless α is exactly diagonal), so under the
package's contract the columns and units are ``shared_parameters()``; the heads after the last unit are each task's
own ``task_parameters()``.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from mlbook.models import conv_block
from mlbook.multitask.hard_sharing import (
    check_modules,
    check_out_features,
    check_partition,
    initialised_with,
    mlp_blocks,
)
from mlbook.validate import check_positive_int, check_probability


class CrossStitchUnit(nn.Module):
    """x̃_t = sum_s α_ts x_s for T same-shaped activations, with α initialised as in the module docstring."""

    def __init__(self, n_tasks: int, alpha_same: float = 0.9) -> None:
        super().__init__()
        check_positive_int("n_tasks", n_tasks, minimum=2)
        check_probability("alpha_same", alpha_same)
        alpha_other = (1.0 - alpha_same) / (n_tasks - 1)
        alpha = torch.full((n_tasks, n_tasks), alpha_other)
        alpha.fill_diagonal_(float(alpha_same))
        self.alpha = nn.Parameter(alpha)

    def forward(self, activations: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        if not isinstance(activations, (list, tuple)):  # a tensor would be split along its batch dimension
            raise TypeError(f"activations must be a list with one tensor per task, got {type(activations).__name__}")
        if len(activations) != self.alpha.shape[0]:
            raise ValueError(f"expected {self.alpha.shape[0]} activations (one per task), got {len(activations)}")
        shapes = {tuple(a.shape) for a in activations}
        if len(shapes) != 1:
            raise ValueError(f"every column must produce activations of the same shape to be stitched, got {shapes}")
        stacked = torch.stack(list(activations))  # [T, ...]
        mixed = torch.tensordot(self.alpha.to(stacked), stacked, dims=1)
        return list(mixed.unbind(0))


class CrossStitchNetwork(nn.Module):
    """``columns[t]``: task t's blocks (every column the same number of blocks, with same-shaped outputs); a
    cross-stitch unit after each block; then ``heads[t]`` on column t's last (stitched) activation."""

    def __init__(
        self, columns: Sequence[Sequence[nn.Module]], heads: Sequence[nn.Module], *, alpha_same: float = 0.9
    ) -> None:
        super().__init__()
        if isinstance(columns, nn.Module) or not isinstance(columns, Sequence) or len(columns) < 2:
            raise ValueError("columns must be a sequence of at least two columns (one per task), each a list of blocks")
        columns = [check_modules(f"columns[{t}]", column) for t, column in enumerate(columns)]
        depths = {len(column) for column in columns}
        if len(depths) != 1:
            raise ValueError(f"every column must have the same number of blocks, got {[len(c) for c in columns]}")
        self.columns = nn.ModuleList(nn.ModuleList(column) for column in columns)
        self.stitches = nn.ModuleList(CrossStitchUnit(len(columns), alpha_same) for _ in range(depths.pop()))
        self.heads = nn.ModuleList(check_modules("heads", heads, count=len(columns)))
        check_partition(self)

    @property
    def n_tasks(self) -> int:
        return len(self.heads)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        activations = [x] * self.n_tasks
        for depth, stitch in enumerate(self.stitches):
            activations = stitch([column[depth](a) for column, a in zip(self.columns, activations, strict=True)])
        return [head(a) for head, a in zip(self.heads, activations, strict=True)]

    def stitch_parameters(self) -> list[nn.Parameter]:
        """The α matrices of the cross-stitch units."""
        return [stitch.alpha for stitch in self.stitches]

    def shared_parameters(self) -> list[nn.Parameter]:
        return list(self.columns.parameters()) + self.stitch_parameters()

    def task_parameters(self) -> list[list[nn.Parameter]]:
        return [list(head.parameters()) for head in self.heads]

    @classmethod
    def mlp(
        cls,
        in_features: int,
        hidden: Sequence[int],
        out_features_per_task: Sequence[int],
        *,
        alpha_same: float = 0.9,
        seed: int | None = None,
    ) -> CrossStitchNetwork:
        """Each column: ``Linear + ReLU`` per width in ``hidden``; head t: ``Linear(hidden[-1], out_t)``."""
        outs = check_out_features(out_features_per_task)
        with initialised_with(seed):
            columns = [mlp_blocks(in_features, hidden) for _ in outs]
            heads = [nn.Linear(hidden[-1], out) for out in outs]
        return cls(columns, heads, alpha_same=alpha_same)

    @classmethod
    def conv(
        cls,
        out_features_per_task: Sequence[int],
        *,
        in_channels: int = 1,
        image_size: int = 16,
        hidden: int = 32,
        depth: int = 3,
        norm: str = "group",
        alpha_same: float = 0.9,
        seed: int | None = None,
    ) -> CrossStitchNetwork:
        """Each column: ``depth`` conv blocks as in ``HardSharing.conv``; head t: flatten + linear."""
        outs = check_out_features(out_features_per_task)
        check_positive_int("in_channels", in_channels)
        check_positive_int("hidden", hidden)
        check_positive_int("depth", depth)
        check_positive_int("image_size", image_size)
        if image_size < 2**depth:
            raise ValueError(f"image_size must be >= {2**depth} for depth={depth}, got {image_size}")
        features = hidden * (image_size // 2**depth) ** 2
        widths = [in_channels] + [hidden] * depth
        with initialised_with(seed):
            columns = [[conv_block(widths[i], hidden, norm) for i in range(depth)] for _ in outs]
            heads = [nn.Sequential(nn.Flatten(), nn.Linear(features, out)) for out in outs]
        return cls(columns, heads, alpha_same=alpha_same)
