"""Chapter 6 benchmark: the four metric methods trained on the minimal Omniglot splits for a fixed number of steps.

For each minimal split (train=1, train=2) and each method it
  1. meta-trains from scratch with the chapter's recipe (``mlbook.metric.recipe_for``) for the method's budget
     in optimiser steps (``STEPS``; ``--steps`` sets one count for all), an ordinary seeded
     ``mlbook.training.train`` run, so the same command gives the same numbers on any CPU (up to floating-point
     differences between kernels); the CPU and the time it took are recorded as information,
  2. evaluates N-way K-shot accuracy (5/20-way, 1/5-shot) on the split's held-out alphabets (mean and
     95% CI over seeded test episodes, the same episodes for every method),
  3. scores the original 20-way within-alphabet one-shot benchmark (all_runs, 400 trials).
It prints a table and writes JSON (provenance, hardware, torch version, seed, times, every number).
Use one thread (the default) on a shared machine: two OpenMP threads on a busy 2-core CPU run ~10x slower.

    python benchmarks/metric_benchmark.py                                  # the chapter's numbers (~30 min)
    python benchmarks/metric_benchmark.py --methods protonet --splits 1 --steps 500   # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import torch

from mlbook.data import PUBLISHED_ERRORS, EpisodeSampler, load_oneshot_runs, minimal_splits
from mlbook.metric import (
    DISPLAY_NAMES,
    METHOD_RECIPES,
    recipe_for,
    train_from_recipe,
)
from mlbook.results import finish_provenance, make_provenance
from mlbook.training import evaluate, evaluate_oneshot
from mlbook.utils import mean_confidence_interval

#: (n_way, k_shot, q_query) test settings on the held-out alphabets: the chapter's table ...
SETTINGS = [(5, 1, 15), (5, 5, 15), (20, 1, 5), (20, 5, 5)]
#: ... and the extra points of its accuracy-vs-shots plot (evaluated on fewer episodes, see --sweep-episodes)
SHOT_SWEEP = [(5, 2, 5), (5, 3, 5), (5, 10, 5), (20, 2, 5), (20, 10, 5)]
#: Each method's training budget in optimiser steps (one episode each). They replace a budget of two minutes of
#: CPU time per method: these are about the steps that fitted in two minutes of one AMD EPYC core (a Relation
#: Network step, with its relation module on 60 x 60 pairs, costs about three ProtoNet steps).
STEPS = {"protonet": 2000, "matching": 2000, "relation": 700, "siamese": 2000}


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
    steps = args.steps or STEPS[name]
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
    parser.add_argument("--steps", type=int, default=0, help="one number of training steps for every method "
                        "(default: each method's budget in STEPS)")
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
    provenance = make_provenance(__file__, argv)
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
        "provenance": finish_provenance(provenance),
        "command": provenance["command"],
        "hardware": hardware(args.threads),
        "seed": args.seed,
        "steps": {name: args.steps or STEPS[name] for name in args.methods},
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
        "note": "budgets are optimiser steps; train_seconds, train_cpu_seconds and wall_seconds are information "
        "only (wall and process CPU time on the recorded CPU, which may have been shared with other jobs)",
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
