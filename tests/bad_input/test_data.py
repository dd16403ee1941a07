"""Bad-input table for ``mlbook.data``: every public class and function, with the mistakes a reader makes."""

from __future__ import annotations

import math

import pytest
import torch

from mlbook.data import (
    Episode,
    EpisodeSampler,
    LabelledImages,
    MultiTaskImages,
    OneShotResult,
    OneShotRun,
    SinusoidTask,
    SinusoidTasks,
    drawer_ids,
    load_digits,
    load_omniglot,
    load_oneshot_runs,
    make_multidigits,
    minimal_splits,
    nearest_by_distance,
    omniglot_multitask,
    per_alphabet_tasks,
    score_oneshot,
    split_by_drawer,
)
from tests.bad_input.harness import BadInput, assert_clear

# ---- small valid fixtures, built only when a row runs ------------------------------------------------------


def _images(n_classes: int = 4, per_class: int = 5) -> torch.Tensor:
    return torch.linspace(0, 1, n_classes * per_class * 16).view(-1, 1, 4, 4)


def _labels(n_classes: int = 4, per_class: int = 5) -> torch.Tensor:
    return torch.arange(n_classes).repeat_interleave(per_class)


def _names(n_classes: int = 4) -> list[str]:
    return [f"c{i}" for i in range(n_classes)]


def _dataset() -> LabelledImages:
    """4 classes in 2 groups (alphabets), 5 examples (drawers) each."""
    return LabelledImages(_images(), _labels(), _names(), ["alpha", "alpha", "beta", "beta"])


def _sampler(**changes) -> EpisodeSampler:
    arguments = {"dataset": _dataset(), "n_way": 2, "k_shot": 1, "q_query": 2, "seed": 0} | changes
    return EpisodeSampler(**arguments)


def _episode(**changes) -> Episode:
    arguments = {
        "support_x": torch.zeros(2, 1, 4, 4),
        "support_y": torch.tensor([0, 1]),
        "query_x": torch.zeros(4, 1, 4, 4),
        "query_y": torch.tensor([0, 0, 1, 1]),
        "n_way": 2,
        "k_shot": 1,
    } | changes
    return Episode(**arguments)


def _multitask(**changes) -> MultiTaskImages:
    arguments = {
        "images": torch.zeros(6, 1, 4, 4),
        "labels": torch.tensor([[0, 1], [1, 0], [2, 1], [0, 0], [1, 1], [2, 0]]),
        "task_names": ("first", "second"),
        "num_classes": (3, 2),
    } | changes
    return MultiTaskImages(**arguments)


def _run(**changes) -> OneShotRun:
    arguments = {
        "name": "run01",
        "support": torch.zeros(20, 1, 4, 4),
        "query": torch.zeros(20, 1, 4, 4),
        "answers": torch.arange(20),
    } | changes
    return OneShotRun(**arguments)


def _result(**changes) -> OneShotResult:
    arguments = {
        "error_percent": 5.0,
        "run_error_percent": [5.0],
        "predictions": torch.arange(20).view(1, 20),
        "answers": torch.arange(20).view(1, 20),
    } | changes
    return OneShotResult(**arguments)


def _score(predictions) -> object:
    """``score_oneshot`` on one synthetic run with a classifier that returns ``predictions``."""
    return score_oneshot(lambda support, query: predictions, [_run()])


NAN = math.nan
LI = "mlbook.data.LabelledImages"
EP = "mlbook.data.Episode"
ES = "mlbook.data.EpisodeSampler"
ST = "mlbook.data.SinusoidTasks"
MT = "mlbook.data.MultiTaskImages"

ROWS = [
    # ---- LabelledImages
    BadInput(LI, "images", "a list", lambda: LabelledImages([[0.0]] * 20, _labels(), _names())),
    BadInput(LI, "images", "3-D without channel", lambda: LabelledImages(torch.zeros(20, 4, 4), _labels(), _names())),
    BadInput(LI, "images", "NaN pixels", lambda: LabelledImages(torch.full((20, 1, 4, 4), NAN), _labels(), _names())),
    BadInput(LI, "images", "uint8 pixels", lambda: LabelledImages(torch.zeros(20, 1, 4, 4, dtype=torch.uint8),
                                                                  _labels(), _names())),
    BadInput(LI, "images", "empty", lambda: LabelledImages(torch.zeros(0, 1, 4, 4), torch.zeros(0, dtype=torch.long),
                                                           _names())),
    BadInput(LI, "labels", "fractional floats", lambda: LabelledImages(_images(), _labels().float() + 0.5, _names())),
    BadInput(LI, "labels", "fractional numpy", lambda: LabelledImages(_images(), _labels().numpy() + 0.5, _names())),
    BadInput(LI, "labels", "negative", lambda: LabelledImages(_images(), _labels() - 1, _names())),
    BadInput(LI, "labels", "beyond class_names", lambda: LabelledImages(_images(), _labels() + 1, _names())),
    BadInput(LI, "labels", "shorter than images", lambda: LabelledImages(_images(), _labels()[:-1], _names())),
    BadInput(LI, "labels", "a list", lambda: LabelledImages(_images(), _labels().tolist(), _names())),
    BadInput(LI, "labels", "column [N, 1]", lambda: LabelledImages(_images(), _labels()[:, None], _names())),
    BadInput(LI, "class_names", "a string", lambda: LabelledImages(_images(), _labels(), "abcd")),
    BadInput(LI, "class_names", "None", lambda: LabelledImages(_images(), _labels(), None)),
    BadInput(LI, "class_groups", "wrong length", lambda: LabelledImages(_images(), _labels(), _names(), ["a"])),
    BadInput(LI, "class_groups", "a string", lambda: LabelledImages(_images(), _labels(), _names(), "abab")),
    BadInput(LI + ".subset_classes", "classes", "fractional", lambda: _dataset().subset_classes([0.5, 1])),
    BadInput(LI + ".subset_classes", "classes", "out of range", lambda: _dataset().subset_classes([0, 9])),
    BadInput(LI + ".subset_classes", "classes", "repeated", lambda: _dataset().subset_classes([1, 1])),
    BadInput(LI + ".subset_classes", "classes", "empty", lambda: _dataset().subset_classes([])),
    BadInput(LI + ".subset_classes", "classes", "a string", lambda: _dataset().subset_classes("01")),
    BadInput(LI + ".select_groups", "groups", "unknown", lambda: _dataset().select_groups(["gamma"])),
    BadInput(LI + ".select_groups", "groups", "empty", lambda: _dataset().select_groups([])),
    BadInput(LI + ".drop_groups", "groups", "a string", lambda: _dataset().drop_groups("alpha")),
    BadInput(LI + ".drop_groups", "groups", "every group", lambda: _dataset().drop_groups(["alpha", "beta"])),
    BadInput(LI + ".with_rotations", "angles", "not a multiple of 90", lambda: _dataset().with_rotations([0, 45])),
    BadInput(LI + ".with_rotations", "angles", "floats", lambda: _dataset().with_rotations([0.0, 90.0])),
    BadInput(LI + ".with_rotations", "angles", "one int", lambda: _dataset().with_rotations(90)),
    BadInput(LI + ".classes_in_group", "group", "unknown", lambda: _dataset().classes_in_group("gamma")),
    BadInput(LI + ".to", "device", "misspelt", lambda: _dataset().to("gpu")),
    # ---- Episode
    BadInput(EP, "support_x", "a list", lambda: _episode(support_x=[[0.0], [1.0]])),
    BadInput(EP, "support_y", "shorter than support_x", lambda: _episode(support_y=torch.tensor([0]))),
    BadInput(EP, "query_y", "longer than query_x", lambda: _episode(query_y=torch.tensor([0, 0, 1, 1, 1]))),
    BadInput(EP, "query_x", "None", lambda: _episode(query_x=None)),
    BadInput(EP, "n_way", "zero", lambda: _episode(n_way=0)),
    BadInput(EP, "n_way", "a string", lambda: _episode(n_way="2")),
    BadInput(EP, "k_shot", "zero", lambda: _episode(k_shot=0)),
    BadInput(EP, "k_shot", "a float", lambda: _episode(k_shot=1.5)),
    BadInput(EP + ".to", "device", "misspelt", lambda: _episode().to("gpu")),
    # ---- EpisodeSampler
    BadInput(ES, "dataset", "a tensor", lambda: _sampler(dataset=_images())),
    BadInput(ES, "n_way", "one", lambda: _sampler(n_way=1)),
    BadInput(ES, "n_way", "a float", lambda: _sampler(n_way=2.5)),
    BadInput(ES, "n_way", "more than the classes", lambda: _sampler(n_way=5)),
    BadInput(ES, "n_way", "more than a group has", lambda: _sampler(n_way=3, within_group=True)),
    BadInput(ES, "k_shot", "zero", lambda: _sampler(k_shot=0)),
    BadInput(ES, "k_shot", "more than the smallest class", lambda: _sampler(k_shot=5, q_query=1)),
    BadInput(ES, "q_query", "negative", lambda: _sampler(q_query=-1)),
    BadInput(ES, "q_query", "more than the smallest class", lambda: _sampler(k_shot=1, q_query=5)),
    BadInput(ES, "seed", "negative", lambda: _sampler(seed=-1)),
    BadInput(ES, "seed", "a float", lambda: _sampler(seed=1.5)),
    BadInput(ES, "seed", "a string", lambda: _sampler(seed="0")),
    BadInput(ES, "within_group", "a string", lambda: _sampler(within_group="yes")),
    BadInput(ES + ".sample", "group", "unknown", lambda: _sampler().sample("gamma")),
    BadInput(ES + ".sample_batch", "meta_batch", "zero", lambda: _sampler().sample_batch(0)),
    BadInput(ES + ".take", "count", "zero", lambda: _sampler().take(0)),
    BadInput(ES + ".take", "count", "a float", lambda: _sampler().take(2.5)),
    # ---- SinusoidTask, SinusoidTasks
    BadInput("mlbook.data.SinusoidTask", "amplitude", "NaN", lambda: SinusoidTask(NAN, 0.0)),
    BadInput("mlbook.data.SinusoidTask", "phase", "a string", lambda: SinusoidTask(1.0, "0")),
    BadInput("mlbook.data.SinusoidTask.__call__", "x", "a list", lambda: SinusoidTask(1.0, 0.0)([0.0, 1.0])),
    BadInput(ST, "amplitude", "low > high", lambda: SinusoidTasks(amplitude=(5.0, 0.1))),
    BadInput(ST, "amplitude", "NaN", lambda: SinusoidTasks(amplitude=(NAN, 1.0))),
    BadInput(ST, "amplitude", "three numbers", lambda: SinusoidTasks(amplitude=(0.1, 1.0, 5.0))),
    BadInput(ST, "phase", "low == high", lambda: SinusoidTasks(phase=(1.0, 1.0))),
    BadInput(ST, "phase", "infinite", lambda: SinusoidTasks(phase=(0.0, math.inf))),
    BadInput(ST, "x_range", "one number", lambda: SinusoidTasks(x_range=5.0)),
    BadInput(ST, "x_range", "a string", lambda: SinusoidTasks(x_range="ab")),
    BadInput(ST, "k_shot", "zero", lambda: SinusoidTasks(k_shot=0)),
    BadInput(ST, "k_shot", "terabytes", lambda: SinusoidTasks(k_shot=10**13)),
    BadInput(ST, "q_query", "a float", lambda: SinusoidTasks(q_query=10.0)),
    BadInput(ST, "seed", "negative", lambda: SinusoidTasks(seed=-1)),
    BadInput(ST, "seed", "a float", lambda: SinusoidTasks(seed=0.5)),
    BadInput(ST + ".sample_episode", "k_shot", "zero", lambda: SinusoidTasks().sample_episode(k_shot=0)),
    BadInput(ST + ".sample_episode", "task", "a string", lambda: SinusoidTasks().sample_episode(task="sin")),
    BadInput(ST + ".sample_batch", "meta_batch", "negative", lambda: SinusoidTasks().sample_batch(-2)),
    BadInput(ST + ".sample_half_interval_episode", "half", "a float",
             lambda: SinusoidTasks().sample_half_interval_episode(1.0)),
    BadInput(ST + ".sample_half_interval_episode", "q_query", "zero",
             lambda: SinusoidTasks().sample_half_interval_episode(0, q_query=0)),
    # ---- MultiTaskImages
    BadInput(MT, "images", "3-D", lambda: _multitask(images=torch.zeros(6, 4, 4))),
    BadInput(MT, "images", "NaN pixels", lambda: _multitask(images=torch.full((6, 1, 4, 4), NAN))),
    BadInput(MT, "labels", "fractional", lambda: _multitask(labels=_multitask().labels + 0.5)),
    BadInput(MT, "labels", "one task only", lambda: _multitask(labels=torch.zeros(6, dtype=torch.long))),
    BadInput(MT, "labels", "beyond num_classes", lambda: _multitask(labels=_multitask().labels + 2)),
    BadInput(MT, "task_names", "a string", lambda: _multitask(task_names="ab")),
    BadInput(MT, "num_classes", "wrong length", lambda: _multitask(num_classes=(3,))),
    BadInput(MT, "num_classes", "strings", lambda: _multitask(num_classes=("3", "2"))),
    BadInput(MT, "info", "a list value", lambda: _multitask(info={"source_index": list(range(6))})),
    BadInput(MT, "info", "wrong length", lambda: _multitask(info={"source_index": torch.arange(5)})),
    BadInput(MT + ".subset", "index", "fractional", lambda: _multitask().subset(torch.tensor([0.5, 1.5]))),
    BadInput(MT + ".to", "device", "misspelt", lambda: _multitask().to("gpu")),
    # ---- one-shot benchmark
    BadInput("mlbook.data.OneShotRun", "support", "3-D", lambda: _run(support=torch.zeros(20, 4, 4))),
    BadInput("mlbook.data.OneShotRun", "query", "a list", lambda: _run(query=[0.0] * 20)),
    BadInput("mlbook.data.OneShotRun", "answers", "fractional", lambda: _run(answers=torch.arange(20) + 0.5)),
    BadInput("mlbook.data.OneShotRun", "answers", "wrong length", lambda: _run(answers=torch.arange(19))),
    BadInput("mlbook.data.OneShotRun", "answers", "out of range", lambda: _run(answers=torch.arange(20) + 1)),
    BadInput("mlbook.data.OneShotRun", "name", "None", lambda: _run(name=None)),
    BadInput("mlbook.data.OneShotResult", "error_percent", "NaN", lambda: _result(error_percent=NAN)),
    BadInput("mlbook.data.OneShotResult", "error_percent", "above 100", lambda: _result(error_percent=150.0)),
    BadInput("mlbook.data.OneShotResult", "predictions", "shape unlike answers",
             lambda: _result(predictions=torch.arange(19).view(1, 19))),
    BadInput("mlbook.data.OneShotResult", "run_error_percent", "a string", lambda: _result(run_error_percent="5")),
    BadInput("mlbook.data.score_oneshot", "classify", "a string", lambda: score_oneshot("nearest", [_run()])),
    BadInput("mlbook.data.score_oneshot", "classify", "fractional predictions", lambda: _score(torch.arange(20) + 0.5)),
    BadInput("mlbook.data.score_oneshot", "classify", "wrong length", lambda: _score(torch.arange(19))),
    BadInput("mlbook.data.score_oneshot", "classify", "out of range", lambda: _score(torch.arange(20) + 1)),
    BadInput("mlbook.data.score_oneshot", "classify", "booleans", lambda: _score(torch.ones(20, dtype=torch.bool))),
    BadInput("mlbook.data.score_oneshot", "runs", "empty", lambda: score_oneshot(lambda s, q: torch.arange(20), [])),
    BadInput("mlbook.data.score_oneshot", "runs", "one run, not a list",
             lambda: score_oneshot(lambda s, q: torch.arange(20), _run())),
    BadInput("mlbook.data.score_oneshot", "runs", "tensors", lambda: score_oneshot(lambda s, q: torch.arange(20),
                                                                                   [torch.zeros(20, 1, 4, 4)])),
    BadInput("mlbook.data.nearest_by_distance", "distance", "a string", lambda: nearest_by_distance("euclidean")),
    BadInput("mlbook.data.nearest_by_distance", "distance", "None", lambda: nearest_by_distance(None)),
    BadInput("mlbook.data.load_oneshot_runs", "image_size", "too large", lambda: load_oneshot_runs(image_size=200)),
    BadInput("mlbook.data.load_oneshot_runs", "image_size", "a string", lambda: load_oneshot_runs(image_size="28")),
    BadInput("mlbook.data.load_oneshot_runs", "download", "a string", lambda: load_oneshot_runs(download="no")),
    # ---- Omniglot
    BadInput("mlbook.data.load_omniglot", "split", "misspelt", lambda: load_omniglot("small1")),
    BadInput("mlbook.data.load_omniglot", "split", "None", lambda: load_omniglot(None)),
    BadInput("mlbook.data.load_omniglot", "image_size", "zero", lambda: load_omniglot(image_size=0)),
    BadInput("mlbook.data.load_omniglot", "image_size", "a float", lambda: load_omniglot(image_size=28.0)),
    BadInput("mlbook.data.load_omniglot", "download", "a string", lambda: load_omniglot(download="no")),
    BadInput("mlbook.data.minimal_splits", "train", "three", lambda: minimal_splits(train=3)),
    BadInput("mlbook.data.minimal_splits", "train", "True", lambda: minimal_splits(train=True)),
    BadInput("mlbook.data.minimal_splits", "train", "a float", lambda: minimal_splits(train=1.0)),
    BadInput("mlbook.data.minimal_splits", "image_size", "too small", lambda: minimal_splits(image_size=4)),
    BadInput("mlbook.data.drawer_ids", "images", "a tensor", lambda: drawer_ids(_images())),
    BadInput("mlbook.data.per_alphabet_tasks", "images", "a list", lambda: per_alphabet_tasks([_dataset()])),
    BadInput("mlbook.data.omniglot_multitask", "images", "a tensor", lambda: omniglot_multitask(_images())),
    BadInput("mlbook.data.omniglot_multitask", "tasks", "one string",
             lambda: omniglot_multitask(_dataset(), "alphabet")),
    BadInput("mlbook.data.omniglot_multitask", "tasks", "misspelt", lambda: omniglot_multitask(_dataset(), ["colour"])),
    BadInput("mlbook.data.omniglot_multitask", "seed", "negative", lambda: omniglot_multitask(_dataset(), seed=-1)),
    BadInput("mlbook.data.omniglot_multitask", "seed", "too large", lambda: omniglot_multitask(_dataset(), seed=2**64)),
    BadInput("mlbook.data.omniglot_multitask", "all_rotations", "a string",
             lambda: omniglot_multitask(_dataset(), all_rotations="yes")),
    BadInput("mlbook.data.split_by_drawer", "data", "a tensor", lambda: split_by_drawer(_images())),
    BadInput("mlbook.data.split_by_drawer", "n_test_drawers", "zero", lambda: split_by_drawer(_dataset(), 0)),
    BadInput("mlbook.data.split_by_drawer", "n_test_drawers", "every drawer", lambda: split_by_drawer(_dataset(), 5)),
    BadInput("mlbook.data.split_by_drawer", "n_test_drawers", "a float", lambda: split_by_drawer(_dataset(), 2.0)),
    BadInput("mlbook.data.split_by_drawer", "seed", "negative", lambda: split_by_drawer(_dataset(), 2, seed=-1)),
    BadInput("mlbook.data.split_by_drawer", "seed", "too large", lambda: split_by_drawer(_dataset(), 2, seed=2**64)),
    # ---- digits
    BadInput("mlbook.data.load_digits", "image_size", "too small", lambda: load_digits(image_size=4)),
    BadInput("mlbook.data.load_digits", "image_size", "a string", lambda: load_digits(image_size="28")),
    BadInput("mlbook.data.load_digits", "image_size", "terabytes", lambda: load_digits(image_size=10**6)),
    BadInput("mlbook.data.make_multidigits", "n", "zero", lambda: make_multidigits(0)),
    BadInput("mlbook.data.make_multidigits", "n", "a float", lambda: make_multidigits(2.5)),
    BadInput("mlbook.data.make_multidigits", "n", "terabytes", lambda: make_multidigits(10**12)),
    BadInput("mlbook.data.make_multidigits", "split", "misspelt", lambda: make_multidigits(4, split="val")),
    BadInput("mlbook.data.make_multidigits", "seed", "negative", lambda: make_multidigits(4, seed=-1)),
    BadInput("mlbook.data.make_multidigits", "canvas", "too large", lambda: make_multidigits(4, canvas=100)),
    BadInput("mlbook.data.make_multidigits", "canvas", "too small", lambda: make_multidigits(4, canvas=9)),
    BadInput("mlbook.data.make_multidigits", "jitter", "too large for any canvas",
             lambda: make_multidigits(4, jitter=100)),
    BadInput("mlbook.data.make_multidigits", "jitter", "negative", lambda: make_multidigits(4, jitter=-1)),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_bad_input_gets_a_clear_error_naming_the_argument(row):
    assert_clear(row)
