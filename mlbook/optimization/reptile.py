"""Reptile (Nichol et al. 2018): move θ towards the weights that plain SGD reaches on each task.

    for each task T_i of the meta-batch:  φ_i = SGD^S(θ; D_i)       (S steps, no meta-graph at all)
    θ ← θ + β · mean_i (φ_i - θ)            (β: the outer step size, ε in the paper)

No second derivatives and no query/support distinction are needed; Nichol et al. show that the update
still contains, in expectation, the term that makes MAML work (it maximises the inner product between
gradients of different batches of the same task). The meta-update is handed to the optimiser as the
"gradient" -(mean φ_i - θ), so ``torch.optim.SGD(lr=β)`` performs exactly the formula above and Adam gives
the common Adam-on-Reptile variant.
"""

from __future__ import annotations

from functools import partial

import torch
from torch import nn

from mlbook.data.episodes import Episode
from mlbook.optimization.batchnorm import transductive_batchnorm
from mlbook.optimization.checks import check_episode, check_meta_batch, check_outputs
from mlbook.optimization.functional import parameters_of, unchecked_forward
from mlbook.optimization.learner import Learner

# the unchecked losses: each episode is checked once at the entry point, not on every inner step
from mlbook.optimization.losses import unchecked_task_loss as task_loss
from mlbook.optimization.losses import unchecked_task_metrics as task_metrics
from mlbook.optimization.maml import check_inner_loop, check_shared_head, expand_shared_head
from mlbook.training.method import EpisodicMethod
from mlbook.validate import check_bool, check_choice, check_optimizer, check_positive_int


class Reptile(EpisodicMethod):
    """Reptile over any ``nn.Module`` (BatchNorm made transductive, as for MAML).

    * ``inner_lr`` and ``inner_steps``: the task-level SGD run during meta-training;
      ``test_inner_steps`` (default: the same) when adapting at test time.
    * ``train_on``: ``"support+query"`` (default: all of a task's data, as Reptile has no query set) or
      ``"support"``. Test-time adaptation always uses the support set only.
    * ``shared_head``: as for ``MAML``, one head row copied for every class (any N at test time); its Reptile
      direction is the mean over the class rows.
    """

    adapts_at_test_time = True

    def __init__(
        self,
        model: nn.Module,
        inner_lr: float = 0.1,
        inner_steps: int = 5,
        *,
        test_inner_steps: int | None = None,
        train_on: str = "support+query",
        shared_head: bool = False,
    ) -> None:
        super().__init__()
        test_inner_steps = check_inner_loop(model, inner_lr, inner_steps, test_inner_steps)
        check_choice("train_on", train_on, ("support+query", "support"))
        check_bool("shared_head", shared_head)
        self.model = transductive_batchnorm(model)
        self.inner_lr = float(inner_lr)
        self.inner_steps, self.test_inner_steps = inner_steps, test_inner_steps
        self.train_on = train_on
        self.adaptable = tuple(name for name, _ in self.model.named_parameters())
        self.shared_head = bool(shared_head)
        if shared_head:
            check_shared_head(self.model)

    def step_sizes(self, step: int) -> dict[str, float]:
        return dict.fromkeys(self.adaptable, self.inner_lr)

    def clone(self, n_way: int | None = None) -> Learner:
        """A learner starting at a detached copy of θ: Reptile never differentiates through adaptation."""
        if n_way is not None:
            check_positive_int("n_way", n_way)
        params = {n: p.detach().requires_grad_() for n, p in parameters_of(self.model).items()}
        if self.shared_head:
            params = expand_shared_head(params, n_way)
        return Learner(
            partial(unchecked_forward, self.model), params, self.adaptable, self.step_sizes, second_order=False
        )

    def _task_data(self, episode: Episode) -> tuple[torch.Tensor, torch.Tensor]:
        if self.train_on == "support":
            return episode.support_x, episode.support_y
        return torch.cat([episode.support_x, episode.query_x]), torch.cat([episode.support_y, episode.query_y])

    def adapt_to(self, episode: Episode, steps: int | None = None, *, train: bool = False) -> Learner:
        """SGD from θ on the support set (``train=True``: on the meta-training data, see ``train_on``)."""
        steps = self.test_inner_steps if steps is None else steps
        check_positive_int("steps", steps, minimum=0)
        check_bool("train", train)
        check_episode(episode, self.model)
        x, y = self._task_data(episode) if train else (episode.support_x, episode.support_y)
        learner = self.clone(n_way=episode.n_way)
        with torch.enable_grad():
            for step in range(steps):
                outputs = learner(x)
                if step == 0:  # the first forward of the episode: do the model's outputs fit its labels?
                    check_outputs(outputs, y, episode.n_way)
                learner.adapt(task_loss(outputs, y))
        return learner

    def meta_direction(self, episodes: list[Episode]) -> tuple[dict[str, torch.Tensor], dict[str, float]]:
        """mean_i (φ_i - θ) over the meta-batch, and the mean final training loss of the tasks."""
        check_meta_batch(episodes)  # each episode is checked by adapt_to
        theta = parameters_of(self.model)
        direction = {n: torch.zeros_like(p) for n, p in theta.items()}
        losses = []
        for episode in episodes:
            learner = self.adapt_to(episode, self.inner_steps, train=True)
            x, y = self._task_data(episode)
            with torch.no_grad():
                losses.append(float(task_loss(learner(x), y)))
                for n, p in theta.items():
                    phi = learner.params[n]
                    if phi.shape != p.shape:  # a shared head row, expanded to one row per class
                        phi = phi.mean(dim=-2 if n.endswith("weight") else -1, keepdim=True)
                    direction[n] += (phi - p) / len(episodes)
        return direction, {"loss": sum(losses) / len(losses)}

    def training_step(self, episodes: list[Episode], optimizer: torch.optim.Optimizer) -> dict[str, float]:
        check_optimizer("optimizer", optimizer)
        direction, metrics = self.meta_direction(episodes)
        optimizer.zero_grad(set_to_none=True)
        for name, p in self.model.named_parameters():
            p.grad = -direction[name]
        optimizer.step()
        return metrics

    def episode_loss(self, episode: Episode) -> tuple[torch.Tensor, dict[str, float]]:
        """Query loss after test-time adaptation (for monitoring: Reptile meta-trains with ``training_step``)."""
        learner = self.adapt_to(episode)
        outputs = learner(episode.query_x)
        check_outputs(outputs, episode.query_y, episode.n_way)
        return task_loss(outputs, episode.query_y).detach(), task_metrics(outputs.detach(), episode.query_y)

    def predict(self, episode: Episode, steps: int | None = None) -> torch.Tensor:
        learner = self.adapt_to(episode, steps)
        outputs = learner(episode.query_x).detach()
        check_outputs(outputs, episode.query_y, episode.n_way)
        return outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)
