"""``EpisodicMethod``: the one interface every few-shot method of the book implements.

A method is an ``nn.Module`` with two duties:

* ``episode_loss(episode) -> (loss, metrics)`` -- the meta-training loss on one task's query set after
  whatever the method does with the support set;
* ``predict(episode) -> outputs`` for the query set: ``[Q, N]`` scores (classification) or ``[Q, ...]``
  predictions (regression).

The shared loop calls ``training_step``; its default averages ``episode_loss`` over a meta-batch and takes
one optimiser step. Methods that meta-learn differently (Reptile) or batch tasks (``vmap``) override
``batch_loss`` or ``training_step``; nothing else changes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from mlbook.data.episodes import Episode
from mlbook.validate import check_labels, check_list_of, check_optimizer, check_same_length, check_tensor


class EpisodicMethod(nn.Module):
    #: methods that adapt with gradients at test time (MAML) set this, so evaluation keeps autograd on
    adapts_at_test_time: bool = False

    def episode_loss(self, episode: Episode) -> tuple[torch.Tensor, dict[str, float]]:
        raise NotImplementedError

    def predict(self, episode: Episode) -> torch.Tensor:
        raise NotImplementedError

    def batch_loss(self, episodes: list[Episode]) -> tuple[torch.Tensor, dict[str, float]]:
        """Mean loss (and mean metrics) over the tasks of a meta-batch (a non-empty list of ``Episode``)."""
        check_list_of("episodes", episodes, Episode, "Episode")  # a meta-batch
        losses, totals = [], {}
        for episode in episodes:
            loss, metrics = self.episode_loss(episode)
            losses.append(loss)
            for name, value in metrics.items():
                totals[name] = totals.get(name, 0.0) + float(value)
        return torch.stack(losses).mean(), {name: value / len(episodes) for name, value in totals.items()}

    def training_step(self, episodes: list[Episode], optimizer: torch.optim.Optimizer) -> dict[str, float]:
        check_optimizer("optimizer", optimizer)
        loss, metrics = self.batch_loss(episodes)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        return {"loss": float(loss.detach()), **metrics}


def classification_loss(logits: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
    """Cross-entropy and accuracy, the metrics pair every classification method reports.

    ``logits`` is ``[Q, N]`` floating point, ``labels`` ``[Q]`` class indices in ``[0, N)``; anything else (float
    labels, which ``cross_entropy`` would take as soft targets, or labels out of range) raises a clear error."""
    check_tensor("logits", logits, ndim=2, floating=True)
    check_labels("labels", labels, logits.shape[1])
    check_same_length("logits", logits, "labels", labels)
    loss = F.cross_entropy(logits, labels)
    accuracy = (logits.argmax(dim=1) == labels).float().mean()
    return loss, {"accuracy": float(accuracy)}

