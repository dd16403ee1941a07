"""Bad-input table for the top-level helpers (``mlbook.seed_everything``, ``mlbook.mean_confidence_interval``),
``mlbook.baselines``, ``mlbook.plotting`` and ``mlbook.widgets``: each row is a mistake a reader makes, and the
error it must get."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from mlbook import mean_confidence_interval, seed_everything  # noqa: E402
from mlbook.baselines import (  # noqa: E402
    PixelNearestNeighbour,
    hausdorff_distance,
    hausdorff_nearest_neighbour,
    ink_points,
    modified_hausdorff,
    pixel_distance,
    pixel_nearest_neighbour,
)
from mlbook.data import Episode, LabelledImages, OneShotResult  # noqa: E402
from mlbook.plotting import (  # noqa: E402
    book_style,
    format_percent,
    image_mosaic,
    plot_accuracy_curve,
    plot_episode,
    plot_error_comparison,
    plot_images,
    plot_learning_curves,
    plot_oneshot_confusion,
    smooth,
)
from mlbook.progress import progress_bar, show_progress  # noqa: E402
from mlbook.project import binder_url, colab_url, github_url, pip_requirement  # noqa: E402
from mlbook.training import TrainHistory  # noqa: E402
from mlbook.widgets import episode_explorer, episode_view  # noqa: E402
from tests.bad_input.fixtures import make_episode
from tests.bad_input.harness import BadInput, assert_clear  # noqa: E402

NAN, INF = float("nan"), float("inf")

# ---- small valid fixtures, built only when a row runs ------------------------------------------------------


def glyphs(count: int = 3, size: int = 8) -> torch.Tensor:
    """``count`` images ``[count, 1, size, size]`` with a different ink stroke each."""
    images = torch.zeros(count, 1, size, size)
    for i in range(count):
        images[i, 0, 1 + i % (size - 2), 1:-1] = 1.0
        images[i, 0, 1:-1, 1 + (2 * i) % (size - 2)] = 1.0
    return images


def episode(**changes) -> Episode:
    """A valid 2-way 1-shot episode of 4x4 images with 2 queries per class, of classes 3 and 1."""
    return make_episode(2, 2, 4, **({"classes": torch.tensor([3, 1])} | changes))


def dataset() -> LabelledImages:
    """4 classes in 2 groups (alphabets), 5 examples (drawers) each, 4x4 images."""
    images = torch.linspace(0, 1, 4 * 5 * 16).view(-1, 1, 4, 4)
    return LabelledImages(
        images, torch.arange(4).repeat_interleave(5), ["a/c0", "a/c1", "b/c0", "b/c1"], ["a", "a", "b", "b"]
    )


def history(steps=(1, 2, 3), losses=(1.0, 0.8, 0.7)) -> TrainHistory:
    return TrainHistory(steps=list(steps), metrics={"loss": list(losses)})


def oneshot_result() -> OneShotResult:
    answers = torch.arange(4).repeat(2, 1)
    return OneShotResult(25.0, [25.0, 25.0], torch.tensor([[0, 1, 2, 0], [0, 1, 2, 0]]), answers)


def error_row(**changes) -> dict:
    return {"method": "ours", "training": "minimal", "error_percent": 10.0} | changes


def closed(make):
    """Call ``make`` and close any figure it drew (a silent row must not leave figures open)."""

    def call():
        try:
            return make()
        finally:
            plt.close("all")

    return call


def widget_row(entry: str, argument: str, mistake: str, make) -> BadInput:
    return BadInput(entry, argument, mistake, closed(make))


# ---- the table -------------------------------------------------------------------------------------------

ROWS = [
    # mlbook: seeding and confidence intervals
    BadInput("mlbook.seed_everything", "seed", "negative", lambda: seed_everything(-1)),
    BadInput("mlbook.seed_everything", "seed", "a float", lambda: seed_everything(1.5)),
    BadInput("mlbook.seed_everything", "seed", "a string", lambda: seed_everything("0")),
    BadInput("mlbook.seed_everything", "seed", "a bool", lambda: seed_everything(True)),
    BadInput("mlbook.seed_everything", "seed", "too large", lambda: seed_everything(2**64)),
    BadInput("mlbook.mean_confidence_interval", "values", "empty", lambda: mean_confidence_interval([])),
    BadInput("mlbook.mean_confidence_interval", "values", "a NaN", lambda: mean_confidence_interval([0.5, NAN, 0.7])),
    BadInput("mlbook.mean_confidence_interval", "values", "an inf", lambda: mean_confidence_interval([0.5, INF])),
    BadInput(
        "mlbook.mean_confidence_interval",
        "values",
        "a NaN in a tensor",
        lambda: mean_confidence_interval(torch.tensor([0.5, NAN])),
    ),
    BadInput("mlbook.mean_confidence_interval", "values", "strings", lambda: mean_confidence_interval(["0.5", "0.7"])),
    BadInput("mlbook.mean_confidence_interval", "values", "None", lambda: mean_confidence_interval(None)),
    BadInput(
        "mlbook.mean_confidence_interval",
        "values",
        "ragged lists",
        lambda: mean_confidence_interval([[0.5, 0.7], [0.1]]),
    ),
    # mlbook.baselines
    BadInput(
        "mlbook.baselines.pixel_distance",
        "query",
        "a different image size",
        lambda: pixel_distance(torch.rand(2, 1, 5, 5), torch.rand(3, 1, 4, 4)),
    ),
    BadInput("mlbook.baselines.pixel_distance", "query", "a list", lambda: pixel_distance([[0.0]], torch.rand(3, 1))),
    BadInput(
        "mlbook.baselines.pixel_distance",
        "support",
        "one image without a batch dimension",
        lambda: pixel_distance(torch.rand(2, 4), torch.rand(4)),
    ),
    BadInput(
        "mlbook.baselines.pixel_distance",
        "support",
        "empty",
        lambda: pixel_distance(torch.rand(2, 1, 4, 4), torch.rand(0, 1, 4, 4)),
    ),
    BadInput(
        "mlbook.baselines.pixel_distance",
        "query",
        "integer images",
        lambda: pixel_distance(torch.zeros(2, 1, 4, 4, dtype=torch.uint8), torch.rand(3, 1, 4, 4)),
    ),
    BadInput("mlbook.baselines.ink_points", "image", "a blank image", lambda: ink_points(torch.zeros(1, 8, 8))),
    BadInput("mlbook.baselines.ink_points", "image", "a batch of images", lambda: ink_points(glyphs(3))),
    BadInput("mlbook.baselines.ink_points", "image", "a list", lambda: ink_points([[0.0, 1.0]])),
    BadInput("mlbook.baselines.ink_points", "threshold", "a string", lambda: ink_points(glyphs(1)[0], "0.5")),
    BadInput("mlbook.baselines.ink_points", "threshold", "NaN", lambda: ink_points(glyphs(1)[0], NAN)),
    BadInput(
        "mlbook.baselines.modified_hausdorff",
        "points_b",
        "another number of coordinates",
        lambda: modified_hausdorff(torch.rand(5, 2, dtype=torch.float64), torch.rand(4, 3, dtype=torch.float64)),
    ),
    BadInput(
        "mlbook.baselines.modified_hausdorff",
        "points_a",
        "empty",
        lambda: modified_hausdorff(torch.rand(0, 2, dtype=torch.float64), torch.rand(4, 2, dtype=torch.float64)),
    ),
    BadInput(
        "mlbook.baselines.modified_hausdorff",
        "points_a",
        "an image instead of points",
        lambda: modified_hausdorff(glyphs(1)[0], torch.rand(4, 2, dtype=torch.float64)),
    ),
    BadInput(
        "mlbook.baselines.modified_hausdorff",
        "points_b",
        "a list",
        lambda: modified_hausdorff(torch.rand(4, 2), [[0.0, 1.0]]),
    ),
    BadInput(
        "mlbook.baselines.hausdorff_distance",
        "support",
        "a blank image",
        lambda: hausdorff_distance(glyphs(2), torch.zeros(2, 1, 8, 8)),
    ),
    BadInput(
        "mlbook.baselines.hausdorff_distance", "query", "a list", lambda: hausdorff_distance([glyphs(1)], glyphs(2))
    ),
    BadInput(
        "mlbook.baselines.hausdorff_distance",
        "query",
        "flattened images",
        lambda: hausdorff_distance(glyphs(2).flatten(1), glyphs(2)),
    ),
    BadInput(
        "mlbook.baselines.pixel_nearest_neighbour",
        "query",
        "a different image size",
        lambda: pixel_nearest_neighbour()(torch.rand(3, 1, 4, 4), torch.rand(2, 1, 5, 5)),
    ),
    BadInput(
        "mlbook.baselines.hausdorff_nearest_neighbour",
        "query",
        "a blank image",
        lambda: hausdorff_nearest_neighbour()(glyphs(2), torch.zeros(1, 1, 8, 8)),
    ),
    BadInput(
        "mlbook.baselines.PixelNearestNeighbour.predict",
        "n_way",
        "regression episode",
        lambda: PixelNearestNeighbour().predict(episode(n_way=None, classes=None)),
    ),
    BadInput(
        "mlbook.baselines.PixelNearestNeighbour.predict",
        "support_y",
        "out of range",
        lambda: PixelNearestNeighbour().predict(episode(support_y=torch.tensor([0, 5]))),
    ),
    BadInput(
        "mlbook.baselines.PixelNearestNeighbour.predict",
        "support_y",
        "float labels",
        lambda: PixelNearestNeighbour().predict(episode(support_y=torch.tensor([0.0, 1.0]))),
    ),
    BadInput(
        "mlbook.baselines.PixelNearestNeighbour.predict",
        "query_x",
        "a different image size",
        lambda: PixelNearestNeighbour().predict(episode(query_x=torch.rand(4, 1, 5, 5))),
    ),
    BadInput(
        "mlbook.baselines.PixelNearestNeighbour.predict",
        "episode",
        "a tuple",
        lambda: PixelNearestNeighbour().predict((torch.rand(2, 1, 4, 4), torch.tensor([0, 1]))),
    ),
    # mlbook.plotting
    BadInput("mlbook.plotting.book_style", "retina", "a string", lambda: book_style(retina="yes")),
    # mlbook.progress
    BadInput("mlbook.progress.show_progress", "progress", "a string", lambda: show_progress("no")),
    BadInput("mlbook.progress.progress_bar", "progress", "an int", lambda: progress_bar([1], progress=2, desc="x")),
    # mlbook.project
    BadInput("mlbook.project.github_url", "path", "absolute", lambda: github_url("/etc/passwd")),
    BadInput("mlbook.project.github_url", "path", "leaves the repository", lambda: github_url("../other/x.py")),
    BadInput("mlbook.project.colab_url", "path", "not a string", lambda: colab_url(3)),
    BadInput("mlbook.project.binder_url", "path", "a Windows path", lambda: binder_url("book\\ch01.ipynb")),
    BadInput("mlbook.project.pip_requirement", "extras", "capitals", lambda: pip_requirement("Widgets")),
    BadInput("mlbook.project.pip_requirement", "extras", "None", lambda: pip_requirement(None)),
    BadInput("mlbook.plotting.format_percent", "value", "a string", lambda: format_percent("4.5")),
    BadInput("mlbook.plotting.format_percent", "value", "NaN", lambda: format_percent(NAN)),
    BadInput("mlbook.plotting.format_percent", "value", "None", lambda: format_percent(None)),
    BadInput("mlbook.plotting.image_mosaic", "nrows", "zero", lambda: image_mosaic(glyphs(2), 0, 2)),
    BadInput("mlbook.plotting.image_mosaic", "ncols", "a float", lambda: image_mosaic(glyphs(2), 1, 2.0)),
    BadInput("mlbook.plotting.image_mosaic", "images", "too many", lambda: image_mosaic(glyphs(5), 2, 2)),
    BadInput("mlbook.plotting.image_mosaic", "images", "one image", lambda: image_mosaic(glyphs(1)[0, 0], 1, 1)),
    BadInput(
        "mlbook.plotting.image_mosaic", "images", "three channels", lambda: image_mosaic(torch.rand(2, 3, 4, 4), 1, 2)
    ),
    BadInput(
        "mlbook.plotting.image_mosaic", "order", "misspelt", lambda: image_mosaic(glyphs(2), 1, 2, order="columns")
    ),
    BadInput("mlbook.plotting.image_mosaic", "pad", "negative", lambda: image_mosaic(glyphs(2), 1, 2, pad=-1)),
    BadInput("mlbook.plotting.image_mosaic", "pad_value", "NaN", lambda: image_mosaic(glyphs(2), 1, 2, pad_value=NAN)),
    BadInput(
        "mlbook.plotting.image_mosaic",
        "pad_value",
        "a colour name",
        lambda: image_mosaic(glyphs(2), 1, 2, pad_value="grey"),
    ),
    BadInput("mlbook.plotting.plot_images", "images", "empty", closed(lambda: plot_images(torch.zeros(0, 1, 4, 4)))),
    BadInput(
        "mlbook.plotting.plot_images", "titles", "one too few", closed(lambda: plot_images(glyphs(3), ["a", "b"]))
    ),
    BadInput("mlbook.plotting.plot_images", "titles", "one string", closed(lambda: plot_images(glyphs(3), "abc"))),
    BadInput("mlbook.plotting.plot_images", "ncols", "zero", closed(lambda: plot_images(glyphs(3), ncols=0))),
    BadInput("mlbook.plotting.plot_images", "size", "zero", closed(lambda: plot_images(glyphs(3), size=0))),
    BadInput("mlbook.plotting.plot_images", "size", "NaN", closed(lambda: plot_images(glyphs(3), size=NAN))),
    BadInput(
        "mlbook.plotting.plot_episode", "episode", "a tuple", closed(lambda: plot_episode((glyphs(2), glyphs(2))))
    ),
    BadInput(
        "mlbook.plotting.plot_episode",
        "n_way",
        "regression episode",
        closed(lambda: plot_episode(episode(n_way=None, classes=None))),
    ),
    BadInput(
        "mlbook.plotting.plot_episode",
        "predictions",
        "one too few",
        closed(lambda: plot_episode(episode(), predictions=torch.tensor([0, 1, 1]))),
    ),
    BadInput(
        "mlbook.plotting.plot_episode",
        "predictions",
        "fractional labels",
        closed(lambda: plot_episode(episode(), predictions=torch.tensor([0.4, 0.6, 1.2, 1.0]))),
    ),
    BadInput(
        "mlbook.plotting.plot_episode",
        "predictions",
        "labels out of range",
        closed(lambda: plot_episode(episode(), predictions=torch.tensor([0, 0, 1, 7]))),
    ),
    BadInput(
        "mlbook.plotting.plot_episode",
        "predictions",
        "scores with the wrong number of classes",
        closed(lambda: plot_episode(episode(), predictions=torch.rand(4, 3))),
    ),
    BadInput(
        "mlbook.plotting.plot_episode",
        "predictions",
        "a string",
        closed(lambda: plot_episode(episode(), predictions="0011")),
    ),
    BadInput(
        "mlbook.plotting.plot_episode",
        "class_names",
        "too few names",
        closed(lambda: plot_episode(episode(), class_names=["only", "two"])),
    ),
    BadInput(
        "mlbook.plotting.plot_episode",
        "class_names",
        "one string",
        closed(lambda: plot_episode(episode(), class_names="abcd")),
    ),
    BadInput("mlbook.plotting.plot_episode", "max_query", "zero", closed(lambda: plot_episode(episode(), max_query=0))),
    BadInput("mlbook.plotting.plot_episode", "cell", "negative", closed(lambda: plot_episode(episode(), cell=-1.0))),
    BadInput("mlbook.plotting.smooth", "smoothing", "one", lambda: smooth([1.0, 2.0], 1.0)),
    BadInput("mlbook.plotting.smooth", "smoothing", "negative", lambda: smooth([1.0, 2.0], -0.1)),
    BadInput("mlbook.plotting.smooth", "smoothing", "NaN", lambda: smooth([1.0, 2.0], NAN)),
    BadInput("mlbook.plotting.smooth", "smoothing", "a string", lambda: smooth([1.0, 2.0], "0.9")),
    BadInput("mlbook.plotting.smooth", "values", "strings", lambda: smooth(["a", "b"], 0.5)),
    BadInput("mlbook.plotting.smooth", "values", "a table of curves", lambda: smooth([[1.0, 2.0], [3.0, 4.0]], 0.5)),
    BadInput("mlbook.plotting.smooth", "values", "None", lambda: smooth(None, 0.5)),
    BadInput(
        "mlbook.plotting.plot_learning_curves",
        "smoothing",
        "one",
        closed(lambda: plot_learning_curves([1.0, 2.0], smoothing=1.0)),
    ),
    BadInput(
        "mlbook.plotting.plot_learning_curves",
        "smoothing",
        "a string",
        closed(lambda: plot_learning_curves([1.0, 2.0], smoothing="0.9")),
    ),
    BadInput(
        "mlbook.plotting.plot_learning_curves", "histories", "empty dict", closed(lambda: plot_learning_curves({}))
    ),
    BadInput("mlbook.plotting.plot_learning_curves", "histories", "None", closed(lambda: plot_learning_curves(None))),
    BadInput(
        "mlbook.plotting.plot_learning_curves", "histories", "a string", closed(lambda: plot_learning_curves("loss"))
    ),
    BadInput(
        "mlbook.plotting.plot_learning_curves", "histories", "an empty curve", closed(lambda: plot_learning_curves([]))
    ),
    BadInput(
        "mlbook.plotting.plot_learning_curves",
        "metric",
        "misspelt",
        closed(lambda: plot_learning_curves(history(), "accuracy")),
    ),
    BadInput(
        "mlbook.plotting.plot_learning_curves",
        "histories",
        "steps and values of different lengths",
        closed(lambda: plot_learning_curves(history(steps=(1, 2)))),
    ),
    BadInput(
        "mlbook.plotting.plot_learning_curves",
        "ax",
        "a figure instead of axes",
        closed(lambda: plot_learning_curves([1.0, 2.0], ax=plt.figure())),
    ),
    BadInput("mlbook.plotting.plot_accuracy_curve", "results", "empty", closed(lambda: plot_accuracy_curve({}))),
    BadInput(
        "mlbook.plotting.plot_accuracy_curve",
        "results",
        "an empty curve",
        closed(lambda: plot_accuracy_curve({"a": {}})),
    ),
    BadInput(
        "mlbook.plotting.plot_accuracy_curve",
        "results",
        "a list of points",
        closed(lambda: plot_accuracy_curve([(1, (0.5, 0.1))])),
    ),
    BadInput(
        "mlbook.plotting.plot_accuracy_curve",
        "results",
        "a point of three numbers",
        closed(lambda: plot_accuracy_curve({"a": {1: (0.5, 0.1, 0.2)}})),
    ),
    BadInput(
        "mlbook.plotting.plot_accuracy_curve",
        "results",
        "a NaN mean",
        closed(lambda: plot_accuracy_curve({"a": {1: (NAN, 0.1)}})),
    ),
    BadInput(
        "mlbook.plotting.plot_accuracy_curve",
        "chance",
        "NaN",
        closed(lambda: plot_accuracy_curve({"a": {1: (0.5, 0.1)}}, chance=NAN)),
    ),
    BadInput(
        "mlbook.plotting.plot_accuracy_curve",
        "chance",
        "a string",
        closed(lambda: plot_accuracy_curve({"a": {1: (0.5, 0.1)}}, chance="0.2")),
    ),
    BadInput(
        "mlbook.plotting.plot_oneshot_confusion",
        "run",
        "out of range",
        closed(lambda: plot_oneshot_confusion(oneshot_result(), run=2)),
    ),
    BadInput(
        "mlbook.plotting.plot_oneshot_confusion",
        "run",
        "a bool",
        closed(lambda: plot_oneshot_confusion(oneshot_result(), run=True)),
    ),
    BadInput(
        "mlbook.plotting.plot_oneshot_confusion",
        "result",
        "a number",
        closed(lambda: plot_oneshot_confusion(25.0)),
    ),
    BadInput(
        "mlbook.plotting.plot_oneshot_confusion",
        "runs",
        "too few runs",
        closed(lambda: plot_oneshot_confusion(oneshot_result(), runs=[])),
    ),
    BadInput("mlbook.plotting.plot_error_comparison", "rows", "empty", closed(lambda: plot_error_comparison([]))),
    BadInput(
        "mlbook.plotting.plot_error_comparison",
        "rows",
        "one dict, not a list",
        closed(lambda: plot_error_comparison(error_row())),
    ),
    BadInput(
        "mlbook.plotting.plot_error_comparison",
        "rows",
        "a missing key",
        closed(lambda: plot_error_comparison([{"method": "ours", "training": "full"}])),
    ),
    BadInput(
        "mlbook.plotting.plot_error_comparison",
        "training",
        "misspelt",
        closed(lambda: plot_error_comparison([error_row(training="minimum")])),
    ),
    BadInput(
        "mlbook.plotting.plot_error_comparison",
        "error_percent",
        "NaN",
        closed(lambda: plot_error_comparison([error_row(error_percent=NAN)])),
    ),
    BadInput(
        "mlbook.plotting.plot_error_comparison",
        "error_percent",
        "a string",
        closed(lambda: plot_error_comparison([error_row(error_percent="10")])),
    ),
    BadInput(
        "mlbook.plotting.plot_error_comparison",
        "ci95",
        "negative",
        closed(lambda: plot_error_comparison([error_row(ours=True, ci95=-1.0)])),
    ),
    # mlbook.widgets
    widget_row(
        "mlbook.widgets.episode_view", "dataset", "a tensor", lambda: episode_view(torch.rand(4, 1, 4, 4), 2, 1)
    ),
    widget_row("mlbook.widgets.episode_view", "n_way", "one way", lambda: episode_view(dataset(), 1, 1)),
    widget_row("mlbook.widgets.episode_view", "k_shot", "a float", lambda: episode_view(dataset(), 2, 1.0)),
    widget_row("mlbook.widgets.episode_view", "group", "misspelt", lambda: episode_view(dataset(), 2, 1, group="c")),
    widget_row("mlbook.widgets.episode_view", "seed", "negative", lambda: episode_view(dataset(), 2, 1, seed=-1)),
    widget_row(
        "mlbook.widgets.episode_view", "predict", "a string", lambda: episode_view(dataset(), 2, 1, predict="protonet")
    ),
    widget_row(
        "mlbook.widgets.episode_view",
        "predict",
        "returns fractional labels",
        lambda: episode_view(dataset(), 2, 1, q_query=2, predict=lambda ep: ep.query_y.float() + 0.5),
    ),
    widget_row(
        "mlbook.widgets.episode_view",
        "predictor_name",
        "None",
        lambda: episode_view(dataset(), 2, 1, predict=lambda ep: ep.query_y, predictor_name=None),
    ),
    widget_row("mlbook.widgets.episode_explorer", "n_way", "too many", lambda: episode_explorer(dataset(), n_way=30)),
    widget_row("mlbook.widgets.episode_explorer", "n_way", "a float", lambda: episode_explorer(dataset(), n_way=2.5)),
    widget_row("mlbook.widgets.episode_explorer", "k_shot", "zero", lambda: episode_explorer(dataset(), k_shot=0)),
    widget_row("mlbook.widgets.episode_explorer", "q_query", "zero", lambda: episode_explorer(dataset(), q_query=0)),
    widget_row(
        "mlbook.widgets.episode_explorer", "seed", "negative", lambda: episode_explorer(dataset(), n_way=2, seed=-3)
    ),
    widget_row("mlbook.widgets.episode_explorer", "dpi", "zero", lambda: episode_explorer(dataset(), n_way=2, dpi=0)),
    widget_row(
        "mlbook.widgets.episode_explorer",
        "predict",
        "a string",
        lambda: episode_explorer(dataset(), n_way=2, predict="protonet"),
    ),
    widget_row(
        "mlbook.widgets.episode_explorer", "dataset", "a list", lambda: episode_explorer([np.zeros((4, 4))], n_way=2)
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_bad_input_gets_a_clear_error_naming_the_argument(row):
    assert_clear(row)
