"""Data: Omniglot and its one-shot benchmark, episodes, sinusoid tasks, the 8x8 digits."""

from mlbook.data.dataset import LabelledImages
from mlbook.data.digits import load_digits
from mlbook.data.episodes import Episode, EpisodeSampler
from mlbook.data.omniglot import SPLITS, load_omniglot, minimal_splits
from mlbook.data.oneshot import (
    PUBLISHED_ERRORS,
    OneShotResult,
    OneShotRun,
    load_oneshot_runs,
    nearest_by_distance,
    score_oneshot,
)
from mlbook.data.sinusoid import SinusoidTask, SinusoidTasks
from mlbook.data.sources import ChecksumError, DataNotFoundError

__all__ = [
    "PUBLISHED_ERRORS",
    "SPLITS",
    "ChecksumError",
    "DataNotFoundError",
    "Episode",
    "EpisodeSampler",
    "LabelledImages",
    "OneShotResult",
    "OneShotRun",
    "SinusoidTask",
    "SinusoidTasks",
    "load_digits",
    "load_omniglot",
    "load_oneshot_runs",
    "minimal_splits",
    "nearest_by_distance",
    "score_oneshot",
]
