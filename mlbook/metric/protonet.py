"""Prototypical Networks (Snell et al., 2017).

Each class k of a task T_i is represented by the mean embedding of its support examples,
c_k = (1/|D_i,k^tr|) Σ_{x ∈ D_i,k^tr} f_θ(x) (D_i,k^tr: the support examples of class k),
and a query x̂ gets p(y = k | x̂) = softmax_k(-d(f_θ(x̂), c_k)).
With the squared Euclidean distance this is a linear classifier in embedding space (a mixture density
estimate with an exponential-family kernel); with cosine similarity a learnable scale τ sets how sharp the
softmax is (cosine scores live in [-1, 1], far too flat for a softmax on their own).
"""

from __future__ import annotations

import torch
from torch import nn

from mlbook.data.episodes import Episode
from mlbook.metric.base import MetricMethod
from mlbook.metric.distances import class_means, cosine_similarity, squared_euclidean
from mlbook.training import classification_loss
from mlbook.validate import check_choice, check_positive


class PrototypicalNetwork(MetricMethod):
    """ProtoNet over any encoder. ``distance``: ``"squared_euclidean"`` (the paper's) or ``"cosine"``
    (scaled by a learnable temperature initialised at ``scale``, a finite number > 0)."""

    DISTANCE_CHOICES = ("squared_euclidean", "cosine")

    def __init__(
        self,
        encoder: nn.Module | None = None,
        *,
        distance: str = "squared_euclidean",
        scale: float = 10.0,
        channels_last: bool = False,
        mixed_precision: bool = False,
    ) -> None:
        super().__init__(encoder, channels_last=channels_last, mixed_precision=mixed_precision)
        check_choice("distance", distance, self.DISTANCE_CHOICES)
        check_positive("scale", scale)
        self.distance = distance
        # log-parametrised so it stays positive; only used (and only trained) for cosine
        self.log_scale = nn.Parameter(torch.tensor(float(scale)).log(), requires_grad=distance == "cosine")

    def prototypes(self, support_embeddings: torch.Tensor, support_y: torch.Tensor, n_way: int) -> torch.Tensor:
        return class_means(support_embeddings, support_y, n_way)

    def logits_from_embeddings(self, query_embeddings: torch.Tensor, prototypes: torch.Tensor) -> torch.Tensor:
        if self.distance == "squared_euclidean":
            return -squared_euclidean(query_embeddings, prototypes)
        return self.log_scale.exp() * cosine_similarity(query_embeddings, prototypes)

    def forward(self, episode: Episode) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(logits [Q, N], prototypes [N, D], query embeddings [Q, D])``."""
        support, query = self.embed_episode(episode)
        protos = self.prototypes(support, episode.support_y, episode.n_way)
        return self.logits_from_embeddings(query, protos), protos, query

    def episode_loss(self, episode: Episode) -> tuple[torch.Tensor, dict[str, float]]:
        logits, _, _ = self(episode)
        return classification_loss(logits, episode.query_y)

    def predict(self, episode: Episode) -> torch.Tensor:
        return self(episode)[0]
