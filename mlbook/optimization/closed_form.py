"""A differentiable closed-form head: ridge regression on learned features (R2D2, Bertinetto et al. 2019).

Instead of taking gradient steps, the inner loop *solves* for the head. With support features X (n x d, a
column of ones appended for the bias) and targets Y (one-hot labels, or regression targets):

    W = argmin ||X W - Y||² + λ ||W||²  =  X^T (X X^T + λ I)^{-1} Y     (Woodbury: an n x n system)

n = N·K is tiny in few-shot learning, so the solve is cheap and exact, and ``torch.linalg.solve`` is
differentiable: the meta-gradient flows through W into the feature extractor θ and into λ. Classification
scores are rescaled by a learned α, since ridge outputs regress towards {0, 1} and are too flat for a softmax.
R2D2's "adjust" layer also adds a learned scalar β; under a softmax a constant added to every logit cancels,
so β's gradient is exactly zero and it could never learn: it is left out. (A per-class bias would be no better:
class positions are relabelled in every episode. Each class already gets its own intercept, the ones column
of X, fitted per task.)
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from mlbook.data.episodes import Episode
from mlbook.optimization.batchnorm import transductive_batchnorm
from mlbook.optimization.checks import check_episode

# the unchecked losses: each episode is checked once at the entry point
from mlbook.optimization.losses import unchecked_task_loss as task_loss
from mlbook.optimization.losses import unchecked_task_metrics as task_metrics
from mlbook.training.method import EpisodicMethod
from mlbook.validate import check_bool, check_module, check_positive, check_tensor


def ridge_solution(features: torch.Tensor, targets: torch.Tensor, ridge: torch.Tensor | float) -> torch.Tensor:
    """W = X^T (X X^T + λ I)^{-1} Y with X = [features, 1]; returns ``[d + 1, outputs]``. ``ridge`` λ must be a
    finite number > 0 (a one-element tensor in R2D2, where it is learned)."""
    check_tensor("features", features, floating=True)
    check_tensor("targets", targets, floating=True)
    if features.ndim != 2 or targets.ndim != 2 or features.shape[0] != targets.shape[0]:
        raise ValueError(
            f"features must be [n, d] and targets [n, outputs] with the same n, got {tuple(features.shape)} "
            f"and {tuple(targets.shape)}"
        )
    if isinstance(ridge, torch.Tensor):
        if ridge.numel() != 1:
            raise ValueError(f"ridge must be one number, got a tensor of shape {tuple(ridge.shape)}")
        check_positive("ridge", float(ridge.detach()))
    else:
        check_positive("ridge", ridge)
    return unchecked_ridge_solution(features, targets, ridge)


def unchecked_ridge_solution(features: torch.Tensor, targets: torch.Tensor, ridge: torch.Tensor | float):
    """``ridge_solution`` without its checks (R2D2, on a checked episode with λ = exp(log λ) > 0)."""
    x = torch.cat([features, torch.ones_like(features[:, :1])], dim=1)
    gram = x @ x.T + ridge * torch.eye(x.shape[0], dtype=x.dtype, device=x.device)
    return x.T @ torch.linalg.solve(gram, targets)


def ridge_predict(weights: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
    """Outputs ``[n, outputs]`` of the head ``weights`` (``[d + 1, outputs]``, from ``ridge_solution``) on
    ``features`` ``[n, d]``."""
    check_tensor("weights", weights, ndim=2, floating=True)
    check_tensor("features", features, ndim=2, floating=True)
    if features.shape[1] + 1 != weights.shape[0]:
        raise ValueError(
            f"features must have weights.shape[0] - 1 = {weights.shape[0] - 1} columns (the bias row is added), "
            f"got shape {tuple(features.shape)}"
        )
    return unchecked_ridge_predict(weights, features)


def unchecked_ridge_predict(weights: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
    """``ridge_predict`` without its checks (R2D2, on a checked episode)."""
    return torch.cat([features, torch.ones_like(features[:, :1])], dim=1) @ weights


class R2D2(EpisodicMethod):
    """Ridge-regression head on an ``encoder`` (e.g. ``Conv4()`` without a head), meta-learned end to end.

    ``ridge`` is λ's initial value (learned in log space when ``learn_ridge``). For classification the
    scores are ``scale * X_q W`` with a learned ``scale`` (no scalar bias: it cancels in the softmax); for
    regression ``X_q W``.
    Each forward pass sees one task's support or query set, so the BatchNorm policy is the chapter's.
    """

    def __init__(self, encoder: nn.Module, ridge: float = 1.0, *, learn_ridge: bool = True, scale: float = 10.0):
        super().__init__()
        check_module("encoder", encoder)
        check_positive("ridge", ridge)
        check_positive("scale", scale)
        check_bool("learn_ridge", learn_ridge)
        self.encoder = transductive_batchnorm(encoder)
        log_ridge = torch.tensor(math.log(ridge))
        if learn_ridge:
            self.log_ridge = nn.Parameter(log_ridge)
        else:
            self.register_buffer("log_ridge", log_ridge)
        self.scale = nn.Parameter(torch.tensor(float(scale)))

    @property
    def ridge(self) -> torch.Tensor:
        return self.log_ridge.exp()

    def _targets(self, episode: Episode) -> torch.Tensor:
        if episode.n_way is None:
            return episode.support_y.reshape(episode.support_y.shape[0], -1)
        return F.one_hot(episode.support_y, episode.n_way).to(episode.support_x.dtype)

    def adapt_to(self, episode: Episode) -> torch.Tensor:
        """The task's head W (``[d + 1, outputs]``), solved in closed form on the support set."""
        check_episode(episode, self.encoder)
        return unchecked_ridge_solution(self.encoder(episode.support_x).flatten(1), self._targets(episode), self.ridge)

    def _outputs(self, episode: Episode) -> torch.Tensor:
        weights = self.adapt_to(episode)
        raw = unchecked_ridge_predict(weights, self.encoder(episode.query_x).flatten(1))
        if episode.n_way is None:
            return raw.reshape(episode.query_y.shape)
        return self.scale * raw

    def episode_loss(self, episode: Episode) -> tuple[torch.Tensor, dict[str, float]]:
        outputs = self._outputs(episode)
        return task_loss(outputs, episode.query_y), task_metrics(outputs.detach(), episode.query_y)

    def predict(self, episode: Episode) -> torch.Tensor:
        return self._outputs(episode)
