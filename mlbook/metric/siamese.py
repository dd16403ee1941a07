"""Siamese networks for one-shot verification (Koch et al., 2015), trained inside the episode interface.

Two copies of one embedding f_θ read a pair of images; learned weights w_d and a bias b on their component-wise
L1 distance give the probability that both show the same character,

    p(same | x_a, x_b) = σ( Σ_d w_d |f_θ(x_a)_d - f_θ(x_b)_d| + b ).

Training is verification, not classification: from each episode's support and query images (all
N·(K+Q) of them, embedded once) we form every pair, label it same/different and minimise a class-balanced
binary cross-entropy. One-shot classification then picks the support example the network deems most
likely to be the same character (for K > 1 shots: the class with the highest mean score).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mlbook.data.episodes import Episode
from mlbook.metric.base import MetricMethod
from mlbook.validate import check_positive_int, check_tensor


class SiameseNetwork(MetricMethod):
    """Siamese verification network. ``embedding_dim`` is needed only if the encoder has no
    ``embedding_dim`` attribute; ``projection`` optionally adds Koch's sigmoid fully connected layer."""

    def __init__(
        self,
        encoder: nn.Module | None = None,
        *,
        embedding_dim: int | None = None,
        projection: int | None = None,
        channels_last: bool = False,
        mixed_precision: bool = False,
    ) -> None:
        super().__init__(encoder, channels_last=channels_last, mixed_precision=mixed_precision)
        dim = embedding_dim if embedding_dim is not None else getattr(self.encoder, "embedding_dim", None)
        if dim is None:
            raise ValueError("SiameseNetwork needs embedding_dim (the encoder has no embedding_dim attribute)")
        check_positive_int("embedding_dim", dim)
        if projection is not None:
            check_positive_int("projection", projection)
        self.projection = nn.Sequential(nn.Linear(dim, projection), nn.Sigmoid()) if projection else nn.Identity()
        self.verify = nn.Linear(projection or dim, 1)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.projection(super().embed(x))

    def pair_logits(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        """``[A, B]`` logits of p(same) for every pair of embeddings ``a`` ``[A, D]`` and ``b`` ``[B, D]``."""
        features = self.verify.in_features
        for name, embeddings in (("a", a), ("b", b)):
            check_tensor(name, embeddings, ndim=2, floating=True)
            if embeddings.shape[1] != features:
                raise ValueError(f"{name} must be [rows, {features}] embeddings, got shape {tuple(embeddings.shape)}")
        return self.verify((a.unsqueeze(1) - b.unsqueeze(0)).abs()).squeeze(-1)

    def class_scores(self, pair_logits: torch.Tensor, support_y: torch.Tensor, n_way: int) -> torch.Tensor:
        """``[Q, N]``: mean verification logit of each query against each class's support examples."""
        one_hot = F.one_hot(support_y, n_way).to(pair_logits.dtype)
        return pair_logits @ one_hot / one_hot.sum(dim=0)

    def forward(self, episode: Episode) -> torch.Tensor:
        support, query = self.embed_episode(episode)
        return self.class_scores(self.pair_logits(query, support), episode.support_y, episode.n_way)

    def episode_loss(self, episode: Episode) -> tuple[torch.Tensor, dict[str, float]]:
        support, query = self.embed_episode(episode)
        embeddings = torch.cat([support, query])
        labels = torch.cat([episode.support_y, episode.query_y])
        logits = self.pair_logits(embeddings, embeddings)
        same = (labels.unsqueeze(0) == labels.unsqueeze(1)).to(logits.dtype)
        upper = torch.triu(torch.ones_like(same, dtype=torch.bool), diagonal=1)  # each unordered pair once
        pair_logits, pair_same = logits[upper], same[upper]
        positives = pair_same.sum().clamp_min(1.0)
        negatives = (1 - pair_same).sum().clamp_min(1.0)
        # balance: same pairs and different pairs each carry half of the loss
        weights = pair_same * (0.5 / positives) + (1 - pair_same) * (0.5 / negatives)
        loss = F.binary_cross_entropy_with_logits(pair_logits, pair_same, weight=weights, reduction="sum")
        n_support = support.shape[0]
        scores = self.class_scores(logits[n_support:, :n_support], episode.support_y, episode.n_way)
        accuracy = (scores.argmax(dim=1) == episode.query_y).float().mean()
        pair_accuracy = ((pair_logits > 0).to(logits.dtype) == pair_same).float().mean()
        return loss, {"accuracy": float(accuracy), "pair_accuracy": float(pair_accuracy)}

    def predict(self, episode: Episode) -> torch.Tensor:
        """``[Q, N]`` class scores (mean same-logit against the class's support examples)."""
        return self(episode)
