"""Argument checks shared by the optimization-based methods: episodes, meta-batches, parameter dicts and model
outputs. They run once at a public entry point (or on the first forward of an episode), never inside an inner
loop, and they only refuse inputs that used to give a torch error from deep inside or a wrong result."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

import torch
from torch import nn

from mlbook.data.episodes import Episode
from mlbook.models import MLP, Conv4
from mlbook.validate import check_labels, check_list_of, check_module, check_tensor

__all__ = [
    "check_episode",
    "check_episodes",
    "check_meta_batch",
    "check_outputs",
    "check_parameter_names",
    "check_tensor_dict",
]

#: the integer label dtypes the task losses read as classification (others would be taken for regression)
LABEL_DTYPES = (torch.int64, torch.int32)


def check_episode(episode, model: nn.Module | None = None, name: str = "episode") -> Episode:
    """An ``Episode`` the optimization methods can use: floating-point inputs with at least one row, support and
    query inputs of one shape per example, integer labels in ``0..n_way-1`` (classification) or floating-point
    targets of one shape (regression); with ``model``: inputs of the model's dtype and device and, for
    ``Conv4``/``MLP``, of the shape it takes."""
    if not isinstance(episode, Episode):
        raise TypeError(f"{name} must be an Episode (e.g. from EpisodeSampler.sample()), got {type(episode).__name__}")
    sx, sy, qx, qy = episode.support_x, episode.support_y, episode.query_x, episode.query_y
    check_tensor(f"{name}.support_x", sx, floating=True, non_empty=True)
    check_tensor(f"{name}.query_x", qx, floating=True, non_empty=True)
    if sx.shape[1:] != qx.shape[1:] or sx.dtype != qx.dtype:
        raise ValueError(
            f"{name}.query_x must hold examples of the shape and dtype of {name}.support_x, got "
            f"{tuple(qx.shape)} {qx.dtype} and {tuple(sx.shape)} {sx.dtype}"
        )
    if episode.n_way is None:
        check_tensor(f"{name}.support_y", sy, floating=True)
        check_tensor(f"{name}.query_y", qy, floating=True)
        if sy.shape[1:] != qy.shape[1:]:
            raise ValueError(
                f"{name}.query_y must hold targets of the shape of {name}.support_y, got {tuple(qy.shape)} and "
                f"{tuple(sy.shape)}"
            )
    else:
        for y_name, labels in (("support_y", sy), ("query_y", qy)):
            check_labels(f"{name}.{y_name}", labels, episode.n_way)
            if labels.dtype not in LABEL_DTYPES:
                raise TypeError(f"{name}.{y_name} must be torch.long class labels, got dtype {labels.dtype}")
    if model is not None:
        _check_inputs_fit(model, sx, f"{name}.support_x")
        _check_inputs_fit(model, qx, f"{name}.query_x")
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
