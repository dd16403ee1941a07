"""Interactive widgets for the book's notebooks (an optional extra: ``pip install mlbook[widgets]``).

``ipywidgets`` is imported only when a widget is built, so the rest of ``mlbook`` works without it.
Every widget draws through a plain function (``episode_view``) that tests and scripts can call directly.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from mlbook.data.dataset import LabelledImages
from mlbook.data.episodes import Episode, EpisodeSampler
from mlbook.plotting import plot_episode
from mlbook.validate import check_callable, check_int, check_positive_int

#: Dropdown entries besides the dataset's own groups (alphabets).
ALL_GROUPS = "all alphabets (mixed)"
ONE_GROUP = "one random alphabet"
#: The largest seed the explorer's seed box holds.
SEED_MAX = 10**9

Predictor = Callable[[Episode], torch.Tensor]


def _require_ipywidgets():
    try:
        import ipywidgets
    except ImportError as error:  # pragma: no cover - exercised by monkeypatching sys.modules in the tests
        raise ImportError(
            "mlbook.widgets needs ipywidgets, an optional extra of mlbook: "
            "pip install 'mlbook[widgets]' (or pip install ipywidgets)"
        ) from error
    return ipywidgets


def _predict(predict, episode: Episode) -> torch.Tensor:
    """Query predictions of a method (``EpisodicMethod``) or of a plain callable ``episode -> labels/scores``."""
    from mlbook.training.evaluate import predict as method_predict
    from mlbook.training.method import EpisodicMethod

    if isinstance(predict, EpisodicMethod):
        return method_predict(predict, episode)
    return torch.as_tensor(predict(episode))


def episode_view(
    dataset: LabelledImages,
    n_way: int,
    k_shot: int,
    q_query: int = 3,
    *,
    group: str = ALL_GROUPS,
    seed: int = 0,
    predict: Predictor | None = None,
    predictor_name: str = "prediction",
) -> tuple[Figure, str]:
    """Sample one episode as the explorer does and draw it: returns ``(figure, one-line summary)``.

    ``group`` is ``ALL_GROUPS`` (classes from anywhere), ``ONE_GROUP`` (all N classes from one alphabet drawn at
    random, as in the one-shot benchmark) or the name of one group. Impossible requests raise the sampler's
    ``ValueError``, which names the argument and the allowed range. ``predict`` must be callable (an
    ``EpisodicMethod`` or a function ``episode -> [Q] labels or [Q, N] scores``) and ``predictor_name`` a string.
    """
    _check_predictor(predict, predictor_name)
    if group == ALL_GROUPS:
        sampler = EpisodeSampler(dataset, n_way, k_shot, q_query, seed=seed)
    elif group == ONE_GROUP:
        sampler = EpisodeSampler(dataset, n_way, k_shot, q_query, within_group=True, seed=seed)
    else:
        sampler = EpisodeSampler(dataset.select_groups([group]), n_way, k_shot, q_query, seed=seed)
    episode = sampler.sample()
    names = sampler.dataset.class_names
    groups = sorted({sampler.dataset.class_groups[int(c)] for c in episode.classes})
    summary = f"{n_way}-way {k_shot}-shot episode (seed {seed}) from {', '.join(groups)}"
    predictions = None
    if predict is not None:
        predictions = _predict(predict, episode)
        labels = predictions.argmax(dim=1) if predictions.ndim == 2 else predictions.view(-1)
        correct = int((labels.cpu().long() == episode.query_y.cpu()).sum())
        total = episode.query_y.numel()
        summary += f"; {predictor_name}: {correct}/{total} query images right ({100.0 * correct / total:.0f}%)"
    fig = plot_episode(episode, class_names=names, predictions=predictions)
    return fig, summary


def _check_predictor(predict, predictor_name) -> None:
    if predict is not None:
        check_callable("predict", predict)
    if not isinstance(predictor_name, str):
        raise TypeError(f"predictor_name must be a str, got {type(predictor_name).__name__}")


def _png_output(fig: Figure, dpi: int) -> dict:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    return {
        "output_type": "display_data",
        "data": {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"), "text/plain": "<episode figure>"},
        "metadata": {},
    }


def episode_explorer(
    dataset: LabelledImages,
    *,
    n_way: int = 5,
    k_shot: int = 1,
    q_query: int = 3,
    max_way: int = 20,
    max_shot: int = 10,
    seed: int = 0,
    predict: Predictor | None = None,
    predictor_name: str = "prediction",
    dpi: int = 80,
):
    """An interactive episode browser: sliders for N (ways) and K (shots), an alphabet dropdown and a seed.

    Every change samples a fresh episode with ``EpisodeSampler`` and redraws it with ``plot_episode``. With
    ``predict`` (an ``EpisodicMethod`` or a callable ``episode -> [Q] labels or [Q, N] scores``) the query
    images are framed (solid green with a check mark when right, dashed red with a cross when wrong) and the
    accuracy is printed. An impossible choice (N larger than the alphabet, K + Q larger than the drawers) shows
    the sampler's message instead of a figure.

    Returns an ``ipywidgets.VBox``; its ``controls`` dict (``n_way``, ``k_shot``, ``group``, ``seed``) and
    ``output`` (an ``ipywidgets.Output``) are attributes, so code can drive it as a user would.
    """
    widgets = _require_ipywidgets()
    if not isinstance(dataset, LabelledImages):
        raise TypeError(f"dataset must be a LabelledImages (e.g. from load_omniglot), got {type(dataset).__name__}")
    check_positive_int("q_query", q_query)
    check_positive_int("max_way", max_way, minimum=2)
    check_positive_int("max_shot", max_shot)
    check_int("n_way", n_way)
    check_int("k_shot", k_shot)
    check_int("seed", seed, minimum=0, maximum=SEED_MAX)
    check_positive_int("dpi", dpi)
    _check_predictor(predict, predictor_name)
    if not 2 <= n_way <= max_way:
        raise ValueError(f"n_way must be an int in [2, {max_way}] (max_way), got {n_way!r}")
    if not 1 <= k_shot <= max_shot:
        raise ValueError(f"k_shot must be an int in [1, {max_shot}] (max_shot), got {k_shot!r}")

    style = {"description_width": "initial"}
    controls = {
        "n_way": widgets.IntSlider(value=n_way, min=2, max=max_way, description="N (ways)", style=style),
        "k_shot": widgets.IntSlider(value=k_shot, min=1, max=max_shot, description="K (shots)", style=style),
        "group": widgets.Dropdown(
            options=[ALL_GROUPS, ONE_GROUP, *dataset.groups], value=ALL_GROUPS, description="alphabet", style=style
        ),
        "seed": widgets.BoundedIntText(value=seed, min=0, max=SEED_MAX, description="seed", style=style),
    }
    output = widgets.Output()

    def render(*_) -> None:
        try:
            fig, summary = episode_view(
                dataset,
                controls["n_way"].value,
                controls["k_shot"].value,
                q_query,
                group=controls["group"].value,
                seed=int(controls["seed"].value),
                predict=predict,
                predictor_name=predictor_name,
            )
        except ValueError as error:
            message = f"Cannot draw this episode: {error}\n"
            output.outputs = ({"output_type": "stream", "name": "stderr", "text": message},)
            return
        output.outputs = ({"output_type": "stream", "name": "stdout", "text": summary + "\n"}, _png_output(fig, dpi))

    for control in controls.values():
        control.observe(render, names="value")
    render()
    box = widgets.VBox(
        [
            widgets.HBox([controls["n_way"], controls["k_shot"]]),
            widgets.HBox([controls["group"], controls["seed"]]),
            output,
        ]
    )
    box.controls = controls
    box.output = output
    return box
