"""The original Omniglot one-shot benchmark (Lake et al. 2015): 20 runs x 20 trials, 20-way, within alphabet.

Each run has 20 training images (one per character, all from one evaluation alphabet) and 20 test images
(another drawer's version of each). A classifier sees the 20 training images as its support set and must
name the training image of each test image. The score is the error rate in percent over the 400 trials.
"""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from mlbook.data.omniglot import _check_image_size, decode_png
from mlbook.data.sources import OMNIGLOT_FILES, fetch
from mlbook.utils import mean_confidence_interval
from mlbook.validate import check_bool, check_callable, check_number, check_tensor

Classifier = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class OneShotRun:
    """One run: ``support`` ``[20, 1, H, W]`` (training images, class01..class20), ``query`` ``[20, 1, H, W]``
    (test images, item01..item20) and ``answers[i]`` = index into ``support`` of query ``i``'s class."""

    name: str
    support: torch.Tensor
    query: torch.Tensor
    answers: torch.Tensor

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a str such as 'run01', got {self.name!r}")
        check_tensor("support", self.support, ndim=4, floating=True, non_empty=True)
        check_tensor("query", self.query, ndim=4, floating=True, non_empty=True)
        check_tensor("answers", self.answers, ndim=1, floating=False)
        if len(self.answers) != len(self.query) or int(self.answers.min()) < 0 or int(self.answers.max()) >= len(
            self.support
        ):
            raise ValueError(
                f"answers must hold one index in [0, {len(self.support) - 1}] (into support) per query image "
                f"({len(self.query)}), got {self.answers.tolist()}"
            )


@dataclass
class OneShotResult:
    """Scores of a classifier on the benchmark. Errors are in percent, as the literature reports them."""

    error_percent: float
    run_error_percent: list[float]
    predictions: torch.Tensor  # [runs, 20] predicted support index for every query
    answers: torch.Tensor  # [runs, 20]

    def __post_init__(self) -> None:
        check_number("error_percent", self.error_percent, low=0.0, high=100.0)
        if isinstance(self.run_error_percent, str) or not isinstance(self.run_error_percent, list | tuple):
            raise TypeError(f"run_error_percent must be a list of percentages, got {self.run_error_percent!r}")
        for i, value in enumerate(self.run_error_percent):
            check_number(f"run_error_percent[{i}]", value, low=0.0, high=100.0)
        check_tensor("predictions", self.predictions, ndim=2, floating=False)
        check_tensor("answers", self.answers, ndim=2, floating=False)
        if self.predictions.shape != self.answers.shape:
            raise ValueError(
                f"predictions must have the shape of answers {tuple(self.answers.shape)} (runs, trials), "
                f"got {tuple(self.predictions.shape)}"
            )

    @property
    def accuracy(self) -> float:
        return 100.0 - self.error_percent

    def ci95(self) -> float:
        """Half-width (percent) of a 95% confidence interval of the error over the runs."""
        return mean_confidence_interval(self.run_error_percent)[1]

    def __str__(self) -> str:
        return f"one-shot error {self.error_percent:.1f}% (± {self.ci95():.1f} over {len(self.run_error_percent)} runs)"


def load_oneshot_runs(image_size: int | None = 28, download: bool = True) -> list[OneShotRun]:
    """The 20 runs of ``all_runs.zip``; images in ``[0, 1]`` with ink = 1 (``None`` keeps 105x105)."""
    _check_image_size(image_size)
    check_bool("download", download)
    archive = fetch(OMNIGLOT_FILES["all_runs"], download=download)
    runs = []
    with zipfile.ZipFile(archive) as zf:
        run_names = sorted({n.split("/")[0] for n in zf.namelist() if n.startswith("run")})
        for run in run_names:
            runs.append(_read_run(zf, run, image_size))
    return runs


def _read_run(zf: zipfile.ZipFile, run: str, image_size: int | None) -> OneShotRun:
    pairs = [line.split() for line in zf.read(f"{run}/class_labels.txt").decode().splitlines() if line.strip()]
    answer_of = dict(pairs)  # "run01/test/item01.png" -> "run01/training/class08.png"
    test_files = sorted(answer_of)
    train_files = sorted(n for n in zf.namelist() if n.startswith(f"{run}/training/") and n.endswith(".png"))
    if sorted(set(answer_of.values())) != train_files:
        raise ValueError(f"{run}: class_labels.txt does not match the training images in all_runs.zip")

    def load(files: list[str]) -> torch.Tensor:
        arrays = np.stack([decode_png(zf.read(f), image_size) for f in files]).astype(np.float32) / 255.0
        return torch.from_numpy(arrays).unsqueeze(1)

    answers = torch.tensor([train_files.index(answer_of[t]) for t in test_files])
    return OneShotRun(run, load(train_files), load(test_files), answers)


def score_oneshot(classify: Classifier, runs: list[OneShotRun] | None = None) -> OneShotResult:
    """Score ``classify(support, query) -> predicted support index per query`` on the benchmark.

    ``classify`` receives ``support`` ``[20, 1, H, W]`` and ``query`` ``[20, 1, H, W]`` and returns a
    ``[20]`` tensor of indices into ``support``. Error rate = wrong trials / 400, in percent. Predictions that
    are not whole numbers (e.g. fractional floats, never truncated) or lie outside ``support`` raise a
    ``TypeError``/``ValueError`` naming ``classify``.
    """
    check_callable("classify", classify)
    runs = load_oneshot_runs() if runs is None else runs
    if not isinstance(runs, list | tuple) or not runs:
        raise ValueError(f"runs must be a non-empty list of OneShotRun, got {type(runs).__name__}")
    for i, run in enumerate(runs):
        if not isinstance(run, OneShotRun):
            raise TypeError(f"runs[{i}] must be a OneShotRun (from load_oneshot_runs), got {type(run).__name__}")
    predictions = []
    for run in runs:
        predicted = _whole_numbers(torch.as_tensor(classify(run.support, run.query)).detach().cpu(), run.name)
        if predicted.shape not in (run.answers.shape, (*run.answers.shape, 1)):  # [Q] or a kept dimension [Q, 1]
            raise ValueError(
                f"classify must return {tuple(run.answers.shape)} support indices for {run.name}, "
                f"got shape {tuple(predicted.shape)}"
            )
        predicted = predicted.long().view(-1)
        if predicted.min() < 0 or predicted.max() >= len(run.support):
            raise ValueError(f"classify must return indices in [0, {len(run.support) - 1}] for {run.name}")
        predictions.append(predicted)
    predictions_t = torch.stack(predictions)
    answers = torch.stack([run.answers for run in runs])
    wrong = (predictions_t != answers).double()
    return OneShotResult(
        error_percent=100.0 * wrong.mean().item(),
        run_error_percent=(100.0 * wrong.mean(dim=1)).tolist(),
        predictions=predictions_t,
        answers=answers,
    )


def nearest_by_distance(distance: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> Classifier:
    """Turn ``distance(query, support) -> [Q, S]`` into a one-shot classifier (nearest support wins)."""
    check_callable("distance", distance)

    def classify(support: torch.Tensor, query: torch.Tensor) -> torch.Tensor:
        return distance(query, support).argmin(dim=1)

    return classify


def _whole_numbers(predicted: torch.Tensor, run: str) -> torch.Tensor:
    """``classify``'s output, refused unless it holds whole numbers (an integer dtype, or floats such as 3.0)."""
    if predicted.dtype == torch.bool or predicted.is_complex():
        raise TypeError(f"classify must return integer support indices for {run}, got dtype {predicted.dtype}")
    if predicted.is_floating_point() and not bool((predicted == predicted.round()).all()):
        raise ValueError(
            f"classify must return whole-number support indices for {run} (e.g. distances.argmin(dim=1)), "
            f"got fractional values such as {predicted[predicted != predicted.round()][0].item()}"
        )
    return predicted


#: Published error rates (percent) on this benchmark, for tables beside our own numbers, each with its source
#: (a key of ``book/references.bib``) and the protocol that produced it. ``training`` is the regime:
#: "minimal": trained on one 5-alphabet "minimal" background split (``per_split`` gives splits 1 and 2 where the
#: source reports both; ``error_percent`` is then their mean); "full": the 30-alphabet background set (or more);
#: "none": no training at all; "human": people, who bring a lifetime of experience with written symbols.
#: Checked against the primary sources: Lake et al. 2015 (Science, BPL, ConvNet, humans, and the modified
#: Hausdorff demo in the data repository), Lake et al. 2019 (arXiv 1902.03477, table 1), Koch et al. 2015.
PUBLISHED_ERRORS = [
    {"method": "Humans", "training": "human", "error_percent": 4.5, "source": "lake2015human",
     "protocol": "people (not trained on a minimal split): Amazon Mechanical Turk participants, 20-way within "
     "alphabet as here"},
    {"method": "Bayesian Program Learning", "training": "minimal", "error_percent": 4.15, "per_split": [4.3, 4.0],
     "source": "lake2015human", "protocol": "minimal splits 1 / 2 (5 alphabets each); mean of the two"},
    {"method": "Simple ConvNet", "training": "minimal", "error_percent": 23.15, "per_split": [24.0, 22.3],
     "source": "lake2015human", "protocol": "minimal splits 1 / 2; mean of the two"},
    {"method": "Prototypical Networks", "training": "minimal", "error_percent": 30.1, "source": "lake2019omniglot",
     "protocol": "minimal splits (Lake et al. 2019, table 1)"},
    {"method": "Bayesian Program Learning", "training": "full", "error_percent": 3.3, "source": "lake2015human",
     "protocol": "30-alphabet background set"},
    {"method": "Simple ConvNet", "training": "full", "error_percent": 13.5, "source": "lake2015human",
     "protocol": "30-alphabet background set"},
    {"method": "Siamese Networks", "training": "full", "error_percent": 8.0, "source": "koch2015siamese",
     "protocol": "30 background alphabets x 12 drawers, 8 random affine distortions per training pair, 10 more "
     "alphabets for validation"},
    {"method": "Prototypical Networks", "training": "full", "error_percent": 13.7, "source": "lake2019omniglot",
     "protocol": "30-alphabet background set (Lake et al. 2019, table 1)"},
    {"method": "Modified Hausdorff (Lake demo)", "training": "none", "error_percent": 38.8, "source": "lake2015human",
     "protocol": "no training: nearest neighbour under the modified Hausdorff distance on the stroke images"},
]
#: How the chapters cite each ``PUBLISHED_ERRORS[...]["source"]`` in text and tables.
CITATIONS = {
    "lake2015human": "Lake et al. 2015",
    "lake2019omniglot": "Lake et al. 2019, table 1",
    "koch2015siamese": "Koch et al. 2015",
}
