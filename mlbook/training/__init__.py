"""The shared episodic training loop, evaluation (mean ± 95% CI) and checkpoints."""

from mlbook.training.checkpoint import load_checkpoint, save_checkpoint
from mlbook.training.evaluate import (
    EvalResult,
    as_oneshot_classifier,
    episode_metric,
    evaluate,
    evaluate_oneshot,
    predict,
)
from mlbook.training.loop import TrainHistory, train
from mlbook.training.method import EpisodicMethod, classification_loss

__all__ = [
    "EpisodicMethod",
    "EvalResult",
    "TrainHistory",
    "as_oneshot_classifier",
    "classification_loss",
    "episode_metric",
    "evaluate",
    "evaluate_oneshot",
    "load_checkpoint",
    "predict",
    "save_checkpoint",
    "train",
]
