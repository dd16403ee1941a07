"""Evaluation helpers of chapter 5: performance as a function of the number of test-time steps.

``load_benchmark_result`` (the chapters' reader for the benchmark scripts' JSON results) lives in
``mlbook.results``; it is re-exported here for the notebooks that import it from this package."""

from __future__ import annotations

from collections.abc import Sequence

from mlbook.results import load_benchmark_result
from mlbook.training.evaluate import EvalResult, evaluate
from mlbook.training.method import EpisodicMethod
from mlbook.utils import check_positive_int


def evaluate_after_steps(
    method: EpisodicMethod,
    sampler,
    steps: Sequence[int] = (0, 1, 5, 10),
    episodes: int = 600,
    *,
    device=None,
    progress: bool = False,
) -> dict[int, EvalResult]:
    """``evaluate`` after each number of test-time inner steps (same episodes for every count)."""
    if not hasattr(method, "test_inner_steps"):
        raise TypeError(f"{type(method).__name__} has no test_inner_steps: it does not adapt by gradient steps")
    for count in steps:
        check_positive_int("steps", count, minimum=0)
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
