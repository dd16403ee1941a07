"""Results of the long benchmark runs that the book quotes.

CI cannot afford full-budget training, so ``benchmarks/*.py`` scripts run it once, record command, hardware
and time, and write a JSON file under ``benchmarks/results/``; the chapters read those files with
``load_benchmark_result`` and format every number they quote from them.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

REPOSITORY_RAW = "https://raw.githubusercontent.com/learning-to-learn-book/learning-to-learn/main"
RESULTS_DIR = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def load_benchmark_result(name: str, directory: str | Path | None = None) -> dict:
    """A JSON written by a ``benchmarks/*.py`` script: from the repository checkout when there is one, else
    (e.g. on Colab, where only the package is installed) from the repository on GitHub."""
    if not isinstance(name, str) or not name.endswith(".json") or "/" in name or "\\" in name:
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
