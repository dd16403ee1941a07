"""Data: Omniglot and its one-shot benchmark, episodes, sinusoid tasks, the 8x8 digits, multi-task data sets."""

from mlbook.data.dataset import LabelledImages
from mlbook.data.digits import load_digits
from mlbook.data.episodes import Episode, EpisodeSampler
from mlbook.data.multidigits import MultiTaskImages, digit_pools, make_multidigits
from mlbook.data.omniglot import SPLITS, load_omniglot, minimal_splits
from mlbook.data.omniglot_tasks import drawer_ids, omniglot_multitask, per_alphabet_tasks, split_by_drawer
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
    "ChecksumError",
    "DataNotFoundError",
    "Episode",
    "EpisodeSampler",
    "LabelledImages",
    "MultiTaskImages",
    "OneShotResult",
    "OneShotRun",
    "PUBLISHED_ERRORS",
    "SPLITS",
    "SinusoidTask",
    "SinusoidTasks",
    "digit_pools",
    "drawer_ids",
    "load_digits",
    "load_omniglot",
    "load_oneshot_runs",
    "make_multidigits",
    "minimal_splits",
    "nearest_by_distance",
    "omniglot_multitask",
    "per_alphabet_tasks",
    "score_oneshot",
    "split_by_drawer",
]
