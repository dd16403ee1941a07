"""Run the tasks of a meta-batch through one set of kernels: the grouped-convolution trick.

MAML adapts a separate copy φ_i of the network to every task, so a meta-batch of T tasks is T different
networks. Looping over them launches T small kernels per layer. Stacking the tasks' weights instead gives ONE
convolution with ``groups=T``: the input ``[T, B, C, H, W]`` is laid out as ``[B, T*C, H, W]`` and task ``t``
only ever sees its own channels ``t*C .. (t+1)*C - 1``. Linear layers become one batched matrix product
(``bmm``). This removes per-task overhead, not arithmetic: it pays where overhead dominates (the sinusoid
MLP: several times faster), while for Conv4 on a CPU the grouped kernels are no faster than T small ones and
the per-task loop wins (``benchmarks/maml_throughput.py`` measures both).

Normalisation keeps its meaning in this layout:

* BatchNorm normalises each channel over (batch, height, width). A channel of the stacked layout belongs to
  one task, so plain ``F.batch_norm`` on ``[B, T*C, H, W]`` *is* per-task BatchNorm with each task's own
  batch statistics -- no leakage between tasks (the book's transductive policy, see ``batchnorm.py``).
* GroupNorm with G groups per task is GroupNorm with T*G groups on the stacked layout.

Everything is ordinary differentiable PyTorch, so second-order meta-gradients are exact (and tested against
a per-task loop), unlike ``vmap`` over ``F.batch_norm`` (see TOOLING-FACTS).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from mlbook.models import MLP, Conv4
from mlbook.optimization.checks import check_parameter_names, check_tensor_dict
from mlbook.validate import check_module, check_positive_int, check_tensor

#: modules whose forward is ``head(features(x))``
_COMPOSITES = (Conv4, MLP)
_ELEMENTWISE = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.Tanh, nn.Sigmoid, nn.Identity)
_POOLS = (nn.MaxPool2d, nn.AvgPool2d)
_SUPPORTED = (nn.Sequential, nn.Conv2d, nn.Linear, nn.BatchNorm2d, nn.GroupNorm, nn.Flatten, *_ELEMENTWISE, *_POOLS)


def unsupported_modules(module: nn.Module) -> list[str]:
    """Names and types of the sub-modules the task-batched forward cannot run (empty when it can)."""
    check_module("module", module)
    problems = []

    def visit(mod: nn.Module, name: str) -> None:
        if isinstance(mod, _COMPOSITES):
            visit(mod.features, f"{name}features.")
            visit(mod.head, f"{name}head.")
        elif isinstance(mod, nn.Sequential):
            for child_name, child in mod.named_children():
                visit(child, f"{name}{child_name}.")
        elif not isinstance(mod, _SUPPORTED):
            problems.append(f"{name.rstrip('.') or '<root>'} ({type(mod).__name__})")
        elif isinstance(mod, nn.BatchNorm2d) and mod.running_mean is not None:
            problems.append(f"{name.rstrip('.')} (BatchNorm2d with running statistics; use transductive_batchnorm)")
        elif isinstance(mod, nn.Conv2d) and mod.padding_mode != "zeros":
            problems.append(f"{name.rstrip('.')} (Conv2d with padding_mode={mod.padding_mode!r})")

    visit(module, "")
    return problems


def stack_parameters(params: Mapping[str, torch.Tensor], tasks: int) -> dict[str, torch.Tensor]:
    """θ repeated for ``tasks`` tasks as ``[tasks, *shape]`` views (``expand``: no copy, gradients sum back to θ)."""
    check_tensor_dict("params", params)
    check_positive_int("tasks", tasks)
    return {name: p.unsqueeze(0).expand(tasks, *p.shape) for name, p in params.items()}


def task_batched_forward(module: nn.Module, params: Mapping[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """Evaluate T copies of ``module`` at once: ``params[name]`` is ``[T, *shape]``, ``x`` is ``[T, B, ...]``.

    Returns ``[T, B, ...]``; row ``t`` equals ``functional_call(module, {n: p[t]}, x[t])`` with every
    normalisation layer using task ``t``'s batch statistics. Parameters missing from ``params`` are the
    module's own, shared by all tasks; a name that is no parameter of ``module`` is refused (``ValueError``).
    """
    check_parameter_names(module, params)
    check_tensor("x", x)
    return unchecked_batched_forward(module, params, x)


def unchecked_batched_forward(module: nn.Module, params: Mapping[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """``task_batched_forward`` without the checks of its arguments' types and names (the learners' inner loop,
    with parameter dicts built from the module itself)."""
    if x.ndim not in (3, 5):
        raise ValueError(f"x must be [tasks, batch, features] or [tasks, batch, C, H, W], got shape {tuple(x.shape)}")
    problems = unsupported_modules(module)
    if problems:
        raise TypeError(f"task_batched_forward cannot run {', '.join(problems)}; use the per-task loop instead")
    tasks, batch = x.shape[:2]
    for name, p in params.items():
        if p.shape[0] != tasks:
            raise ValueError(f"params[{name!r}] must have {tasks} (tasks) rows first, got shape {tuple(p.shape)}")
    if x.ndim == 5:
        h = x.transpose(0, 1).reshape(batch, tasks * x.shape[2], *x.shape[3:])  # [B, T*C, H, W]
    else:
        h = x
    h = _apply(module, "", params, h, tasks)
    if h.ndim == 4:  # still images: back to [T, B, C, H, W]
        h = h.reshape(batch, tasks, -1, *h.shape[2:]).transpose(0, 1)
    return h


def _param(module: nn.Module, prefix: str, name: str, params: Mapping[str, torch.Tensor], tasks: int):
    own = getattr(module, name)
    if own is None:
        return None
    full = prefix + name
    if full in params:
        return params[full]
    return own.unsqueeze(0).expand(tasks, *own.shape)


def _apply(module: nn.Module, prefix: str, params, h: torch.Tensor, tasks: int) -> torch.Tensor:
    if isinstance(module, _COMPOSITES):
        h = _apply(module.features, prefix + "features.", params, h, tasks)
        return _apply(module.head, prefix + "head.", params, h, tasks)
    if isinstance(module, nn.Sequential):
        for name, child in module.named_children():
            h = _apply(child, f"{prefix}{name}.", params, h, tasks)
        return h
    if isinstance(module, nn.Conv2d):
        _require(h.ndim == 4, module, prefix, "image input")
        w = _param(module, prefix, "weight", params, tasks)
        b = _param(module, prefix, "bias", params, tasks)
        return F.conv2d(
            h,
            w.reshape(-1, *w.shape[2:]),
            None if b is None else b.reshape(-1),
            module.stride,
            module.padding,
            module.dilation,
            tasks * module.groups,
        )
    if isinstance(module, nn.BatchNorm2d):
        _require(h.ndim == 4, module, prefix, "image input")
        w = _param(module, prefix, "weight", params, tasks)
        b = _param(module, prefix, "bias", params, tasks)
        return F.batch_norm(
            h, None, None, None if w is None else w.reshape(-1), None if b is None else b.reshape(-1), True, 0.0,
            module.eps,
        )
    if isinstance(module, nn.GroupNorm):
        _require(h.ndim == 4, module, prefix, "image input")
        w = _param(module, prefix, "weight", params, tasks)
        b = _param(module, prefix, "bias", params, tasks)
        return F.group_norm(
            h, tasks * module.num_groups, None if w is None else w.reshape(-1), None if b is None else b.reshape(-1),
            module.eps,
        )
    if isinstance(module, nn.Flatten):
        _require(h.ndim == 4 and module.start_dim == 1 and module.end_dim == -1, module, prefix, "Flatten()")
        return h.reshape(h.shape[0], tasks, -1).transpose(0, 1)  # [T, B, C*H*W]
    if isinstance(module, nn.Linear):
        _require(h.ndim == 3, module, prefix, "[tasks, batch, features] input")
        w = _param(module, prefix, "weight", params, tasks)
        b = _param(module, prefix, "bias", params, tasks)
        if b is None:
            return torch.bmm(h, w.transpose(1, 2))
        return torch.baddbmm(b.unsqueeze(1), h, w.transpose(1, 2))
    if isinstance(module, (*_ELEMENTWISE, *_POOLS)):
        return module(h)
    raise TypeError(f"task_batched_forward cannot run {prefix.rstrip('.')} ({type(module).__name__})")


def _require(condition: bool, module: nn.Module, prefix: str, what: str) -> None:
    if not condition:
        raise ValueError(f"{prefix.rstrip('.')} ({type(module).__name__}) needs {what} in the task-batched forward")
