"""The one episodic training loop of the book: seeded, device aware, progress bar, checkpoints, evaluation."""

from __future__ import annotations

import math
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import torch

from mlbook.progress import progress_bar
from mlbook.training.checkpoint import load_checkpoint, save_checkpoint
from mlbook.training.evaluate import EvalResult, _check_method, _check_sampler, evaluate
from mlbook.training.method import EpisodicMethod
from mlbook.utils import check_positive_int, default_device, seed_everything
from mlbook.validate import check_bool, check_device, check_int, check_optimizer, check_path, check_positive, check_seed

#: What a checkpoint written by ``train`` holds (``scheduler`` is missing from checkpoints of older versions).
CHECKPOINT_KEYS = ("step", "method", "optimizer", "sampler_rng", "torch_rng", "history")


@dataclass
class TrainHistory:
    """Per-step training metrics and the periodic evaluations (``evals``: step -> EvalResult)."""

    steps: list[int] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    evals: dict[int, EvalResult] = field(default_factory=dict)
    seconds: float = 0.0

    def record(self, step: int, metrics: dict[str, float]) -> None:
        check_int("step", step, minimum=0)
        if not isinstance(metrics, dict):
            raise TypeError(f"metrics must be a dict of metric name -> number, got {type(metrics).__name__}")
        self.steps.append(step)
        for name, value in metrics.items():
            self.metrics.setdefault(name, []).append(float(value))

    def __getitem__(self, name: str) -> list[float]:
        if name not in self.metrics:
            raise KeyError(f"no metric {name!r} in this history; the recorded metrics are {sorted(self.metrics)}")
        return self.metrics[name]


def train(
    method: EpisodicMethod,
    sampler,
    *,
    steps: int,
    meta_batch: int = 1,
    optimizer: torch.optim.Optimizer | None = None,
    lr: float = 1e-3,
    seed: int = 0,
    device: torch.device | str | None = None,
    eval_sampler=None,
    eval_every: int = 0,
    eval_episodes: int = 100,
    checkpoint: str | Path | None = None,
    checkpoint_every: int = 0,
    resume: bool = False,
    progress: bool | None = None,
    scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
) -> TrainHistory:
    """Meta-train ``method`` for ``steps`` optimiser steps of ``meta_batch`` episodes from ``sampler``.

    * ``optimizer`` defaults to Adam(lr) over ``method.parameters()``.
    * ``eval_every`` > 0 evaluates on ``eval_sampler`` (same episodes every time) into ``history.evals``.
    * ``checkpoint`` is written every ``checkpoint_every`` steps and at the end; ``resume=True`` continues
      from it bit for bit (model, optimiser, scheduler, sampler and RNG states are all restored).
    * ``scheduler`` is a learning-rate scheduler of ``optimizer`` that steps itself, as ``cosine_schedule``'s
      does (``train`` never calls ``scheduler.step()``); pass it so checkpoints save and restore its state.
    * A loss or metric that is NaN or inf stops training with a ``FloatingPointError`` naming the step; the
      checkpoint on disk is then still the last good one (weights that are not finite are never saved).
    * ``progress``: a text progress bar; ``None`` shows it on Colab and in a terminal only (``mlbook.progress``).
    """
    _check_method(method)
    _check_sampler("sampler", sampler, ("sample_batch", "generator") if checkpoint is not None else ("sample_batch",))
    check_positive_int("steps", steps)
    check_positive_int("meta_batch", meta_batch)
    check_positive("lr", lr)
    check_seed("seed", seed)
    device = default_device() if device is None else check_device("device", device)
    _check_evaluation(eval_sampler, eval_every, eval_episodes)
    _check_checkpointing(checkpoint, checkpoint_every, resume)
    if optimizer is not None:
        check_optimizer("optimizer", optimizer)
    _check_scheduler(scheduler, optimizer)
    _warn_if_a_scheduler_is_left_out(scheduler, optimizer, checkpoint)
    seed_everything(seed)
    method.to(device)
    optimizer = optimizer or torch.optim.Adam(method.parameters(), lr=lr)
    history, start, saved = TrainHistory(), 0, None  # saved: the step of the last good checkpoint on disk
    if resume and Path(checkpoint).exists():
        start, history = _restore(checkpoint, steps, method, optimizer, scheduler, sampler)
        saved = start

    began = time.perf_counter() - history.seconds
    bar = progress_bar(range(start, steps), progress=progress, desc="meta-train", initial=start, total=steps)
    for step in bar:
        method.train()
        episodes = [episode.to(device) for episode in sampler.sample_batch(meta_batch)]
        metrics = method.training_step(episodes, optimizer)
        _stop_unless_finite(step + 1, metrics, checkpoint, saved)
        history.record(step + 1, metrics)
        bar.set_postfix({k: f"{v:.3f}" for k, v in metrics.items()}, refresh=False)
        if eval_every and (step + 1) % eval_every == 0:
            history.evals[step + 1] = evaluate(method, eval_sampler, eval_episodes, device=device, progress=False)
        history.seconds = time.perf_counter() - began
        if checkpoint is not None and checkpoint_every and (step + 1) % checkpoint_every == 0:
            saved = _save(checkpoint, step + 1, method, optimizer, scheduler, sampler, history, saved)
    bar.close()
    if checkpoint is not None:
        _save(checkpoint, steps, method, optimizer, scheduler, sampler, history, saved)
    return history


# ---------------------------------------------------------------------------------------------- argument checks


def _check_evaluation(eval_sampler, eval_every, eval_episodes) -> None:
    check_int("eval_every", eval_every, minimum=0)
    check_positive_int("eval_episodes", eval_episodes)
    if eval_every and eval_sampler is None:
        raise ValueError("eval_every > 0 needs an eval_sampler")
    if eval_every:
        _check_sampler("eval_sampler", eval_sampler, ("sample", "reset"))


def _check_checkpointing(checkpoint, checkpoint_every, resume) -> None:
    if checkpoint is not None:
        check_path("checkpoint", checkpoint)
    check_int("checkpoint_every", checkpoint_every, minimum=0)
    check_bool("resume", resume)
    if (checkpoint_every or resume) and checkpoint is None:
        raise ValueError("checkpoint_every and resume need a checkpoint path")


def _check_scheduler(scheduler, optimizer) -> None:
    if scheduler is None:
        return
    if not isinstance(scheduler, torch.optim.lr_scheduler.LRScheduler):
        raise TypeError(
            f"scheduler must be a torch learning-rate scheduler (e.g. from cosine_schedule), got {scheduler!r}"
        )
    if scheduler.optimizer is not optimizer:
        raise ValueError("scheduler must schedule the optimizer train steps: pass that optimizer as optimizer= too")


def _warn_if_a_scheduler_is_left_out(scheduler, optimizer, checkpoint) -> None:
    """A torch scheduler marks its optimizer's parameter groups with ``initial_lr``: one is attached but was not
    passed as ``scheduler=``, so a checkpoint would not hold it and a resumed run would restart the schedule."""
    attached = optimizer is not None and any("initial_lr" in group for group in optimizer.param_groups)
    if checkpoint is not None and scheduler is None and attached:
        warnings.warn(
            "optimizer has a learning-rate scheduler attached (e.g. cosine_schedule) that was not passed as "
            "scheduler=: checkpoints will not hold its state and a resumed run would restart the schedule",
            stacklevel=3,
        )


# ------------------------------------------------------------------------------------------ faults while training


def _stop_unless_finite(step: int, metrics: dict[str, float], checkpoint, saved: int | None) -> None:
    """Raise a ``FloatingPointError`` naming the step and the metric when a loss or metric is NaN or inf."""
    for name, value in metrics.items():
        if not math.isfinite(float(value)):
            kept = f"; checkpoint {checkpoint} still holds step {saved}" if saved is not None else ""
            raise FloatingPointError(
                f"training stopped at step {step}: {name} is {float(value)} (not finite){kept}. Look for NaN or "
                "inf in the episodes' images or targets, or lower the learning rate"
            )


def _nonfinite_parameter(method: EpisodicMethod) -> str | None:
    for name, value in method.named_parameters():
        if not bool(torch.isfinite(value).all()):
            return name
    return None


# -------------------------------------------------------------------------------------------- save and restore


def _save(path, step, method, optimizer, scheduler, sampler, history, saved) -> int:
    """Write the checkpoint of ``step`` and return ``step``; refuse weights that are NaN or inf, so the file on
    disk stays the last good one."""
    bad = _nonfinite_parameter(method)
    if bad is not None:
        kept = f"; checkpoint {path} still holds step {saved}" if saved is not None else ""
        raise FloatingPointError(f"training stopped at step {step}: weight {bad} is NaN or inf, not saved{kept}")
    save_checkpoint(
        path,
        step=step,
        method=method.state_dict(),
        optimizer=optimizer.state_dict(),
        scheduler=scheduler.state_dict() if scheduler is not None else None,
        sampler_rng=sampler.generator.get_state(),
        torch_rng=torch.get_rng_state(),
        history=history,
    )
    return step


def _restore(path, steps, method, optimizer, scheduler, sampler) -> tuple[int, TrainHistory]:
    state = load_checkpoint(path)
    missing = [key for key in CHECKPOINT_KEYS if key not in state]
    if missing:
        raise ValueError(f"checkpoint {path} was not written by train (it lacks {missing}); delete it or point "
                         "checkpoint= elsewhere")
    if steps < state["step"]:
        raise ValueError(f"steps={steps} is fewer than the {state['step']} steps already in checkpoint {path}: "
                         f"pass steps >= {state['step']}, or point checkpoint= elsewhere to start afresh")
    _check_scheduler_state(path, state.get("scheduler"), scheduler)
    try:
        method.load_state_dict(state["method"])
        optimizer.load_state_dict(state["optimizer"])
    except (RuntimeError, ValueError, KeyError) as error:
        raise ValueError(f"checkpoint {path} was saved from another model or optimizer ({error}); delete it or "
                         "point checkpoint= elsewhere") from error
    if scheduler is not None and state.get("scheduler") is not None:
        scheduler.load_state_dict(state["scheduler"])
    sampler.generator.set_state(state["sampler_rng"])
    torch.set_rng_state(state["torch_rng"])
    return state["step"], state["history"]


def _check_scheduler_state(path, saved_state, scheduler) -> None:
    """Refuse a resume that would silently restart or drop a learning-rate schedule."""
    if saved_state is not None and scheduler is None:
        raise ValueError(f"checkpoint {path} was saved with a learning-rate scheduler: pass the same kind of "
                         "scheduler as scheduler= to resume it")
    if saved_state is None and scheduler is not None:
        warnings.warn(f"checkpoint {path} holds no scheduler state (an older checkpoint): the learning-rate "
                      "schedule restarts from its first step", stacklevel=3)
