"""Bad-input table for ``mlbook.optimization`` (the MAML family, its low-level pieces and the chapter's helpers):
each row is a mistake a reader makes, and the error it must get."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from mlbook.data import Episode
from mlbook.models import MLP, Conv4
from mlbook.optimization import (
    ANIL,
    FOMAML,
    MAML,
    R2D2,
    Learner,
    MetaSGD,
    PretrainedFineTune,
    Reptile,
    buffers_of,
    evaluate_after_steps,
    functional_forward,
    gradient_descent_quadratic,
    gradient_step,
    implicit_prior_precision,
    load_benchmark_result,
    map_estimate,
    meta_gradient,
    parameters_of,
    per_task_losses,
    pure_forward,
    ridge_predict,
    ridge_solution,
    stack_episodes,
    stack_parameters,
    supports_pure_forward,
    task_batched_forward,
    task_loss,
    task_metrics,
    transductive_batchnorm,
    unsupported_modules,
    uses_running_statistics,
)
from tests.bad_input.fixtures import make_episode
from tests.bad_input.harness import BadInput, assert_clear

NAN, INF = float("nan"), float("inf")

# ---- small valid fixtures, built only when a row runs ------------------------------------------------------


def conv(n_way: int | None = 3) -> Conv4:
    """A tiny Conv4 for 16x16 images; ``n_way=None``: no head (64-d... here 4-d embeddings)."""
    torch.manual_seed(0)
    return Conv4(out_features=n_way, hidden=4, image_size=16, depth=3)


def mlp() -> MLP:
    torch.manual_seed(0)
    return MLP(1, 1, hidden=(8,))


def episode(**changes) -> Episode:
    """A valid 3-way 1-shot episode of 16x16 images with one query per class; ``changes`` replace fields."""
    return make_episode(3, 1, 16, **changes)


def sine(**changes) -> Episode:
    """A valid regression (sinusoid-like) episode: 5 support and 5 query points ``[5, 1]``."""
    g = torch.Generator().manual_seed(0)
    fields = {
        "support_x": torch.rand(5, 1, generator=g),
        "support_y": torch.rand(5, 1, generator=g),
        "query_x": torch.rand(5, 1, generator=g),
        "query_y": torch.rand(5, 1, generator=g),
        "n_way": None,
        "k_shot": 5,
    } | changes
    return Episode(**fields)


def maml(**options) -> MAML:
    return MAML(conv(), inner_lr=0.1, **options)


def optimizer(method: nn.Module) -> torch.optim.Optimizer:
    return torch.optim.SGD(method.parameters(), lr=0.01)


def learner(**changes) -> Learner:
    fields = {
        "forward": lambda p, x: x * p["w"],
        "params": {"w": torch.ones(1, requires_grad=True)},
        "adaptable": ["w"],
        "step_sizes": lambda step: {"w": 0.1},
    } | changes
    return Learner(fields["forward"], fields["params"], fields["adaptable"], fields["step_sizes"])


def spd() -> torch.Tensor:
    return torch.tensor([[2.0, 0.5], [0.5, 1.0]], dtype=torch.float64)


def vector(*values) -> torch.Tensor:
    return torch.tensor(values or (1.0, -1.0), dtype=torch.float64)


def mlp_params() -> dict[str, torch.Tensor]:
    return dict(mlp().named_parameters())


def stacked_mlp_params(tasks: int = 2) -> dict[str, torch.Tensor]:
    return {n: p.unsqueeze(0).expand(tasks, *p.shape) for n, p in mlp().named_parameters()}


class NoInnerSteps(R2D2):
    """A method without ``test_inner_steps`` (R2D2 solves its head in closed form)."""


def misspelt_head() -> dict[str, torch.Tensor]:
    return {"head.wieght": torch.zeros(1, 8)}


def grads_like(params, **changes):
    return {n: torch.ones_like(p) for n, p in params.items()} | changes


def regression_targets() -> torch.Tensor:
    return torch.rand(5, 1)


E = "mlbook.optimization."

ROWS = [
    # ---- MAML: construction
    BadInput(E + "MAML", "model", "a string", lambda: MAML("conv4")),
    BadInput(E + "MAML", "model", "None", lambda: MAML(None)),
    BadInput(E + "MAML", "inner_lr", "NaN", lambda: MAML(conv(), inner_lr=NAN)),
    BadInput(E + "MAML", "inner_lr", "inf", lambda: MAML(conv(), inner_lr=INF)),
    BadInput(E + "MAML", "inner_lr", "zero", lambda: MAML(conv(), inner_lr=0.0)),
    BadInput(E + "MAML", "inner_lr", "negative", lambda: MAML(conv(), inner_lr=-0.1)),
    BadInput(E + "MAML", "inner_lr", "a string", lambda: MAML(conv(), inner_lr="0.1")),
    BadInput(E + "MAML", "inner_steps", "zero", lambda: MAML(conv(), inner_steps=0)),
    BadInput(E + "MAML", "inner_steps", "float", lambda: MAML(conv(), inner_steps=2.5)),
    BadInput(E + "MAML", "inner_steps", "bool", lambda: MAML(conv(), inner_steps=True)),
    BadInput(E + "MAML", "test_inner_steps", "zero", lambda: MAML(conv(), test_inner_steps=0)),
    BadInput(E + "MAML", "inner_lr_mode", "misspelt", lambda: MAML(conv(), inner_lr_mode="per-step")),
    BadInput(E + "MAML", "adapt", "misspelt prefix", lambda: MAML(conv(), adapt=["hed"])),
    BadInput(E + "MAML", "adapt", "an int", lambda: MAML(conv(), adapt=5)),
    BadInput(E + "MAML", "adapt", "empty list", lambda: MAML(conv(), adapt=[])),
    BadInput(E + "MAML", "first_order", "a string", lambda: MAML(conv(), first_order="yes")),
    BadInput(E + "MAML", "multi_step_loss", "a string", lambda: MAML(conv(), multi_step_loss="no")),
    BadInput(E + "MAML", "batched", "a string", lambda: MAML(conv(), batched="no")),
    BadInput(E + "MAML", "shared_head", "a head with 3 rows", lambda: MAML(conv(), shared_head=True)),
    BadInput(E + "MAML", "workers", "zero", lambda: MAML(conv(), workers=0)),
    BadInput(E + "MAML", "workers", "float", lambda: MAML(conv(), workers=2.0)),
    # ---- MAML: episodes (the silent cases of the issue)
    BadInput(
        E + "MAML.episode_loss",
        "out_features",
        "no head: embeddings as logits",
        lambda: MAML(conv(None)).episode_loss(episode()),
    ),
    BadInput(
        E + "MAML.episode_loss", "out_features", "5 outputs for 3 ways", lambda: MAML(conv(5)).episode_loss(episode())
    ),
    BadInput(
        E + "MAML.episode_loss",
        "episode.query_x",
        "support and query of different sizes",
        lambda: maml().episode_loss(episode(query_x=torch.rand(3, 1, 20, 20))),
    ),
    BadInput(
        E + "MAML.episode_loss",
        "episode.support_y",
        "float labels",
        lambda: maml().episode_loss(episode(support_y=torch.tensor([0.0, 1.0, 2.0]))),
    ),
    BadInput(
        E + "MAML.episode_loss",
        "episode.support_y",
        "label out of range",
        lambda: maml().episode_loss(episode(support_y=torch.tensor([0, 1, 7]))),
    ),
    BadInput(
        E + "MAML.episode_loss",
        "episode.query_y",
        "negative label",
        lambda: maml().episode_loss(episode(query_y=torch.tensor([0, -1, 2]))),
    ),
    BadInput(
        E + "MAML.episode_loss",
        "episode.support_x",
        "float64 images, float32 model",
        lambda: maml().episode_loss(episode(support_x=torch.rand(3, 1, 16, 16).double())),
    ),
    BadInput(
        E + "MAML.episode_loss",
        "episode.support_x",
        "3-D images",
        lambda: maml().episode_loss(episode(support_x=torch.rand(3, 16, 16))),
    ),
    BadInput(
        E + "MAML.episode_loss",
        "episode.support_x",
        "integer images",
        lambda: maml().episode_loss(episode(support_x=torch.randint(0, 255, (3, 1, 16, 16)))),
    ),
    BadInput(
        E + "MAML.episode_loss",
        "episode",
        "a tuple, not an Episode",
        lambda: maml().episode_loss((torch.rand(3, 1, 16, 16), torch.tensor([0, 1, 2]))),
    ),
    BadInput(
        E + "MAML.episode_loss",
        "out_features",
        "regression model with 2 outputs",
        lambda: MAML(MLP(1, 2, hidden=(8,))).episode_loss(sine()),
    ),
    BadInput(
        E + "MAML.episode_loss",
        "episode.support_y",
        "integer regression targets",
        lambda: MAML(mlp()).episode_loss(sine(support_y=torch.zeros(5, 1, dtype=torch.long))),
    ),
    BadInput(
        E + "MAML.predict",
        "out_features",
        "no head: predict returns embeddings",
        lambda: MAML(conv(None)).predict(episode()),
    ),
    BadInput(E + "MAML.predict", "steps", "negative", lambda: maml().predict(episode(), steps=-1)),
    BadInput(E + "MAML.predict", "steps", "float", lambda: maml().predict(episode(), steps=1.5)),
    BadInput(
        E + "MAML.predict",
        "episode.support_y",
        "label out of range",
        lambda: maml().predict(episode(support_y=torch.tensor([0, 1, 3]))),
    ),
    BadInput(E + "MAML.adapt_to", "steps", "a string", lambda: maml().adapt_to(episode(), steps="3")),
    BadInput(E + "MAML.adapt_to", "episode", "None", lambda: maml().adapt_to(None)),
    BadInput(E + "MAML.adapt_to", "out_features", "5 outputs for 3 ways", lambda: MAML(conv(5)).adapt_to(episode())),
    BadInput(E + "MAML.predict_batch", "episodes", "empty", lambda: maml().predict_batch([])),
    BadInput(E + "MAML.predict_batch", "episodes", "not Episodes", lambda: maml().predict_batch([1, 2])),
    BadInput(E + "MAML.predict_batch", "steps", "negative", lambda: maml().predict_batch([episode()], steps=-2)),
    BadInput(
        E + "MAML.predict_batch",
        "out_features",
        "5 outputs for 3 ways",
        lambda: MAML(conv(5)).predict_batch([episode(), episode()]),
    ),
    BadInput(E + "MAML.batch_loss", "episodes", "empty", lambda: maml().batch_loss([])),
    BadInput(E + "MAML.batch_loss", "episodes", "one Episode, not a list", lambda: maml().batch_loss(episode())),
    BadInput(
        E + "MAML.batch_loss",
        "out_features",
        "batched, 5 outputs for 3 ways",
        lambda: MAML(conv(5), batched=True).batch_loss([episode(), episode()]),
    ),
    BadInput(
        E + "MAML.batch_loss",
        "episodes[1].support_y",
        "batched, label out of range",
        lambda: maml(batched=True).batch_loss([episode(), episode(support_y=torch.tensor([0, 1, 5]))]),
    ),
    BadInput(E + "MAML.meta_gradient", "episodes", "empty", lambda: maml().meta_gradient([])),
    BadInput(E + "MAML.training_step", "optimizer", "None", lambda: maml().training_step([episode()], None)),
    BadInput(
        E + "MAML.training_step", "episodes", "empty", lambda: (lambda m: m.training_step([], optimizer(m)))(maml())
    ),
    BadInput(E + "MAML.clone", "n_way", "zero", lambda: maml().clone(n_way=0)),
    BadInput(E + "MAML.clone", "second_order", "a string", lambda: maml().clone(second_order="no")),
    BadInput(E + "MAML.forward", "x", "a list", lambda: maml()([[0.0]])),
    # ---- the subclasses
    BadInput(E + "FOMAML", "inner_lr", "NaN", lambda: FOMAML(conv(), inner_lr=NAN)),
    BadInput(E + "FOMAML", "model", "a class, not an instance", lambda: FOMAML(Conv4)),
    BadInput(E + "FOMAML.episode_loss", "out_features", "no head", lambda: FOMAML(conv(None)).episode_loss(episode())),
    BadInput(E + "MetaSGD", "inner_lr", "inf", lambda: MetaSGD(conv(), inner_lr=INF)),
    BadInput(E + "MetaSGD", "inner_lr_mode", "given", lambda: MetaSGD(conv(), inner_lr_mode="fixed")),
    BadInput(
        E + "MetaSGD.episode_loss",
        "out_features",
        "5 outputs for 3 ways",
        lambda: MetaSGD(conv(5)).episode_loss(episode()),
    ),
    BadInput(E + "ANIL", "model", "no features/head", lambda: ANIL(nn.Linear(3, 2))),
    BadInput(E + "ANIL", "model", "a headless Conv4", lambda: ANIL(conv(None))),
    BadInput(E + "ANIL", "adapt", "given", lambda: ANIL(conv(), adapt="all")),
    BadInput(E + "ANIL", "inner_steps", "zero", lambda: ANIL(conv(), inner_steps=0)),
    BadInput(
        E + "ANIL.episode_loss", "out_features", "5 outputs for 3 ways", lambda: ANIL(conv(5)).episode_loss(episode())
    ),
    BadInput(
        E + "ANIL.episode_loss",
        "episode.support_y",
        "label out of range",
        lambda: ANIL(conv()).episode_loss(episode(support_y=torch.tensor([0, 1, 9]))),
    ),
    BadInput(
        E + "ANIL.predict",
        "episode.query_x",
        "support and query of different sizes",
        lambda: ANIL(conv()).predict(episode(query_x=torch.rand(3, 1, 8, 8))),
    ),
    # ---- Reptile
    BadInput(E + "Reptile", "model", "a string", lambda: Reptile("conv4")),
    BadInput(E + "Reptile", "inner_lr", "NaN", lambda: Reptile(conv(), inner_lr=NAN)),
    BadInput(E + "Reptile", "inner_steps", "zero", lambda: Reptile(conv(), inner_steps=0)),
    BadInput(E + "Reptile", "train_on", "misspelt", lambda: Reptile(conv(), train_on="query")),
    BadInput(E + "Reptile", "shared_head", "a string", lambda: Reptile(conv(), shared_head="yes")),
    BadInput(E + "Reptile.adapt_to", "out_features", "no head", lambda: Reptile(conv(None)).adapt_to(episode())),
    BadInput(E + "Reptile.adapt_to", "steps", "negative", lambda: Reptile(conv()).adapt_to(episode(), steps=-1)),
    BadInput(E + "Reptile.adapt_to", "train", "a string", lambda: Reptile(conv()).adapt_to(episode(), train="yes")),
    BadInput(E + "Reptile.meta_direction", "episodes", "empty", lambda: Reptile(conv()).meta_direction([])),
    BadInput(
        E + "Reptile.meta_direction",
        "episode.support_y",
        "label out of range",
        lambda: Reptile(conv()).meta_direction([episode(support_y=torch.tensor([0, 1, 3]))]),
    ),
    BadInput(
        E + "Reptile.training_step", "optimizer", "None", lambda: Reptile(conv()).training_step([episode()], None)
    ),
    BadInput(
        E + "Reptile.predict", "out_features", "5 outputs for 3 ways", lambda: Reptile(conv(5)).predict(episode())
    ),
    BadInput(
        E + "Reptile.episode_loss",
        "episode.query_y",
        "label out of range",
        lambda: Reptile(conv()).episode_loss(episode(query_y=torch.tensor([0, 1, 3]))),
    ),
    # ---- R2D2
    BadInput(E + "R2D2", "encoder", "a string", lambda: R2D2("conv4")),
    BadInput(E + "R2D2", "ridge", "NaN", lambda: R2D2(conv(None), ridge=NAN)),
    BadInput(E + "R2D2", "ridge", "inf", lambda: R2D2(conv(None), ridge=INF)),
    BadInput(E + "R2D2", "ridge", "zero", lambda: R2D2(conv(None), ridge=0)),
    BadInput(E + "R2D2", "scale", "negative", lambda: R2D2(conv(None), scale=-1.0)),
    BadInput(E + "R2D2", "learn_ridge", "a string", lambda: R2D2(conv(None), learn_ridge="no")),
    BadInput(
        E + "R2D2.episode_loss",
        "episode.support_y",
        "label out of range",
        lambda: R2D2(conv(None)).episode_loss(episode(support_y=torch.tensor([0, 1, 3]))),
    ),
    BadInput(
        E + "R2D2.episode_loss",
        "episode.query_y",
        "label out of range",
        lambda: R2D2(conv(None)).episode_loss(episode(query_y=torch.tensor([0, 1, 3]))),
    ),
    BadInput(
        E + "R2D2.episode_loss",
        "episode.query_x",
        "support and query of different sizes",
        lambda: R2D2(conv(None)).episode_loss(episode(query_x=torch.rand(3, 1, 20, 20))),
    ),
    BadInput(
        E + "R2D2.episode_loss",
        "episode.support_y",
        "float labels",
        lambda: R2D2(conv(None)).episode_loss(episode(support_y=torch.tensor([0.0, 1.0, 2.0]))),
    ),
    BadInput(E + "R2D2.predict", "episode", "a dict", lambda: R2D2(conv(None)).predict({"support_x": 0})),
    BadInput(
        E + "R2D2.adapt_to",
        "episode.support_x",
        "float64 images, float32 encoder",
        lambda: R2D2(conv(None)).adapt_to(episode(support_x=torch.rand(3, 1, 16, 16).double())),
    ),
    # ---- PretrainedFineTune
    BadInput(E + "PretrainedFineTune", "model", "None", lambda: PretrainedFineTune(None)),
    BadInput(E + "PretrainedFineTune", "inner_lr", "NaN", lambda: PretrainedFineTune(conv(), inner_lr=NAN)),
    BadInput(E + "PretrainedFineTune", "inner_lr", "inf", lambda: PretrainedFineTune(conv(), inner_lr=INF)),
    BadInput(
        E + "PretrainedFineTune", "test_inner_steps", "float", lambda: PretrainedFineTune(conv(), test_inner_steps=2.5)
    ),
    BadInput(
        E + "PretrainedFineTune.episode_loss",
        "out_features",
        "5 outputs for 3 ways",
        lambda: PretrainedFineTune(conv(5)).episode_loss(episode()),
    ),
    BadInput(
        E + "PretrainedFineTune.episode_loss",
        "episode.query_y",
        "label out of range",
        lambda: PretrainedFineTune(conv()).episode_loss(episode(query_y=torch.tensor([0, 1, 3]))),
    ),
    BadInput(
        E + "PretrainedFineTune.predict",
        "out_features",
        "no head",
        lambda: PretrainedFineTune(conv(None)).predict(episode()),
    ),
    BadInput(
        E + "PretrainedFineTune.predict",
        "steps",
        "negative",
        lambda: PretrainedFineTune(conv()).predict(episode(), steps=-1),
    ),
    BadInput(
        E + "PretrainedFineTune.batch_loss", "episodes", "empty", lambda: PretrainedFineTune(mlp()).batch_loss([])
    ),
    BadInput(
        E + "PretrainedFineTune.batch_loss",
        "out_features",
        "regression model with 2 outputs",
        lambda: PretrainedFineTune(MLP(1, 2, hidden=(8,))).batch_loss([sine(), sine()]),
    ),
    # ---- Learner
    BadInput(E + "Learner", "forward", "a string", lambda: learner(forward="functional_forward")),
    BadInput(E + "Learner", "params", "a list", lambda: learner(params=[torch.ones(1)])),
    BadInput(E + "Learner", "params", "a number, not a tensor", lambda: learner(params={"w": 1.0})),
    BadInput(E + "Learner", "adaptable", "one string, not a list", lambda: learner(adaptable="w")),
    BadInput(E + "Learner", "adaptable", "unknown name", lambda: learner(adaptable=["v"])),
    BadInput(E + "Learner", "step_sizes", "a float, not a function", lambda: learner(step_sizes=0.1)),
    BadInput(E + "Learner.adapt", "loss", "a vector", lambda: (lambda lr: lr.adapt(lr(torch.ones(3))))(learner())),
    BadInput(E + "Learner.adapt", "loss", "a float", lambda: learner().adapt(0.5)),
    BadInput(
        E + "Learner",
        "second_order",
        "a string",
        lambda: Learner(lambda p, x: x, {"w": torch.ones(1)}, ["w"], lambda s: {"w": 0.1}, second_order="no"),
    ),
    # ---- functional pieces
    BadInput(
        E + "functional_forward",
        "params",
        "misspelt name",
        lambda: functional_forward(mlp(), misspelt_head(), torch.rand(5, 1)),
    ),
    BadInput(
        E + "functional_forward",
        "params",
        "misspelt name, non-pure module",
        lambda: functional_forward(
            nn.Sequential(nn.Linear(1, 1), nn.Dropout(0.0)), {"0.wieght": torch.ones(1, 1)}, torch.rand(5, 1)
        ),
    ),
    BadInput(E + "functional_forward", "params", "a list", lambda: functional_forward(mlp(), [1.0], torch.rand(5, 1))),
    BadInput(E + "functional_forward", "module", "a string", lambda: functional_forward("mlp", {}, torch.rand(5, 1))),
    BadInput(E + "functional_forward", "x", "a list", lambda: functional_forward(mlp(), {}, [[0.5]])),
    BadInput(
        E + "pure_forward", "params", "misspelt name", lambda: pure_forward(mlp(), misspelt_head(), torch.rand(5, 1))
    ),
    BadInput(
        E + "pure_forward", "module", "unsupported module", lambda: pure_forward(nn.Dropout(), {}, torch.rand(5, 1))
    ),
    BadInput(E + "pure_forward", "x", "None", lambda: pure_forward(mlp(), {}, None)),
    BadInput(E + "supports_pure_forward", "module", "a string", lambda: supports_pure_forward("conv4")),
    BadInput(E + "parameters_of", "module", "a string", lambda: parameters_of("mlp")),
    BadInput(E + "parameters_of", "module", "a dict of tensors", lambda: parameters_of({"w": torch.ones(1)})),
    BadInput(E + "buffers_of", "module", "None", lambda: buffers_of(None)),
    BadInput(
        E + "gradient_step",
        "grads",
        "unknown name",
        lambda: gradient_step({"w": torch.ones(2)}, {"v": torch.ones(2)}, {"v": 0.1}),
    ),
    BadInput(
        E + "gradient_step",
        "grads",
        "shape that broadcasts",
        lambda: gradient_step({"w": torch.ones(2)}, {"w": torch.ones(1)}, {"w": 0.1}),
    ),
    BadInput(
        E + "gradient_step",
        "step_sizes",
        "missing name",
        lambda: gradient_step({"w": torch.ones(2)}, {"w": torch.ones(2)}, {}),
    ),
    BadInput(
        E + "gradient_step",
        "step_sizes",
        "NaN step",
        lambda: gradient_step({"w": torch.ones(2)}, {"w": torch.ones(2)}, {"w": NAN}),
    ),
    BadInput(
        E + "gradient_step",
        "step_sizes",
        "a float, not a dict",
        lambda: gradient_step({"w": torch.ones(2)}, {"w": torch.ones(2)}, 0.1),
    ),
    BadInput(
        E + "gradient_step",
        "params",
        "a list",
        lambda: gradient_step([torch.ones(2)], {"w": torch.ones(2)}, {"w": 0.1}),
    ),
    # ---- task-batched and parallel
    BadInput(
        E + "task_batched_forward",
        "params",
        "misspelt name",
        lambda: task_batched_forward(mlp(), {"head.wieght": torch.zeros(2, 1, 8)}, torch.rand(2, 5, 1)),
    ),
    BadInput(
        E + "task_batched_forward",
        "x",
        "4-D, no task dimension",
        lambda: task_batched_forward(conv(), {}, torch.rand(2, 1, 16, 16)),
    ),
    BadInput(
        E + "task_batched_forward", "module", "a string", lambda: task_batched_forward("mlp", {}, torch.rand(2, 5, 1))
    ),
    BadInput(E + "stack_parameters", "tasks", "zero", lambda: stack_parameters(mlp_params(), 0)),
    BadInput(E + "stack_parameters", "tasks", "float", lambda: stack_parameters(mlp_params(), 2.0)),
    BadInput(E + "stack_parameters", "params", "a list", lambda: stack_parameters([torch.ones(2)], 2)),
    BadInput(E + "stack_episodes", "episodes", "empty", lambda: stack_episodes([])),
    BadInput(E + "stack_episodes", "episodes", "not Episodes", lambda: stack_episodes([(1, 2), (3, 4)])),
    BadInput(E + "stack_episodes", "episodes", "one Episode, not a list", lambda: stack_episodes(episode())),
    BadInput(
        E + "stack_episodes",
        "episodes",
        "different shapes",
        lambda: stack_episodes([episode(), episode(query_x=torch.rand(3, 1, 8, 8))]),
    ),
    BadInput(E + "stack_episodes", "n_way", "different n_way", lambda: stack_episodes([episode(), episode(n_way=4)])),
    BadInput(E + "unsupported_modules", "module", "a string", lambda: unsupported_modules("conv4")),
    BadInput(
        E + "meta_gradient",
        "objective",
        "a string",
        lambda: meta_gradient("batch_loss", [episode()], list(conv().parameters())),
    ),
    BadInput(
        E + "meta_gradient",
        "episodes",
        "empty",
        lambda: meta_gradient(maml().batch_loss, [], list(conv().parameters())),
    ),
    BadInput(
        E + "meta_gradient",
        "workers",
        "zero",
        lambda: (lambda m: meta_gradient(m.batch_loss, [episode()], list(m.parameters()), 0))(maml()),
    ),
    BadInput(
        E + "meta_gradient",
        "parameters",
        "a module, not tensors",
        lambda: (lambda m: meta_gradient(m.batch_loss, [episode()], [m.model]))(maml()),
    ),
    # ---- losses and metrics
    BadInput(
        E + "task_loss",
        "targets",
        "label out of range",
        lambda: task_loss(torch.rand(4, 3), torch.tensor([0, 1, 2, 7])),
    ),
    BadInput(
        E + "task_loss",
        "targets",
        "fewer labels than outputs",
        lambda: task_loss(torch.rand(4, 3), torch.tensor([0, 1])),
    ),
    BadInput(
        E + "task_loss",
        "outputs",
        "1-D outputs for labels",
        lambda: task_loss(torch.rand(4), torch.tensor([0, 1, 0, 1])),
    ),
    BadInput(
        E + "task_loss",
        "outputs",
        "regression, outputs transposed",
        lambda: task_loss(torch.rand(1, 5), regression_targets()),
    ),
    BadInput(
        E + "task_loss",
        "outputs",
        "regression, 2 outputs per point",
        lambda: task_loss(torch.rand(5, 2), regression_targets()),
    ),
    BadInput(E + "task_loss", "targets", "a list", lambda: task_loss(torch.rand(2, 2), [0, 1])),
    BadInput(
        E + "per_task_losses",
        "outputs",
        "2-D outputs, no task dimension",
        lambda: per_task_losses(torch.rand(4, 3), torch.tensor([[0, 1], [2, 0]])),
    ),
    BadInput(
        E + "per_task_losses",
        "targets",
        "label out of range",
        lambda: per_task_losses(torch.rand(2, 2, 3), torch.tensor([[0, 1], [2, 3]])),
    ),
    BadInput(
        E + "per_task_losses",
        "outputs",
        "regression, outputs of other tasks' shape",
        lambda: per_task_losses(torch.rand(3, 2, 1), torch.rand(2, 3, 1)),
    ),
    BadInput(
        E + "task_metrics",
        "targets",
        "fewer targets than outputs (broadcast)",
        lambda: task_metrics(torch.rand(1, 3), torch.tensor([0, 1])),
    ),
    BadInput(
        E + "task_metrics",
        "targets",
        "more targets than outputs (reshape)",
        lambda: task_metrics(torch.rand(6, 3), torch.tensor([[0, 1], [2, 0], [1, 2]])),
    ),
    BadInput(
        E + "task_metrics",
        "targets",
        "label out of range",
        lambda: task_metrics(torch.rand(3, 3), torch.tensor([0, 1, 5])),
    ),
    BadInput(E + "task_metrics", "outputs", "a list", lambda: task_metrics([[0.1, 0.9]], torch.tensor([1]))),
    # ---- closed form
    BadInput(E + "ridge_solution", "features", "1-D", lambda: ridge_solution(torch.rand(5), torch.rand(5, 2), 1.0)),
    BadInput(E + "ridge_solution", "ridge", "NaN", lambda: ridge_solution(torch.rand(5, 3), torch.rand(5, 2), NAN)),
    BadInput(
        E + "ridge_solution", "ridge", "negative", lambda: ridge_solution(torch.rand(5, 3), torch.rand(5, 2), -1.0)
    ),
    BadInput(
        E + "ridge_solution",
        "targets",
        "fewer rows than features",
        lambda: ridge_solution(torch.rand(5, 3), torch.rand(4, 2), 1.0),
    ),
    BadInput(E + "ridge_predict", "features", "wrong width", lambda: ridge_predict(torch.rand(4, 2), torch.rand(5, 7))),
    BadInput(E + "ridge_predict", "weights", "1-D", lambda: ridge_predict(torch.rand(4), torch.rand(5, 3))),
    # ---- Bayes
    BadInput(
        E + "gradient_descent_quadratic",
        "hessian",
        "not square",
        lambda: gradient_descent_quadratic(torch.rand(2, 3), vector(), vector(), 0.1, 1),
    ),
    BadInput(
        E + "gradient_descent_quadratic",
        "optimum",
        "a column (broadcasts)",
        lambda: gradient_descent_quadratic(spd(), vector().reshape(2, 1), vector(), 0.1, 2),
    ),
    BadInput(
        E + "gradient_descent_quadratic",
        "start",
        "wrong length",
        lambda: gradient_descent_quadratic(spd(), vector(), vector(1.0, 2.0, 3.0), 0.1, 2),
    ),
    BadInput(
        E + "gradient_descent_quadratic",
        "lr",
        "NaN",
        lambda: gradient_descent_quadratic(spd(), vector(), vector(), NAN, 2),
    ),
    BadInput(
        E + "gradient_descent_quadratic",
        "lr",
        "a string",
        lambda: gradient_descent_quadratic(spd(), vector(), vector(), "0.1", 2),
    ),
    BadInput(
        E + "gradient_descent_quadratic",
        "steps",
        "negative",
        lambda: gradient_descent_quadratic(spd(), vector(), vector(), 0.1, -1),
    ),
    BadInput(
        E + "implicit_prior_precision",
        "hessian",
        "not symmetric",
        lambda: implicit_prior_precision(torch.tensor([[2.0, 1.0], [0.0, 1.0]], dtype=torch.float64), 0.1, 2),
    ),
    BadInput(
        E + "implicit_prior_precision",
        "hessian",
        "NaN entry",
        lambda: implicit_prior_precision(torch.tensor([[2.0, NAN], [NAN, 1.0]]), 0.1, 2),
    ),
    BadInput(E + "implicit_prior_precision", "lr", "NaN", lambda: implicit_prior_precision(spd(), NAN, 2)),
    BadInput(E + "implicit_prior_precision", "lr", "too large", lambda: implicit_prior_precision(spd(), 10.0, 2)),
    BadInput(E + "implicit_prior_precision", "steps", "zero", lambda: implicit_prior_precision(spd(), 0.1, 0)),
    BadInput(E + "implicit_prior_precision", "steps", "float", lambda: implicit_prior_precision(spd(), 0.1, 2.0)),
    BadInput(
        E + "map_estimate",
        "precision",
        "wrong size",
        lambda: map_estimate(spd(), vector(), vector(), torch.eye(3, dtype=torch.float64)),
    ),
    BadInput(
        E + "map_estimate",
        "prior_mean",
        "a column (broadcasts)",
        lambda: map_estimate(spd(), vector(), vector().reshape(2, 1), torch.eye(2, dtype=torch.float64)),
    ),
    BadInput(
        E + "map_estimate",
        "optimum",
        "wrong length",
        lambda: map_estimate(spd(), vector(1.0), vector(), torch.eye(2, dtype=torch.float64)),
    ),
    BadInput(
        E + "map_estimate",
        "hessian",
        "a list",
        lambda: map_estimate([[1.0, 0.0], [0.0, 1.0]], vector(), vector(), torch.eye(2, dtype=torch.float64)),
    ),
    # ---- BatchNorm policy
    BadInput(E + "transductive_batchnorm", "module", "a string", lambda: transductive_batchnorm("conv4")),
    BadInput(E + "uses_running_statistics", "module", "None", lambda: uses_running_statistics(None)),
    # ---- evaluation
    BadInput(
        E + "evaluate_after_steps",
        "method",
        "no test_inner_steps",
        lambda: evaluate_after_steps(NoInnerSteps(conv(None)), None),
    ),
    BadInput(
        E + "evaluate_after_steps",
        "steps",
        "an int, not a sequence",
        lambda: evaluate_after_steps(maml(), None, steps=5),
    ),
    BadInput(
        E + "evaluate_after_steps", "steps", "negative count", lambda: evaluate_after_steps(maml(), None, steps=(0, -1))
    ),
    BadInput(E + "evaluate_after_steps", "steps", "empty", lambda: evaluate_after_steps(maml(), None, steps=())),
    BadInput(
        E + "evaluate_after_steps",
        "episodes",
        "zero",
        lambda: evaluate_after_steps(maml(), None, steps=(0,), episodes=0),
    ),
    BadInput(
        E + "load_benchmark_result", "name", "a path, not a file name", lambda: load_benchmark_result("../x.json")
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_bad_input_gets_a_clear_error_naming_the_argument(row):
    assert_clear(row)
