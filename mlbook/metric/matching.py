"""Matching Networks (Vinyals et al., 2016).

A query x̂ is labelled by attention over the whole support set D_i^tr = {(x_j, y_j)}:

    P(y = k | x̂, D_i^tr) = Σ_j a(x̂, x_j) [y_j = k],    a(x̂, x_j) = softmax_j( τ · cos(f_θ(x̂), f_θ(x_j)) ).

Query and support examples share the encoder f_θ, and without full context embeddings (FCE) 1-shot
Matching Networks coincide with cosine ProtoNets. With FCE (the paper's embedding functions g and f), g runs
a bidirectional LSTM over the support embeddings (so each g(x_j) sees the whole support set) and f refines
the query embedding with an LSTM that attends over the g(x_j) for a few "processing steps". The learnable
temperature τ is a small, common addition: raw cosines in [-1, 1]
make a softmax over many support examples almost uniform.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mlbook.data.episodes import Episode
from mlbook.metric.base import MetricMethod
from mlbook.metric.distances import cosine_similarity
from mlbook.validate import check_bool, check_positive, check_positive_int, check_tensor


class FullContextEmbedding(nn.Module):
    """The two FCE functions of Vinyals et al.: g over the support set, f for a query given g's output.

    ``g(S)``: a bidirectional LSTM over the support embeddings (in the given order) plus a skip connection,
    g(x_j) = h_fw_j + h_bw_j + g'(x_j). ``f(x̂, G)``: ``steps`` rounds of an LSTM cell whose state is read out
    as h_k = ĥ_k + f'(x̂) and whose next input state adds r_k = Σ_j softmax(h_k · g_j) g_j (we add the read-out
    to the hidden state instead of concatenating it, which keeps every size equal to the embedding size).
    The first step starts from h = r = 0, so only from the second step on does f(x̂) depend on the support
    set: ``steps`` must be >= 2 for a context-aware query embedding.
    """

    def __init__(self, dim: int, steps: int = 3) -> None:
        super().__init__()
        check_positive_int("dim", dim)
        check_positive_int("steps", steps)
        self.dim, self.steps = dim, steps
        self.support_lstm = nn.LSTM(dim, dim, batch_first=True, bidirectional=True)
        self.query_cell = nn.LSTMCell(dim, dim)

    def _check_embeddings(self, name: str, embeddings) -> None:
        check_tensor(name, embeddings, ndim=2, floating=True)
        if embeddings.shape[1] != self.dim:
            raise ValueError(
                f"{name} must be [rows, {self.dim}] embeddings (dim={self.dim}), got {tuple(embeddings.shape)}"
            )

    def context_support(self, support: torch.Tensor) -> torch.Tensor:
        """g over the support embeddings ``[S, dim]``."""
        self._check_embeddings("support", support)
        out, _ = self.support_lstm(support.unsqueeze(0))  # [1, S, 2D]
        forward, backward = out[0].split(self.dim, dim=-1)
        return support + forward + backward

    def context_query(self, query: torch.Tensor, support_g: torch.Tensor) -> torch.Tensor:
        """f for the query embeddings ``[Q, dim]`` given g's output ``support_g`` ``[S, dim]``."""
        self._check_embeddings("query", query)
        self._check_embeddings("support_g", support_g)
        h = torch.zeros_like(query)
        c = torch.zeros_like(query)
        readout = torch.zeros_like(query)
        for _ in range(self.steps):
            h_hat, c = self.query_cell(query, (h + readout, c))
            h = h_hat + query
            readout = torch.softmax(h @ support_g.T, dim=1) @ support_g
        return h


class MatchingNetwork(MetricMethod):
    """Matching Networks. ``fce=True`` adds full context embeddings (needs ``embedding_dim`` unless the
    encoder has an ``embedding_dim`` attribute, as ``Conv4`` does); ``scale`` (a finite number > 0)
    initialises τ."""

    def __init__(
        self,
        encoder: nn.Module | None = None,
        *,
        fce: bool = False,
        fce_steps: int = 3,
        embedding_dim: int | None = None,
        scale: float = 10.0,
        learn_scale: bool = True,
        channels_last: bool = False,
        mixed_precision: bool = False,
    ) -> None:
        super().__init__(encoder, channels_last=channels_last, mixed_precision=mixed_precision)
        check_positive("scale", scale)
        check_bool("fce", fce)
        check_bool("learn_scale", learn_scale)
        check_positive_int("fce_steps", fce_steps)
        if embedding_dim is not None:
            check_positive_int("embedding_dim", embedding_dim)
        self.log_scale = nn.Parameter(torch.tensor(float(scale)).log(), requires_grad=learn_scale)
        self.fce: FullContextEmbedding | None = None
        if fce:
            dim = embedding_dim if embedding_dim is not None else getattr(self.encoder, "embedding_dim", None)
            if dim is None:
                raise ValueError("fce=True needs embedding_dim (the encoder has no embedding_dim attribute)")
            self.fce = FullContextEmbedding(dim, fce_steps)

    def attention(self, episode: Episode) -> torch.Tensor:
        """``[Q, S]`` attention weights a(x̂, x_j) of every query over every support example (rows sum to 1)."""
        support, query = self.embed_episode(episode)
        if self.fce is not None:
            support = self.fce.context_support(support)
            query = self.fce.context_query(query, support)
        return torch.softmax(self.log_scale.exp() * cosine_similarity(query, support), dim=1)

    def class_probabilities(self, attention: torch.Tensor, support_y: torch.Tensor, n_way: int) -> torch.Tensor:
        """``[Q, N]``: the attention mass each class receives, Σ_j a_j [y_j = k]."""
        return attention @ F.one_hot(support_y, n_way).to(attention.dtype)

    def forward(self, episode: Episode) -> tuple[torch.Tensor, torch.Tensor]:
        """``(log class probabilities [Q, N], attention [Q, S])``."""
        attention = self.attention(episode)
        probabilities = self.class_probabilities(attention, episode.support_y, episode.n_way)
        return probabilities.clamp_min(1e-12).log(), attention

    def episode_loss(self, episode: Episode) -> tuple[torch.Tensor, dict[str, float]]:
        log_probabilities, _ = self(episode)
        loss = F.nll_loss(log_probabilities, episode.query_y)
        accuracy = (log_probabilities.argmax(dim=1) == episode.query_y).float().mean()
        return loss, {"accuracy": float(accuracy)}

    def predict(self, episode: Episode) -> torch.Tensor:
        return self(episode)[0]
