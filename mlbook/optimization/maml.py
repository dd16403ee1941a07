"""MAML (Finn et al. 2017) with exact second-order meta-gradients, its first-order variant and the cheap
MAML++ stabilisers (Antoniou et al. 2019): learned per-step, per-layer inner learning rates and the
multi-step loss. ``MetaSGD`` and ``ANIL`` are subclasses; they change *which* parameters adapt and *how
far* they step, nothing else.

The bi-level problem, for a meta-batch of tasks T_i with support D_i^tr and query D_i^ts:

    φ_i = θ - α ∇_θ L(θ; D_i^tr)                 (inner loop, one step shown)
    min_θ  Σ_i L(φ_i(θ); D_i^ts)                  (outer loop)

and the meta-gradient of one task, by the chain rule through the inner step:

    ∇_θ L(φ_i; D_i^ts) = (I - α ∇²_θ L(θ; D_i^tr)) ∇_φ L(φ_i; D_i^ts).

``first_order=True`` drops the Hessian term (treats ∇_θ L(θ; D_i^tr) as a constant).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import partial

import torch
from torch import nn

from mlbook.data.episodes import Episode
from mlbook.optimization.batched import stack_parameters, unchecked_batched_forward, unsupported_modules
from mlbook.optimization.batchnorm import transductive_batchnorm
from mlbook.optimization.checks import (
    check_episode,
    check_episodes,
    check_meta_batch,
    check_outputs,
)
from mlbook.optimization.functional import parameters_of, unchecked_forward
from mlbook.optimization.learner import Learner

# the unchecked losses: a method checks each episode once at its entry point, not on every inner step
from mlbook.optimization.losses import unchecked_per_task_losses as per_task_losses
from mlbook.optimization.losses import unchecked_task_loss as task_loss
from mlbook.optimization.losses import unchecked_task_metrics as task_metrics
from mlbook.optimization.parallel import meta_gradient
from mlbook.optimization.pure import supports_pure_forward
from mlbook.training.method import EpisodicMethod
from mlbook.validate import check_bool, check_choice, check_module, check_optimizer, check_positive, check_positive_int

#: how inner step sizes are parameterised: one fixed α (MAML), a learned α per parameter tensor and per
#: step (MAML++ "LSLR"), or a learned α per parameter *element* (Meta-SGD)
INNER_LR_MODES = ("fixed", "per_step", "per_parameter")


def stack_episodes(episodes: Sequence[Episode]) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Support and query tensors of a meta-batch stacked as ``[T, ...]`` (all tasks must have equal shapes and
    the same ``n_way``)."""
    check_meta_batch(episodes)
    first = episodes[0]
    for i, episode in enumerate(episodes):
        if (
            episode.support_x.shape != first.support_x.shape
            or episode.query_x.shape != first.query_x.shape
            or episode.support_y.shape != first.support_y.shape
            or episode.query_y.shape != first.query_y.shape
        ):
            raise ValueError(
                f"episodes must be equally shaped: batched=True needs equally shaped tasks; episode {i} has support "
                f"{tuple(episode.support_x.shape)} and query {tuple(episode.query_x.shape)}, episode 0 has "
                f"{tuple(first.support_x.shape)} and {tuple(first.query_x.shape)}"
            )
        if episode.n_way != first.n_way:
            raise ValueError(
                f"episodes must have one n_way to be stacked; episode {i} has n_way={episode.n_way}, episode 0 has "
                f"n_way={first.n_way}"
            )
    return (
        torch.stack([e.support_x for e in episodes]),
        torch.stack([e.support_y for e in episodes]),
        torch.stack([e.query_x for e in episodes]),
        torch.stack([e.query_y for e in episodes]),
    )


def check_inner_loop(model: nn.Module, inner_lr: float, inner_steps: int, test_inner_steps: int | None) -> int:
    """Validate the settings every gradient-based learner shares; returns ``test_inner_steps`` (default:
    ``inner_steps``)."""
    check_module("model", model)
    check_positive("inner_lr", inner_lr)
    check_positive_int("inner_steps", inner_steps)
    test_inner_steps = inner_steps if test_inner_steps is None else test_inner_steps
    check_positive_int("test_inner_steps", test_inner_steps)
    return test_inner_steps


def check_shared_head(model: nn.Module) -> None:
    head = getattr(model, "head", None)
    if not isinstance(head, nn.Linear) or head.out_features != 1:
        raise ValueError(
            "shared_head=True needs a model whose `head` is nn.Linear(d, 1) (e.g. Conv4(out_features=1)), "
            f"got {head!r}"
        )


def expand_shared_head(params: dict[str, torch.Tensor], n_way: int | None) -> dict[str, torch.Tensor]:
    """Repeat the single head row for each of ``n_way`` classes (a view: meta-gradients sum over the rows)."""
    if n_way is None:
        raise ValueError("shared_head needs classification episodes (n_way); regression has one output")
    params = dict(params)
    for name in ("head.weight", "head.bias"):
        if name in params:
            p = params[name]
            row = p.shape[-2] if name.endswith("weight") else p.shape[-1]
            if row != 1:
                raise ValueError(f"{name} must have one row for shared_head, got shape {tuple(p.shape)}")
            shape = list(p.shape)
            shape[-2 if name.endswith("weight") else -1] = n_way
            params[name] = p.expand(*shape)
    return params


def _key(name: str) -> str:
    return name.replace(".", "__")


class MAML(EpisodicMethod):
    """Model-agnostic meta-learning over any ``nn.Module`` (BatchNorm layers are made transductive).

    * ``inner_lr`` α and ``inner_steps`` for meta-training; ``test_inner_steps`` (default: the same) at test time.
    * ``first_order``: first-order MAML (no Hessian term).
    * ``inner_lr_mode``: ``"fixed"``, ``"per_step"`` (MAML++: learned α per parameter tensor and step) or
      ``"per_parameter"`` (Meta-SGD: learned α per element, shared by the steps).
    * ``multi_step_loss``: MAML++ multi-step loss, the query loss after *every* inner step, averaged
      (``step_weights`` may be set afterwards to anneal towards the last step).
    * ``adapt``: ``"all"`` parameters, ``"head"`` (the ``head.*`` parameters: ANIL), or a list of name prefixes.
    * ``batched``: run the tasks of a meta-batch through one set of kernels (``batched.py``); the meta-gradient
      equals the per-task loop's. It pays for small networks (the sinusoid MLP); for Conv4 on a CPU the loop
      is faster (``benchmarks/maml_throughput.py``), hence the default ``False``.
    * ``workers``: adapt the tasks of a meta-batch in this many threads (``parallel.py``); the meta-gradient
      is the same up to float rounding. It pays on a multi-core CPU, where one task's small kernels cannot
      use the cores (``benchmarks/maml_throughput.py``).
    * ``shared_head``: the model's head is ``Linear(d, 1)`` and every class starts from that one row
      (Ye & Chao's "unicorn" MAML): the initial head is permutation invariant and works for any N, so a
      model meta-trained 5-way can be tested 20-way (the one-shot benchmark).

    Low-level use, one task::

        learner = maml.clone()
        learner.adapt(task_loss(learner(support_x), support_y))
        loss = task_loss(learner(query_x), query_y)     # backward() reaches θ through φ
    """

    adapts_at_test_time = True

    def __init__(
        self,
        model: nn.Module,
        inner_lr: float = 0.4,
        inner_steps: int = 1,
        *,
        test_inner_steps: int | None = None,
        first_order: bool = False,
        inner_lr_mode: str = "fixed",
        multi_step_loss: bool = False,
        adapt: str | Sequence[str] = "all",
        batched: bool = False,
        shared_head: bool = False,
        workers: int = 1,
    ) -> None:
        super().__init__()
        test_inner_steps = check_inner_loop(model, inner_lr, inner_steps, test_inner_steps)
        check_choice("inner_lr_mode", inner_lr_mode, INNER_LR_MODES)
        for name, flag in (
            ("first_order", first_order),
            ("multi_step_loss", multi_step_loss),
            ("batched", batched),
            ("shared_head", shared_head),
        ):
            check_bool(name, flag)
        self.model = transductive_batchnorm(model)
        self.inner_lr = float(inner_lr)
        self.inner_steps = inner_steps
        self.test_inner_steps = test_inner_steps
        self.first_order = bool(first_order)
        self.inner_lr_mode = inner_lr_mode
        self.adaptable = self._resolve_adaptable(adapt)
        self.shared_head = bool(shared_head)
        if shared_head:
            check_shared_head(self.model)
        self.step_weights: list[float] | None = [1.0 / inner_steps] * inner_steps if multi_step_loss else None
        if batched:
            problems = unsupported_modules(self.model)
            if problems:
                raise TypeError(f"batched=True cannot run {', '.join(problems)}; use batched=False")
        self.batched = bool(batched)
        check_positive_int("workers", workers)
        if workers > 1 and batched:
            raise ValueError("workers > 1 parallelises the per-task loop; it cannot be combined with batched=True")
        if workers > 1 and not supports_pure_forward(self.model):
            raise TypeError(
                f"workers > 1 needs a model that pure_forward can run (Conv4, MLP or a Sequential of standard "
                f"layers), got {type(self.model).__name__}; use workers=1"
            )
        self.workers = workers
        theta = dict(self.model.named_parameters())
        if inner_lr_mode == "per_step":
            rates = {
                _key(n): nn.Parameter(theta[n].new_full((inner_steps,), self.inner_lr)) for n in self.adaptable
            }
        elif inner_lr_mode == "per_parameter":
            rates = {_key(n): nn.Parameter(torch.full_like(theta[n], self.inner_lr)) for n in self.adaptable}
        else:
            rates = {}
        self.inner_lrs = nn.ParameterDict(rates)

    # ----------------------------------------------------------------------------------------- the API
    def _resolve_adaptable(self, adapt: str | Sequence[str]) -> tuple[str, ...]:
        names = [name for name, _ in self.model.named_parameters()]
        if adapt == "all":
            return tuple(names)
        if not isinstance(adapt, str) and (
            not isinstance(adapt, Sequence) or not all(isinstance(p, str) for p in adapt)
        ):
            raise TypeError(f"adapt must be 'all', 'head' or a list of parameter name prefixes, got {adapt!r}")
        prefixes = ["head"] if adapt == "head" else [adapt] if isinstance(adapt, str) else list(adapt)
        chosen = [n for n in names if any(n == p or n.startswith(p.rstrip(".") + ".") for p in prefixes)]
        unknown = [p for p in prefixes if not any(n == p or n.startswith(p.rstrip(".") + ".") for n in names)]
        if unknown or not chosen:
            raise ValueError(f"adapt names {unknown or prefixes} match no parameter; parameters are {names}")
        return tuple(chosen)

    def step_sizes(self, step: int) -> dict[str, torch.Tensor | float]:
        """Name -> α for inner step ``step`` (steps past the learned ones reuse the last learned rate)."""
        if self.inner_lr_mode == "fixed":
            return dict.fromkeys(self.adaptable, self.inner_lr)
        if self.inner_lr_mode == "per_step":
            return {n: self.inner_lrs[_key(n)][min(step, self.inner_steps - 1)] for n in self.adaptable}
        return {n: self.inner_lrs[_key(n)] for n in self.adaptable}

    def clone(self, second_order: bool | None = None, detach: bool = False, n_way: int | None = None) -> Learner:
        """A learner at φ = θ over the whole model (``second_order`` defaults to ``not first_order``).

        ``detach=True`` starts from a copy of θ cut from the graph (test time: nothing flows back to θ);
        ``n_way`` is needed with ``shared_head`` (the head is expanded to one row per class)."""
        second_order = (not self.first_order) if second_order is None else check_bool("second_order", second_order)
        check_bool("detach", detach)
        if n_way is not None:
            check_positive_int("n_way", n_way)
        params = self._theta(detach, n_way, tasks=None)
        return Learner(
            partial(unchecked_forward, self.model), params, self.adaptable, self.step_sizes, second_order=second_order
        )

    # ------------------------------------------------------------------------------ one task, one loop
    def _theta(self, detach: bool, n_way: int | None, tasks: int | None) -> dict[str, torch.Tensor]:
        """θ as the inner loop's starting point: detached or not, stacked for ``tasks``, head expanded."""
        params = parameters_of(self.model)
        if detach:
            params = {n: p.detach().requires_grad_(n in self.adaptable) for n, p in params.items()}
        if tasks is not None:
            params = stack_parameters(params, tasks)
        if self.shared_head:
            params = expand_shared_head(params, n_way)
        return params

    def _prepare(self, support_x, query_x, n_way, *, second_order: bool, batched: bool, detach: bool = False):
        """The learner and the inputs it sees (subclasses may precompute features here, as ANIL does)."""
        params = self._theta(detach, n_way, tasks=support_x.shape[0] if batched else None)
        if batched:
            forward = partial(unchecked_batched_forward, self.model)
        else:
            forward = partial(unchecked_forward, self.model)
        learner = Learner(forward, params, self.adaptable, self.step_sizes, second_order=second_order)
        return learner, support_x, query_x

    def _inner_loop(self, support_x, support_y, query_x, query_y, n_way, *, batched: bool):
        """Adapt on the support set, return (training objective, final query outputs)."""
        loss_fn = (lambda out, y: per_task_losses(out, y).sum()) if batched else task_loss
        query_loss = (lambda out, y: per_task_losses(out, y).mean()) if batched else task_loss
        learner, inputs_s, inputs_q = self._prepare(
            support_x, query_x, n_way, second_order=not self.first_order, batched=batched
        )
        weights = self.step_weights
        if weights is not None and len(weights) != self.inner_steps:
            raise ValueError(f"step_weights must have inner_steps={self.inner_steps} entries, got {len(weights)}")
        objective = 0.0
        for step in range(self.inner_steps):
            support_outputs = learner(inputs_s)
            if step == 0:  # the first forward of the episode: do the model's outputs fit its labels?
                check_outputs(support_outputs, support_y, n_way)
            learner.adapt(loss_fn(support_outputs, support_y))
            if weights is not None and step < self.inner_steps - 1 and weights[step]:
                objective = objective + weights[step] * query_loss(learner(inputs_q), query_y)
        outputs = learner(inputs_q)
        final = query_loss(outputs, query_y)
        objective = final if weights is None else objective + weights[-1] * final
        return objective, final, outputs

    def episode_loss(self, episode: Episode) -> tuple[torch.Tensor, dict[str, float]]:
        """Meta-training objective on ``episode``'s query set after the inner loop, and its metrics. The episode
        must fit the model (``checks.check_episode``), and the model must give ``n_way`` outputs per example."""
        check_episode(episode, self.model)
        objective, final, outputs = self._inner_loop(
            episode.support_x, episode.support_y, episode.query_x, episode.query_y, episode.n_way, batched=False
        )
        return objective, {"query_loss": float(final.detach()), **task_metrics(outputs.detach(), episode.query_y)}

    def batch_loss(self, episodes: list[Episode]) -> tuple[torch.Tensor, dict[str, float]]:
        if not self.batched:
            check_meta_batch(episodes)  # each episode is checked by episode_loss
            return super().batch_loss(episodes)
        check_episodes(episodes, self.model)
        support_x, support_y, query_x, query_y = stack_episodes(episodes)
        objective, final, outputs = self._inner_loop(
            support_x, support_y, query_x, query_y, episodes[0].n_way, batched=True
        )
        return objective, {"query_loss": float(final.detach()), **task_metrics(outputs.detach(), query_y)}

    def meta_gradient(
        self, episodes: Sequence[Episode]
    ) -> tuple[torch.Tensor, dict[str, float], dict[str, torch.Tensor]]:
        """Mean meta-training loss over ``episodes`` (detached), mean metrics, and its gradient w.r.t. every
        trainable meta-parameter (name -> tensor; parameters the loss does not reach are left out), computed
        with ``workers`` threads."""
        named = [(name, p) for name, p in self.named_parameters() if p.requires_grad]
        loss, metrics, grads = meta_gradient(self.batch_loss, episodes, [p for _, p in named], self.workers)
        return loss, metrics, {name: g for (name, _), g in zip(named, grads, strict=True) if g is not None}

    def training_step(self, episodes: list[Episode], optimizer: torch.optim.Optimizer) -> dict[str, float]:
        check_meta_batch(episodes)
        check_optimizer("optimizer", optimizer)
        if self.workers == 1:
            return super().training_step(episodes, optimizer)
        loss, metrics, grads = self.meta_gradient(episodes)
        optimizer.zero_grad(set_to_none=True)
        for name, p in self.named_parameters():
            if name in grads:
                p.grad = grads[name]
        optimizer.step()
        return {"loss": float(loss), **metrics}

    def adapt_to(self, episode: Episode, steps: int | None = None) -> Learner:
        """A learner adapted to ``episode``'s support set for ``steps`` (default ``test_inner_steps``) steps,
        detached from θ (test time: nothing flows back to the meta-parameters)."""
        steps = self.test_inner_steps if steps is None else steps
        check_positive_int("steps", steps, minimum=0)
        check_episode(episode, self.model)
        learner = self.clone(second_order=False, detach=True, n_way=episode.n_way)
        with torch.enable_grad():
            for step in range(steps):
                support_outputs = learner(episode.support_x)
                if step == 0:
                    check_outputs(support_outputs, episode.support_y, episode.n_way)
                learner.adapt(task_loss(support_outputs, episode.support_y))
        return learner

    def predict(self, episode: Episode, steps: int | None = None) -> torch.Tensor:
        """Query outputs after ``steps`` (default ``test_inner_steps``) inner steps on the support set."""
        steps = self.test_inner_steps if steps is None else steps
        check_positive_int("steps", steps, minimum=0)
        check_episode(episode, self.model)
        with torch.enable_grad():
            learner, inputs_s, inputs_q = self._prepare(
                episode.support_x, episode.query_x, episode.n_way, second_order=False, batched=False, detach=True
            )
            for step in range(steps):
                support_outputs = learner(inputs_s)
                if step == 0:
                    check_outputs(support_outputs, episode.support_y, episode.n_way)
                learner.adapt(task_loss(support_outputs, episode.support_y))
        outputs = learner(inputs_q).detach()
        check_outputs(outputs, episode.query_y, episode.n_way)
        return outputs

    def predict_batch(self, episodes: Sequence[Episode], steps: int | None = None) -> torch.Tensor:
        """``[T, Q, ...]`` query outputs of T equally shaped tasks adapted at once with the task-batched kernels
        (test time, detached from θ). Row t equals ``predict(episodes[t])``: tasks do not see each other."""
        steps = self.test_inner_steps if steps is None else steps
        check_positive_int("steps", steps, minimum=0)
        check_episodes(episodes, self.model)
        support_x, support_y, query_x, query_y = stack_episodes(episodes)
        with torch.enable_grad():
            learner, inputs_s, inputs_q = self._prepare(
                support_x, query_x, episodes[0].n_way, second_order=False, batched=True, detach=True
            )
            for step in range(steps):
                support_outputs = learner(inputs_s)
                if step == 0:
                    check_outputs(support_outputs, support_y, episodes[0].n_way)
                learner.adapt(per_task_losses(support_outputs, support_y).sum())
        outputs = learner(inputs_q).detach()
        check_outputs(outputs, query_y, episodes[0].n_way)
        return outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The meta-model itself (θ, no adaptation)."""
        return self.model(x)


class FOMAML(MAML):
    """First-order MAML: ``MAML(..., first_order=True)``."""

    def __init__(self, model: nn.Module, inner_lr: float = 0.4, inner_steps: int = 1, **kwargs) -> None:
        super().__init__(model, inner_lr, inner_steps, first_order=True, **kwargs)
