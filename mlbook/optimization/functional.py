"""Functional parameters: a model as a pure function of a dict of tensors.

Meta-learning needs the same network evaluated at many parameter values: the meta-parameters θ and, per
task, the adapted parameters φ_i = θ - α ∇L(θ). ``torch.func.functional_call`` runs a module with a dict
of tensors substituted for its parameters, so φ_i never has to be written into the module (which would
mutate θ and cut the graph that second-order meta-gradients flow through).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import torch
from torch import nn
from torch.func import functional_call

from mlbook.optimization.pure import interpret, supports_pure_forward

Params = dict[str, torch.Tensor]


def parameters_of(module: nn.Module) -> Params:
    """The module's parameters as a name -> tensor dict (the tensors themselves: gradients reach them)."""
    return dict(module.named_parameters())


def buffers_of(module: nn.Module) -> Params:
    return dict(module.named_buffers())


def functional_forward(module: nn.Module, params: Mapping[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """``module(x)`` with ``params`` in place of the module's own parameters (missing names keep the module's).

    Plain stacks of standard layers (Conv4, MLP, ...) are interpreted by ``pure_forward``, which never touches
    the module (thread-safe); anything else goes through ``functional_call``."""
    if supports_pure_forward(module):
        return interpret(module, params, x)  # = pure_forward, without checking the module a second time
    return functional_call(module, dict(params), (x,), strict=False)


def select(params: Mapping[str, torch.Tensor], names: Iterable[str]) -> Params:
    return {name: params[name] for name in names}


def gradient_step(
    params: Mapping[str, torch.Tensor],
    grads: Mapping[str, torch.Tensor],
    step_sizes: Mapping[str, torch.Tensor | float],
) -> Params:
    """One gradient-descent step on the named subset ``grads`` of ``params``: φ = θ - α ⊙ g.

    ``step_sizes[name]`` is a float (MAML), a scalar tensor (MAML++ per-layer, per-step rates) or a tensor
    of the parameter's shape (Meta-SGD). Parameters without a gradient are passed through unchanged.
    A new dict is returned; no tensor is modified in place.
    """
    updated = dict(params)
    for name, grad in grads.items():
        step = step_sizes[name]
        if isinstance(step, torch.Tensor):
            updated[name] = params[name] - step * grad
        else:  # one fused operation (and one autograd node) instead of a product and a difference
            updated[name] = torch.add(params[name], grad, alpha=-step)
    return updated
