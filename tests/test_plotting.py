"""mlbook.plotting: the figures have the panels, images, labels and marks they claim to draw."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.patches import Rectangle  # noqa: E402

from mlbook.data import Episode, EpisodeSampler, OneShotResult, OneShotRun  # noqa: E402
from mlbook.plotting import (  # noqa: E402
    BOOK_RC,
    COLUMN_WIDTH,
    CORRECT_MARK,
    FRAME_VALUE,
    TRAINING_COLOURS,
    WRONG_MARK,
    book_style,
    image_mosaic,
    plot_accuracy_curve,
    plot_episode,
    plot_error_comparison,
    plot_images,
    plot_learning_curves,
    plot_oneshot_confusion,
    smooth,
)
from mlbook.training import EvalResult, TrainHistory  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _episode(indexed_dataset, n_way=4, k_shot=2, q_query=3, seed=0) -> Episode:
    return EpisodeSampler(indexed_dataset, n_way, k_shot, q_query, seed=seed).sample()


def _wrong_boxes(ax) -> int:
    return sum(1 for p in ax.patches if isinstance(p, Rectangle) and p.get_gid() == "wrong")


def _right_boxes(ax) -> int:
    return sum(1 for p in ax.patches if isinstance(p, Rectangle) and p.get_gid() == "correct")


# ---- image_mosaic ----------------------------------------------------------------------------------------


def test_image_mosaic_places_images_row_or_column_wise():
    images = torch.arange(6, dtype=torch.float32).view(6, 1, 1, 1).expand(6, 1, 2, 2) / 10
    by_row = image_mosaic(images, 2, 3, pad=1)
    by_col = image_mosaic(images, 2, 3, order="column", pad=1)
    assert by_row.shape == (2 * 3 + 1, 3 * 3 + 1)
    # cell (row r, col c) starts at (1 + 3r, 1 + 3c)
    assert by_row[1 + 3 * 1, 1 + 3 * 0] == pytest.approx(0.3)  # row order: image 3 is row 1, col 0
    assert by_col[1 + 3 * 1, 1 + 3 * 0] == pytest.approx(0.1)  # column order: image 1 is row 1, col 0
    assert by_col[1 + 3 * 0, 1 + 3 * 2] == pytest.approx(0.4)  # image 4 is row 0, col 2
    assert by_row[0, 0] == pytest.approx(FRAME_VALUE)


def test_image_mosaic_rejects_too_many_images_and_bad_shapes():
    with pytest.raises(ValueError, match="do not fit"):
        image_mosaic(torch.zeros(5, 1, 2, 2), 2, 2)
    with pytest.raises(ValueError, match="one channel"):
        image_mosaic(torch.zeros(2, 3, 2, 2), 1, 2)
    with pytest.raises(ValueError, match="order must be one of"):
        image_mosaic(torch.zeros(2, 1, 2, 2), 1, 2, order="diagonal")


# ---- plot_episode ----------------------------------------------------------------------------------------


def test_plot_episode_draws_support_and_query_mosaics(indexed_dataset):
    episode = _episode(indexed_dataset, n_way=4, k_shot=2, q_query=3)
    fig = plot_episode(episode)
    ax_support, ax_query = fig.axes
    assert len(fig.axes) == 2
    assert len(ax_support.images) == 1 and len(ax_query.images) == 1
    support = ax_support.images[0].get_array()
    query = ax_query.images[0].get_array()
    assert support.shape == (2 * 5 + 1, 4 * 5 + 1)  # K rows and N columns of 4x4 images with a 1-pixel frame
    assert query.shape == (3 * 5 + 1, 4 * 5 + 1)
    # column c holds class c: row r of column c is support example c*K + r
    for c in range(4):
        for r in range(2):
            assert support[1 + 5 * r, 1 + 5 * c] == episode.support_x[c * 2 + r, 0, 0, 0].item()
    assert [t.get_text() for t in ax_support.get_xticklabels()] == ["0", "1", "2", "3"]
    assert "support" in ax_support.get_title() and "query" in ax_query.get_title()


def test_plot_episode_names_columns_and_limits_query_rows(indexed_dataset):
    episode = _episode(indexed_dataset, n_way=3, k_shot=1, q_query=5)
    fig = plot_episode(episode, class_names=indexed_dataset.class_names, max_query=2, title="an episode")
    ax_query = fig.axes[1]
    assert ax_query.images[0].get_array().shape[0] == 2 * 5 + 1
    labels = [t.get_text() for t in ax_query.get_xticklabels()]
    expected = [indexed_dataset.class_names[int(c)].replace("/", "\n") for c in episode.classes]
    assert labels == expected
    assert "2 of 5" in ax_query.get_title()
    assert fig.get_suptitle() == "an episode"


def test_plot_episode_frames_right_and_wrong_predictions(indexed_dataset):
    episode = _episode(indexed_dataset, n_way=4, k_shot=1, q_query=3)
    predicted = episode.query_y.clone()
    predicted[[0, 5]] = (predicted[[0, 5]] + 1) % 4  # two mistakes
    ax_query = plot_episode(episode, predictions=predicted).axes[1]
    assert _wrong_boxes(ax_query) == 2 and _right_boxes(ax_query) == 10
    assert "10/12 predicted correctly" in ax_query.get_title()
    scores = torch.nn.functional.one_hot(predicted, 4).float()  # [Q, N] scores work the same
    assert _wrong_boxes(plot_episode(episode, predictions=scores).axes[1]) == 2


def _marks(ax, gid) -> list[str]:
    return [t.get_text() for t in ax.texts if t.get_gid() == gid]


def test_right_and_wrong_differ_in_shape_not_only_colour(indexed_dataset):
    # Accessibility: a reader who cannot tell red from green still sees which answers were right.
    episode = _episode(indexed_dataset, n_way=4, k_shot=1, q_query=3)
    predicted = episode.query_y.clone()
    predicted[[0, 5]] = (predicted[[0, 5]] + 1) % 4
    ax_query = plot_episode(episode, predictions=predicted).axes[1]
    assert _marks(ax_query, "wrong-mark") == [WRONG_MARK] * 2
    assert _marks(ax_query, "correct-mark") == [CORRECT_MARK] * 10
    styles = {p.get_gid(): p.get_linestyle() for p in ax_query.patches if isinstance(p, Rectangle)}
    assert styles["correct"] != styles["wrong"]  # solid against dashed frames
    result, _ = _oneshot_result()
    ax = plot_oneshot_confusion(result, run=0).axes[0]
    assert len(_marks(ax, "wrong-mark")) == 3 and len(_marks(ax, "correct-mark")) == 17


def test_wide_figures_fit_the_book_column(indexed_dataset):
    episode = EpisodeSampler(indexed_dataset, 6, 1, 1, seed=0).sample()
    assert plot_episode(episode, cell=2.0).get_size_inches()[0] <= COLUMN_WIDTH + 1e-9
    assert plot_images(torch.rand(20, 1, 6, 6), ncols=20, size=1.0).get_size_inches()[0] <= COLUMN_WIDTH + 1e-9
    assert plot_images(torch.rand(2, 1, 6, 6), ncols=2, size=1.0).get_size_inches()[0] == pytest.approx(2.0)


def test_book_style_sets_the_book_fonts():
    with plt.rc_context():
        book_style(retina=False)
        assert all(plt.rcParams[key] == value or tuple(plt.rcParams[key]) == value for key, value in BOOK_RC.items())
        assert plt.rcParams["legend.fontsize"] >= 9  # 9 pt at 100 dpi: 12.5 px on the page


def test_plot_episode_rejects_bad_input(indexed_dataset):
    episode = _episode(indexed_dataset)
    with pytest.raises(ValueError, match="one entry per query"):
        plot_episode(episode, predictions=torch.zeros(3, dtype=torch.long))
    regression = Episode(torch.zeros(5, 1), torch.zeros(5), torch.zeros(5, 1), torch.zeros(5), None, 5)
    with pytest.raises(ValueError, match="regression"):
        plot_episode(regression)


def test_plot_images_titles_every_panel_and_hides_spares():
    fig = plot_images(torch.rand(7, 1, 6, 6), titles=[f"t{i}" for i in range(7)], ncols=4, suptitle="seven")
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert len(fig.axes) == 8 and len(visible) == 7
    assert [ax.get_title() for ax in visible] == [f"t{i}" for i in range(7)]
    assert all(len(ax.images) == 1 for ax in visible)
    with pytest.raises(ValueError, match="one entry per image"):
        plot_images(torch.rand(3, 6, 6), titles=["a"])


# ---- curves ----------------------------------------------------------------------------------------------


def test_smooth_is_a_debiased_moving_average():
    assert np.allclose(smooth([3.0, 3.0, 3.0], 0.9), 3.0)  # no bias towards zero at the start
    assert np.allclose(smooth([1.0, 2.0, 3.0], 0.0), [1.0, 2.0, 3.0])
    values = smooth([0.0, 10.0], 0.5)
    assert values[1] == pytest.approx((0.5 * 0.5 * 0.0 + 0.5 * 10.0) / 0.75)
    with pytest.raises(ValueError, match="smoothing"):
        smooth([1.0], 1.0)


def _history(values, evals=None) -> TrainHistory:
    history = TrainHistory()
    for step, value in enumerate(values, start=1):
        history.record(step, {"loss": value, "accuracy": 1 - value})
    history.evals = evals or {}
    return history


def test_plot_learning_curves_draws_raw_and_smoothed_curves_per_run():
    runs = {"a": _history([1.0, 0.5, 0.25, 0.2]), "b": [2.0, 1.0, 0.5]}
    ax = plot_learning_curves(runs, metric="loss", smoothing=0.6)
    assert len(ax.lines) == 4  # raw + smoothed for each run
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    raw_a = ax.lines[0].get_ydata()
    assert np.allclose(raw_a, [1.0, 0.5, 0.25, 0.2])
    assert np.allclose(ax.lines[1].get_ydata(), smooth([1.0, 0.5, 0.25, 0.2], 0.6))
    assert list(ax.lines[2].get_xdata()) == [1, 2, 3]
    assert ax.get_ylabel() == "loss"


def test_plot_learning_curves_shows_evaluations_with_error_bars():
    evals = {2: EvalResult("accuracy", np.array([0.5, 0.7])), 4: EvalResult("accuracy", np.array([0.8, 0.9]))}
    ax = plot_learning_curves(_history([0.9, 0.8, 0.7, 0.6], evals), metric="accuracy")
    assert len(ax.containers) == 1  # one errorbar container
    points = ax.containers[0].lines[0]
    assert list(points.get_xdata()) == [2, 4]
    assert np.allclose(points.get_ydata(), [0.6, 0.85])
    assert len(plot_learning_curves(_history([0.9, 0.8]), metric="loss").containers) == 0


def test_plot_learning_curves_names_available_metrics():
    with pytest.raises(ValueError, match=r"metric must be one of \['accuracy', 'loss'\]"):
        plot_learning_curves(_history([1.0]), metric="mse")


def test_plot_accuracy_curve_draws_mean_and_band():
    results = {
        "1-NN": {1: (0.4, 0.02), 5: EvalResult("accuracy", np.array([0.6, 0.62, 0.64]))},
        "class mean": {1: (0.4, 0.02), 5: (0.7, 0.01)},
    }
    ax = plot_accuracy_curve(results, chance=0.05)
    curves = [line for line in ax.lines if line.get_label() in results]
    assert len(curves) == 2 and len(ax.collections) == 2  # one band per curve
    assert np.allclose(curves[0].get_ydata(), [40.0, 62.0])
    assert any(line.get_label() == "chance" and np.allclose(line.get_ydata(), 5.0) for line in ax.lines)


# ---- one-shot results ------------------------------------------------------------------------------------


def _oneshot_result() -> tuple[OneShotResult, list[OneShotRun]]:
    answers = torch.stack([torch.randperm(20, generator=torch.Generator().manual_seed(s)) for s in range(2)])
    predictions = answers.clone()
    predictions[0, [1, 4, 7]] = (answers[0, [1, 4, 7]] + 3) % 20  # three mistakes in the first run
    runs = [
        OneShotRun(f"run{r + 1:02d}", torch.rand(20, 1, 8, 8), torch.rand(20, 1, 8, 8), answers[r]) for r in range(2)
    ]
    result = OneShotResult(7.5, [15.0, 0.0], predictions, answers)
    return result, runs


def test_plot_oneshot_confusion_marks_every_trial():
    result, runs = _oneshot_result()
    fig = plot_oneshot_confusion(result, run=0)
    grid = fig.axes[0].images[0].get_array()
    assert (grid == 3).sum() == 3 and (grid == 2).sum() == 17  # wrong and right cells
    answers, predictions = result.answers[0], result.predictions[0]
    for item in (1, 4, 7):
        assert grid[answers[item], predictions[item]] == 3
    assert "3/20 wrong" in fig.axes[0].get_title()


def test_plot_oneshot_confusion_with_images_shows_both_image_strips():
    result, runs = _oneshot_result()
    fig = plot_oneshot_confusion(result, run=1, runs=runs, title="pixel NN")
    assert len(fig.axes) == 3 and all(len(ax.images) == 1 for ax in fig.axes)
    strips = sorted(ax.images[0].get_array().shape for ax in fig.axes[1:])
    assert strips == [(1 * 9 + 1, 20 * 9 + 1), (20 * 9 + 1, 1 * 9 + 1)]
    assert "pixel NN: run02, 0/20 wrong" in fig.axes[1].get_title()
    with pytest.raises(ValueError, match="run must be an int in"):
        plot_oneshot_confusion(result, run=2)


def test_plot_error_comparison_colours_by_training_and_marks_ours():
    rows = [
        {"method": "Humans", "training": "minimal", "error_percent": 4.5},
        {"method": "Pixel NN", "training": "none", "error_percent": 79.0, "ours": True, "ci95": 4.9},
        {"method": "Siamese", "training": "full", "error_percent": 8.0},
    ]
    ax = plot_error_comparison(rows)
    bars = [p for p in ax.patches if isinstance(p, Rectangle)]
    assert len(bars) == 3
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Humans", "Siamese", "Pixel NN"]  # best on top
    widths = {round(bar.get_width(), 1): bar for bar in bars}
    assert matplotlib.colors.to_hex(widths[8.0].get_facecolor()) == TRAINING_COLOURS["full"]
    assert widths[79.0].get_hatch() == "//" and widths[4.5].get_hatch() is None
    assert len(ax.collections) == 1  # the CI error bar of our row, the only row with a ci95
    assert len(plot_error_comparison(rows[:1] + rows[2:]).collections) == 0
    assert {t.get_text() for t in ax.texts} == {"4.5%", "79.0%", "8.0%"}
    two_decimals = plot_error_comparison([{"method": "BPL", "training": "minimal", "error_percent": 4.15}])
    assert [t.get_text() for t in two_decimals.texts] == ["4.15%"]


def test_plot_error_comparison_tells_same_named_methods_apart():
    rows = [
        {"method": "ProtoNet", "training": "full", "error_percent": 13.7},
        {"method": "ProtoNet", "training": "minimal", "error_percent": 30.1},
        {"method": "Humans", "training": "minimal", "error_percent": 4.5},
    ]
    labels = [t.get_text() for t in plot_error_comparison(rows).get_yticklabels()]
    assert labels == ["Humans", "ProtoNet (full)", "ProtoNet (minimal)"]


def test_plot_error_comparison_rejects_bad_rows():
    with pytest.raises(ValueError, match="training must be one of"):
        plot_error_comparison([{"method": "x", "training": "huge", "error_percent": 1.0}])
    with pytest.raises(ValueError, match="lacks"):
        plot_error_comparison([{"method": "x", "error_percent": 1.0}])


@pytest.mark.parametrize("value, text", [(4.5, "4.5"), (4.15, "4.15"), (23.15, "23.15"), (13.25, "13.25"),
                                         (8.0, "8.0"), (38.8, "38.8")])
def test_format_percent_keeps_a_second_decimal_only_where_it_is_exact(value, text):
    from mlbook.plotting import format_percent

    assert format_percent(value) == text


def test_plot_episode_refuses_predictions_it_used_to_truncate_or_ignore(indexed_dataset):
    episode = _episode(indexed_dataset, n_way=2, k_shot=1, q_query=2)
    with pytest.raises(ValueError, match="predictions must be whole-number labels"):
        plot_episode(episode, predictions=torch.tensor([0.4, 0.6, 1.2, 1.0]))
    with pytest.raises(ValueError, match=r"predictions must be labels in \[0, 1\]"):
        plot_episode(episode, predictions=torch.tensor([0, 0, 1, 7]))
    with pytest.raises(ValueError, match=r"predictions must be \[Q\] labels or \[Q, 2\] scores"):
        plot_episode(episode, predictions=torch.rand(4, 3))
    with pytest.raises(TypeError, match="class_names must be a list of strings"):
        plot_episode(episode, class_names="abcdefghijkl")


def test_plot_images_refuses_one_string_as_titles():
    with pytest.raises(TypeError, match="titles must be a list of strings"):
        plot_images(torch.rand(3, 1, 4, 4), "abc")


def test_smooth_names_its_arguments():
    with pytest.raises(TypeError, match="smoothing must be a number"):
        smooth([1.0, 2.0], "0.9")
    with pytest.raises(ValueError, match="values must be one curve"):
        smooth([[1.0, 2.0], [3.0, 4.0]], 0.5)
    with pytest.raises(TypeError, match="values must be a sequence of numbers"):
        smooth(["a", "b"], 0.5)


def test_plot_learning_curves_refuses_what_it_used_to_draw_as_nothing():
    with pytest.raises(TypeError, match="histories must be"):
        plot_learning_curves(None)
    with pytest.raises(ValueError, match="histories must hold at least one value"):
        plot_learning_curves([])
    mismatched = TrainHistory(steps=[1, 2], metrics={"loss": [1.0, 0.8, 0.7]})
    with pytest.raises(ValueError, match="histories has 2 steps but 3 values"):
        plot_learning_curves(mismatched)
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        plot_learning_curves([1.0, 2.0], ax=plt.figure())


def test_plot_learning_curves_draws_runs_of_different_lengths():
    ax = plot_learning_curves({"short": [1.0, 0.5], "long": [1.0, 0.8, 0.6, 0.4]})
    assert [len(line.get_xdata()) for line in ax.get_lines()] == [2, 4]


def test_plot_accuracy_curve_refuses_nan_means_and_a_nan_chance():
    with pytest.raises(ValueError, match=r"results\['a'\]\[1\] mean must be a finite number"):
        plot_accuracy_curve({"a": {1: (float("nan"), 0.1)}})
    with pytest.raises(ValueError, match="chance must be a finite number"):
        plot_accuracy_curve({"a": {1: (0.5, 0.1)}}, chance=float("nan"))
    with pytest.raises(ValueError, match=r"results\['a'\]\[1\] must be an EvalResult or a pair"):
        plot_accuracy_curve({"a": {1: (0.5, 0.1, 0.2)}})
    plot_accuracy_curve({"a": {1: (0.5, float("nan"))}})  # a single value has no interval: still drawn


def test_plot_error_comparison_refuses_non_numbers_and_a_lone_dict():
    row = {"method": "ours", "training": "minimal", "error_percent": "10"}
    with pytest.raises(TypeError, match=r"rows\[0\] error_percent must be a number"):
        plot_error_comparison([row])
    with pytest.raises(TypeError, match="rows must be a list of dicts"):
        plot_error_comparison({**row, "error_percent": 10.0})


def test_plot_oneshot_confusion_refuses_a_bool_run_and_too_few_runs():
    result = OneShotResult(25.0, [25.0, 25.0], torch.tensor([[0, 1, 2, 0]] * 2), torch.arange(4).repeat(2, 1))
    with pytest.raises(TypeError, match="run must be an int"):
        plot_oneshot_confusion(result, run=True)
    with pytest.raises(ValueError, match="runs must be the 2 runs that were scored"):
        plot_oneshot_confusion(result, runs=[])
