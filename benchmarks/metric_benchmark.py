"""Chapter 6 benchmark: the four metric methods trained on the minimal Omniglot splits under a CPU budget.

For each minimal split (train=1, train=2) and each method it
  1. meta-trains from scratch with the chapter's recipe (``mlbook.metric.recipe_for``) for a budget of CPU
     time (``--minutes``, measured with ``time.process_time`` so other jobs on a shared machine hardly change
     it; the number of steps is calibrated on a throw-away copy first, then training is an ordinary, seeded
     ``mlbook.training.train`` run, so ``--steps`` with the recorded count reproduces it),
  2. evaluates N-way K-shot accuracy (5/20-way, 1/5-shot) on the split's held-out alphabets (mean and
     95% CI over seeded test episodes, the same episodes for every method),
  3. scores the original 20-way within-alphabet one-shot benchmark (all_runs, 400 trials).
It prints a table and writes JSON (command, hardware, torch version, seed, times, every number).
Use one thread (the default) on a shared machine: two OpenMP threads on a busy 2-core CPU run ~10x slower.

    python benchmarks/metric_benchmark.py --minutes 2                      # the chapter's numbers
    python benchmarks/metric_benchmark.py --methods protonet --splits 1 --minutes 0.5   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

from mlbook.data import PUBLISHED_ERRORS, EpisodeSampler, load_oneshot_runs, minimal_splits
from mlbook.metric import (
    DISPLAY_NAMES,
    METHOD_RECIPES,
    method_from_recipe,
    recipe_for,
    sampler_from_recipe,
    train_from_recipe,
)
from mlbook.training import evaluate, evaluate_oneshot
from mlbook.utils import mean_confidence_interval

#: (n_way, k_shot, q_query) test settings on the held-out alphabets: the chapter's table ...
SETTINGS = [(5, 1, 15), (5, 5, 15), (20, 1, 5), (20, 5, 5)]
#: ... and the extra points of its accuracy-vs-shots plot (evaluated on fewer episodes, see --sweep-episodes)
SHOT_SWEEP = [(5, 2, 5), (5, 3, 5), (5, 10, 5), (20, 2, 5), (20, 10, 5)]


def hardware(threads: int) -> dict:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "platform": platform.platform(),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "torch_threads": threads,
        "device": "cpu",
        "python": platform.python_version(),
        "torch": torch.__version__,
    }


def calibrate_steps(
    name: str, recipe: dict, meta_train, seconds: float, warmup: int = 8, windows: int = 7, margin: float = 0.85
) -> int:
    """How many training steps fit in ``seconds`` of CPU time (``time.process_time``): after ``warmup`` steps
    (the first steps of a new shape are slower while kernels get selected), a throw-away copy trains for
    ``windows`` windows of about 1.5 CPU seconds; the median window sets the pace (robust to a burst of other
    jobs on a shared machine), times a safety ``margin`` (a long run is a little slower per step than a short
    probe). Training then runs that fixed number of steps, so the result is reproducible with ``--steps``; its
    CPU time is recorded."""
    method = method_from_recipe(name, recipe)
    sampler = sampler_from_recipe(meta_train, recipe, seed=12345)
    optimizer = torch.optim.Adam(method.parameters(), lr=recipe["lr"])
    method.train()
    for _ in range(warmup):
        method.training_step(sampler.sample_batch(1), optimizer)
    paces = []
    for _ in range(windows):
        began, count = time.process_time(), 0
        while count < 3 or time.process_time() - began < 1.5:
            method.training_step(sampler.sample_batch(1), optimizer)
            count += 1
        paces.append((time.process_time() - began) / count)
    return max(10, int(margin * seconds / sorted(paces)[len(paces) // 2]))


def evaluate_method(method, meta_test, runs, episodes: int, sweep_episodes: int, seed: int) -> dict:
    out = {"accuracy": {}}
    plan = [(s, episodes) for s in SETTINGS] + [(s, sweep_episodes) for s in SHOT_SWEEP if sweep_episodes]
    for (n_way, k_shot, q_query), count in plan:
        sampler = EpisodeSampler(meta_test, n_way, k_shot, q_query, seed=seed + 1000)
        result = evaluate(method, sampler, count, device="cpu", progress=False)
        out["accuracy"][f"{n_way}-way {k_shot}-shot"] = {"mean": result.mean, "ci95": result.ci95}
    oneshot = evaluate_oneshot(method, runs, device="cpu")
    out["oneshot_error_percent"] = oneshot.error_percent
    out["oneshot_ci95"] = oneshot.ci95()
    out["oneshot_run_errors"] = oneshot.run_error_percent
    return out


def run_one(name: str, changes: dict, split: int, data, runs, args) -> dict:
    meta_train, meta_test = data
    recipe = recipe_for(name, **changes)
    steps = args.steps or calibrate_steps(name, recipe, meta_train, 60 * args.minutes)
    began, began_cpu = time.perf_counter(), time.process_time()
    method, history = train_from_recipe(name, meta_train, steps, recipe, seed=args.seed)
    train_seconds, train_cpu_seconds = time.perf_counter() - began, time.process_time() - began_cpu
    began = time.perf_counter()
    result = evaluate_method(method, meta_test, runs, args.episodes, args.sweep_episodes, args.seed)
    result.update(
        recipe=recipe,
        steps=steps,
        train_seconds=train_seconds,
        train_cpu_seconds=train_cpu_seconds,
        eval_seconds=time.perf_counter() - began,
        final_train_accuracy=sum(history["accuracy"][-50:]) / len(history["accuracy"][-50:]),
        parameters=sum(p.numel() for p in method.parameters()),
    )
    acc = result["accuracy"]["5-way 1-shot"]
    print(
        f"split {split} {name:<16} {steps:5d} steps {train_cpu_seconds:6.1f}s CPU ({train_seconds:.1f}s wall)  "
        f"5w1s {100 * acc['mean']:.1f}% "
        f"± {100 * acc['ci95']:.1f}  one-shot error {result['oneshot_error_percent']:.1f}%",
        flush=True,
    )
    return result


def summarise(results: dict, methods: list[str], splits: list[int]) -> dict:
    """Mean over splits of every number (the published minimal-split numbers average the two splits)."""
    summary = {}
    for name in methods:
        per_split = [results[str(s)][name] for s in splits]
        errors = [r["oneshot_error_percent"] for r in per_split]
        summary[name] = {
            "oneshot_error_percent": sum(errors) / len(errors),
            # CI over all 40 runs (20 per split)
            "oneshot_ci95": mean_confidence_interval([e for r in per_split for e in r["oneshot_run_errors"]])[1],
            "accuracy": {
                key: {
                    "mean": sum(r["accuracy"][key]["mean"] for r in per_split) / len(per_split),
                    # half-width of the CI of a mean of independent estimates
                    "ci95": sum(r["accuracy"][key]["ci95"] ** 2 for r in per_split) ** 0.5 / len(per_split),
                }
                for key in per_split[0]["accuracy"]
            },
        }
    return summary


def print_table(results: dict, summary: dict, methods: list[str], splits: list[int]) -> None:
    keys = [f"{n}-way {k}-shot" for n, k, _ in SETTINGS]
    print("\nHeld-out alphabets, accuracy % (mean over splits)")
    print(f"{'method':<40}" + "".join(f"{k:>16}" for k in keys))
    for name in methods:
        accuracy = summary[name]["accuracy"]
        print(f"{DISPLAY_NAMES[name]:<40}" + "".join(f"{100 * accuracy[k]['mean']:>16.1f}" for k in keys))
    print("\nOne-shot benchmark (20-way within alphabet), error %")
    header = "".join(f"{'split ' + str(s):>10}" for s in splits)
    print(f"{'method':<40}{header}{'mean':>10}")
    for name in methods:
        row = "".join(f"{results[str(s)][name]['oneshot_error_percent']:>10.1f}" for s in splits)
        print(f"{DISPLAY_NAMES[name]:<40}{row}{summary[name]['oneshot_error_percent']:>10.1f}")
    for entry in PUBLISHED_ERRORS:
        if entry["training"] == "minimal":
            print(f"{'(published) ' + entry['method']:<40}{'':>{10 * len(splits)}}{entry['error_percent']:>10.1f}")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=2.0, help="CPU-time training budget per method and split")
    parser.add_argument("--steps", type=int, default=0, help="fixed number of steps instead of a time budget")
    parser.add_argument("--methods", nargs="+", default=["protonet", "matching", "relation", "siamese"])
    parser.add_argument("--splits", nargs="+", type=int, default=[1, 2], choices=[1, 2])
    parser.add_argument("--episodes", type=int, default=400, help="test episodes per N-way K-shot setting")
    parser.add_argument("--sweep-episodes", type=int, default=200, help="test episodes per extra shot (0: none)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (2 on a busy 2-core CPU: ~10x slower)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--recipe", default="{}", help="JSON changes to mlbook.metric.RECIPE, e.g. '{\"lr\": 3e-3}'")
    parser.add_argument("--out", default="benchmarks/results/metric_benchmark.json")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    runs = load_oneshot_runs()
    started = time.perf_counter()
    changes = json.loads(args.recipe)
    recipe_for("protonet", **changes)  # fails early on unknown keys
    results: dict = {}
    held_out: dict = {}
    for split in args.splits:
        data = minimal_splits(train=split)
        held_out[str(split)] = data[1].groups
        results[str(split)] = {name: run_one(name, changes, split, data, runs, args) for name in args.methods}
    summary = summarise(results, args.methods, args.splits)
    print_table(results, summary, args.methods, args.splits)
    report = {
        "command": "python " + " ".join([sys.argv[0], *(argv if argv is not None else sys.argv[1:])]),
        "hardware": hardware(args.threads),
        "seed": args.seed,
        "minutes_per_run": None if args.steps else args.minutes,
        "recipe": recipe_for("protonet", **changes),
        "recipe_changes": changes,
        "method_recipes": METHOD_RECIPES,
        "settings": [list(s) for s in SETTINGS],
        "shot_sweep": [list(s) for s in SHOT_SWEEP],
        "test_episodes": args.episodes,
        "sweep_episodes": args.sweep_episodes,
        "held_out": held_out,
        "results": results,
        "summary": summary,
        "published": PUBLISHED_ERRORS,
        "wall_seconds": time.perf_counter() - started,
        "note": "budgets and train_cpu_seconds are CPU time of the process (time.process_time); train_seconds and "
        "wall_seconds are wall time on a machine shared with other jobs",
    }
    return write_report(args.out, report)


def write_report(out: str, report: dict) -> dict:
    """Write ``report`` as JSON to ``out`` (folders created) and say where and how long the run took."""
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    Path(out).write_text(json.dumps(report, indent=1))
    print(f"\nwrote {out} ({report['wall_seconds'] / 60:.1f} min)")
    return report


if __name__ == "__main__":
    main()
