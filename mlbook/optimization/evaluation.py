"""Evaluation helpers of chapter 5: performance as a function of the number of test-time steps.

``load_benchmark_result`` (the chapters' reader for the benchmark scripts' JSON results) lives in
``mlbook.results``; it is re-exported here for the notebooks that import it from this package."""

from __future__ import annotations

from collections.abc import Sequence

from mlbook.results import load_benchmark_result
from mlbook.training.evaluate import EvalResult, evaluate
from mlbook.training.method import EpisodicMethod
from mlbook.validate import check_positive_int


def evaluate_after_steps(
    method: EpisodicMethod,
    sampler,
    steps: Sequence[int] = (0, 1, 5, 10),
    episodes: int = 600,
    *,
    device=None,
    progress: bool | None = None,
) -> dict[int, EvalResult]:
    """``evaluate`` after each number of test-time inner steps (same episodes for every count). ``steps`` is a
    non-empty sequence of ints >= 0."""
    if not hasattr(method, "test_inner_steps"):
        raise TypeError(
            f"method must adapt by gradient steps (MAML, Reptile, ...): {type(method).__name__} has no "
            "test_inner_steps"
        )
    if not isinstance(steps, Sequence) or isinstance(steps, str):
        raise TypeError(f"steps must be a sequence of step counts such as (0, 1, 5), got {steps!r}")
    if not steps:
        raise ValueError("steps must contain at least one step count, got an empty sequence")
    for count in steps:
        check_positive_int("steps", count, minimum=0)
    check_positive_int("episodes", episodes)
    saved = method.test_inner_steps
    try:
        results = {}
        for count in steps:
            method.test_inner_steps = count
            results[count] = evaluate(method, sampler, episodes, device=device, progress=progress)
        return results
    finally:
        method.test_inner_steps = saved


__all__ = ["evaluate_after_steps", "load_benchmark_result"]
