"""How fast is the data layer? Prints a table: first load (decode PNGs), cached load, episode sampling rates.

    .venv/bin/python benchmarks/data_pipeline.py

Times depend on the machine; the ratio "decode / cached" and the episodes per second are what to look at.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time

import torch

from mlbook.data import EpisodeSampler, load_omniglot, load_oneshot_runs


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    began = time.perf_counter()
    for _ in range(repeat):
        result = fn()
    return (time.perf_counter() - began) / repeat, result


def main() -> None:
    torch.set_num_threads(1)
    rows = []
    with tempfile.TemporaryDirectory() as cache:
        os.environ["MLBOOK_CACHE"] = cache  # a cold cache: the first load decodes every PNG
        first, data = timed(lambda: load_omniglot("background_small1"))
        cached, _ = timed(lambda: load_omniglot("background_small1"), repeat=3)
        rows += [("load background_small1, cold cache (decode 2720 PNGs)", first, "s"),
                 ("load background_small1, from checksummed cache", cached, "s"),
                 ("decode / cached", first / cached, "x")]
        runs, _ = timed(load_oneshot_runs)
        rows.append(("load the 20 one-shot runs (800 PNGs)", runs, "s"))
    for n_way, k_shot, within in ((5, 1, False), (5, 5, False), (20, 1, True)):
        sampler = EpisodeSampler(data, n_way, k_shot, 15 if not within else 1, within_group=within, seed=0)
        per_episode, _ = timed(sampler.sample, repeat=500)
        label = f"sample a {n_way}-way {k_shot}-shot episode" + (" within an alphabet" if within else "")
        rows.append((label, 1.0 / per_episode, "episodes/s"))
    print(f"data pipeline on {platform.processor() or platform.machine()}, torch {torch.__version__}, 1 thread\n")
    print(f"{'what':<62} {'value':>10}  unit")
    for what, value, unit in rows:
        print(f"{what:<62} {value:>10.3f}  {unit}")


if __name__ == "__main__":
    main()
