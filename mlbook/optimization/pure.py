"""A network evaluated as a pure function of its parameters, without touching the module.

``torch.func.functional_call`` works for any module, but it does so by *swapping* the module's parameters for
the given tensors during the call and swapping them back afterwards. That costs Python time on every call and,
more importantly, makes the module shared mutable state: two threads calling it at once on the same module would
see each other's parameters. The book's backbones are plain stacks of standard layers (Conv4, MLP), so they can
instead be *interpreted*: walk the layers and call ``torch.nn.functional`` with the given tensors. Nothing is
mutated, so tasks of a meta-batch can be adapted in parallel threads (``parallel.py``), and each call is a few
percent cheaper.

``pure_forward(module, params, x)`` equals ``functional_call(module, params, (x,))`` for the supported layers
(tested), and it applies ReLU after rather than before a following max pooling (exact, and cheaper:
see ``_relu_then_max_pool``), folds a first conv + BatchNorm block on the raw input into one matrix product
(``folded.py``), and uses convolution and BatchNorm with hand-written second derivatives (``conv_grad.py``,
``batchnorm_grad.py``) except inside ``pytorch_derivatives()``; ``supports_pure_forward(module)`` says whether a
module qualifies. BatchNorm qualifies only without running statistics (the book's transductive policy,
``batchnorm.py``): with running statistics a forward pass would update buffers, i.e. mutate state.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

from mlbook.models import MLP, Conv4
from mlbook.optimization.batchnorm_grad import batch_norm_train
from mlbook.optimization.checks import check_parameter_names
from mlbook.optimization.conv_grad import conv2d
from mlbook.optimization.folded import can_fold, folded_block
from mlbook.validate import check_tensor

_ELEMENTWISE = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.GELU, nn.Tanh, nn.Sigmoid, nn.Identity, nn.Flatten)
_SUPPORTED = (nn.Sequential, nn.Conv2d, nn.Linear, nn.BatchNorm2d, nn.GroupNorm, nn.MaxPool2d, nn.AvgPool2d,
              *_ELEMENTWISE)


_thread_state = threading.local()


@contextmanager
def pytorch_derivatives() -> Iterator[None]:
    """In this block (in the calling thread only) ``pure_forward`` runs convolutions and BatchNorm with PyTorch's
    own operators instead of those with hand-written second derivatives (``conv_grad.py``, ``batchnorm_grad.py``).

    Task threads (``parallel.py``) use it. The hand-written derivatives are Python autograd functions, so the
    backward pass must take the GIL for each of them, and threads contend for it: in a micro-benchmark
    two threads running a trivial Python autograd function got 1.1x one thread's throughput (1.5x without it),
    and in whole meta-gradients with two task threads they saved nothing measurable (between 6% slower and 0.3%
    faster over repeated runs on 2 cores, T=16, 5 steps; on one thread they save 7-9%). PyTorch's own double
    backward runs in C++ without the GIL. Values and derivatives are the same either way (tested)."""
    previous = _pytorch_only()
    _thread_state.pytorch = True
    try:
        yield
    finally:
        _thread_state.pytorch = previous


def supports_pure_forward(module: nn.Module) -> bool:
    """Whether ``pure_forward`` can run ``module`` (Conv4, MLP or a Sequential of standard layers). Checked on
    every call, not cached: a module may change after a first call (BatchNorm made transductive, a layer
    replaced), and the walk costs microseconds next to a forward pass."""
    if not isinstance(module, nn.Module):
        raise TypeError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    if type(module) in (Conv4, MLP):
        return supports_pure_forward(module.features) and supports_pure_forward(module.head)
    if type(module) is nn.Sequential:
        return all(supports_pure_forward(child) for child in module.children())
    if type(module) not in _SUPPORTED:
        return False  # subclasses may override forward: only the exact types are interpreted
    if isinstance(module, nn.BatchNorm2d):
        return module.running_mean is None and module.running_var is None
    if isinstance(module, nn.Conv2d):
        return module.padding_mode == "zeros"
    return True


def pure_forward(module: nn.Module, params: Mapping[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """``module(x)`` with ``params[name]`` in place of the parameter ``name`` (missing names: the module's own).

    Raises ``TypeError`` for a module that ``supports_pure_forward`` rejects, ``ValueError`` for a name of
    ``params`` that is no parameter of ``module`` (it would be ignored)."""
    if not supports_pure_forward(module):
        raise TypeError(
            f"module must be one that pure_forward can run (Conv4, MLP or a Sequential of standard layers): "
            f"pure_forward cannot run {type(module).__name__}; use functional_call instead"
        )
    check_parameter_names(module, params)
    check_tensor("x", x)
    return interpret(module, params, x)


def interpret(module: nn.Module, params: Mapping[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """``pure_forward`` for a caller that has already checked ``supports_pure_forward(module)`` (it walks the
    whole module, so a hot path should not do it twice)."""
    return _apply(module, "", params, x)


def _relu_then_max_pool(first: nn.Module, second: nn.Module | None) -> bool:
    """ReLU followed by max pooling, which commute (max of a monotone function = the function of the max).

    Pooling first is exact: where a window's maximum is positive both orders pick the same element; where it
    is not, ReLU zeroes the value and its gradient either way."""
    return type(first) is nn.ReLU and type(second) is nn.MaxPool2d and not second.return_indices


def _child(children: list[tuple[str, nn.Module]], i: int) -> nn.Module | None:
    return children[i][1] if i < len(children) else None


def _folded(children, i: int, prefix: str, params, h: torch.Tensor) -> tuple[torch.Tensor, int]:
    """``folded_block`` on children i (conv) and i + 1 (BatchNorm), and on i + 2, i + 3 if they are ReLU and
    max-pooling. Returns the output and the number of children used."""
    (conv_name, conv), (norm_name, norm) = children[i], children[i + 1]
    conv_prefix, norm_prefix = f"{prefix}{conv_name}.", f"{prefix}{norm_name}."
    pooled = _relu_then_max_pool(_child(children, i + 2), _child(children, i + 3))
    out = folded_block(
        h, conv, _get(conv, conv_prefix, "weight", params), _get(conv, conv_prefix, "bias", params),
        norm, _get(norm, norm_prefix, "weight", params), _get(norm, norm_prefix, "bias", params),
        _child(children, i + 3) if pooled else None,
    )
    return out, 4 if pooled else 2


def _pytorch_only() -> bool:
    return getattr(_thread_state, "pytorch", False)


def _get(module: nn.Module, prefix: str, name: str, params: Mapping[str, torch.Tensor]) -> torch.Tensor | None:
    return params.get(prefix + name, getattr(module, name))


def _apply(module: nn.Module, prefix: str, params: Mapping[str, torch.Tensor], h: torch.Tensor) -> torch.Tensor:
    kind = type(module)
    if kind in (Conv4, MLP):
        module.check_input(h)
        h = _apply(module.features, prefix + "features.", params, h)
        return _apply(module.head, prefix + "head.", params, h)
    if kind is nn.Sequential:
        children = list(module.named_children())
        i = 0
        while i < len(children):
            name, child = children[i]
            following = _child(children, i + 1)
            if can_fold(child, following, h):  # conv + BatchNorm on the network's input: see folded.py
                h, used = _folded(children, i, prefix, params, h)
                i += used
                continue
            if _relu_then_max_pool(child, following):
                h = children[i + 1][1](h).relu()  # the same values and gradients on a quarter of the elements
                i += 2
                continue
            h = _apply(child, f"{prefix}{name}.", params, h)
            i += 1
        return h
    if kind is nn.Conv2d:
        weight, bias = _get(module, prefix, "weight", params), _get(module, prefix, "bias", params)
        convolution = F.conv2d if _pytorch_only() or isinstance(module.padding, str) else conv2d  # conv_grad.py
        return convolution(h, weight, bias, module.stride, module.padding, module.dilation, module.groups)
    if kind is nn.Linear:
        return F.linear(h, _get(module, prefix, "weight", params), _get(module, prefix, "bias", params))
    if kind is nn.BatchNorm2d:
        weight, bias = _get(module, prefix, "weight", params), _get(module, prefix, "bias", params)
        if _pytorch_only():
            return F.batch_norm(h, None, None, weight, bias, True, 0.0, module.eps)
        return batch_norm_train(h, weight, bias, module.eps)  # batch statistics; a cheaper second derivative
    if kind is nn.GroupNorm:
        weight, bias = _get(module, prefix, "weight", params), _get(module, prefix, "bias", params)
        return F.group_norm(h, module.num_groups, weight, bias, module.eps)
    return module(h)  # parameter-free layers: activations, pooling, flatten, identity
