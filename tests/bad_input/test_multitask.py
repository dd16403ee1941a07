"""Bad input to mlbook.multitask: each row is a mistake a reader makes, and the error it must get."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mlbook.multitask import (
    MGDA,
    AlignedMTL,
    CAGrad,
    CrossStitchNetwork,
    CrossStitchUnit,
    DynamicWeightAverage,
    EqualWeighting,
    FixedWeighting,
    GradNorm,
    HardSharing,
    HierarchicalSharing,
    LossWeighting,
    Mean,
    MultiTaskHistory,
    NashMTL,
    NoisyRegression,
    OnRepresentation,
    PCGrad,
    SharedPrivate,
    Sum,
    UncertaintyWeighting,
    aggregated_backward,
    cagrad_toy_losses,
    cagrad_toy_pareto_set,
    difference_loss,
    evaluate_multitask,
    kendall_toy,
    lookahead_affinity,
    min_norm_weights,
    representation_gram,
    task_jacobian,
    task_losses,
    train_multitask,
)
from tests.bad_input.harness import BadInput, assert_clear

NAN, INF = float("nan"), float("inf")
GRAM = torch.tensor([[2.0, 0.5], [0.5, 1.0]])


def model() -> HardSharing:
    return HardSharing.mlp(4, [8], [1, 1], seed=0)


def classifier() -> HardSharing:
    return HardSharing.mlp(4, [8], [3, 2], seed=0)


def inputs(n: int = 16) -> torch.Tensor:
    return torch.randn(n, 4, generator=torch.Generator().manual_seed(0))


def targets(n: int = 16, tasks: int = 2) -> torch.Tensor:
    return torch.randn(n, tasks, generator=torch.Generator().manual_seed(1))


def labels(n: int = 16) -> torch.Tensor:
    return torch.tensor([[0, 1]] * n)


def losses_of(net: HardSharing) -> torch.Tensor:
    return task_losses(net(inputs()), targets())


def backward(**changes):
    net = model()
    arguments = dict(
        losses=losses_of(net),
        shared_params=net.shared_parameters(),
        task_params=net.task_parameters(),
        aggregator=MGDA(),
    )
    return aggregated_backward(**{**arguments, **changes})


def backward_with(name: str, value):
    return lambda: backward(**{name: value})


def train(**changes):
    arguments = dict(model=model(), method=EqualWeighting(2), inputs=inputs(), targets=targets(), steps=2)
    return train_multitask(**{**arguments, **changes}, progress=False)


def train_with(name: str, value):
    return lambda: train(**{name: value})


def noisy(**changes) -> NoisyRegression:
    data = kendall_toy(8)
    fields = {name: getattr(data, name) for name in data.__dataclass_fields__}
    return NoisyRegression(**{**fields, **changes})


def gradnorm_loss(losses=None, params=None):
    net = model()
    losses = losses_of(net) if losses is None else losses
    params = [net.trunk[0][0].weight] if params is None else params
    return GradNorm(2).gradnorm_loss(losses, params)


ROWS = [
    # ------------------------------------------------------------------------------------------ architectures
    BadInput("mlbook.multitask.HardSharing", "trunk", "a string", lambda: HardSharing("mlp", [nn.Linear(2, 1)])),
    BadInput(
        "mlbook.multitask.HardSharing", "heads", "one module", lambda: HardSharing(nn.Linear(2, 2), nn.Linear(2, 1))
    ),
    BadInput("mlbook.multitask.HardSharing", "heads", "empty", lambda: HardSharing(nn.Linear(2, 2), [])),
    BadInput("mlbook.multitask.HardSharing", "heads", "a string inside", lambda: HardSharing(nn.Linear(2, 2), ["x"])),
    BadInput("mlbook.multitask.HardSharing.mlp", "in_features", "zero", lambda: HardSharing.mlp(0, [8], [1, 1])),
    BadInput("mlbook.multitask.HardSharing.mlp", "in_features", "float", lambda: HardSharing.mlp(4.0, [8], [1, 1])),
    BadInput("mlbook.multitask.HardSharing.mlp", "hidden", "an int", lambda: HardSharing.mlp(4, 8, [1, 1])),
    BadInput("mlbook.multitask.HardSharing.mlp", "hidden", "empty", lambda: HardSharing.mlp(4, [], [1, 1])),
    BadInput("mlbook.multitask.HardSharing.mlp", "hidden", "fractional width", lambda: HardSharing.mlp(4, [2.5], [1])),
    BadInput("mlbook.multitask.HardSharing.mlp", "out_features_per_task", "an int", lambda: HardSharing.mlp(4, [8], 2)),
    BadInput(
        "mlbook.multitask.HardSharing.mlp", "out_features_per_task", "zero", lambda: HardSharing.mlp(4, [8], [2, 0])
    ),
    BadInput("mlbook.multitask.HardSharing.mlp", "out_features_per_task", "empty", lambda: HardSharing.mlp(4, [8], [])),
    BadInput("mlbook.multitask.HardSharing.mlp", "seed", "negative", lambda: HardSharing.mlp(4, [8], [1], seed=-1)),
    BadInput("mlbook.multitask.HardSharing.mlp", "seed", "float", lambda: HardSharing.mlp(4, [8], [1], seed=1.5)),
    BadInput("mlbook.multitask.HardSharing.conv", "norm", "misspelt", lambda: HardSharing.conv([2], norm="grop")),
    BadInput("mlbook.multitask.HardSharing.conv", "hidden", "zero", lambda: HardSharing.conv([2], hidden=0)),
    BadInput(
        "mlbook.multitask.HardSharing.conv", "image_size", "too small", lambda: HardSharing.conv([2], image_size=4)
    ),
    BadInput(
        "mlbook.multitask.HardSharing.conv", "image_size", "a string", lambda: HardSharing.conv([2], image_size="16")
    ),
    BadInput("mlbook.multitask.CrossStitchUnit", "n_tasks", "one task", lambda: CrossStitchUnit(1)),
    BadInput("mlbook.multitask.CrossStitchUnit", "n_tasks", "float", lambda: CrossStitchUnit(2.0)),
    BadInput("mlbook.multitask.CrossStitchUnit", "alpha_same", "above one", lambda: CrossStitchUnit(2, alpha_same=1.5)),
    BadInput("mlbook.multitask.CrossStitchUnit", "alpha_same", "NaN", lambda: CrossStitchUnit(2, alpha_same=NAN)),
    BadInput(
        "mlbook.multitask.CrossStitchUnit", "alpha_same", "a string", lambda: CrossStitchUnit(2, alpha_same="0.9")
    ),
    BadInput(
        "mlbook.multitask.CrossStitchUnit.forward",
        "activations",
        "one too few",
        lambda: CrossStitchUnit(3)([torch.ones(2, 4), torch.ones(2, 4)]),
    ),
    BadInput(
        "mlbook.multitask.CrossStitchUnit.forward",
        "activations",
        "different shapes",
        lambda: CrossStitchUnit(2)([torch.ones(2, 4), torch.ones(2, 5)]),
    ),
    BadInput(
        "mlbook.multitask.CrossStitchUnit.forward",
        "activations",
        "one tensor, not a list",
        lambda: CrossStitchUnit(2)(torch.ones(2, 4)),
    ),
    BadInput(
        "mlbook.multitask.CrossStitchNetwork",
        "columns",
        "a flat list of blocks",
        lambda: CrossStitchNetwork([nn.Linear(2, 2), nn.Linear(2, 2)], [nn.Linear(2, 1), nn.Linear(2, 1)]),
    ),
    BadInput(
        "mlbook.multitask.CrossStitchNetwork",
        "columns",
        "one column",
        lambda: CrossStitchNetwork([[nn.Linear(2, 2)]], [nn.Linear(2, 1)]),
    ),
    BadInput(
        "mlbook.multitask.CrossStitchNetwork",
        "heads",
        "one head too few",
        lambda: CrossStitchNetwork([[nn.Linear(2, 2)], [nn.Linear(2, 2)]], [nn.Linear(2, 1)]),
    ),
    BadInput(
        "mlbook.multitask.CrossStitchNetwork",
        "alpha_same",
        "negative",
        lambda: CrossStitchNetwork(
            [[nn.Linear(2, 2)], [nn.Linear(2, 2)]], [nn.Linear(2, 1)] * 1 + [nn.Linear(2, 1)], alpha_same=-0.1
        ),
    ),
    BadInput(
        "mlbook.multitask.CrossStitchNetwork.mlp", "hidden", "an int", lambda: CrossStitchNetwork.mlp(4, 8, [1, 1])
    ),
    BadInput(
        "mlbook.multitask.CrossStitchNetwork.mlp",
        "seed",
        "negative",
        lambda: CrossStitchNetwork.mlp(4, [8], [1, 1], seed=-3),
    ),
    BadInput(
        "mlbook.multitask.CrossStitchNetwork.conv",
        "image_size",
        "a string",
        lambda: CrossStitchNetwork.conv([2, 2], image_size="16"),
    ),
    BadInput(
        "mlbook.multitask.CrossStitchNetwork.conv",
        "image_size",
        "too small",
        lambda: CrossStitchNetwork.conv([2, 2], image_size=4),
    ),
    BadInput(
        "mlbook.multitask.CrossStitchNetwork.conv",
        "norm",
        "misspelt",
        lambda: CrossStitchNetwork.conv([2, 2], norm="batchnorm"),
    ),
    BadInput(
        "mlbook.multitask.CrossStitchNetwork.conv", "depth", "zero", lambda: CrossStitchNetwork.conv([2, 2], depth=0)
    ),
    BadInput(
        "mlbook.multitask.HierarchicalSharing",
        "supervision_depths",
        "depth zero",
        lambda: HierarchicalSharing(
            [nn.Linear(2, 2), nn.Linear(2, 2)], [nn.Linear(2, 1)] * 1 + [nn.Linear(2, 1)], [0, 2]
        ),
    ),
    BadInput(
        "mlbook.multitask.HierarchicalSharing",
        "supervision_depths",
        "nobody reads the top",
        lambda: HierarchicalSharing([nn.Linear(2, 2), nn.Linear(2, 2)], [nn.Linear(2, 1), nn.Linear(2, 1)], [1, 1]),
    ),
    BadInput(
        "mlbook.multitask.HierarchicalSharing",
        "supervision_depths",
        "one depth too few",
        lambda: HierarchicalSharing([nn.Linear(2, 2), nn.Linear(2, 2)], [nn.Linear(2, 1), nn.Linear(2, 1)], [2]),
    ),
    BadInput(
        "mlbook.multitask.HierarchicalSharing",
        "layers",
        "a Sequential",
        lambda: HierarchicalSharing(nn.Sequential(nn.Linear(2, 2)), [nn.Linear(2, 1)], [1]),
    ),
    BadInput(
        "mlbook.multitask.HierarchicalSharing.mlp",
        "supervision_depths",
        "fractional",
        lambda: HierarchicalSharing.mlp(4, [8, 8], [1, 1], [1.0, 2]),
    ),
    BadInput(
        "mlbook.multitask.HierarchicalSharing.mlp",
        "supervision_depths",
        "an int",
        lambda: HierarchicalSharing.mlp(4, [8, 8], [1, 1], 2),
    ),
    BadInput(
        "mlbook.multitask.SharedPrivate",
        "shared",
        "None",
        lambda: SharedPrivate(None, [nn.Linear(2, 2)], [nn.Linear(4, 1)]),
    ),
    BadInput(
        "mlbook.multitask.SharedPrivate",
        "private",
        "one module",
        lambda: SharedPrivate(nn.Linear(2, 2), nn.Linear(2, 2), [nn.Linear(4, 1)]),
    ),
    BadInput(
        "mlbook.multitask.SharedPrivate",
        "heads",
        "count differs from private",
        lambda: SharedPrivate(nn.Linear(2, 2), [nn.Linear(2, 2), nn.Linear(2, 2)], [nn.Linear(4, 1)]),
    ),
    BadInput(
        "mlbook.multitask.SharedPrivate.mlp", "shared_hidden", "an int", lambda: SharedPrivate.mlp(4, 8, [8], [1, 1])
    ),
    BadInput(
        "mlbook.multitask.SharedPrivate.mlp", "private_hidden", "empty", lambda: SharedPrivate.mlp(4, [8], [], [1, 1])
    ),
    BadInput(
        "mlbook.multitask.SharedPrivate.mlp", "in_features", "negative", lambda: SharedPrivate.mlp(-4, [8], [8], [1, 1])
    ),
    BadInput(
        "mlbook.multitask.difference_loss", "shared", "1-D", lambda: difference_loss(torch.ones(4), [torch.ones(4, 2)])
    ),
    BadInput(
        "mlbook.multitask.difference_loss",
        "private",
        "a tensor",
        lambda: difference_loss(torch.ones(4, 2), torch.ones(4, 2)),
    ),
    BadInput("mlbook.multitask.difference_loss", "private", "empty", lambda: difference_loss(torch.ones(4, 2), [])),
    BadInput(
        "mlbook.multitask.difference_loss",
        "private[0]",
        "other batch",
        lambda: difference_loss(torch.ones(4, 2), [torch.ones(3, 2)]),
    ),
    BadInput(
        "mlbook.multitask.difference_loss",
        "shared",
        "integer dtype",
        lambda: difference_loss(torch.ones(4, 2, dtype=torch.long), [torch.ones(4, 2, dtype=torch.long)]),
    ),
    # -------------------------------------------------------------------------------------------- weightings
    BadInput("mlbook.multitask.LossWeighting", "n_tasks", "zero", lambda: LossWeighting(0)),
    BadInput("mlbook.multitask.LossWeighting", "n_tasks", "float", lambda: LossWeighting(2.0)),
    BadInput("mlbook.multitask.EqualWeighting", "n_tasks", "negative", lambda: EqualWeighting(-1)),
    BadInput("mlbook.multitask.EqualWeighting", "n_tasks", "a list", lambda: EqualWeighting([1, 1])),
    BadInput(
        "mlbook.multitask.EqualWeighting.forward", "losses", "wrong count", lambda: EqualWeighting(2)(torch.ones(3))
    ),
    BadInput(
        "mlbook.multitask.EqualWeighting.forward", "losses", "NaN", lambda: EqualWeighting(2)(torch.tensor([1.0, NAN]))
    ),
    BadInput("mlbook.multitask.EqualWeighting.forward", "losses", "a list", lambda: EqualWeighting(2)([1.0, 2.0])),
    BadInput("mlbook.multitask.EqualWeighting.forward", "losses", "2-D", lambda: EqualWeighting(2)(torch.ones(1, 2))),
    BadInput("mlbook.multitask.FixedWeighting", "weights", "negative", lambda: FixedWeighting([1.0, -1.0])),
    BadInput("mlbook.multitask.FixedWeighting", "weights", "NaN", lambda: FixedWeighting([1.0, NAN])),
    BadInput("mlbook.multitask.FixedWeighting", "weights", "empty", lambda: FixedWeighting([])),
    BadInput("mlbook.multitask.FixedWeighting", "weights", "a string", lambda: FixedWeighting("1, 0.1")),
    BadInput("mlbook.multitask.FixedWeighting", "weights", "None", lambda: FixedWeighting(None)),
    BadInput("mlbook.multitask.FixedWeighting", "weights", "nested", lambda: FixedWeighting([[1.0, 2.0]])),
    BadInput(
        "mlbook.multitask.FixedWeighting", "n_tasks", "count differs", lambda: FixedWeighting([1.0, 2.0], n_tasks=3)
    ),
    BadInput("mlbook.multitask.FixedWeighting", "n_tasks", "a string", lambda: FixedWeighting([1.0, 2.0], n_tasks="2")),
    BadInput(
        "mlbook.multitask.UncertaintyWeighting", "kinds", "misspelt", lambda: UncertaintyWeighting(2, "regresion")
    ),
    BadInput(
        "mlbook.multitask.UncertaintyWeighting",
        "kinds",
        "one kind too few",
        lambda: UncertaintyWeighting(2, ["regression"]),
    ),
    BadInput("mlbook.multitask.UncertaintyWeighting", "n_tasks", "zero", lambda: UncertaintyWeighting(0)),
    BadInput(
        "mlbook.multitask.UncertaintyWeighting.forward",
        "losses",
        "wrong count",
        lambda: UncertaintyWeighting(3)(torch.ones(2)),
    ),
    BadInput(
        "mlbook.multitask.DynamicWeightAverage", "temperature", "zero", lambda: DynamicWeightAverage(2, temperature=0)
    ),
    BadInput(
        "mlbook.multitask.DynamicWeightAverage", "temperature", "NaN", lambda: DynamicWeightAverage(2, temperature=NAN)
    ),
    BadInput(
        "mlbook.multitask.DynamicWeightAverage",
        "temperature",
        "a string",
        lambda: DynamicWeightAverage(2, temperature="2"),
    ),
    BadInput("mlbook.multitask.DynamicWeightAverage", "n_tasks", "bool", lambda: DynamicWeightAverage(True)),
    BadInput(
        "mlbook.multitask.DynamicWeightAverage.end_epoch",
        "mean_losses",
        "negative",
        lambda: DynamicWeightAverage(2).end_epoch(torch.tensor([1.0, -1.0])),
    ),
    BadInput(
        "mlbook.multitask.DynamicWeightAverage.end_epoch",
        "mean_losses",
        "nothing recorded",
        lambda: DynamicWeightAverage(2).end_epoch(),
    ),
    BadInput(
        "mlbook.multitask.DynamicWeightAverage.after_step",
        "losses",
        "wrong count",
        lambda: DynamicWeightAverage(2).after_step(torch.ones(3)),
    ),
    BadInput("mlbook.multitask.GradNorm", "alpha", "negative", lambda: GradNorm(2, alpha=-1.0)),
    BadInput("mlbook.multitask.GradNorm", "alpha", "NaN", lambda: GradNorm(2, alpha=NAN)),
    BadInput("mlbook.multitask.GradNorm", "n_tasks", "zero", lambda: GradNorm(0)),
    BadInput(
        "mlbook.multitask.GradNorm.forward",
        "losses",
        "negative first losses",
        lambda: GradNorm(2)(torch.tensor([1.0, -0.5])),
    ),
    BadInput(
        "mlbook.multitask.GradNorm.gradnorm_loss", "losses", "detached", lambda: gradnorm_loss(losses=torch.ones(2))
    ),
    BadInput(
        "mlbook.multitask.GradNorm.gradnorm_loss",
        "shared_layer_params",
        "no grad",
        lambda: gradnorm_loss(params=[torch.ones(8, 4)]),
    ),
    BadInput(
        "mlbook.multitask.GradNorm.gradnorm_loss", "shared_layer_params", "empty", lambda: gradnorm_loss(params=[])
    ),
    # ------------------------------------------------------------------------------------------- aggregators
    BadInput("mlbook.multitask.Aggregator.weights", "gram", "not square", lambda: Mean().weights(torch.ones(2, 3))),
    BadInput(
        "mlbook.multitask.Aggregator.weights",
        "gram",
        "NaN",
        lambda: Mean().weights(torch.tensor([[1.0, NAN], [NAN, 1.0]])),
    ),
    BadInput(
        "mlbook.multitask.Aggregator.weights",
        "gram",
        "asymmetric",
        lambda: MGDA().weights(torch.tensor([[1.0, 0.9], [0.0, 1.0]])),
    ),
    BadInput(
        "mlbook.multitask.Aggregator.weights",
        "gram",
        "not PSD",
        lambda: MGDA().weights(torch.tensor([[1.0, 2.0], [2.0, 1.0]])),
    ),
    BadInput("mlbook.multitask.Aggregator.weights", "gram", "a list", lambda: Mean().weights([[1.0, 0.0], [0.0, 1.0]])),
    BadInput(
        "mlbook.multitask.Aggregator.weights",
        "gram",
        "integer dtype",
        lambda: Mean().weights(torch.eye(2, dtype=torch.long)),
    ),
    BadInput("mlbook.multitask.Mean", "jacobian", "1-D", lambda: Mean()(torch.ones(5))),
    BadInput("mlbook.multitask.Mean", "jacobian", "NaN", lambda: Mean()(torch.tensor([[1.0, NAN]]))),
    BadInput("mlbook.multitask.Sum", "jacobian", "no tasks", lambda: Sum()(torch.ones(0, 5))),
    BadInput("mlbook.multitask.Sum", "jacobian", "a list", lambda: Sum()([[1.0, 2.0]])),
    BadInput("mlbook.multitask.Sum", "jacobian", "inf", lambda: Sum()(torch.tensor([[1.0, INF]]))),
    BadInput("mlbook.multitask.PCGrad", "seed", "negative", lambda: PCGrad(seed=-1)),
    BadInput("mlbook.multitask.PCGrad", "seed", "float", lambda: PCGrad(seed=1.5)),
    BadInput("mlbook.multitask.PCGrad", "seed", "bool", lambda: PCGrad(seed=True)),
    BadInput("mlbook.multitask.PCGrad", "seed", "too large", lambda: PCGrad(seed=2**64)),
    BadInput("mlbook.multitask.MGDA", "normalization", "misspelt", lambda: MGDA(normalization="L2")),
    BadInput("mlbook.multitask.MGDA", "max_iter", "zero", lambda: MGDA(max_iter=0)),
    BadInput("mlbook.multitask.MGDA", "tol", "negative", lambda: MGDA(tol=-1e-3)),
    BadInput("mlbook.multitask.MGDA", "tol", "NaN", lambda: MGDA(tol=NAN)),
    BadInput("mlbook.multitask.MGDA", "tol", "inf", lambda: MGDA(tol=INF)),
    BadInput("mlbook.multitask.MGDA", "tol", "a string", lambda: MGDA(tol="1e-3")),
    BadInput("mlbook.multitask.CAGrad", "c", "one", lambda: CAGrad(c=1.0)),
    BadInput("mlbook.multitask.CAGrad", "c", "negative", lambda: CAGrad(c=-0.1)),
    BadInput("mlbook.multitask.CAGrad", "c", "NaN", lambda: CAGrad(c=NAN)),
    BadInput("mlbook.multitask.CAGrad", "c", "a string", lambda: CAGrad(c="0.4")),
    BadInput("mlbook.multitask.CAGrad", "rescale", "a string", lambda: CAGrad(rescale="yes")),
    BadInput("mlbook.multitask.NashMTL", "max_iter", "float", lambda: NashMTL(max_iter=10.0)),
    BadInput("mlbook.multitask.NashMTL", "tol", "zero", lambda: NashMTL(tol=0)),
    BadInput("mlbook.multitask.NashMTL", "tol", "NaN", lambda: NashMTL(tol=NAN)),
    BadInput("mlbook.multitask.NashMTL", "tol", "inf", lambda: NashMTL(tol=INF)),
    BadInput(
        "mlbook.multitask.NashMTL.weights",
        "gram",
        "a zero gradient",
        lambda: NashMTL().weights(torch.diag(torch.tensor([1.0, 0.0]))),
    ),
    BadInput("mlbook.multitask.AlignedMTL", "scale_mode", "misspelt", lambda: AlignedMTL("mean")),
    BadInput("mlbook.multitask.AlignedMTL", "scale_mode", "None", lambda: AlignedMTL(None)),
    BadInput(
        "mlbook.multitask.min_norm_weights",
        "gram",
        "not PSD",
        lambda: min_norm_weights(torch.tensor([[1.0, 2.0], [2.0, 1.0]])),
    ),
    BadInput("mlbook.multitask.min_norm_weights", "max_iter", "zero", lambda: min_norm_weights(GRAM, max_iter=0)),
    BadInput("mlbook.multitask.min_norm_weights", "tol", "inf", lambda: min_norm_weights(GRAM, tol=INF)),
    BadInput("mlbook.multitask.min_norm_weights", "tol", "NaN", lambda: min_norm_weights(GRAM, tol=NAN)),
    BadInput("mlbook.multitask.min_norm_weights", "gram", "a numpy array", lambda: min_norm_weights(GRAM.numpy())),
    BadInput("mlbook.multitask.OnRepresentation", "aggregator", "a string", lambda: OnRepresentation("mgda")),
    BadInput("mlbook.multitask.OnRepresentation", "aggregator", "the class", lambda: OnRepresentation(MGDA)),
    # ---------------------------------------------------------------------------------- Jacobians and losses
    BadInput(
        "mlbook.multitask.task_jacobian",
        "losses",
        "0-D",
        lambda: task_jacobian(losses_of(model()).sum(), model().shared_parameters()),
    ),
    BadInput(
        "mlbook.multitask.task_jacobian",
        "losses",
        "detached",
        lambda: task_jacobian(torch.ones(2), [nn.Parameter(torch.ones(3))]),
    ),
    BadInput("mlbook.multitask.task_jacobian", "params", "empty", lambda: task_jacobian(losses_of(model()), [])),
    BadInput(
        "mlbook.multitask.task_jacobian",
        "params",
        "a bare tensor",
        lambda: (lambda net: task_jacobian(losses_of(net), net.trunk[0][0].weight))(model()),
    ),
    BadInput(
        "mlbook.multitask.task_jacobian",
        "losses",
        "NaN",
        lambda: (lambda net: task_jacobian(losses_of(net) * torch.tensor([1.0, NAN]), net.shared_parameters()))(
            model()
        ),
    ),
    BadInput(
        "mlbook.multitask.representation_gram",
        "z",
        "no grad",
        lambda: representation_gram(losses_of(model()), torch.ones(3)),
    ),
    BadInput(
        "mlbook.multitask.representation_gram", "z", "a list", lambda: representation_gram(losses_of(model()), [1.0])
    ),
    BadInput("mlbook.multitask.aggregated_backward", "aggregator", "a string", backward_with("aggregator", "mgda")),
    BadInput(
        "mlbook.multitask.aggregated_backward",
        "aggregator",
        "a weighting",
        backward_with("aggregator", EqualWeighting(2)),
    ),
    BadInput(
        "mlbook.multitask.aggregated_backward",
        "task_params",
        "a flat list",
        lambda: backward(task_params=model().parameters()),
    ),
    BadInput("mlbook.multitask.aggregated_backward", "shared_params", "empty", backward_with("shared_params", [])),
    BadInput("mlbook.multitask.aggregated_backward", "losses", "a list", backward_with("losses", [1.0, 2.0])),
    BadInput("mlbook.multitask.task_losses", "outputs", "a tensor", lambda: task_losses(torch.ones(16, 2), targets())),
    BadInput("mlbook.multitask.task_losses", "targets", "1-D", lambda: task_losses(model()(inputs()), torch.ones(16))),
    BadInput(
        "mlbook.multitask.task_losses",
        "targets",
        "one column too many",
        lambda: task_losses(model()(inputs()), targets(tasks=3)),
    ),
    BadInput(
        "mlbook.multitask.task_losses",
        "targets",
        "other batch size",
        lambda: task_losses(model()(inputs()), targets(n=8)),
    ),
    BadInput(
        "mlbook.multitask.task_losses", "loss_fns", "a string", lambda: task_losses(model()(inputs()), targets(), "mse")
    ),
    BadInput(
        "mlbook.multitask.task_losses",
        "loss_fns",
        "one too few",
        lambda: task_losses(model()(inputs()), targets(), [nn.MSELoss()]),
    ),
    BadInput(
        "mlbook.multitask.task_losses",
        "targets",
        "label out of range",
        lambda: task_losses(classifier()(inputs()), labels() + torch.tensor([0, 5])),
    ),
    BadInput(
        "mlbook.multitask.task_losses",
        "targets",
        "negative label",
        lambda: task_losses(classifier()(inputs()), labels() - 3),
    ),
    BadInput(
        "mlbook.multitask.task_losses",
        "targets",
        "fractional labels for a classifier",
        lambda: task_losses(classifier()(inputs()), labels().float() + 0.5),
    ),
    # ------------------------------------------------------------------------------------------- training
    BadInput("mlbook.multitask.train_multitask", "method", "a string", train_with("method", "pcgrad")),
    BadInput("mlbook.multitask.train_multitask", "method", "a class", train_with("method", PCGrad)),
    BadInput("mlbook.multitask.train_multitask", "model", "single-task module", train_with("model", nn.Linear(4, 2))),
    BadInput("mlbook.multitask.train_multitask", "steps", "zero", train_with("steps", 0)),
    BadInput("mlbook.multitask.train_multitask", "steps", "float", train_with("steps", 10.0)),
    BadInput("mlbook.multitask.train_multitask", "batch_size", "zero", train_with("batch_size", 0)),
    BadInput("mlbook.multitask.train_multitask", "lr", "NaN", train_with("lr", NAN)),
    BadInput("mlbook.multitask.train_multitask", "lr", "negative", train_with("lr", -1e-3)),
    BadInput("mlbook.multitask.train_multitask", "lr", "a string", train_with("lr", "1e-3")),
    BadInput("mlbook.multitask.train_multitask", "lr", "bool", train_with("lr", True)),
    BadInput("mlbook.multitask.train_multitask", "seed", "negative", train_with("seed", -1)),
    BadInput("mlbook.multitask.train_multitask", "inputs", "length mismatch", train_with("inputs", inputs(12))),
    BadInput("mlbook.multitask.train_multitask", "inputs", "a list", train_with("inputs", [[0.0] * 4] * 16)),
    BadInput(
        "mlbook.multitask.train_multitask",
        "inputs",
        "NaN",
        train_with("inputs", inputs().index_fill(0, torch.tensor([3]), NAN)),
    ),
    BadInput(
        "mlbook.multitask.train_multitask", "targets", "one column too many", train_with("targets", targets(tasks=3))
    ),
    BadInput(
        "mlbook.multitask.train_multitask",
        "targets",
        "NaN",
        train_with("targets", targets().index_fill(0, torch.tensor([3]), NAN)),
    ),
    BadInput(
        "mlbook.multitask.train_multitask", "inputs", "empty", lambda: train(inputs=inputs(0), targets=targets(0))
    ),
    BadInput(
        "mlbook.multitask.train_multitask", "n_tasks", "weighting for 3 tasks", train_with("method", EqualWeighting(3))
    ),
    BadInput("mlbook.multitask.train_multitask", "eval_inputs", "eval_every without data", train_with("eval_every", 1)),
    BadInput("mlbook.multitask.train_multitask", "eval_every", "negative", train_with("eval_every", -1)),
    BadInput("mlbook.multitask.train_multitask", "affinity_every", "float", train_with("affinity_every", 1.5)),
    BadInput(
        "mlbook.multitask.train_multitask",
        "affinity_lr",
        "NaN",
        lambda: train(affinity_every=1, affinity_lr=NAN),
    ),
    BadInput(
        "mlbook.multitask.train_multitask",
        "eval_targets",
        "one column too few",
        lambda: train(eval_every=1, eval_inputs=inputs(), eval_targets=targets(tasks=1)),
    ),
    BadInput(
        "mlbook.multitask.train_multitask",
        "method",
        "OnRepresentation on cross-stitch",
        lambda: train(model=CrossStitchNetwork.mlp(4, [8], [1, 1], seed=0), method=OnRepresentation(MGDA())),
    ),
    BadInput(
        "mlbook.multitask.evaluate_multitask",
        "model",
        "a string",
        lambda: evaluate_multitask("model", inputs(), targets()),
    ),
    BadInput(
        "mlbook.multitask.evaluate_multitask", "inputs", "a list", lambda: evaluate_multitask(model(), [1.0], targets())
    ),
    BadInput(
        "mlbook.multitask.evaluate_multitask",
        "targets",
        "length mismatch",
        lambda: evaluate_multitask(model(), inputs(), targets(n=8)),
    ),
    BadInput(
        "mlbook.multitask.evaluate_multitask",
        "targets",
        "1-D",
        lambda: evaluate_multitask(model(), inputs(), torch.ones(16)),
    ),
    BadInput(
        "mlbook.multitask.evaluate_multitask",
        "targets",
        "one column too many",
        lambda: evaluate_multitask(model(), inputs(), targets(tasks=3)),
    ),
    BadInput(
        "mlbook.multitask.evaluate_multitask",
        "targets",
        "label out of range",
        lambda: evaluate_multitask(classifier(), inputs(), labels() + torch.tensor([7, 0])),
    ),
    BadInput(
        "mlbook.multitask.evaluate_multitask",
        "targets",
        "fractional labels for a classifier",
        lambda: evaluate_multitask(classifier(), inputs(), labels().float() + 0.5),
    ),
    BadInput(
        "mlbook.multitask.evaluate_multitask",
        "batch_size",
        "zero",
        lambda: evaluate_multitask(model(), inputs(), targets(), 0),
    ),
    BadInput(
        "mlbook.multitask.lookahead_affinity",
        "lr",
        "NaN",
        lambda: lookahead_affinity(model(), inputs(), targets(), lr=NAN),
    ),
    BadInput(
        "mlbook.multitask.lookahead_affinity",
        "lr",
        "bool",
        lambda: lookahead_affinity(model(), inputs(), targets(), lr=True),
    ),
    BadInput(
        "mlbook.multitask.lookahead_affinity",
        "model",
        "single-task module",
        lambda: lookahead_affinity(nn.Linear(4, 2), inputs(), targets()),
    ),
    BadInput(
        "mlbook.multitask.lookahead_affinity",
        "targets",
        "one column too many",
        lambda: lookahead_affinity(model(), inputs(), targets(tasks=3)),
    ),
    BadInput(
        "mlbook.multitask.lookahead_affinity",
        "inputs",
        "a list",
        lambda: lookahead_affinity(model(), [[0.0] * 4], targets(n=1)),
    ),
    BadInput(
        "mlbook.multitask.MultiTaskHistory.mean_affinity",
        "affinity_every",
        "none recorded",
        lambda: MultiTaskHistory().mean_affinity(),
    ),
    # ----------------------------------------------------------------------------------------------- toys
    BadInput("mlbook.multitask.kendall_toy", "n", "zero", lambda: kendall_toy(0)),
    BadInput("mlbook.multitask.kendall_toy", "n", "float", lambda: kendall_toy(100.0)),
    BadInput("mlbook.multitask.kendall_toy", "sigmas", "negative", lambda: kendall_toy(8, sigmas=(1.0, -1.0))),
    BadInput("mlbook.multitask.kendall_toy", "sigmas", "a string", lambda: kendall_toy(8, sigmas="1, 4")),
    BadInput("mlbook.multitask.kendall_toy", "sigmas", "empty", lambda: kendall_toy(8, sigmas=())),
    BadInput("mlbook.multitask.kendall_toy", "sigmas", "NaN", lambda: kendall_toy(8, sigmas=(1.0, NAN))),
    BadInput("mlbook.multitask.kendall_toy", "seed", "negative", lambda: kendall_toy(8, seed=-1)),
    BadInput("mlbook.multitask.kendall_toy", "function_seed", "None", lambda: kendall_toy(8, function_seed=None)),
    BadInput("mlbook.multitask.kendall_toy", "in_features", "zero", lambda: kendall_toy(8, in_features=0)),
    BadInput("mlbook.multitask.NoisyRegression", "x", "a list", lambda: noisy(x=[[0.0] * 4] * 8)),
    BadInput("mlbook.multitask.NoisyRegression", "y", "other length", lambda: noisy(y=torch.ones(5, 2))),
    BadInput("mlbook.multitask.NoisyRegression", "sigmas", "2-D", lambda: noisy(sigmas=torch.ones(2, 2))),
    BadInput("mlbook.multitask.cagrad_toy_losses", "theta", "a list", lambda: cagrad_toy_losses([0.0, 1.0])),
    BadInput(
        "mlbook.multitask.cagrad_toy_losses", "theta", "integer dtype", lambda: cagrad_toy_losses(torch.tensor([0, 1]))
    ),
    BadInput(
        "mlbook.multitask.cagrad_toy_losses", "theta", "three coordinates", lambda: cagrad_toy_losses(torch.ones(3))
    ),
    BadInput("mlbook.multitask.cagrad_toy_pareto_set", "n_points", "one", lambda: cagrad_toy_pareto_set(1)),
    BadInput("mlbook.multitask.cagrad_toy_pareto_set", "n_points", "float", lambda: cagrad_toy_pareto_set(10.0)),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_bad_input_gets_a_clear_error_naming_the_argument(row):
    assert_clear(row)
