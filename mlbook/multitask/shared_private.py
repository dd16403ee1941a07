"""Shared-private models: a shared encoder for what the tasks have in common, a private encoder per task for the
rest (Bousmalis et al. 2016, "Domain separation networks"; for multi-task learning Liu, Qiu & Huang 2017,
"Adversarial multi-task learning for text classification").

    s = E_sh(x),   p_t = E_t(x),   ŷ_t = h_t([s, p_t])

Nothing stops the shared and private features from encoding the same thing. The difference (orthogonality) penalty
of Bousmalis et al. pushes them apart: with S [batch, d_s] the shared features of a batch and P_t [batch, d_p]
task t's private ones,

    L_diff = sum_t || S^T P_t ||_F^2,

which is zero exactly when every shared feature is orthogonal (over the batch) to every private one. Add
λ · L_diff to the task losses (``forward_with_penalty``). The penalty grows with the batch size and the feature
scale; the authors' code mean-centres and L2-normalises the rows first, which this plain version leaves out.
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
from mlbook.validate import check_tensor


def difference_loss(shared: torch.Tensor, private: Sequence[torch.Tensor]) -> torch.Tensor:
    """sum_t ||S^T P_t||_F^2 for ``shared`` S [batch, d_s] and ``private`` [P_1, ..., P_T], each [batch, d_p]."""
    check_tensor("shared", shared, ndim=2, floating=True)
    if isinstance(private, torch.Tensor) or not private:
        raise ValueError("private must be a non-empty list of [batch, features] tensors (one per task)")
    for t, p in enumerate(private):
        check_tensor(f"private[{t}]", p, ndim=2, floating=True)
        if p.shape[0] != shared.shape[0]:
            raise ValueError(f"private[{t}] must be a [{shared.shape[0]}, features] tensor, got {tuple(p.shape)}")
    return torch.stack([(shared.T @ p).pow(2).sum() for p in private]).sum()


class SharedPrivate(nn.Module):
    """``shared`` encoder, ``private[t]`` encoders and ``heads[t]`` on the concatenation [s, p_t] (last dimension)."""

    def __init__(self, shared: nn.Module, private: Sequence[nn.Module], heads: Sequence[nn.Module]) -> None:
        super().__init__()
        if not isinstance(shared, nn.Module):
            raise TypeError(f"shared must be an nn.Module, got {type(shared).__name__}")
        self.shared = shared
        self.private = nn.ModuleList(check_modules("private", private))
        self.heads = nn.ModuleList(check_modules("heads", heads, count=len(self.private)))
        check_partition(self)

    @property
    def n_tasks(self) -> int:
        return len(self.heads)

    def features(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """(s, [p_1, ..., p_T])."""
        return self.shared(x), [encoder(x) for encoder in self.private]

    def heads_from_features(self, shared: torch.Tensor, private: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        return [head(torch.cat([shared, p], dim=-1)) for head, p in zip(self.heads, private, strict=True)]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.heads_from_features(*self.features(x))

    def forward_with_penalty(self, x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """The task outputs and L_diff from one pass of the encoders."""
        shared, private = self.features(x)
        return self.heads_from_features(shared, private), difference_loss(shared, private)

    def difference_penalty(self, x: torch.Tensor) -> torch.Tensor:
        """L_diff = sum_t ||S^T P_t||_F^2 on the batch ``x``."""
        return difference_loss(*self.features(x))

    def shared_parameters(self) -> list[nn.Parameter]:
        return list(self.shared.parameters())

    def task_parameters(self) -> list[list[nn.Parameter]]:
        return [
            list(encoder.parameters()) + list(head.parameters())
            for encoder, head in zip(self.private, self.heads, strict=True)
        ]

    @classmethod
    def mlp(
        cls,
        in_features: int,
        shared_hidden: Sequence[int],
        private_hidden: Sequence[int],
        out_features_per_task: Sequence[int],
        *,
        seed: int | None = None,
    ) -> SharedPrivate:
        """Encoders: ``Linear + ReLU`` per width; head t: ``Linear(shared_hidden[-1] + private_hidden[-1], out_t)``."""
        outs = check_out_features(out_features_per_task)
        with initialised_with(seed):
            shared = nn.Sequential(*mlp_blocks(in_features, shared_hidden, "shared_hidden"))
            private = [nn.Sequential(*mlp_blocks(in_features, private_hidden, "private_hidden")) for _ in outs]
            heads = [nn.Linear(shared_hidden[-1] + private_hidden[-1], out) for out in outs]
        return cls(shared, private, heads)
