"""The baseline MAML is measured against: one network pretrained on all tasks, fine-tuned at test time.

Meta-training is ordinary supervised learning on the pooled data of the sampled tasks (support and query
together, no inner loop); at test time the network takes the same SGD steps on the support set that MAML
takes. On sinusoids this network learns the *average* task (≈ 0 everywhere, since phases are uniform), and
a few gradient steps from there barely move it: the gap to MAML is what "learning an initialisation for
fast adaptation" buys (Finn et al. 2017, figure 2).
"""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from mlbook.data.episodes import Episode
from mlbook.optimization.batchnorm import transductive_batchnorm
from mlbook.optimization.checks import check_episode, check_episodes, check_outputs
from mlbook.optimization.functional import parameters_of, unchecked_forward
from mlbook.optimization.learner import Learner

# the unchecked losses: each episode is checked once at the entry point, not on every inner step
from mlbook.optimization.losses import unchecked_task_loss as task_loss
from mlbook.optimization.losses import unchecked_task_metrics as task_metrics
from mlbook.training.method import EpisodicMethod
from mlbook.validate import check_module, check_positive, check_positive_int


def uses_batch_statistics(model: nn.Module) -> bool:
    """Pooling tasks into one batch would mix their BatchNorm statistics."""
    return any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules())


class PretrainedFineTune(EpisodicMethod):
    """Joint training on all tasks, then ``test_inner_steps`` SGD steps of size ``inner_lr`` per test task."""

    adapts_at_test_time = True

    def __init__(self, model: nn.Module, inner_lr: float = 0.01, test_inner_steps: int = 10) -> None:
        super().__init__()
        check_module("model", model)
        check_positive("inner_lr", inner_lr)
        check_positive_int("test_inner_steps", test_inner_steps)
        self.model = transductive_batchnorm(model)
        self.inner_lr, self.test_inner_steps = float(inner_lr), test_inner_steps
        self.adaptable = tuple(name for name, _ in self.model.named_parameters())

    def step_sizes(self, step: int) -> dict[str, float]:
        return dict.fromkeys(self.adaptable, self.inner_lr)

    def clone(self) -> Learner:
        params = {n: p.detach().requires_grad_() for n, p in parameters_of(self.model).items()}
        return Learner(
            partial(unchecked_forward, self.model), params, self.adaptable, self.step_sizes, second_order=False
        )

    def episode_loss(self, episode: Episode) -> tuple[torch.Tensor, dict[str, float]]:
        check_episode(episode, self.model)
        x = torch.cat([episode.support_x, episode.query_x])
        y = torch.cat([episode.support_y, episode.query_y])
        outputs = self.model(x)
        check_outputs(outputs, y, episode.n_way)
        return task_loss(outputs, y), task_metrics(outputs.detach(), y)

    def batch_loss(self, episodes: list[Episode]) -> tuple[torch.Tensor, dict[str, float]]:
        """All tasks' points in one batch (equal-sized tasks: the same mean as averaging per-task losses)."""
        check_episodes(episodes, self.model)
        sizes = {(e.support_x.shape, e.query_x.shape) for e in episodes}
        if len(sizes) != 1 or uses_batch_statistics(self.model):
            return super().batch_loss(episodes)
        x = torch.cat([torch.cat([e.support_x, e.query_x]) for e in episodes])
        y = torch.cat([torch.cat([e.support_y, e.query_y]) for e in episodes])
        outputs = self.model(x)
        check_outputs(outputs, y, episodes[0].n_way)
        return task_loss(outputs, y), task_metrics(outputs.detach(), y)

    def predict(self, episode: Episode, steps: int | None = None) -> torch.Tensor:
        steps = self.test_inner_steps if steps is None else steps
        check_positive_int("steps", steps, minimum=0)
        check_episode(episode, self.model)
        learner = self.clone()
        with torch.enable_grad():
            for step in range(steps):
                outputs = learner(episode.support_x)
                if step == 0:  # the first forward of the episode: do the model's outputs fit its labels?
                    check_outputs(outputs, episode.support_y, episode.n_way)
                learner.adapt(task_loss(outputs, episode.support_y))
        outputs = learner(episode.query_x).detach()
        check_outputs(outputs, episode.query_y, episode.n_way)
        return outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)
