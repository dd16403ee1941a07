"""Evaluation shared by every method: mean ± 95% CI over many seeded test episodes, and the one-shot benchmark."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from mlbook.data.episodes import Episode
from mlbook.data.oneshot import Classifier, OneShotResult, OneShotRun, score_oneshot
from mlbook.progress import progress_bar
from mlbook.training.method import EpisodicMethod
from mlbook.utils import check_positive_int, default_device, mean_confidence_interval
from mlbook.validate import check_device, check_labels, check_tensor


@dataclass
class EvalResult:
    """Per-episode values of a metric (``accuracy`` in [0, 1] or ``mse``), their mean and 95% CI half-width."""

    metric: str
    values: np.ndarray

    def __post_init__(self) -> None:
        if not isinstance(self.metric, str):
            raise TypeError(f"metric must be a str such as 'accuracy' or 'mse', got {type(self.metric).__name__}")
        values = np.asarray(self.values)
        if values.ndim != 1 or values.size == 0 or not np.issubdtype(values.dtype, np.number):
            raise ValueError(f"values must be a non-empty 1-D array of per-episode numbers, got shape {values.shape}")

    @property
    def mean(self) -> float:
        return mean_confidence_interval(self.values)[0]

    @property
    def ci95(self) -> float:
        return mean_confidence_interval(self.values)[1]

    def __str__(self) -> str:
        if self.metric == "accuracy":
            return f"{100 * self.mean:.1f}% ± {100 * self.ci95:.1f}% ({len(self.values)} episodes)"
        return f"{self.metric} {self.mean:.3f} ± {self.ci95:.3f} ({len(self.values)} episodes)"


def episode_metric(outputs: torch.Tensor, episode: Episode) -> tuple[str, float]:
    """Accuracy for classification episodes (``n_way`` set), mean squared error for regression.

    ``outputs`` is what ``predict`` returns: ``[Q, n_way]`` scores or ``[Q]`` predicted labels (classification),
    one prediction per query target (regression). Other shapes raise a ``ValueError`` instead of broadcasting;
    NaN or inf outputs raise a ``FloatingPointError`` (the argmax of NaN scores would count as class 0)."""
    _check_episode(episode)
    _check_outputs(outputs, episode)
    if outputs.is_floating_point() and not bool(torch.isfinite(outputs).all()):
        raise FloatingPointError(
            "outputs hold NaN or inf: the method's predictions are not finite (did training diverge, or do the "
            "images hold NaN?)"
        )
    if episode.n_way is None:
        return "mse", float(torch.mean((outputs.reshape(episode.query_y.shape) - episode.query_y) ** 2))
    predicted = outputs if outputs.ndim == 1 else outputs.argmax(dim=1)
    return "accuracy", float((predicted == episode.query_y).float().mean())


def predict(method: EpisodicMethod, episode: Episode) -> torch.Tensor:
    """``method.predict`` in eval mode, with autograd only for methods that adapt at test time."""
    _check_method(method)
    _check_episode(episode)
    was_training = method.training
    method.eval()
    try:
        with torch.set_grad_enabled(method.adapts_at_test_time):
            return method.predict(episode).detach()
    finally:
        method.train(was_training)


def evaluate(
    method: EpisodicMethod,
    sampler,
    episodes: int = 600,
    *,
    device: torch.device | str | None = None,
    progress: bool | None = None,
) -> EvalResult:
    """Evaluate on ``episodes`` episodes drawn from ``sampler`` after ``sampler.reset()``, so every call (and
    every method) sees exactly the same test episodes. A metric that is NaN or inf on any episode raises a
    ``FloatingPointError`` (a mean of them would be NaN, not a result). ``progress``: a text progress bar;
    ``None`` shows it on Colab and in a terminal only (``mlbook.progress``)."""
    _check_method(method)
    _check_sampler("sampler", sampler, ("sample", "reset"))
    check_positive_int("episodes", episodes)
    device = default_device() if device is None else check_device("device", device)
    method.to(device)
    sampler.reset()
    values, metric = [], "accuracy"
    for _ in progress_bar(range(episodes), progress=progress, desc="evaluate", leave=False):
        episode = sampler.sample().to(device)
        metric, value = episode_metric(predict(method, episode), episode)
        values.append(value)
    values = np.asarray(values)
    if not np.isfinite(values).all():
        raise FloatingPointError(
            f"the {metric} was NaN or inf on {int((~np.isfinite(values)).sum())} of {episodes} evaluation episodes: "
            "the method's predictions are not finite (did training diverge, or do the images hold NaN?)"
        )
    return EvalResult(metric, values)


def as_oneshot_classifier(method: EpisodicMethod, device: torch.device | str | None = None) -> Classifier:
    """Wrap a method as a classifier for ``score_oneshot``: the 20 training images are a 20-way 1-shot support set."""
    _check_method(method)
    device = default_device() if device is None else check_device("device", device)

    def classify(support: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        n = support.shape[0]
        episode = Episode(
            support_x=support,
            support_y=torch.arange(n),
            query_x=query,
            query_y=torch.zeros(query.shape[0], dtype=torch.long),  # unknown; not used by predict
            n_way=n,
            k_shot=1,
        ).to(device)
        return predict(method.to(device), episode).argmax(dim=1).cpu()

    return classify


def evaluate_oneshot(
    method: EpisodicMethod, runs: list[OneShotRun] | None = None, *, device: torch.device | str | None = None
) -> OneShotResult:
    """The method's error on the original Omniglot one-shot benchmark (20 runs, 400 trials)."""
    return score_oneshot(as_oneshot_classifier(method, device), runs)


# ---------------------------------------------------------------------------- argument checks (also used by train)


def _check_method(method) -> EpisodicMethod:
    if not isinstance(method, EpisodicMethod):
        raise TypeError(
            f"method must be an mlbook.training.EpisodicMethod (e.g. a PrototypicalNetwork or MAML), "
            f"got {type(method).__name__}"
        )
    return method


def _check_sampler(name: str, sampler, needs: tuple[str, ...]):
    """An episode source with the methods ``needs`` (e.g. an ``EpisodeSampler`` or ``SinusoidTasks``)."""
    missing = [attribute for attribute in needs if not hasattr(sampler, attribute)]
    if missing:
        raise TypeError(
            f"{name} must be an episode sampler (e.g. EpisodeSampler or SinusoidTasks) with "
            f"{', '.join(needs)}; got {type(sampler).__name__}, which lacks {', '.join(missing)}"
        )
    return sampler


def _check_episode(episode) -> Episode:
    if not isinstance(episode, Episode):
        raise TypeError(f"episode must be an mlbook.data.Episode, got {type(episode).__name__}")
    return episode


def _check_outputs(outputs, episode: Episode) -> None:
    """Predictions that match the episode's query set: no broadcasting, no fractional labels."""
    queries = episode.query_y.shape[0]
    if episode.n_way is None:
        check_tensor("outputs", outputs, floating=True)
        if outputs.numel() != episode.query_y.numel() or outputs.dim() == 0 or outputs.shape[0] != queries:
            raise ValueError(
                f"outputs must hold one prediction per query target, shape {tuple(episode.query_y.shape)}, "
                f"got {tuple(outputs.shape)}"
            )
        return
    check_tensor("outputs", outputs, ndim=(1, 2))
    if outputs.dim() == 1:
        check_labels("outputs", outputs, episode.n_way)
    if outputs.shape[0] != queries or (outputs.dim() == 2 and outputs.shape[1] != episode.n_way):
        expected = f"({queries}, {episode.n_way}) scores or ({queries},) predicted labels"
        raise ValueError(f"outputs must be {expected} for this episode, got shape {tuple(outputs.shape)}")
