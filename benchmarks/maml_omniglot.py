"""Every chapter-5 method on Omniglot's minimal split: 5-way 1-shot accuracy and the one-shot benchmark.

All methods meta-train a Conv4 (64 channels, BatchNorm with per-task batch statistics) on the 5 background
alphabets of ``minimal_splits(train=1)`` with 5-way 1-shot episodes (one query image per class, as in the
MAML paper's Omniglot setting), the same number of meta-training tasks for every method, Adam 1e-3. They
are then evaluated on the 3 held-out alphabets (600 5-way 1-shot episodes, 15 queries per class, 95% CI)
and on the original one-shot benchmark (20-way, within alphabet, 400 trials). The gradient-based methods
use a shared head row for all classes so that a network meta-trained 5-way adapts 20-way at test time.

    python benchmarks/maml_omniglot.py --steps 400 --meta-batch 16

writes benchmarks/results/maml_omniglot.json. The budget is tiny next to the papers' (MAML: 60,000
meta-iterations of 32 tasks); the JSON records it, and the chapter says so next to the numbers.
"""

from __future__ import annotations

import argparse
import time

import torch
from maml_common import environment, write_json

from mlbook.data import EpisodeSampler, load_oneshot_runs, minimal_splits
from mlbook.models import Conv4
from mlbook.optimization import ANIL, FOMAML, MAML, R2D2, MetaSGD, Reptile, evaluate_after_steps
from mlbook.training import evaluate, evaluate_oneshot, train
from mlbook.utils import seed_everything


def build(name: str):
    """The methods and their settings (MAML paper's Omniglot values where they exist). Test-time steps equal
    meta-training steps, one rule for all (the JSON's ``maml_test_steps`` curve measures what extra steps
    do). The per-task loop is used because it is faster than ``batched=True`` for Conv4 on a CPU
    (see maml_throughput.json); the two give the same meta-gradients."""
    head = Conv4(out_features=1, hidden=64, norm="batch")
    if name == "MAML":
        return MAML(head, inner_lr=0.4, inner_steps=1, test_inner_steps=1, shared_head=True)
    if name == "FOMAML":
        return FOMAML(head, inner_lr=0.4, inner_steps=1, test_inner_steps=1, shared_head=True)
    if name == "MAML++":
        return MAML(head, inner_lr=0.4, inner_steps=2, test_inner_steps=2, inner_lr_mode="per_step",
                    multi_step_loss=True, shared_head=True)
    if name == "Meta-SGD":
        return MetaSGD(head, inner_lr=0.4, inner_steps=1, test_inner_steps=1, shared_head=True)
    if name == "ANIL":
        return ANIL(head, inner_lr=0.4, inner_steps=5, test_inner_steps=5, shared_head=True)
    if name == "Reptile":
        return Reptile(head, inner_lr=0.1, inner_steps=5, test_inner_steps=10, shared_head=True)
    if name == "R2D2":
        return R2D2(Conv4(hidden=64, norm="batch"))
    raise ValueError(f"unknown method {name!r}")


METHODS = ("MAML", "FOMAML", "MAML++", "Meta-SGD", "ANIL", "Reptile", "R2D2")


def describe(method) -> dict:
    keys = ("inner_lr", "inner_steps", "test_inner_steps", "first_order", "inner_lr_mode", "step_weights")
    return {k: getattr(method, k) for k in keys if hasattr(method, k)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--meta-batch", type=int, default=16)
    parser.add_argument("--eval-episodes", type=int, default=600)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="maml_omniglot.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    env = environment(args.threads)
    began = time.perf_counter()
    meta_train, meta_test = minimal_splits(train=1)
    runs = load_oneshot_runs()
    results, maml_steps = {}, None
    for name in args.methods:
        seed_everything(args.seed)
        method = build(name)
        sampler = EpisodeSampler(meta_train, 5, 1, 1, seed=args.seed)
        history = train(method, sampler, steps=args.steps, meta_batch=args.meta_batch, lr=1e-3, seed=args.seed,
                        device="cpu")
        started = time.perf_counter()
        accuracy = evaluate(method, EpisodeSampler(meta_test, 5, 1, 15, seed=12345), args.eval_episodes,
                            device="cpu")
        oneshot = evaluate_oneshot(method, runs, device="cpu")
        if name == "MAML":  # accuracy as a function of the number of test-time steps
            curve = evaluate_after_steps(method, EpisodeSampler(meta_test, 5, 1, 15, seed=12345), (0, 1, 2, 3, 5),
                                         episodes=200, device="cpu")
            maml_steps = {"steps": list(curve), "accuracy": [r.mean for r in curve.values()],
                          "ci95": [r.ci95 for r in curve.values()], "episodes": 200}
        every = max(1, args.steps // 50)
        loss = torch.tensor(history["loss"])
        results[name] = {
            "settings": describe(method),
            "train_seconds": history.seconds,
            "eval_seconds": time.perf_counter() - started,
            "accuracy_5way_1shot": accuracy.mean,
            "accuracy_ci95": accuracy.ci95,
            "oneshot_error_percent": oneshot.error_percent,
            "oneshot_ci95": oneshot.ci95(),
            "train_loss": loss[: (len(loss) // every) * every].view(-1, every).mean(1).tolist(),
        }
        print(f"{name:10s} 5-way 1-shot {accuracy}   one-shot benchmark {oneshot}   "
              f"(train {history.seconds:.0f} s)", flush=True)
        write_json(args.out, {**env, "seed": args.seed, "wall_seconds": time.perf_counter() - began,
                              "config": {"meta_train": "minimal_splits(train=1): 5 background_small1 alphabets",
                                         "meta_test": "Japanese_(katakana), Sanskrit, Tagalog (background_small2)",
                                         "episodes_train": "5-way 1-shot, 1 query per class",
                                         "episodes_test": "5-way 1-shot, 15 queries per class, seed 12345",
                                         "meta_iterations": args.steps, "meta_batch": args.meta_batch,
                                         "outer": "Adam(1e-3)", "model": "Conv4(hidden=64, norm='batch')",
                                         "eval_episodes": args.eval_episodes},
                              "results": results, "maml_test_steps": maml_steps})
    print(f"done in {time.perf_counter() - began:.0f} s")


if __name__ == "__main__":
    main()
