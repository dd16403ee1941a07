"""The one episodic training loop of the book: seeded, device aware, progress bar, checkpoints, evaluation."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm import tqdm

from mlbook.training.checkpoint import load_checkpoint, save_checkpoint
from mlbook.training.evaluate import EvalResult, evaluate
from mlbook.training.method import EpisodicMethod
from mlbook.utils import check_positive_int, default_device, seed_everything


@dataclass
class TrainHistory:
    """Per-step training metrics and the periodic evaluations (``evals``: step -> EvalResult)."""

    steps: list[int] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    evals: dict[int, EvalResult] = field(default_factory=dict)
    seconds: float = 0.0

    def record(self, step: int, metrics: dict[str, float]) -> None:
        self.steps.append(step)
        for name, value in metrics.items():
            self.metrics.setdefault(name, []).append(float(value))

    def __getitem__(self, name: str) -> list[float]:
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
    progress: bool = True,
) -> TrainHistory:
    """Meta-train ``method`` for ``steps`` optimiser steps of ``meta_batch`` episodes from ``sampler``.

    * ``optimizer`` defaults to Adam(lr) over ``method.parameters()``.
    * ``eval_every`` > 0 evaluates on ``eval_sampler`` (same episodes every time) into ``history.evals``.
    * ``checkpoint`` is written every ``checkpoint_every`` steps and at the end; ``resume=True`` continues
      from it bit for bit (model, optimiser, sampler and RNG states are all restored).
    """
    check_positive_int("steps", steps)
    check_positive_int("meta_batch", meta_batch)
    if eval_every and eval_sampler is None:
        raise ValueError("eval_every > 0 needs an eval_sampler")
    if (checkpoint_every or resume) and checkpoint is None:
        raise ValueError("checkpoint_every and resume need a checkpoint path")
    device = torch.device(device) if device is not None else default_device()
    seed_everything(seed)
    method.to(device)
    optimizer = optimizer or torch.optim.Adam(method.parameters(), lr=lr)
    history, start = TrainHistory(), 0
    if resume and Path(checkpoint).exists():
        start, history = _restore(checkpoint, method, optimizer, sampler)

    began = time.perf_counter() - history.seconds
    bar = tqdm(range(start, steps), desc="meta-train", disable=not progress, initial=start, total=steps)
    for step in bar:
        method.train()
        episodes = [episode.to(device) for episode in sampler.sample_batch(meta_batch)]
        metrics = method.training_step(episodes, optimizer)
        history.record(step + 1, metrics)
        bar.set_postfix({k: f"{v:.3f}" for k, v in metrics.items()}, refresh=False)
        if eval_every and (step + 1) % eval_every == 0:
            history.evals[step + 1] = evaluate(method, eval_sampler, eval_episodes, device=device, progress=False)
        history.seconds = time.perf_counter() - began
        if checkpoint is not None and checkpoint_every and (step + 1) % checkpoint_every == 0:
            _save(checkpoint, step + 1, method, optimizer, sampler, history)
    bar.close()
    if checkpoint is not None:
        _save(checkpoint, steps, method, optimizer, sampler, history)
    return history


def _save(path, step, method, optimizer, sampler, history) -> None:
    save_checkpoint(
        path,
        step=step,
        method=method.state_dict(),
        optimizer=optimizer.state_dict(),
        sampler_rng=sampler.generator.get_state(),
        torch_rng=torch.get_rng_state(),
        history=history,
    )


def _restore(path, method, optimizer, sampler) -> tuple[int, TrainHistory]:
    state = load_checkpoint(path)
    method.load_state_dict(state["method"])
    optimizer.load_state_dict(state["optimizer"])
    sampler.generator.set_state(state["sampler_rng"])
    torch.set_rng_state(state["torch_rng"])
    return state["step"], state["history"]
