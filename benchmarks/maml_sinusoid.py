"""Reproduce the MAML paper's sinusoid regression (Finn et al. 2017, section 5.1) at a CPU-sized budget.

MLP(1, 1, (40, 40)), K = 5 support points, inner SGD step 0.01, one inner step in meta-training, meta-batch
25 tasks, Adam 1e-3. The paper trains 70,000 meta-iterations; ``--steps`` sets ours (recorded in the JSON).
The baseline is the same network pretrained on all tasks (joint regression), fine-tuned with the same SGD.
Both are evaluated after 0, 1, 5 and 10 test-time steps on 600 fresh tasks (100 query points each).

    python benchmarks/maml_sinusoid.py --steps 30000

writes benchmarks/results/maml_sinusoid.json (numbers, hardware, and both trained networks' weights,
which the chapter's notebook loads to draw the adaptation plots).
"""

from __future__ import annotations

import argparse
import time

import torch
from maml_common import environment, write_json

from mlbook.data import SinusoidTasks
from mlbook.models import MLP
from mlbook.optimization import MAML, PretrainedFineTune
from mlbook.training import train
from mlbook.utils import mean_confidence_interval, seed_everything

PAPER = {  # Finn et al. 2017, K = 5, MSE after 1 / 5 / 10 test-time gradient steps
    "steps": [1, 5, 10],
    "maml": [0.67, 0.38, 0.35],
    "pretrained": [2.41, 2.23, 2.19],
}
EVAL_STEPS = (0, 1, 5, 10)


def evaluate_steps(method, k_shot: int, tasks: int, seed: int) -> dict:
    sampler = SinusoidTasks(k_shot=k_shot, q_query=100, seed=seed)
    errors = {s: [] for s in EVAL_STEPS}
    for _ in range(tasks):
        episode = sampler.sample()
        for steps in EVAL_STEPS:
            prediction = method.predict(episode, steps=steps)
            errors[steps].append(float(torch.mean((prediction - episode.query_y) ** 2)))
    return {
        "steps": list(EVAL_STEPS),
        "mse": [mean_confidence_interval(errors[s])[0] for s in EVAL_STEPS],
        "ci95": [mean_confidence_interval(errors[s])[1] for s in EVAL_STEPS],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=30000, help="meta-iterations (paper: 70000)")
    parser.add_argument("--k-shot", type=int, default=5)
    parser.add_argument("--eval-tasks", type=int, default=600)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="maml_sinusoid.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    env = environment(args.threads)
    began = time.perf_counter()
    results, weights, curves, seconds = {}, {}, {}, {}
    for name in ("maml", "pretrained"):
        seed_everything(args.seed)
        model = MLP(1, 1, hidden=(40, 40))
        if name == "maml":
            method = MAML(model, inner_lr=0.01, inner_steps=1, test_inner_steps=10, batched=True)
        else:
            method = PretrainedFineTune(model, inner_lr=0.01, test_inner_steps=10)
        tasks = SinusoidTasks(k_shot=args.k_shot, q_query=args.k_shot, seed=args.seed)
        history = train(method, tasks, steps=args.steps, meta_batch=25, lr=1e-3, seed=args.seed, device="cpu")
        seconds[name] = history.seconds
        loss = torch.tensor(history["loss"])
        every = max(1, args.steps // 200)
        curves[name] = {"step": list(range(every, args.steps + 1, every)),
                        "loss": loss[: (len(loss) // every) * every].view(-1, every).mean(1).tolist()}
        results[name] = {f"K{k}": evaluate_steps(method, k, args.eval_tasks, seed=1000 + k) for k in (5, 10)}
        weights[name] = {n: p.detach().tolist() for n, p in method.model.named_parameters()}
        print(name, {k: [round(m, 3) for m in v["mse"]] for k, v in results[name].items()}, flush=True)
    payload = {
        **env,
        "seed": args.seed,
        "wall_seconds": time.perf_counter() - began,
        "train_seconds": seconds,
        "config": {"meta_iterations": args.steps, "paper_meta_iterations": 70000, "k_shot_train": args.k_shot,
                   "meta_batch": 25, "inner_lr": 0.01, "inner_steps_train": 1, "outer": "Adam(1e-3)",
                   "model": "MLP(1, 1, hidden=(40, 40))", "eval_tasks": args.eval_tasks, "eval_query_points": 100},
        "paper": PAPER,
        "results": results,
        "curves": curves,
        "weights": weights,
    }
    print("wrote", write_json(args.out, payload))


if __name__ == "__main__":
    main()
