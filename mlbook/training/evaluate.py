"""Evaluation shared by every method: mean ± 95% CI over many seeded test episodes, and the one-shot benchmark."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from tqdm import tqdm

from mlbook.data.episodes import Episode
from mlbook.data.oneshot import Classifier, OneShotResult, OneShotRun, score_oneshot
from mlbook.training.method import EpisodicMethod
from mlbook.utils import check_positive_int, default_device, mean_confidence_interval


@dataclass
class EvalResult:
    """Per-episode values of a metric (``accuracy`` in [0, 1] or ``mse``), their mean and 95% CI half-width."""

    metric: str
    values: np.ndarray

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
    """Accuracy for classification episodes (``n_way`` set), mean squared error for regression."""
    if episode.n_way is None:
        return "mse", float(torch.mean((outputs.reshape(episode.query_y.shape) - episode.query_y) ** 2))
    predicted = outputs if outputs.ndim == 1 else outputs.argmax(dim=1)
    return "accuracy", float((predicted == episode.query_y).float().mean())


def predict(method: EpisodicMethod, episode: Episode) -> torch.Tensor:
    """``method.predict`` in eval mode, with autograd only for methods that adapt at test time."""
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
    progress: bool = True,
) -> EvalResult:
    """Evaluate on ``episodes`` episodes drawn from ``sampler`` after ``sampler.reset()``, so every call (and
    every method) sees exactly the same test episodes."""
    check_positive_int("episodes", episodes)
    device = torch.device(device) if device is not None else default_device()
    method.to(device)
    sampler.reset()
    values, metric = [], "accuracy"
    for _ in tqdm(range(episodes), desc="evaluate", disable=not progress, leave=False):
        episode = sampler.sample().to(device)
        metric, value = episode_metric(predict(method, episode), episode)
        values.append(value)
    return EvalResult(metric, np.asarray(values))


def as_oneshot_classifier(method: EpisodicMethod, device: torch.device | str | None = None) -> Classifier:
    """Wrap a method as a classifier for ``score_oneshot``: the 20 training images are a 20-way 1-shot support set."""
    device = torch.device(device) if device is not None else default_device()

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
