"""Metric-based (non-parametric) meta-learning: learn an embedding in which a simple rule classifies.

* ``PrototypicalNetwork`` -- nearest class mean (squared Euclidean or scaled cosine);
* ``MatchingNetwork`` -- attention over the support set (optionally with full context embeddings);
* ``RelationNetwork`` -- a learned comparison module;
* ``SiameseNetwork`` -- pairwise verification, one-shot by the most similar support example.

All are ``mlbook.training.EpisodicMethod``s: train them with ``mlbook.training.train`` and evaluate with
``mlbook.training.evaluate`` / ``evaluate_oneshot``.
"""

from mlbook.metric.base import MetricMethod, check_episode, default_encoder, fast_bfloat16, with_batch_statistics
from mlbook.metric.distances import (
    DISTANCES,
    class_means,
    cosine_similarity,
    euclidean,
    l1_distance,
    pairwise_logits,
    squared_euclidean,
)
from mlbook.metric.matching import FullContextEmbedding, MatchingNetwork
from mlbook.metric.protonet import PrototypicalNetwork
from mlbook.metric.recipes import (
    DISPLAY_NAMES,
    METHOD_NAMES,
    METHOD_RECIPES,
    RECIPE,
    build_method,
    cosine_schedule,
    method_from_recipe,
    recipe_for,
    sampler_from_recipe,
    train_from_recipe,
    training_sampler,
)
from mlbook.metric.relation import RelationModule, RelationNetwork, feature_map_encoder
from mlbook.metric.siamese import SiameseNetwork

__all__ = [
    "DISPLAY_NAMES",
    "DISTANCES",
    "METHOD_NAMES",
    "METHOD_RECIPES",
    "RECIPE",
    "FullContextEmbedding",
    "MatchingNetwork",
    "MetricMethod",
    "PrototypicalNetwork",
    "RelationModule",
    "RelationNetwork",
    "SiameseNetwork",
    "build_method",
    "check_episode",
    "class_means",
    "cosine_schedule",
    "cosine_similarity",
    "default_encoder",
    "euclidean",
    "fast_bfloat16",
    "feature_map_encoder",
    "l1_distance",
    "method_from_recipe",
    "pairwise_logits",
    "recipe_for",
    "sampler_from_recipe",
    "squared_euclidean",
    "train_from_recipe",
    "training_sampler",
    "with_batch_statistics",
]
