"""See what a metric method compares: a query, the support set, and each method's score for every class.

``comparison_scores`` says, in each method's own terms, how one query relates to the classes of an episode
(squared distances to prototypes, attention mass, relation scores, p(same)). ``query_view`` draws it and
``query_explorer`` wraps that in ipywidgets (query index, shots, episode seed); ``ipywidgets`` is imported
only when the widget is built.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping

import matplotlib.pyplot as plt
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure

from mlbook.data.dataset import LabelledImages
from mlbook.data.episodes import Episode, EpisodeSampler
from mlbook.metric.base import MetricMethod
from mlbook.metric.matching import MatchingNetwork
from mlbook.metric.protonet import PrototypicalNetwork
from mlbook.metric.relation import RelationNetwork
from mlbook.metric.siamese import SiameseNetwork
from mlbook.plotting import image_mosaic
from mlbook.validate import check_int, check_positive_int


@torch.no_grad()
def comparison_scores(method: MetricMethod, episode: Episode) -> tuple[torch.Tensor, str, bool]:
    """``(scores [Q, N], what they are, smaller_is_closer)`` for every query and class, in eval mode.

    ProtoNet: squared distance (or scaled cosine) to each prototype; Matching Networks: attention mass on
    each class; Relation Networks: relation score; Siamese networks: mean p(same) over the class's shots.
    """
    was_training = method.training
    method.eval()
    try:
        if isinstance(method, PrototypicalNetwork):
            logits, _, _ = method(episode)
            if method.distance == "squared_euclidean":
                return -logits, "squared distance to prototype", True
            return logits, "scaled cosine to prototype", False
        if isinstance(method, MatchingNetwork):
            attention = method.attention(episode)
            return method.class_probabilities(attention, episode.support_y, episode.n_way), "attention mass", False
        if isinstance(method, RelationNetwork):
            return method.predict(episode), "relation score", False
        if isinstance(method, SiameseNetwork):
            support, query = method.embed_episode(episode)
            same = torch.sigmoid(method.pair_logits(query, support))
            one_hot = F.one_hot(episode.support_y, episode.n_way).to(same.dtype)
            return same @ one_hot / one_hot.sum(dim=0), "mean p(same)", False
    finally:
        method.train(was_training)
    raise TypeError(f"comparison_scores does not know {type(method).__name__}")


def query_view(episode: Episode, index: int, methods: Mapping[str, MetricMethod]) -> Figure:
    """The query ``index`` of ``episode``, its support set (one column per class), and a bar chart per method
    of its scores for every class; the true class is outlined, each method's choice is filled darker."""
    if not isinstance(episode, Episode):
        raise TypeError(f"episode must be an Episode, got {type(episode).__name__}")
    check_int("index", index)
    if not 0 <= index < episode.query_x.shape[0]:
        raise ValueError(f"index must be in [0, {episode.query_x.shape[0] - 1}], got {index!r}")
    if not methods:
        raise ValueError("methods must contain at least one method")
    n_way, k_shot = episode.n_way, episode.k_shot
    truth = int(episode.query_y[index])
    fig = plt.figure(figsize=(max(7.5, 2.7 * len(methods)), 3.8 + 0.3 * k_shot))
    outer = fig.add_gridspec(2, 1, height_ratios=[0.9 + 0.3 * (k_shot - 1), 1.2], hspace=0.45)
    top = outer[0].subgridspec(1, 2, width_ratios=[1, max(1.5, n_way / k_shot)])
    bottom = outer[1].subgridspec(1, len(methods), wspace=0.45)
    ax = fig.add_subplot(top[0, 0])
    ax.imshow(episode.query_x[index, 0].cpu().numpy(), cmap="gray_r", vmin=0, vmax=1)
    ax.set_title(f"query (class {truth})", fontsize=9)
    ax.set_xticks([])
    ax.set_yticks([])
    ax = fig.add_subplot(top[0, 1])
    ax.imshow(image_mosaic(episode.support_x, k_shot, n_way, order="column"), cmap="gray_r", vmin=0, vmax=1)
    side = episode.support_x.shape[-1] + 1
    ax.set_xticks([1 + side * c + side / 2 - 1 for c in range(n_way)], [str(c) for c in range(n_way)])
    ax.set_yticks([])
    ax.set_title(rf"support set $\mathcal{{D}}^{{\mathrm{{tr}}}}$: {n_way} classes x {k_shot} shot(s)", fontsize=9)
    for column, (name, method) in enumerate(methods.items()):
        scores, label, smaller = comparison_scores(method, episode)
        row = scores[index].cpu()
        choice = int(row.argmin() if smaller else row.argmax())
        ax = fig.add_subplot(bottom[0, column])
        colours = ["#1f77b4" if c == choice else "#aec7e8" for c in range(n_way)]
        bars = ax.bar(range(n_way), row.numpy(), color=colours)
        bars[truth].set_edgecolor("#2ca02c")
        bars[truth].set_linewidth(2.5)
        ax.set_xticks(range(n_way))
        ax.set_xlabel("class")
        ax.set_ylabel(label, fontsize=8)
        verdict = "right" if choice == truth else "wrong"
        ax.set_title(f"{name}: picks {choice} ({verdict})", fontsize=9)
    return fig


def _png_output(fig: Figure, dpi: int) -> dict:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    plt.close(fig)
    data = {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"), "text/plain": "<query figure>"}
    return {"output_type": "display_data", "data": data, "metadata": {}}


def query_explorer(
    dataset: LabelledImages,
    methods: Mapping[str, MetricMethod],
    *,
    n_way: int = 5,
    k_shot: int = 1,
    q_query: int = 3,
    max_shot: int = 5,
    seed: int = 0,
    dpi: int = 80,
):
    """Widget: pick a query (slider), the shots K and an episode seed; see every method's scores.

    Returns an ``ipywidgets.VBox`` with ``controls`` (``query``, ``k_shot``, ``seed``) and ``output``.
    """
    try:
        import ipywidgets as widgets
    except ImportError as error:  # pragma: no cover
        raise ImportError("query_explorer needs ipywidgets: pip install 'mlbook[widgets]'") from error
    check_positive_int("max_shot", max_shot)
    if not 1 <= k_shot <= max_shot:
        raise ValueError(f"k_shot must be an int in [1, {max_shot}] (max_shot), got {k_shot!r}")
    style = {"description_width": "initial"}
    controls = {
        "query": widgets.IntSlider(value=0, min=0, max=n_way * q_query - 1, description="query", style=style),
        "k_shot": widgets.IntSlider(value=k_shot, min=1, max=max_shot, description="K (shots)", style=style),
        "seed": widgets.BoundedIntText(value=seed, min=0, max=10**9, description="episode seed", style=style),
    }
    output = widgets.Output()

    def render(*_) -> None:
        sampler = EpisodeSampler(dataset, n_way, controls["k_shot"].value, q_query, seed=int(controls["seed"].value))
        fig = query_view(sampler.sample(), controls["query"].value, methods)
        output.outputs = (_png_output(fig, dpi),)

    for control in controls.values():
        control.observe(render, names="value")
    render()
    box = widgets.VBox([widgets.HBox(list(controls.values())), output])
    box.controls = controls
    box.output = output
    return box
