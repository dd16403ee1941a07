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

from mlbook.optimization.checks import check_parameter_names, check_tensor_dict
from mlbook.optimization.pure import interpret, supports_pure_forward
from mlbook.validate import check_module, check_number, check_tensor

Params = dict[str, torch.Tensor]


def parameters_of(module: nn.Module) -> Params:
    """The module's parameters as a name -> tensor dict (the tensors themselves: gradients reach them)."""
    check_module("module", module)
    return dict(module.named_parameters())


def buffers_of(module: nn.Module) -> Params:
    check_module("module", module)
    return dict(module.named_buffers())


def functional_forward(module: nn.Module, params: Mapping[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """``module(x)`` with ``params`` in place of the module's own parameters (missing names keep the module's).

    Plain stacks of standard layers (Conv4, MLP, ...) are interpreted by ``pure_forward``, which never touches
    the module (thread-safe); anything else goes through ``functional_call``. A name of ``params`` that is no
    parameter of ``module`` (a misspelt ``"head.wieght"``) is refused with a ``ValueError`` naming the close
    matches, instead of being ignored."""
    check_parameter_names(module, params)
    check_tensor("x", x)
    return unchecked_forward(module, params, x)


def unchecked_forward(module: nn.Module, params: Mapping[str, torch.Tensor], x: torch.Tensor) -> torch.Tensor:
    """``functional_forward`` without its argument checks: what the learners call on every inner step, with
    parameter dicts built from the module itself."""
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
    A new dict is returned; no tensor is modified in place. Every name of ``grads`` must be in ``params`` and
    ``step_sizes``, with a gradient of the parameter's shape (a smaller one would broadcast).
    """
    check_tensor_dict("params", params)
    check_tensor_dict("grads", grads)
    if not isinstance(step_sizes, Mapping):
        raise TypeError(f"step_sizes must be a dict of name -> step size, got {type(step_sizes).__name__}")
    for name, grad in grads.items():
        if name not in params:
            raise ValueError(f"grads[{name!r}] is for no parameter of params; its names are {list(params)}")
        if grad.shape != params[name].shape:
            raise ValueError(
                f"grads[{name!r}] must have the parameter's shape {tuple(params[name].shape)}, got {tuple(grad.shape)}"
            )
        if name not in step_sizes:
            raise ValueError(f"step_sizes has no step size for {name!r}; it has {list(step_sizes)}")
        if not isinstance(step_sizes[name], torch.Tensor):
            check_number(f"step_sizes[{name!r}]", step_sizes[name])
    return unchecked_step(params, grads, step_sizes)


def unchecked_step(
    params: Mapping[str, torch.Tensor],
    grads: Mapping[str, torch.Tensor],
    step_sizes: Mapping[str, torch.Tensor | float],
) -> Params:
    """``gradient_step`` without its argument checks (``Learner.adapt``: gradients from autograd)."""
    updated = dict(params)
    for name, grad in grads.items():
        step = step_sizes[name]
        if isinstance(step, torch.Tensor):
            updated[name] = params[name] - step * grad
        else:  # one fused operation (and one autograd node) instead of a product and a difference
            updated[name] = torch.add(params[name], grad, alpha=-step)
    return updated
