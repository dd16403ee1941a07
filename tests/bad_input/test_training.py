"""Bad-input table for ``mlbook.training`` (the shared loop, evaluation, checkpoints) and the chapter-6 recipe
helpers of ``mlbook.metric`` (``recipes.py``, ``fast_bfloat16``, ``with_batch_statistics``): each row is a mistake a
reader makes, and the error it must get."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from mlbook.data import Episode, EpisodeSampler, LabelledImages
from mlbook.metric import (
    build_method,
    cosine_schedule,
    fast_bfloat16,
    method_from_recipe,
    recipe_for,
    sampler_from_recipe,
    train_from_recipe,
    training_sampler,
    with_batch_statistics,
)
from mlbook.training import (
    EpisodicMethod,
    EvalResult,
    TrainHistory,
    as_oneshot_classifier,
    classification_loss,
    episode_metric,
    evaluate,
    evaluate_oneshot,
    load_checkpoint,
    predict,
    save_checkpoint,
    train,
)
from tests.bad_input.harness import BadInput, assert_clear

NAN, INF = float("nan"), float("inf")

# ---- small valid fixtures, built only when a row runs ------------------------------------------------------


class Tiny(EpisodicMethod):
    """A nearest-class-mean method on a linear embedding of 4x4 images: cheap enough for every row."""

    def __init__(self, out: int = 3):
        super().__init__()
        torch.manual_seed(0)
        self.embed = nn.Linear(16, out)

    def predict(self, episode):
        z = self.embed(torch.cat([episode.support_x, episode.query_x]).flatten(1))
        support, query = z[: len(episode.support_y)], z[len(episode.support_y) :]
        means = support.view(episode.n_way, episode.k_shot, -1).mean(dim=1)
        return -(torch.cdist(query, means) ** 2)

    def episode_loss(self, episode):
        return classification_loss(self.predict(episode), episode.query_y)


def images(n_classes: int = 4, per_class: int = 5, size: int = 4) -> LabelledImages:
    g = torch.Generator().manual_seed(0)
    return LabelledImages(
        torch.rand(n_classes * per_class, 1, size, size, generator=g),
        torch.arange(n_classes).repeat_interleave(per_class),
        [f"a/c{i}" for i in range(n_classes)],
        ["a"] * n_classes,
    )


def sampler(seed: int = 0) -> EpisodeSampler:
    return EpisodeSampler(images(), 2, 1, 2, seed=seed)


def episode(**changes) -> Episode:
    return Episode(**{**vars(sampler().sample()), **changes})


def scores(rows: int = 4, cols: int = 2) -> torch.Tensor:
    return torch.zeros(rows, cols)


def train_tiny(**changes):
    kwargs = {"steps": 1, "progress": False, "device": "cpu", **changes}
    return train(kwargs.pop("method", Tiny()), kwargs.pop("sampler", sampler()), **kwargs)


def in_tmp(work):
    """Run ``work(folder)`` in a fresh temporary folder (removed afterwards)."""
    with tempfile.TemporaryDirectory() as folder:
        return work(Path(folder))


def resume_before_the_checkpoint(folder: Path):
    train_tiny(steps=2, checkpoint=folder / "c.pt")
    return train_tiny(steps=1, checkpoint=folder / "c.pt", resume=True)


def resume_another_model(folder: Path):
    train_tiny(method=Tiny(out=3), steps=1, checkpoint=folder / "c.pt")
    return train_tiny(method=Tiny(out=5), steps=2, checkpoint=folder / "c.pt", resume=True)


def load_truncated(folder: Path):
    save_checkpoint(folder / "c.pt", step=1, weights=torch.zeros(100))
    data = (folder / "c.pt").read_bytes()
    (folder / "c.pt").write_bytes(data[: len(data) // 2])
    return load_checkpoint(folder / "c.pt")


def load_text_file(folder: Path):
    (folder / "notes.txt").write_text("not a checkpoint")
    return load_checkpoint(folder / "notes.txt")


def load_a_tensor(folder: Path):
    torch.save(torch.zeros(3), folder / "t.pt")
    return load_checkpoint(folder / "t.pt")


def resume_corrupt(folder: Path):
    (folder / "c.pt").write_bytes(b"\x00garbage")
    return train_tiny(steps=2, checkpoint=folder / "c.pt", resume=True)


def adam():
    return torch.optim.Adam(nn.Linear(2, 2).parameters(), lr=1e-3)


def small_recipe(**changes) -> dict:
    return recipe_for("protonet", n_way=2, q_query=1, hidden=8, mixed_precision=False, **changes)


def without(recipe: dict, key: str) -> dict:
    return {k: v for k, v in recipe.items() if k != key}


# ---- the table ------------------------------------------------------------------------------------------------

ROWS = [
    # train
    BadInput("mlbook.training.train", "method", "a plain nn.Module", lambda: train_tiny(method=nn.Linear(16, 2))),
    BadInput("mlbook.training.train", "method", "a method name", lambda: train_tiny(method="protonet")),
    BadInput("mlbook.training.train", "sampler", "None", lambda: train_tiny(sampler=None)),
    BadInput("mlbook.training.train", "sampler", "a data set", lambda: train_tiny(sampler=images())),
    BadInput("mlbook.training.train", "sampler", "a list of episodes", lambda: train_tiny(sampler=[episode()])),
    BadInput("mlbook.training.train", "steps", "zero", lambda: train_tiny(steps=0)),
    BadInput("mlbook.training.train", "steps", "float", lambda: train_tiny(steps=2.5)),
    BadInput("mlbook.training.train", "steps", "string", lambda: train_tiny(steps="10")),
    BadInput("mlbook.training.train", "meta_batch", "zero", lambda: train_tiny(meta_batch=0)),
    BadInput("mlbook.training.train", "meta_batch", "float", lambda: train_tiny(meta_batch=1.5)),
    BadInput(
        "mlbook.training.train",
        "optimizer",
        "the class, not an instance",
        lambda: train_tiny(optimizer=torch.optim.Adam),
    ),
    BadInput("mlbook.training.train", "optimizer", "a string", lambda: train_tiny(optimizer="adam")),
    BadInput("mlbook.training.train", "lr", "NaN", lambda: train_tiny(lr=NAN)),
    BadInput("mlbook.training.train", "lr", "negative", lambda: train_tiny(lr=-1e-3)),
    BadInput("mlbook.training.train", "lr", "zero", lambda: train_tiny(lr=0.0)),
    BadInput("mlbook.training.train", "lr", "string", lambda: train_tiny(lr="1e-3")),
    BadInput("mlbook.training.train", "seed", "negative", lambda: train_tiny(seed=-1)),
    BadInput("mlbook.training.train", "seed", "float", lambda: train_tiny(seed=0.5)),
    BadInput("mlbook.training.train", "device", "misspelt", lambda: train_tiny(device="gpu")),
    BadInput("mlbook.training.train", "device", "a float", lambda: train_tiny(device=1.5)),
    BadInput(
        "mlbook.training.train", "eval_every", "negative", lambda: train_tiny(eval_every=-1, eval_sampler=sampler())
    ),
    BadInput(
        "mlbook.training.train", "eval_every", "float", lambda: train_tiny(eval_every=0.5, eval_sampler=sampler())
    ),
    BadInput("mlbook.training.train", "eval_sampler", "missing", lambda: train_tiny(eval_every=1)),
    BadInput(
        "mlbook.training.train", "eval_sampler", "a data set", lambda: train_tiny(eval_every=1, eval_sampler=images())
    ),
    BadInput(
        "mlbook.training.train",
        "eval_episodes",
        "zero",
        lambda: train_tiny(eval_every=1, eval_sampler=sampler(), eval_episodes=0),
    ),
    BadInput(
        "mlbook.training.train",
        "eval_episodes",
        "negative",
        lambda: train_tiny(eval_every=1, eval_sampler=sampler(), eval_episodes=-5),
    ),
    BadInput(
        "mlbook.training.train",
        "checkpoint_every",
        "negative",
        lambda: in_tmp(lambda d: train_tiny(checkpoint=d / "c.pt", checkpoint_every=-1)),
    ),
    BadInput(
        "mlbook.training.train",
        "checkpoint_every",
        "float",
        lambda: in_tmp(lambda d: train_tiny(checkpoint=d / "c.pt", checkpoint_every=0.5)),
    ),
    BadInput("mlbook.training.train", "checkpoint", "resume without a path", lambda: train_tiny(resume=True)),
    BadInput("mlbook.training.train", "checkpoint", "an int", lambda: train_tiny(checkpoint=3)),
    BadInput(
        "mlbook.training.train",
        "resume",
        "a string",
        lambda: in_tmp(lambda d: train_tiny(checkpoint=d / "c.pt", resume="yes")),
    ),
    BadInput(
        "mlbook.training.train", "steps", "fewer than the checkpoint's", lambda: in_tmp(resume_before_the_checkpoint)
    ),
    BadInput("mlbook.training.train", "checkpoint", "of another model", lambda: in_tmp(resume_another_model)),
    BadInput("mlbook.training.train", "checkpoint", "corrupt file", lambda: in_tmp(resume_corrupt)),
    BadInput("mlbook.training.train", "scheduler", "a string", lambda: train_tiny(scheduler="cosine")),
    # checkpoints
    BadInput("mlbook.training.save_checkpoint", "path", "None", lambda: save_checkpoint(None, step=1)),
    BadInput(
        "mlbook.training.save_checkpoint", "path", "a folder", lambda: in_tmp(lambda d: save_checkpoint(d, step=1))
    ),
    BadInput(
        "mlbook.training.save_checkpoint",
        "state",
        "nothing to save",
        lambda: in_tmp(lambda d: save_checkpoint(d / "c.pt")),
    ),
    BadInput("mlbook.training.load_checkpoint", "path", "None", lambda: load_checkpoint(None)),
    BadInput(
        "mlbook.training.load_checkpoint",
        "path",
        "missing file",
        lambda: in_tmp(lambda d: load_checkpoint(d / "missing.pt")),
        errors=(FileNotFoundError,),
    ),
    BadInput("mlbook.training.load_checkpoint", "path", "truncated file", lambda: in_tmp(load_truncated)),
    BadInput("mlbook.training.load_checkpoint", "path", "a text file", lambda: in_tmp(load_text_file)),
    BadInput("mlbook.training.load_checkpoint", "path", "a saved tensor", lambda: in_tmp(load_a_tensor)),
    BadInput("mlbook.training.load_checkpoint", "path", "a folder", lambda: in_tmp(load_checkpoint)),
    # evaluation
    BadInput(
        "mlbook.training.evaluate", "method", "a string", lambda: evaluate("protonet", sampler(), 2, progress=False)
    ),
    BadInput(
        "mlbook.training.evaluate", "sampler", "a data set", lambda: evaluate(Tiny(), images(), 2, progress=False)
    ),
    BadInput("mlbook.training.evaluate", "sampler", "None", lambda: evaluate(Tiny(), None, 2, progress=False)),
    BadInput("mlbook.training.evaluate", "episodes", "zero", lambda: evaluate(Tiny(), sampler(), 0, progress=False)),
    BadInput("mlbook.training.evaluate", "episodes", "float", lambda: evaluate(Tiny(), sampler(), 2.5, progress=False)),
    BadInput(
        "mlbook.training.evaluate", "episodes", "string", lambda: evaluate(Tiny(), sampler(), "600", progress=False)
    ),
    BadInput(
        "mlbook.training.evaluate",
        "device",
        "misspelt",
        lambda: evaluate(Tiny(), sampler(), 2, device="gpu", progress=False),
    ),
    BadInput(
        "mlbook.training.evaluate_oneshot",
        "method",
        "a classifier function",
        lambda: evaluate_oneshot(lambda s, q: torch.zeros(20), []),
    ),
    BadInput(
        "mlbook.training.evaluate_oneshot", "runs", "empty list", lambda: evaluate_oneshot(Tiny(), [], device="cpu")
    ),
    BadInput("mlbook.training.evaluate_oneshot", "runs", "a string", lambda: evaluate_oneshot(Tiny(), "runs")),
    BadInput(
        "mlbook.training.evaluate_oneshot", "device", "misspelt", lambda: evaluate_oneshot(Tiny(), [], device="gpu")
    ),
    BadInput("mlbook.training.as_oneshot_classifier", "method", "None", lambda: as_oneshot_classifier(None)),
    BadInput(
        "mlbook.training.as_oneshot_classifier",
        "device",
        "misspelt",
        lambda: as_oneshot_classifier(Tiny(), device="gpu"),
    ),
    BadInput("mlbook.training.predict", "method", "a plain nn.Module", lambda: predict(nn.Linear(16, 2), episode())),
    BadInput("mlbook.training.predict", "episode", "a tensor", lambda: predict(Tiny(), torch.zeros(4, 1, 4, 4))),
    BadInput(
        "mlbook.training.episode_metric", "outputs", "a list", lambda: episode_metric([[0.0, 1.0]] * 4, episode())
    ),
    BadInput(
        "mlbook.training.episode_metric",
        "outputs",
        "too few rows (broadcast)",
        lambda: episode_metric(scores(rows=1), episode()),
    ),
    BadInput(
        "mlbook.training.episode_metric",
        "outputs",
        "too many columns",
        lambda: episode_metric(scores(cols=5), episode()),
    ),
    BadInput(
        "mlbook.training.episode_metric",
        "outputs",
        "3-D scores",
        lambda: episode_metric(torch.zeros(4, 2, 1), episode()),
    ),
    BadInput(
        "mlbook.training.episode_metric",
        "outputs",
        "predicted labels out of range",
        lambda: episode_metric(torch.tensor([0, 1, 7, 1]), episode()),
    ),
    BadInput(
        "mlbook.training.episode_metric",
        "outputs",
        "fractional predicted labels",
        lambda: episode_metric(torch.tensor([0.0, 0.5, 1.0, 1.0]), episode()),
    ),
    BadInput(
        "mlbook.training.episode_metric",
        "outputs",
        "regression: transposed",
        lambda: episode_metric(
            torch.zeros(1, 5),
            Episode(torch.zeros(5, 1), torch.zeros(5, 1), torch.zeros(5, 1), torch.zeros(5, 1), None, 5),
        ),
    ),
    BadInput(
        "mlbook.training.episode_metric",
        "episode",
        "a tuple",
        lambda: episode_metric(scores(), (torch.zeros(4), torch.zeros(4))),
    ),
    BadInput(
        "mlbook.training.classification_loss",
        "logits",
        "1-D",
        lambda: classification_loss(torch.zeros(4), torch.tensor([0, 1, 0, 1])),
    ),
    BadInput(
        "mlbook.training.classification_loss",
        "logits",
        "a list",
        lambda: classification_loss([[0.0, 1.0]] * 4, torch.tensor([0, 1, 0, 1])),
    ),
    BadInput(
        "mlbook.training.classification_loss",
        "labels",
        "float labels of logits' shape (soft targets)",
        lambda: classification_loss(scores(), torch.ones(4, 2)),
    ),
    BadInput(
        "mlbook.training.classification_loss",
        "labels",
        "out of range",
        lambda: classification_loss(scores(), torch.tensor([0, 1, 2, 1])),
    ),
    BadInput(
        "mlbook.training.classification_loss",
        "labels",
        "negative",
        lambda: classification_loss(scores(), torch.tensor([0, -1, 0, 1])),
    ),
    BadInput(
        "mlbook.training.classification_loss",
        "labels",
        "one too few",
        lambda: classification_loss(scores(), torch.tensor([0, 1, 0])),
    ),
    BadInput("mlbook.training.EvalResult", "values", "empty", lambda: EvalResult("accuracy", np.array([]))),
    BadInput("mlbook.training.EvalResult", "values", "2-D", lambda: EvalResult("accuracy", np.zeros((2, 3)))),
    BadInput("mlbook.training.EvalResult", "metric", "not a string", lambda: EvalResult(None, np.array([0.5]))),
    BadInput(
        "mlbook.training.TrainHistory.record", "step", "a string", lambda: TrainHistory().record("1", {"loss": 1.0})
    ),
    BadInput("mlbook.training.TrainHistory.record", "metrics", "a number", lambda: TrainHistory().record(1, 0.5)),
    BadInput(
        "mlbook.training.TrainHistory",
        "metric",
        "misspelt name",
        lambda: TrainHistory(metrics={"loss": [1.0]})["los"],
        errors=(KeyError,),
    ),
    BadInput("mlbook.training.EpisodicMethod.batch_loss", "episodes", "empty list", lambda: Tiny().batch_loss([])),
    BadInput(
        "mlbook.training.EpisodicMethod.batch_loss",
        "episodes",
        "one episode, not a list",
        lambda: Tiny().batch_loss(episode()),
    ),
    BadInput(
        "mlbook.training.EpisodicMethod.training_step",
        "optimizer",
        "None",
        lambda: Tiny().training_step([episode()], None),
    ),
    BadInput(
        "mlbook.training.EpisodicMethod.training_step",
        "episodes",
        "a list of tensors",
        lambda: Tiny().training_step([torch.zeros(2)], adam()),
    ),
    # the chapter-6 recipe helpers
    BadInput(
        "mlbook.metric.cosine_schedule",
        "warmup",
        "longer than the schedule",
        lambda: cosine_schedule(adam(), steps=5, warmup=10),
    ),
    BadInput(
        "mlbook.metric.cosine_schedule",
        "warmup",
        "as long as the schedule",
        lambda: cosine_schedule(adam(), steps=5, warmup=5),
    ),
    BadInput(
        "mlbook.metric.cosine_schedule", "warmup", "negative", lambda: cosine_schedule(adam(), steps=5, warmup=-1)
    ),
    BadInput("mlbook.metric.cosine_schedule", "steps", "zero", lambda: cosine_schedule(adam(), steps=0)),
    BadInput("mlbook.metric.cosine_schedule", "steps", "float", lambda: cosine_schedule(adam(), steps=2.5)),
    BadInput("mlbook.metric.cosine_schedule", "optimizer", "the model", lambda: cosine_schedule(nn.Linear(2, 2), 5)),
    BadInput("mlbook.metric.recipe_for", "method", "unknown", lambda: recipe_for("maml")),
    BadInput("mlbook.metric.recipe_for", "ways", "misspelt key", lambda: recipe_for("protonet", ways=5)),
    BadInput("mlbook.metric.recipe_for", "lr", "NaN", lambda: recipe_for("protonet", lr=NAN)),
    BadInput("mlbook.metric.recipe_for", "lr", "negative", lambda: recipe_for("protonet", lr=-3e-3)),
    BadInput("mlbook.metric.recipe_for", "n_way", "float", lambda: recipe_for("protonet", n_way=20.0)),
    BadInput("mlbook.metric.recipe_for", "q_query", "zero", lambda: recipe_for("protonet", q_query=0)),
    BadInput("mlbook.metric.recipe_for", "hidden", "string", lambda: recipe_for("protonet", hidden="64")),
    BadInput("mlbook.metric.recipe_for", "schedule", "misspelt", lambda: recipe_for("protonet", schedule="cosin")),
    BadInput("mlbook.metric.recipe_for", "rotations", "a string", lambda: recipe_for("protonet", rotations="no")),
    BadInput("mlbook.metric.recipe_for", "distortion", "a string", lambda: recipe_for("protonet", distortion="affine")),
    BadInput(
        "mlbook.metric.recipe_for",
        "mixed_precision",
        "a string",
        lambda: recipe_for("protonet", mixed_precision="bf16"),
    ),
    BadInput("mlbook.metric.recipe_for", "options", "a list", lambda: recipe_for("protonet", options=["cosine"])),
    BadInput(
        "mlbook.metric.sampler_from_recipe",
        "meta_train",
        "a sampler",
        lambda: sampler_from_recipe(sampler(), small_recipe()),
    ),
    BadInput(
        "mlbook.metric.sampler_from_recipe",
        "recipe",
        "missing a key",
        lambda: sampler_from_recipe(images(), without(small_recipe(), "n_way")),
    ),
    BadInput(
        "mlbook.metric.sampler_from_recipe",
        "recipe",
        "a method name",
        lambda: sampler_from_recipe(images(), "protonet"),
    ),
    BadInput(
        "mlbook.metric.sampler_from_recipe",
        "seed",
        "negative",
        lambda: sampler_from_recipe(images(), small_recipe(), seed=-1),
    ),
    BadInput(
        "mlbook.metric.method_from_recipe", "method", "unknown", lambda: method_from_recipe("maml", small_recipe())
    ),
    BadInput("mlbook.metric.method_from_recipe", "recipe", "empty", lambda: method_from_recipe("protonet", {})),
    BadInput(
        "mlbook.metric.method_from_recipe",
        "hidden",
        "zero",
        lambda: method_from_recipe("protonet", {**small_recipe(), "hidden": 0}),
    ),
    BadInput("mlbook.metric.train_from_recipe", "method", "unknown", lambda: train_from_recipe("maml", images(), 1)),
    BadInput(
        "mlbook.metric.train_from_recipe",
        "steps",
        "zero",
        lambda: train_from_recipe("protonet", images(), 0, small_recipe()),
    ),
    BadInput(
        "mlbook.metric.train_from_recipe",
        "steps",
        "float",
        lambda: train_from_recipe("protonet", images(), 2.5, small_recipe()),
    ),
    BadInput(
        "mlbook.metric.train_from_recipe",
        "meta_train",
        "None",
        lambda: train_from_recipe("protonet", None, 1, small_recipe()),
    ),
    BadInput(
        "mlbook.metric.train_from_recipe",
        "recipe",
        "missing a key",
        lambda: train_from_recipe("protonet", images(), 1, without(small_recipe(), "lr")),
    ),
    BadInput(
        "mlbook.metric.train_from_recipe",
        "lr",
        "NaN in the recipe",
        lambda: train_from_recipe("protonet", images(), 1, {**small_recipe(), "lr": NAN}),
    ),
    BadInput(
        "mlbook.metric.train_from_recipe",
        "seed",
        "negative",
        lambda: train_from_recipe("protonet", images(), 1, small_recipe(), seed=-1),
    ),
    BadInput(
        "mlbook.metric.training_sampler", "meta_train", "a tensor", lambda: training_sampler(torch.zeros(4, 1, 4, 4))
    ),
    BadInput("mlbook.metric.training_sampler", "n_way", "one", lambda: training_sampler(images(), n_way=1)),
    BadInput(
        "mlbook.metric.training_sampler",
        "rotations",
        "a string",
        lambda: training_sampler(images(), 2, 1, 1, rotations="no"),
    ),
    BadInput(
        "mlbook.metric.training_sampler",
        "distortion",
        "a string",
        lambda: training_sampler(images(), 2, 1, 1, distortion="affine"),
    ),
    BadInput(
        "mlbook.metric.training_sampler", "seed", "negative", lambda: training_sampler(images(), 2, 1, 1, seed=-1)
    ),
    BadInput("mlbook.metric.build_method", "method", "misspelt", lambda: build_method("protonets")),
    BadInput("mlbook.metric.build_method", "hidden", "zero", lambda: build_method("protonet", hidden=0)),
    BadInput("mlbook.metric.build_method", "norm", "misspelt", lambda: build_method("protonet", norm="batchnorm")),
    BadInput("mlbook.metric.fast_bfloat16", "device", "misspelt", lambda: fast_bfloat16("gpu")),
    BadInput("mlbook.metric.fast_bfloat16", "device", "None", lambda: fast_bfloat16(None)),
    BadInput(
        "mlbook.metric.with_batch_statistics", "method", "a method name", lambda: with_batch_statistics("protonet")
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_bad_input_gets_a_clear_error_naming_the_argument(row):
    assert_clear(row)
