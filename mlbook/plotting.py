"""Figures the book draws again and again: episodes, image grids, learning curves, one-shot results.

Conventions: images are ``[M, 1, H, W]`` (or ``[M, H, W]``) tensors in ``[0, 1]`` with ink = 1, drawn as dark
ink on white. Functions that draw one panel take ``ax=None`` and return the ``Axes``; functions that draw
several panels return the ``Figure``. Nothing here calls ``plt.show()``: in a notebook the figure appears at
the end of the cell (end the line with ``;`` or assign the result to avoid a second copy).
"""

from __future__ import annotations

import math
import numbers
import textwrap
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from mlbook.data.episodes import Episode
from mlbook.data.oneshot import OneShotResult, OneShotRun
from mlbook.validate import (
    check_bool,
    check_choice,
    check_int,
    check_list_of,
    check_number,
    check_positive,
    check_positive_int,
)

#: Colours of the training regimes of the one-shot benchmark (``PUBLISHED_ERRORS["training"]``); "human" is
#: people, who were not trained on a split at all.
TRAINING_COLOURS = {"none": "#9e9e9e", "minimal": "#1f77b4", "full": "#ff7f0e", "human": "#9467bd"}
CORRECT_COLOUR = "#2ca02c"
WRONG_COLOUR = "#d62728"
#: Right and wrong are never told by colour alone (red and green look alike to about one man in twelve): a
#: right answer also gets a check mark and a solid frame, a wrong one a cross and a dashed frame.
CORRECT_MARK = "\u2713"
WRONG_MARK = "\u2717"
#: Width of the book's text column in inches at ``figure.dpi`` = 100 (about 790 CSS pixels in the site's theme).
#: A figure no wider than this is shown at its design size, so a 10 pt label reads as 14 px; a wider one is
#: scaled down and its fonts with it. The book's figures are drawn at most this wide.
COLUMN_WIDTH = 7.8
#: Matplotlib settings of the book's figures (``book_style`` applies them): fonts that stay at least ~10 px on
#: the page, and a default size that fits the column.
BOOK_RC = {
    "figure.dpi": 100,
    "figure.figsize": (6.4, 4.0),
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "figure.titlesize": 12,
}
#: Grey of the frame between the tiles of a mosaic (ink = 1 is black, background = 0 is white).
FRAME_VALUE = 0.22

__all__ = [
    "BOOK_RC",
    "COLUMN_WIDTH",
    "TRAINING_COLOURS",
    "book_style",
    "format_percent",
    "image_mosaic",
    "plot_accuracy_curve",
    "plot_episode",
    "plot_error_comparison",
    "plot_images",
    "plot_learning_curves",
    "plot_oneshot_confusion",
    "smooth",
]


def book_style(*, retina: bool = True) -> None:
    """Apply the book's figure settings (``BOOK_RC``); in a notebook, with ``retina``, also send figures at twice
    their pixel size (shown at their design size, crisp on high-resolution screens). Call once per notebook."""
    check_bool("retina", retina)
    plt.rcParams.update(BOOK_RC)
    if not retina:
        return
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # no IPython: nothing renders inline
        return
    if get_ipython() is not None:
        set_matplotlib_formats("retina")


# ---- image helpers ---------------------------------------------------------------------------------------


def _as_numpy_images(images: torch.Tensor | np.ndarray) -> np.ndarray:
    """``[M, 1, H, W]`` or ``[M, H, W]`` -> float ``[M, H, W]`` on the CPU."""
    array = images.detach().cpu().float().numpy() if isinstance(images, torch.Tensor) else np.asarray(images, float)
    if array.ndim == 4:
        if array.shape[1] != 1:
            raise ValueError(f"images must have one channel, got shape {array.shape}")
        array = array[:, 0]
    if array.ndim != 3:
        raise ValueError(f"images must be [M, 1, H, W] or [M, H, W], got shape {array.shape}")
    return array


def image_mosaic(
    images: torch.Tensor | np.ndarray,
    nrows: int,
    ncols: int,
    *,
    order: str = "row",
    pad: int = 1,
    pad_value: float = FRAME_VALUE,
) -> np.ndarray:
    """Tile ``images`` into one ``[nrows*(H+pad)+pad, ncols*(W+pad)+pad]`` array framed by ``pad`` pixels.

    ``order="row"`` fills row by row; ``order="column"`` fills column by column (image ``c*nrows + r`` lands in
    row ``r``, column ``c``: the layout of an episode, whose examples come class by class). Empty cells stay blank.
    """
    check_choice("order", order, ("row", "column"))
    check_positive_int("nrows", nrows)
    check_positive_int("ncols", ncols)
    check_positive_int("pad", pad, minimum=0)
    check_number("pad_value", pad_value)
    array = _as_numpy_images(images)
    count, height, width = array.shape
    if count > nrows * ncols:
        raise ValueError(f"{count} images do not fit in a {nrows}x{ncols} mosaic")
    mosaic = np.full((nrows * (height + pad) + pad, ncols * (width + pad) + pad), pad_value, dtype=np.float32)
    for index in range(count):
        row, col = divmod(index, ncols) if order == "row" else (index % nrows, index // nrows)
        top, left = pad + row * (height + pad), pad + col * (width + pad)
        mosaic[top : top + height, left : left + width] = array[index]
    return mosaic


def _cell_centres(count: int, size: int, pad: int) -> np.ndarray:
    return pad + np.arange(count) * (size + pad) + (size - 1) / 2


def _show_mosaic(ax: Axes, mosaic: np.ndarray) -> None:
    ax.imshow(mosaic, cmap="gray_r", vmin=0.0, vmax=1.0, interpolation="nearest")
    for spine in ax.spines.values():
        spine.set_visible(False)


def plot_images(
    images: torch.Tensor | np.ndarray,
    titles: Sequence[str] | None = None,
    *,
    ncols: int = 10,
    size: float = 1.1,
    suptitle: str | None = None,
) -> Figure:
    """A grid of images, one panel each, with an optional title per image (``titles``: a list of strings)."""
    array = _as_numpy_images(images)
    count = array.shape[0]
    if count == 0:
        raise ValueError("images must contain at least one image")
    _check_names("titles", titles)
    if titles is not None and len(titles) != count:
        raise ValueError(f"titles must have one entry per image: {len(titles)} titles for {count} images")
    check_positive_int("ncols", ncols)
    check_positive("size", size)
    ncols = min(ncols, count)
    nrows = math.ceil(count / ncols)
    size = min(size, COLUMN_WIDTH / ncols)  # a wide grid shrinks its panels, not the page's fonts
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.45 if suptitle else 0.1)))
    axes = np.atleast_1d(axes).ravel()
    for index, ax in enumerate(axes):
        ax.set_xticks([])
        ax.set_yticks([])
        if index >= count:
            ax.set_visible(False)
            continue
        ax.imshow(array[index], cmap="gray_r", vmin=0.0, vmax=1.0)
        if titles is not None:
            ax.set_title(titles[index], fontsize=8)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


# ---- episodes --------------------------------------------------------------------------------------------


def _short_name(name: str) -> str:
    """``"Japanese_(katakana)/character05"`` -> ``"Japanese\\n(katakana)\\nchar05"``: fits under a narrow column."""
    group, _, item = name.rpartition("/")
    item = item.replace("character", "char")
    group = textwrap.fill(group.replace("_", " "), width=10, break_long_words=False)
    return f"{group}\n{item}" if group else item


def _check_names(name: str, names) -> None:
    """``None`` or a sequence of strings; one string (which would be read letter by letter) is refused."""
    if names is not None and (isinstance(names, str) or not isinstance(names, Sequence | np.ndarray)):
        raise TypeError(f"{name} must be a list of strings, got {type(names).__name__} {names!r:.60}")


def _predicted_labels(predictions: torch.Tensor, expected: int, n_way: int) -> torch.Tensor:
    """``[Q]`` labels or ``[Q, n_way]`` scores -> ``[Q]`` long labels; fractional or out-of-range labels are refused."""
    if not isinstance(predictions, torch.Tensor | np.ndarray | Sequence) or isinstance(predictions, str):
        raise TypeError(f"predictions must be a tensor of labels or scores, got {type(predictions).__name__}")
    predictions = torch.as_tensor(predictions).detach().cpu()
    if predictions.ndim == 2:
        if predictions.shape[1] != n_way:
            raise ValueError(
                f"predictions must be [Q] labels or [Q, {n_way}] scores (n_way={n_way}), got {tuple(predictions.shape)}"
            )
        predictions = predictions.argmax(dim=1)
    elif predictions.is_floating_point() and not bool((predictions == predictions.round()).all()):
        raise ValueError("predictions must be whole-number labels (or [Q, N] scores), got fractional values")
    predictions = predictions.long().view(-1)
    if predictions.shape[0] != expected:
        raise ValueError(f"predictions must have one entry per query example ({expected}), got {predictions.shape[0]}")
    if predictions.numel() and not 0 <= int(predictions.min()) <= int(predictions.max()) < n_way:
        raise ValueError(f"predictions must be labels in [0, {n_way - 1}], got values {predictions.unique().tolist()}")
    return predictions


def plot_episode(
    episode: Episode,
    *,
    class_names: Sequence[str] | None = None,
    predictions: torch.Tensor | None = None,
    max_query: int | None = None,
    title: str | None = None,
    cell: float = 0.62,
) -> Figure:
    """Draw an N-way K-shot episode: the support set D^tr on top (K rows), the query set D^ts below, one
    column per class (column ``c`` is episode label ``c``).

    ``class_names`` (the dataset's names, indexed by ``episode.classes``) label the columns. ``predictions``
    (``[Q*N]`` labels or ``[Q*N, N]`` scores for the query set, in episode order) frame every query image: a
    solid green frame and a check mark when right, a dashed red frame and a cross when wrong (shape and colour,
    so the two read apart without colour vision). ``max_query`` draws only the first query rows; ``cell`` is the
    size of a tile in inches, reduced when the episode would be wider than the book's column (``COLUMN_WIDTH``).
    """
    if not isinstance(episode, Episode):
        raise TypeError(f"episode must be an Episode (e.g. from EpisodeSampler.sample()), got {type(episode).__name__}")
    if episode.n_way is None:
        raise ValueError("plot_episode draws classification episodes; this one is a regression episode (n_way=None)")
    n_way, k_shot, q_query = episode.n_way, episode.k_shot, episode.q_query
    shown_q = q_query if max_query is None else min(q_query, max_query)
    if max_query is not None:
        check_positive_int("max_query", max_query)
    check_positive("cell", cell)
    _check_names("class_names", class_names)
    if class_names is not None and episode.classes is not None and len(episode.classes):
        if int(episode.classes.max()) >= len(class_names):
            raise ValueError(
                f"class_names must name every class of the dataset (episode.classes indexes them), got "
                f"{len(class_names)} names for class index {int(episode.classes.max())}"
            )
    height, width = episode.support_x.shape[-2:]
    pad = 1
    query_keep = (torch.arange(n_way).view(-1, 1) * q_query + torch.arange(shown_q)).view(-1)
    support = image_mosaic(episode.support_x, k_shot, n_way, order="column", pad=pad)
    query = image_mosaic(episode.query_x[query_keep], shown_q, n_way, order="column", pad=pad)

    names_height = (0.75 if n_way > 6 else 0.35) if class_names is not None else 0.2
    cell = min(cell, (COLUMN_WIDTH - 0.8) / n_way)
    fig_width = max(4.0, cell * n_way + 0.8)
    fig_height = cell * (k_shot + shown_q) + 0.85 + names_height + (0.3 if title else 0.0)
    fig, (ax_support, ax_query) = plt.subplots(
        2, 1, figsize=(fig_width, fig_height), height_ratios=[k_shot, shown_q], layout="constrained"
    )
    _show_mosaic(ax_support, support)
    _show_mosaic(ax_query, query)

    columns = _cell_centres(n_way, width, pad)
    for ax, rows, label in ((ax_support, k_shot, "support"), (ax_query, shown_q, "query")):
        ax.set_yticks(_cell_centres(rows, height, pad))
        ax.set_yticklabels([str(r + 1) for r in range(rows)], fontsize=8)
        ax.set_ylabel(label, fontsize=9)
    ax_support.set_xticks(columns)
    ax_support.set_xticklabels([str(c) for c in range(n_way)], fontsize=8)
    ax_support.xaxis.set_ticks_position("top")
    ax_support.set_title(
        rf"support set $\mathcal{{D}}^{{\mathrm{{tr}}}}$: {k_shot} example(s) of each of {n_way} classes", fontsize=10
    )
    ax_query.set_xticks(columns)
    if class_names is not None and episode.classes is not None:
        names = [_short_name(class_names[int(c)]) for c in episode.classes]
        ax_query.set_xticklabels(names, fontsize=7.5, rotation=90 if n_way > 6 else 0)
    else:
        ax_query.set_xticklabels([str(c) for c in range(n_way)], fontsize=8)

    query_title = rf"query set $\mathcal{{D}}^{{\mathrm{{ts}}}}$: {shown_q} of {q_query} per class shown"
    if predictions is not None:
        predicted = _predicted_labels(predictions, episode.query_y.shape[0], n_way)
        correct = predicted == episode.query_y.cpu()
        query_title += f"; {int(correct.sum())}/{correct.numel()} predicted correctly"
        for col in range(n_way):
            for row in range(shown_q):
                ok = bool(correct[col * q_query + row])
                left, top = col * (width + pad) + pad - 0.5, row * (height + pad) + pad - 0.5
                ax_query.add_patch(
                    Rectangle(
                        (left, top),
                        width,
                        height,
                        fill=False,
                        linewidth=1.6,
                        linestyle="-" if ok else (0, (2, 1.5)),
                        edgecolor=CORRECT_COLOUR if ok else WRONG_COLOUR,
                        gid="correct" if ok else "wrong",
                    )
                )
                ax_query.text(
                    left + width - 1,
                    top + 1,
                    CORRECT_MARK if ok else WRONG_MARK,
                    ha="right",
                    va="top",
                    fontsize=9,
                    fontweight="bold",
                    color=CORRECT_COLOUR if ok else WRONG_COLOUR,
                    gid="correct-mark" if ok else "wrong-mark",
                )
    ax_query.set_title(query_title, fontsize=10)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


# ---- curves ----------------------------------------------------------------------------------------------


def smooth(values: Sequence[float], smoothing: float) -> np.ndarray:
    """Debiased exponential moving average (TensorBoard's smoothing): ``smoothing=0`` returns the values.

    ``values`` is one curve (a sequence of numbers); ``smoothing`` lies in [0, 1)."""
    _check_smoothing(smoothing)
    values = _as_numbers("values", values)
    if values.ndim != 1:
        raise ValueError(f"values must be one curve (a 1-D sequence of numbers), got shape {values.shape}")
    out, average, weight = np.empty_like(values), 0.0, 0.0
    for i, value in enumerate(values):
        average = smoothing * average + (1.0 - smoothing) * value
        weight = smoothing * weight + (1.0 - smoothing)
        out[i] = average / weight
    return out


def _check_smoothing(smoothing) -> None:
    check_number("smoothing", smoothing, low=0.0, high=1.0, high_open=True)


def _as_numbers(name: str, values) -> np.ndarray:
    """``values`` as a float array; strings, ``None`` and things that are not numbers are refused."""
    if isinstance(values, str | bytes) or values is None:
        raise TypeError(f"{name} must be a sequence of numbers, got {type(values).__name__} {values!r:.60}")
    try:
        return np.asarray(values, dtype=float)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{name} must be a sequence of numbers, got {values!r:.60}") from error


def _curve(source, metric: str, name: str) -> tuple[np.ndarray, np.ndarray, dict]:
    """(steps, values, evals) of a TrainHistory (duck-typed) or a plain sequence of values."""
    if hasattr(source, "metrics") and hasattr(source, "steps"):
        if metric not in source.metrics:
            raise ValueError(f"metric must be one of {sorted(source.metrics)}, got {metric!r}")
        steps, values = np.asarray(source.steps), np.asarray(source.metrics[metric], float)
        if len(steps) != len(values):
            raise ValueError(
                f"{name} has {len(steps)} steps but {len(values)} values of {metric!r}: steps and values must match"
            )
        return steps, values, dict(source.evals)
    if source is None or isinstance(source, str | bytes):
        raise TypeError(f"{name} must be a TrainHistory, a sequence of values or a dict of them, got {source!r:.60}")
    values = _as_numbers(name, source).ravel()
    if values.size == 0:
        raise ValueError(f"{name} must hold at least one value, got an empty curve")
    return np.arange(1, len(values) + 1), values, {}


def plot_learning_curves(
    histories,
    metric: str = "loss",
    *,
    smoothing: float = 0.0,
    show_evals: bool = True,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Training curves of one or several runs.

    ``histories`` is a ``TrainHistory``, a sequence of values, or a dict ``name -> either``. With ``smoothing``
    > 0 the raw curve is drawn faintly under its moving average. When ``show_evals`` and a history holds
    periodic evaluations of ``metric`` (``history.evals``), they are drawn as points with 95% CI error bars.
    Runs may have different lengths; each is drawn against its own steps.
    """
    _check_smoothing(smoothing)
    _check_axes(ax)
    runs = dict(histories) if isinstance(histories, Mapping) else {None: histories}
    if not runs:
        raise ValueError("histories must contain at least one run")
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 3.8))
    for index, (name, source) in enumerate(runs.items()):
        colour = f"C{index % 10}"
        steps, values, evals = _curve(source, metric, "histories" if name is None else f"histories[{name!r}]")
        if smoothing > 0:
            ax.plot(steps, values, color=colour, alpha=0.25, linewidth=0.8)
            ax.plot(steps, smooth(values, smoothing), color=colour, linewidth=1.8, label=name)
        else:
            ax.plot(steps, values, color=colour, linewidth=1.4, label=name)
        evaluated = {step: result for step, result in sorted(evals.items()) if result.metric == metric}
        if show_evals and evaluated:
            ax.errorbar(
                list(evaluated),
                [result.mean for result in evaluated.values()],
                yerr=[result.ci95 for result in evaluated.values()],
                fmt="o",
                color=colour,
                markeredgecolor="black",
                capsize=3,
                label=f"{name} (evaluation)" if name else "evaluation",
            )
    ax.set_xlabel("meta-training step")
    ax.set_ylabel(metric)
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title)
    _, labels = ax.get_legend_handles_labels()
    if labels:
        ax.legend(fontsize=8)
    return ax


def _check_axes(ax) -> None:
    if ax is not None and not isinstance(ax, Axes):
        raise TypeError(f"ax must be a matplotlib Axes (e.g. from plt.subplots()), got {type(ax).__name__}")


def _mean_and_ci(value, where: str) -> tuple[float, float]:
    if hasattr(value, "mean") and hasattr(value, "ci95"):
        return float(value.mean), float(value.ci95)
    if isinstance(value, str) or not isinstance(value, Sequence | np.ndarray) or len(value) != 2:
        raise ValueError(f"{where} must be an EvalResult or a pair (mean, ci95), got {value!r:.60}")
    mean, ci = value
    if not (isinstance(ci, numbers.Real) and math.isnan(ci)):  # NaN: no interval (a single value)
        check_number(f"{where} ci95", ci, low=0.0)
    return check_number(f"{where} mean", mean), float(ci)


def plot_accuracy_curve(
    results: Mapping[str, Mapping[float, object]],
    *,
    xlabel: str = "shots per class $K$",
    ylabel: str = "query accuracy (%)",
    percent: bool = True,
    chance: float | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Mean accuracy against a knob (shots, ways, steps...) with a shaded 95% confidence band.

    ``results`` maps a method name to ``{x: EvalResult or (mean, ci95)}``; with ``percent`` means in [0, 1] are
    drawn as percentages. ``chance`` draws a dashed line at that accuracy (same units as the results).
    """
    if not isinstance(results, Mapping):
        raise TypeError(f"results must be a dict name -> {{x: (mean, ci95)}}, got {type(results).__name__}")
    if not results:
        raise ValueError("results must contain at least one curve")
    for name, curve in results.items():
        if not isinstance(curve, Mapping) or not curve:
            raise ValueError(f"results[{name!r}] must be a non-empty dict {{x: (mean, ci95)}}, got {curve!r:.60}")
    if chance is not None:
        check_number("chance", chance)
    _check_axes(ax)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 3.8))
    scale = 100.0 if percent else 1.0
    for index, (name, curve) in enumerate(results.items()):
        xs = sorted(curve)
        stats = np.array([_mean_and_ci(curve[x], f"results[{name!r}][{x!r}]") for x in xs]) * scale
        colour = f"C{index % 10}"
        ax.plot(xs, stats[:, 0], "o-", color=colour, label=name)
        ax.fill_between(xs, stats[:, 0] - stats[:, 1], stats[:, 0] + stats[:, 1], color=colour, alpha=0.2)
    if chance is not None:
        ax.axhline(chance * scale, color="black", linestyle="--", linewidth=1, label="chance")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return ax


# ---- the one-shot benchmark ------------------------------------------------------------------------------


def plot_oneshot_confusion(
    result: OneShotResult,
    run: int = 0,
    runs: Sequence[OneShotRun] | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """Which training image every test item of one run went to.

    Row ``j`` is the test item whose true class is training image ``j``; a green cell with a check mark on the
    diagonal is a correct trial, a red cell with a cross off it shows the training image that was chosen
    instead (marks as well as colours, so they read apart without colour vision). With ``runs`` (the list that
    was scored) the images themselves are drawn along both axes.
    """
    if not isinstance(result, OneShotResult):
        raise TypeError(f"result must be a OneShotResult (from score_oneshot), got {type(result).__name__}")
    total = result.predictions.shape[0]
    check_int("run", run)
    if not 0 <= run < total:
        raise ValueError(f"run must be an int in [0, {total - 1}], got {run!r}")
    if runs is not None and len(runs) != total:
        raise ValueError(f"runs must be the {total} runs that were scored, got {len(runs)}")
    predicted = result.predictions[run].long().cpu()
    answers = result.answers[run].long().cpu()
    size = answers.shape[0]
    grid = np.zeros((size, size), dtype=int)
    grid[np.arange(size), np.arange(size)] = 1  # where a correct answer would sit
    for item in range(size):
        grid[answers[item], predicted[item]] = 2 if predicted[item] == answers[item] else 3
    cmap = ListedColormap(["white", "#eeeeee", CORRECT_COLOUR, WRONG_COLOUR])
    wrong = int((predicted != answers).sum())
    heading = f"run {run + 1}" if runs is None else runs[run].name
    heading = f"{title + ': ' if title else ''}{heading}, {wrong}/{size} wrong ({100.0 * wrong / size:.0f}% error)"

    if runs is None:
        fig, ax = plt.subplots(figsize=(5.2, 5.0))
    else:
        fig = plt.figure(figsize=(7.0, 7.0))
        spec = fig.add_gridspec(2, 2, width_ratios=[1, size], height_ratios=[1, size], wspace=0.02, hspace=0.02)
        ax = fig.add_subplot(spec[1, 1])
        ax_top = fig.add_subplot(spec[0, 1])
        ax_left = fig.add_subplot(spec[1, 0])
        the_run = runs[run]
        order = torch.argsort(answers)  # test items sorted by their true training image
        _show_mosaic(ax_top, image_mosaic(the_run.support, 1, size, pad=1))
        _show_mosaic(ax_left, image_mosaic(the_run.query[order], size, 1, pad=1))
        for small in (ax_top, ax_left):
            small.set_xticks([])
            small.set_yticks([])
        ax_top.set_title(heading, fontsize=10)
    ax.imshow(grid, cmap=cmap, vmin=0, vmax=3, interpolation="nearest")
    for item in range(size):
        ok = bool(predicted[item] == answers[item])
        ax.text(
            int(predicted[item]),
            int(answers[item]),
            CORRECT_MARK if ok else WRONG_MARK,
            ha="center",
            va="center",
            fontsize=10,
            fontweight="bold",
            color="white",
            gid="correct-mark" if ok else "wrong-mark",
        )
    ax.set_xticks(range(size))
    ax.set_xticklabels([str(i + 1) for i in range(size)], fontsize=7.5)
    ax.set_yticks(range(size))
    ax.set_yticklabels([str(i + 1) for i in range(size)], fontsize=7.5)
    ax.yaxis.set_ticks_position("right")
    ax.yaxis.set_label_position("right")
    ax.set_xlabel("chosen training image")
    ax.set_ylabel("test item, by its true training image")
    ax.set_xticks(np.arange(-0.5, size), minor=True)
    ax.set_yticks(np.arange(-0.5, size), minor=True)
    ax.grid(which="minor", color="#cccccc", linewidth=0.4)
    ax.tick_params(which="minor", length=0)
    if runs is None:
        ax.set_title(heading, fontsize=10)
    return fig


_REQUIRED_ROW_KEYS = ("method", "training", "error_percent")


def format_percent(value: float) -> str:
    """An error rate as its source prints it: one decimal, two where that is exact (a mean of two published
    splits, 4.15, or a 400-trial error, 13.25)."""
    check_number("value", value)
    return f"{value:.1f}" if round(value, 1) == round(value, 2) else f"{value:.2f}"


def plot_error_comparison(
    rows: Sequence[Mapping],
    *,
    ax: Axes | None = None,
    title: str | None = "Omniglot one-shot benchmark (20-way, within alphabet, 400 trials)",
    sort: bool = True,
) -> Axes:
    """Horizontal bars of error rates (percent), coloured by training regime.

    Each row is a dict with ``method``, ``training`` (``"none"``, ``"minimal"``, ``"full"`` or ``"human"``) and
    ``error_percent``; optional ``ours=True`` marks numbers measured in this book (hatched, with ``ci95``
    error bars when given) as opposed to published ones (``mlbook.data.PUBLISHED_ERRORS``).
    """
    check_list_of("rows", rows, Mapping, "dict")
    for index, row in enumerate(rows):
        missing = [key for key in _REQUIRED_ROW_KEYS if key not in row]
        if missing:
            raise ValueError(f"rows[{index}] needs the keys {list(_REQUIRED_ROW_KEYS)}; {dict(row)} lacks {missing}")
        check_choice("training", row["training"], tuple(TRAINING_COLOURS))
        check_number(f"rows[{index}] error_percent", row["error_percent"], low=0.0, high=100.0)
        if row.get("ours", False) and row.get("ci95") is not None:
            check_number(f"rows[{index}] ci95", row["ci95"], low=0.0)
    _check_axes(ax)
    ordered = sorted(rows, key=lambda r: r["error_percent"]) if sort else list(rows)
    if ax is None:
        # constrained layout keeps the long method names inside the column-wide figure
        _, ax = plt.subplots(figsize=(COLUMN_WIDTH, 0.42 * len(ordered) + 1.4), layout="constrained")
    positions = np.arange(len(ordered))[::-1]
    for y, row in zip(positions, ordered, strict=True):
        ours = bool(row.get("ours", False))
        error = float(row["error_percent"])
        ax.barh(
            y,
            error,
            color=TRAINING_COLOURS[row["training"]],
            hatch="//" if ours else None,
            edgecolor="black" if ours else "none",
            xerr=row.get("ci95") if ours else None,
            capsize=3,
            height=0.7,
        )
        label_at = error + (float(row.get("ci95") or 0.0) if ours else 0.0) + 0.8
        ax.text(label_at, y, format_percent(error) + "%", va="center", fontsize=8)
    names = [row["method"] for row in ordered]
    repeated = {name for name in names if names.count(name) > 1}  # tell same-named rows apart by training
    ax.set_yticks(positions)
    labels = [f"{row['method']} ({row['training']})" if row["method"] in repeated else row["method"] for row in ordered]
    ax.set_yticklabels(labels, fontsize=9)
    ax.set_xlabel("error rate (%)")
    ax.set_xlim(0, max(float(r["error_percent"]) + float(r.get("ci95") or 0.0) for r in ordered) * 1.15 + 2)
    used = {row["training"] for row in ordered}
    handles = [
        Patch(color=colour, label="people" if name == "human" else f"trained: {name}")
        for name, colour in TRAINING_COLOURS.items()
        if name in used
    ]
    handles.append(Patch(facecolor="white", edgecolor="black", hatch="//", label="measured in this book"))
    ax.legend(handles=handles, fontsize=8, loc="upper right" if sort else "best")
    ax.grid(axis="x", alpha=0.3)
    if title:
        ax.set_title(title, fontsize=10)
    return ax
