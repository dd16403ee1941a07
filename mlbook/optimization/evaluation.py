"""Evaluation helpers of chapter 5: performance as a function of the number of test-time steps, and loading
the JSON results that the chapter's benchmark scripts write (long runs that CI cannot afford)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from mlbook.training.evaluate import EvalResult, evaluate
from mlbook.training.method import EpisodicMethod
from mlbook.utils import check_positive_int

REPOSITORY_RAW = "https://raw.githubusercontent.com/learning-to-learn-book/learning-to-learn/main"
RESULTS_DIR = Path(__file__).resolve().parents[2] / "benchmarks" / "results"


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


def load_benchmark_result(name: str, directory: str | Path | None = None) -> dict:
    """A JSON written by a ``benchmarks/maml_*.py`` script: from the repository checkout when there is one,
    else (e.g. on Colab, where only the package is installed) from the repository on GitHub."""
    if not name.endswith(".json") or "/" in name:
        raise ValueError(f"name must be a file name like 'maml_sinusoid.json', got {name!r}")
    path = Path(directory) / name if directory is not None else RESULTS_DIR / name
    if path.exists():
        return json.loads(path.read_text())
    url = f"{REPOSITORY_RAW}/benchmarks/results/{name}"
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return json.loads(response.read().decode())
    except OSError as error:
        raise FileNotFoundError(
            f"{name} is neither in {path.parent} nor downloadable from {url} ({error}); run the benchmark script "
            "that writes it (see benchmarks/)"
        ) from error
