"""Task parallelism: the tasks of a meta-batch are independent until their meta-gradients are summed.

A CPU convolution on a 5-image support set is too small to keep several cores busy (PyTorch's intra-op
threads mostly wait), but the T tasks of a meta-batch are T independent computations: adapt φ_i on D_i^tr,
take the query loss, differentiate it w.r.t. θ. ``meta_gradient`` splits the meta-batch into contiguous
chunks, lets each of ``workers`` threads run its chunk's inner loops *and* its own backward pass (PyTorch
releases the GIL inside operators and runs each backward on the calling thread), and sums the chunks'
gradients in a fixed order, so the result does not depend on thread scheduling:

    ∇_θ (1/T) Σ_i L_i  =  (1/T) Σ_chunks ∇_θ Σ_{i ∈ chunk} L_i.

Threads need a network that is a pure function of its parameters (``pure.py``): ``functional_call`` swaps
parameters inside the shared module and is therefore not thread-safe.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext

import torch

from mlbook.data.episodes import Episode
from mlbook.optimization.pure import pytorch_derivatives
from mlbook.validate import check_callable, check_positive_int, check_tensor

ChunkObjective = Callable[[Sequence[Episode]], tuple[torch.Tensor, dict[str, float]]]

_pools: dict[int, ThreadPoolExecutor] = {}
_pools_lock = threading.Lock()


def _pool(workers: int) -> ThreadPoolExecutor:
    with _pools_lock:
        if workers not in _pools:
            _pools[workers] = ThreadPoolExecutor(workers, thread_name_prefix="mlbook-task")
        return _pools[workers]


def split_chunks(items: Sequence, parts: int) -> list[Sequence]:
    """``items`` in at most ``parts`` contiguous, nearly equal, non-empty chunks (order kept)."""
    parts = max(1, min(parts, len(items)))
    size, extra = divmod(len(items), parts)
    chunks, start = [], 0
    for k in range(parts):
        stop = start + size + (k < extra)
        chunks.append(items[start:stop])
        start = stop
    return chunks


def meta_gradient(
    objective: ChunkObjective,
    episodes: Sequence[Episode],
    parameters: Sequence[torch.Tensor],
    workers: int = 1,
) -> tuple[torch.Tensor, dict[str, float], list[torch.Tensor | None]]:
    """Mean objective over ``episodes``, its mean metrics, and its gradient w.r.t. ``parameters``.

    ``objective(chunk)`` returns the *mean* loss over the chunk and mean metrics (``EpisodicMethod.batch_loss``).
    With ``workers > 1`` the chunks run in parallel threads, each with one intra-op thread; a parameter the
    objective does not reach gets ``None``. The returned loss is detached."""
    check_callable("objective", objective)
    if not episodes:
        raise ValueError("episodes must contain at least one Episode")
    check_positive_int("workers", workers)
    parameters = list(parameters)
    for i, parameter in enumerate(parameters):
        check_tensor(f"parameters[{i}]", parameter)
    chunks = split_chunks(list(episodes), workers)

    def run(chunk: Sequence[Episode], threaded: bool = True):
        if threaded:
            torch.set_num_threads(1)  # per OS thread (OpenMP): the parallelism is across tasks
        with pytorch_derivatives() if threaded else nullcontext():  # no Python autograd functions: see pure.py
            loss, metrics = objective(chunk)
            weight = len(chunk) / len(episodes)
            grads = torch.autograd.grad(loss * weight, parameters, allow_unused=True)
        return loss.detach() * weight, {k: v * weight for k, v in metrics.items()}, grads

    if len(chunks) == 1:
        results = [run(chunks[0], threaded=False)]
    else:
        threads = torch.get_num_threads()
        try:
            results = list(_pool(len(chunks)).map(run, chunks))
        finally:
            torch.set_num_threads(threads)
    loss = sum(r[0] for r in results)
    metrics: dict[str, float] = {}
    for _, chunk_metrics, _ in results:
        for name, value in chunk_metrics.items():
            metrics[name] = metrics.get(name, 0.0) + float(value)
    grads = []
    for per_chunk in zip(*(r[2] for r in results), strict=True):
        present = [g for g in per_chunk if g is not None]
        grads.append(None if not present else sum(present[1:], present[0]))
    return loss, metrics, grads
