"""Chapter 6 ablation: what helps a Prototypical Network on the minimal Omniglot splits, and by how much.

Each variant changes one ingredient of the reference recipe (``mlbook.metric.RECIPE``), retrains a ProtoNet
from scratch for the same number of optimiser steps (``--steps`` times the variant's budget factor) on both
minimal splits, and reports 5-way 1-shot accuracy on the held-out alphabets and the error on the original
one-shot benchmark (all_runs). One variant changes only the evaluation (BatchNorm with each test episode's own
statistics) and reuses the reference networks. Two variants compare the Relation Network's losses, trained as
Sung et al. (2018) trained on Omniglot: 20-way 1-shot episodes with 10 queries per class.

    python benchmarks/metric_ablation.py            # the chapter's numbers (~20 min)
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from metric_benchmark import hardware, write_report  # noqa: E402

from mlbook.data import EpisodeSampler, load_oneshot_runs, minimal_splits  # noqa: E402
from mlbook.metric import recipe_for, train_from_recipe, with_batch_statistics  # noqa: E402
from mlbook.results import finish_provenance, make_provenance  # noqa: E402
from mlbook.training import evaluate, evaluate_oneshot  # noqa: E402

#: Sung et al.'s (2018) Omniglot 20-way 1-shot training episodes (10 queries per class); the chapter's 60-way
#: 1-query episodes are a degenerate setting for the squared-error loss (predicting 0 for every pair is nearly
#: optimal when 59 of 60 targets are 0).
PAPER_RELATION_EPISODES = {"n_way": 20, "k_shot": 1, "q_query": 10}

#: name -> (description, method, changes to the reference recipe, method options, budget factor);
#: changes=None: no training, evaluate the reference networks with BatchNorm using each test episode's statistics
VARIANTS = {
    "plain": ("no rotations (no augmentation)", "protonet", {"rotations": False}, {}, 1.0),
    "reference": ("rotations as new classes, peak lr 3e-3 (reference)", "protonet", {}, {}, 1.0),
    "affine": ("rotations + random affine distortions", "protonet", {"distortion": True}, {}, 1.0),
    "low_lr": ("peak learning rate 1e-3 instead of 3e-3", "protonet", {"lr": 1e-3}, {}, 1.0),
    "twenty_way": ("20-way 5-query, not 60-way 1-query, episodes", "protonet", {"n_way": 20, "q_query": 5}, {}, 1.0),
    "cosine": ("scaled cosine instead of squared Euclidean", "protonet", {}, {"distance": "cosine"}, 1.0),
    "half_time": ("half the training steps", "protonet", {}, {}, 0.5),
    "batch_stats": ("reference networks, BatchNorm statistics of each test episode", "protonet", None, {}, 1.0),
    "relation_ce": ("Relation Network, 20-way 10-query episodes, softmax cross-entropy on relation scores",
                    "relation", PAPER_RELATION_EPISODES, {"loss": "cross_entropy"}, 0.5),
    "relation_mse": ("Relation Network, 20-way 10-query episodes, squared error on sigmoid scores (the paper's)",
                     "relation", PAPER_RELATION_EPISODES, {"loss": "mse"}, 0.5),
}
REFERENCE = "reference"
#: what each method's variants are compared with
BASELINES = {"protonet": REFERENCE, "relation": "relation_ce"}


def evaluate_variant(method, meta_test, runs, episodes: int, seed: int) -> dict:
    sampler = EpisodeSampler(meta_test, 5, 1, 15, seed=seed + 1000)
    accuracy = evaluate(method, sampler, episodes, device="cpu", progress=False)
    oneshot = evaluate_oneshot(method, runs, device="cpu")
    return {
        "accuracy_5way_1shot": accuracy.mean,
        "accuracy_ci95": accuracy.ci95,
        "oneshot_error_percent": oneshot.error_percent,
        "oneshot_ci95": oneshot.ci95(),
    }


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=800, help="optimiser steps of one run of budget factor 1.0")
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--splits", nargs="+", type=int, default=[1, 2], choices=[1, 2])
    parser.add_argument("--episodes", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (2 on a busy 2-core CPU: ~10x slower)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="benchmarks/results/metric_ablation.json")
    return parser.parse_args(argv)


def main(argv=None) -> dict:
    args = parse_args(argv)
    provenance = make_provenance(__file__, argv)
    if "batch_stats" in args.variants and REFERENCE not in args.variants:
        raise SystemExit("the batch_stats variant evaluates the reference networks: include 'reference'")
    torch.set_num_threads(args.threads)
    runs = load_oneshot_runs()
    started = time.perf_counter()
    variants = {
        key: {
            "description": VARIANTS[key][0],
            "method": VARIANTS[key][1],
            "changes": VARIANTS[key][2],
            "options": VARIANTS[key][3],
            "budget_factor": VARIANTS[key][4],
            "baseline": BASELINES[VARIANTS[key][1]],
            "results": {},
        }
        for key in args.variants
    }
    for split in args.splits:
        meta_train, meta_test = minimal_splits(train=split)
        reference_method = None
        for key in args.variants:
            description, name, changes, options, factor = VARIANTS[key]
            if changes is None:
                method = with_batch_statistics(reference_method)
                reference = variants[REFERENCE]["results"][str(split)]
                result = {key_: reference[key_] for key_ in ("steps", "train_seconds", "train_cpu_seconds")}
            else:
                recipe = recipe_for(name, **changes, options=options)
                steps = max(1, round(args.steps * factor))
                began, began_cpu = time.perf_counter(), time.process_time()
                method, _ = train_from_recipe(name, meta_train, steps, recipe, seed=args.seed)
                result = {
                    "recipe": recipe,
                    "steps": steps,
                    "train_seconds": time.perf_counter() - began,
                    "train_cpu_seconds": time.process_time() - began_cpu,
                }
                if key == REFERENCE:
                    reference_method = method
            result.update(evaluate_variant(method, meta_test, runs, args.episodes, args.seed))
            variants[key]["results"][str(split)] = result
            print(
                f"split {split} {description:<70} {result['steps']:5d} steps  "
                f"5w1s {100 * result['accuracy_5way_1shot']:.1f}%  "
                f"one-shot error {result['oneshot_error_percent']:.1f}%",
                flush=True,
            )
    for v in variants.values():
        errors = [r["oneshot_error_percent"] for r in v["results"].values()]
        v["mean_oneshot_error_percent"] = sum(errors) / len(errors)
    print("\nmean one-shot error over splits")
    for v in variants.values():
        print(f"{v['description']:<70} {v['mean_oneshot_error_percent']:6.1f}%")
    report = {
        "provenance": finish_provenance(provenance),
        "command": provenance["command"],
        "hardware": hardware(args.threads),
        "seed": args.seed,
        "steps_per_run": args.steps,
        "recipe": recipe_for("protonet"),
        "reference": REFERENCE,
        "test_episodes": args.episodes,
        "variants": variants,
        "wall_seconds": time.perf_counter() - started,
    }
    return write_report(args.out, report)


if __name__ == "__main__":
    main()
