"""Hard parameter sharing (Caruana 1997, "Multitask learning"): one trunk shared by every task, one head per task.

    z = f_θsh(x),   ŷ_t = h_θt(z)   for t = 1..T

The trunk's parameters θ_sh receive the gradients of all T losses (where tasks can help or conflict); head t's
parameters θ_t only those of its own loss. The shared representation z is exposed (``representation``) so that
methods such as MGDA-UB (Sener & Koltun 2018) can work with gradients with respect to z instead of θ_sh.

Every multi-task model of this package follows one contract: ``forward(x)`` returns a list with one output per
task; ``shared_parameters()`` lists the parameters that more than one task's loss reaches and
``task_parameters()[t]`` those only task t's loss reaches; together they partition ``parameters()``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn

from mlbook.models import Conv4
from mlbook.validate import check_positive_int


@contextmanager
def initialised_with(seed: int | None) -> Iterator[None]:
    """Draw the initial weights of modules built inside from ``torch.manual_seed(seed)``, leaving torch's global
    random state as it was; ``seed=None`` uses the global generator as it is (like any ``nn.Module``)."""
    if seed is None:
        yield
        return
    check_positive_int("seed", seed, minimum=0)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield


def check_modules(name: str, modules, count: int | None = None) -> list[nn.Module]:
    """``modules`` as a list; raise unless it is a non-empty sequence of ``nn.Module`` (of length ``count``)."""
    if isinstance(modules, nn.Module) or not isinstance(modules, (Sequence, nn.ModuleList)):
        raise TypeError(f"{name} must be a sequence of nn.Module (one per task), got {type(modules).__name__}")
    modules = list(modules)
    if not modules or not all(isinstance(m, nn.Module) for m in modules):
        raise TypeError(f"{name} must be a non-empty sequence of nn.Module, got {[type(m).__name__ for m in modules]}")
    if count is not None and len(modules) != count:
        raise ValueError(f"{name} must have {count} entries (one per task), got {len(modules)}")
    return modules


def check_partition(model: nn.Module) -> None:
    """Raise if a parameter sits in two of shared_parameters() / task_parameters()[t] (a module passed twice)."""
    groups = [model.shared_parameters(), *model.task_parameters()]
    ids = [id(p) for group in groups for p in group]
    if len(ids) != len(set(ids)):
        raise ValueError("the same module (or parameter) is used in two places; build a separate module for each")


def check_out_features(out_features_per_task: Sequence[int]) -> list[int]:
    if isinstance(out_features_per_task, int) or not isinstance(out_features_per_task, Sequence):
        raise TypeError(f"out_features_per_task must be a sequence of ints, got {out_features_per_task!r}")
    if not out_features_per_task:
        raise ValueError("out_features_per_task must name at least one task")
    for width in out_features_per_task:
        check_positive_int("out_features_per_task entry", width)
    return list(out_features_per_task)


def mlp_blocks(in_features: int, hidden: Sequence[int], name: str = "hidden") -> list[nn.Sequential]:
    """One ``Linear + ReLU`` block per hidden width (``name``: the argument ``hidden`` came in as, for errors)."""
    check_positive_int("in_features", in_features)
    if isinstance(hidden, int) or not hidden:
        raise ValueError(f"{name} must be a non-empty sequence of layer widths, got {hidden!r}")
    for width in hidden:
        check_positive_int(f"{name} width", width)
    sizes = [in_features, *hidden]
    return [nn.Sequential(nn.Linear(a, b), nn.ReLU()) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]


class HardSharing(nn.Module):
    """A shared ``trunk`` (x -> z) followed by one head per task (z -> ŷ_t)."""

    def __init__(self, trunk: nn.Module, heads: Sequence[nn.Module]) -> None:
        super().__init__()
        if not isinstance(trunk, nn.Module):
            raise TypeError(f"trunk must be an nn.Module, got {type(trunk).__name__}")
        self.trunk = trunk
        self.heads = nn.ModuleList(check_modules("heads", heads))
        check_partition(self)

    @property
    def n_tasks(self) -> int:
        return len(self.heads)

    def representation(self, x: torch.Tensor) -> torch.Tensor:
        """The shared features z = trunk(x)."""
        return self.trunk(x)

    def heads_forward(self, z: torch.Tensor) -> list[torch.Tensor]:
        return [head(z) for head in self.heads]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        return self.heads_forward(self.representation(x))

    def shared_parameters(self) -> list[nn.Parameter]:
        return list(self.trunk.parameters())

    def task_parameters(self) -> list[list[nn.Parameter]]:
        return [list(head.parameters()) for head in self.heads]

    @classmethod
    def mlp(
        cls, in_features: int, hidden: Sequence[int], out_features_per_task: Sequence[int], *, seed: int | None = None
    ) -> HardSharing:
        """Trunk: ``Linear + ReLU`` per width in ``hidden``; head t: ``Linear(hidden[-1], out_t)``."""
        outs = check_out_features(out_features_per_task)
        with initialised_with(seed):
            trunk = nn.Sequential(*mlp_blocks(in_features, hidden))
            heads = [nn.Linear(hidden[-1], out) for out in outs]
        return cls(trunk, heads)

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
        seed: int | None = None,
    ) -> HardSharing:
        """Trunk: ``depth`` conv blocks of ``mlbook.models.Conv4`` (conv3x3, norm, ReLU, maxpool2) and a flatten;
        on 1x16x16 images with the defaults z has 32·2·2 = 128 features. Head t: a linear layer."""
        outs = check_out_features(out_features_per_task)
        check_positive_int("image_size", image_size)
        with initialised_with(seed):
            trunk = Conv4(in_channels, hidden, None, norm=norm, image_size=image_size, depth=depth)
            heads = [nn.Linear(trunk.embedding_dim, out) for out in outs]
        return cls(trunk, heads)
