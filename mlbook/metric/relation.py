"""Relation Networks (Sung et al., 2018): learn the comparison itself.

The embedding f_θ keeps spatial feature maps. For every (query, class) pair the relation module g_ψ reads
the concatenated maps [f_θ(x̂), c_k] -- c_k the class's mean support map -- and outputs a relation score
r_k(x̂) = g_ψ([f_θ(x̂), c_k]) ∈ (0, 1). Training regresses r_k onto 1 for the right class and 0 otherwise
(mean squared error, as in the paper; ``loss="cross_entropy"`` -- our default -- uses a softmax over the
relation logits instead). The metric is no longer fixed: g_ψ is a small learned network
(its parameters ψ are meta-learned with θ; φ is reserved for task parameters).
The paper sums the support maps of a class; we average them, so one module serves any number of shots.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mlbook.data.episodes import Episode
from mlbook.metric.base import MetricMethod
from mlbook.metric.distances import class_means
from mlbook.models import Conv4, make_norm
from mlbook.validate import check_choice, check_positive_int, check_tensor

LOSSES = ("mse", "cross_entropy")


def feature_map_encoder(hidden: int = 64, blocks: int = 3, norm: str = "batch", image_size: int = 28) -> nn.Sequential:
    """The first ``blocks`` conv blocks of ``Conv4`` without the flatten: ``[B, hidden, s, s]`` maps
    (s = 3 for 3 blocks at 28x28)."""
    check_positive_int("blocks", blocks)
    if blocks > 4:
        raise ValueError(f"blocks must be in [1, 4], got {blocks}")
    conv4 = Conv4(hidden=hidden, norm=norm, image_size=image_size)
    return nn.Sequential(*list(conv4.features)[:blocks])


class RelationModule(nn.Module):
    """g_ψ: two conv blocks over the 2C-channel pair maps, global max-pool, then C -> ``hidden`` -> 1."""

    def __init__(self, channels: int = 64, hidden: int = 8, norm: str = "batch") -> None:
        super().__init__()
        check_positive_int("channels", channels)
        check_positive_int("hidden", hidden)
        self.channels = channels
        self.body = nn.Sequential(
            nn.Conv2d(2 * channels, channels, kernel_size=3, padding=1),
            make_norm(norm, channels),
            nn.ReLU(),
            nn.Conv2d(channels, channels, kernel_size=3, padding=1),
            make_norm(norm, channels),
            nn.ReLU(),
            nn.AdaptiveMaxPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Sequential(nn.Linear(channels, hidden), nn.ReLU(), nn.Linear(hidden, 1))

    def forward(self, pairs: torch.Tensor) -> torch.Tensor:
        """``pairs`` ``[P, 2C, s, s]`` -> relation logits ``[P]`` (apply a sigmoid for scores in (0, 1))."""
        check_tensor("pairs", pairs, ndim=4, floating=True)
        if pairs.shape[1] != 2 * self.channels:
            raise ValueError(
                f"pairs must be [P, {2 * self.channels}, s, s] (query and class maps of {self.channels} channels "
                f"concatenated), got shape {tuple(pairs.shape)}"
            )
        return self.head(self.body(pairs)).squeeze(-1)


class RelationNetwork(MetricMethod):
    """Relation Network. The encoder must return feature maps ``[B, C, s, s]`` (default: 3 Conv4 blocks).

    ``loss="mse"`` is the paper's (squared error between sigmoid scores and one-hot targets); the default
    ``"cross_entropy"`` treats the relation logits as class logits, which learns much faster at the start
    (with squared error all scores first drift to 0, the right answer for N-1 of every N pairs).
    """

    def __init__(
        self,
        encoder: nn.Module | None = None,
        *,
        channels: int = 64,
        relation_hidden: int = 8,
        norm: str = "batch",
        loss: str = "cross_entropy",
        channels_last: bool = False,
        mixed_precision: bool = False,
    ) -> None:
        check_choice("loss", loss, LOSSES)
        check_positive_int("channels", channels)
        check_positive_int("relation_hidden", relation_hidden)
        encoder = encoder if encoder is not None else feature_map_encoder(hidden=channels, norm=norm)
        super().__init__(encoder, channels_last=channels_last, mixed_precision=mixed_precision)
        self.relation = RelationModule(channels, relation_hidden, norm)
        if self.channels_last:
            self.relation.to(memory_format=torch.channels_last)
        self.loss = loss

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        maps = super().embed(x)
        if maps.ndim != 4:
            raise ValueError(f"a Relation Network's encoder must return [B, C, s, s] maps, got {tuple(maps.shape)}")
        return maps

    def relation_logits(self, episode: Episode) -> torch.Tensor:
        """``[Q, N]`` logits of the relation scores r_k(x̂) (scores = sigmoid of these)."""
        support, query = self.embed_episode(episode)
        shape = support.shape[1:]
        classes = class_means(support.flatten(1), episode.support_y, episode.n_way).view(-1, *shape)
        n_query, n_way = query.shape[0], classes.shape[0]
        pairs = torch.cat(
            [
                query.unsqueeze(1).expand(n_query, n_way, *shape),
                classes.unsqueeze(0).expand(n_query, n_way, *shape),
            ],
            dim=2,
        ).reshape(n_query * n_way, 2 * shape[0], *shape[1:])
        if self.channels_last:
            pairs = pairs.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device_type=pairs.device.type, dtype=torch.bfloat16, enabled=self.mixed_precision):
            logits = self.relation(pairs)
        return logits.float().view(n_query, n_way)

    def episode_loss(self, episode: Episode) -> tuple[torch.Tensor, dict[str, float]]:
        logits = self.relation_logits(episode)
        if self.loss == "mse":
            target = F.one_hot(episode.query_y, episode.n_way).to(logits.dtype)
            loss = F.mse_loss(torch.sigmoid(logits), target)
        else:
            loss = F.cross_entropy(logits, episode.query_y)
        accuracy = (logits.argmax(dim=1) == episode.query_y).float().mean()
        return loss, {"accuracy": float(accuracy)}

    def predict(self, episode: Episode) -> torch.Tensor:
        """Relation scores in (0, 1), ``[Q, N]``."""
        return torch.sigmoid(self.relation_logits(episode))
