"""Argument checks shared by the optimization-based methods: episodes, meta-batches, parameter dicts and model
outputs. They run once at a public entry point (or on the first forward of an episode), never inside an inner
loop, and they only refuse inputs that used to give a torch error from deep inside or a wrong result."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

import torch
from torch import nn

from mlbook.data.episodes import Episode
from mlbook.data.episodes import check_episode as check_usable_episode
from mlbook.models import MLP, Conv4
from mlbook.validate import check_list_of, check_module

__all__ = [
    "check_episode",
    "check_episodes",
    "check_meta_batch",
    "check_outputs",
    "check_parameter_names",
    "check_tensor_dict",
]

def check_episode(episode, model: nn.Module | None = None, name: str = "episode") -> Episode:
    """An episode the optimization methods can use (``mlbook.data.episodes.check_episode``); with ``model``:
    inputs of the model's dtype and device and, for ``Conv4``/``MLP``, of the shape it takes."""
    check_usable_episode(episode, name)
    if model is not None:
        _check_inputs_fit(model, episode.support_x, f"{name}.support_x")
        _check_inputs_fit(model, episode.query_x, f"{name}.query_x")
    return episode


def _check_inputs_fit(model: nn.Module, x: torch.Tensor, name: str) -> None:
    weight = next(model.parameters(), None)
    if weight is not None and x.device != weight.device:
        raise ValueError(
            f"{name} is on {x.device} but the model's parameters are on {weight.device}: move one of them "
            "(episode.to(device) or method.to(device))"
        )
    if weight is not None and x.dtype != weight.dtype:
        raise TypeError(
            f"{name} must have the model's dtype {weight.dtype}, got {x.dtype} (convert the episode's tensors, or "
            f"the method with method.to({x.dtype}))"
        )
    if type(model) in (Conv4, MLP):
        model.check_input(x, name)


def check_meta_batch(episodes, name: str = "episodes") -> None:
    """A non-empty list (or tuple) of ``Episode`` objects (their contents are checked where each is used)."""
    check_list_of(name, episodes, Episode, "Episode")


def check_episodes(episodes, model: nn.Module | None = None, name: str = "episodes") -> None:
    """A meta-batch (``check_meta_batch``) whose episodes each pass ``check_episode``."""
    check_meta_batch(episodes, name)
    for i, episode in enumerate(episodes):
        check_episode(episode, model, f"{name}[{i}]")


def check_outputs(outputs: torch.Tensor, targets: torch.Tensor, n_way: int | None) -> None:
    """The model's outputs for one episode's inputs (``[batch, ...]``, or ``[tasks, batch, ...]``) fit its
    targets: ``n_way`` logits per example for classification, one output per target value for regression."""
    if n_way is not None and outputs.shape[-1] != n_way:
        raise ValueError(
            f"the model gives {outputs.shape[-1]} outputs per example but the episode has n_way={n_way}: its last "
            f"layer's out_features must equal n_way (e.g. Conv4(out_features={n_way})); a model without a head "
            "returns embeddings, not class scores"
        )
    if n_way is None and (outputs.shape[0] != targets.shape[0] or outputs.numel() != targets.numel()):
        raise ValueError(
            f"the model gives outputs of shape {tuple(outputs.shape)} for targets of shape {tuple(targets.shape)}: "
            "its last layer's out_features must give one output per target value"
        )



def check_tensor_dict(name: str, params) -> Mapping[str, torch.Tensor]:
    """A mapping from names to tensors (a parameter dict such as ``parameters_of(model)``)."""
    if not isinstance(params, Mapping):
        raise TypeError(
            f"{name} must be a dict of name -> tensor (e.g. parameters_of(model)), got {type(params).__name__}"
        )
    for key, value in params.items():
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name}[{key!r}] must be a torch.Tensor, got {type(value).__name__}")
    return params


def check_parameter_names(module: nn.Module, params, name: str = "params") -> None:
    """Every name of ``params`` is a parameter or buffer of ``module``: a misspelt name would otherwise be ignored
    and the module's own tensor used in its place."""
    check_module("module", module)
    check_tensor_dict(name, params)
    known = [n for n, _ in module.named_parameters(remove_duplicate=False)]
    known += [n for n, _ in module.named_buffers(remove_duplicate=False)]
    unknown = [key for key in params if key not in set(known)]
    if unknown:
        hints = []
        for key in unknown:
            close = difflib.get_close_matches(key, known, n=1)
            hints.append(f"{key!r} (did you mean {close[0]!r}?)" if close else repr(key))
        raise ValueError(
            f"{name} has names that are no parameter of the {type(module).__name__}: {', '.join(hints)}; "
            f"its parameters and buffers are {known}"
        )
