"""The MAML paper's sinusoid protocol (Finn et al. 2017, section 5.1 and appendix C), at ``--steps`` meta-iterations.

MLP(1, 1, (40, 40)) with ReLU, **K = 10** support (and 10 query) points per task in meta-training, one inner
SGD step α = 0.01, meta-batch 25 tasks, Adam 1e-3; the paper trains 70,000 meta-iterations. The pretrained
baseline is the same network trained on all tasks jointly (pooled regression) for the same number of
iterations and batch; at test time it is fine-tuned with SGD whose step size is **tuned**, as in the paper:
every step size of ``TUNE_LRS`` is tried on ``--tune-tasks`` tasks of a separate seed, the one with the lowest
MSE after 10 steps is chosen per K, and the baseline is then reported on the fresh evaluation tasks. MAML is
adapted with the α it was trained with. Both are evaluated after 0, 1, 5 and 10 test-time steps at K = 5, 10
and 20 on ``--eval-tasks`` fresh tasks (100 query points each; the same tasks for both methods).

The two trainings run in parallel processes (``--workers``, one torch thread each).

    python benchmarks/maml_sinusoid_paper.py --steps 70000

writes benchmarks/results/maml_sinusoid_paper.json (numbers, the step-size sweep, hardware, and both trained
networks' weights, which chapter 5's sinusoid notebook loads). ``maml_sinusoid.py`` keeps the K = 5 variant.
"""

from __future__ import annotations

import argparse
import math
import time
from concurrent.futures import ProcessPoolExecutor

import torch
from maml_common import environment, write_json

from mlbook.data import SinusoidTasks
from mlbook.models import MLP
from mlbook.optimization import MAML, PretrainedFineTune
from mlbook.training import train
from mlbook.utils import mean_confidence_interval, seed_everything

EVAL_STEPS = (0, 1, 5, 10)
EVAL_SHOTS = (5, 10, 20)
TUNE_LRS = (0.001, 0.003, 0.01, 0.02, 0.05, 0.1)
TUNE_STEPS = 10
INNER_LR = 0.01
K_TRAIN = 10


def task_errors(method, k_shot: int, tasks: int, seed: int, steps: tuple[int, ...]) -> dict[int, list[float]]:
    """Query MSE of every task after each number of test-time steps (tasks seeded by ``seed``)."""
    sampler = SinusoidTasks(k_shot=k_shot, q_query=100, seed=seed)
    errors: dict[int, list[float]] = {s: [] for s in steps}
    for _ in range(tasks):
        episode = sampler.sample()
        for s in steps:
            prediction = method.predict(episode, steps=s)
            errors[s].append(float(torch.mean((prediction - episode.query_y) ** 2)))
    return errors


def summary(errors: dict[int, list[float]]) -> dict:
    """Mean and 95% interval over the tasks whose error stayed finite; ``diverged`` counts the others (an SGD step
    that overshoots on a steep task can blow up), ``median`` is over all tasks."""
    finite = {s: [e for e in errors[s] if math.isfinite(e)] for s in errors}
    stats = [mean_confidence_interval(finite[s]) for s in errors]
    return {"steps": list(errors), "mse": [m for m, _ in stats], "ci95": [h for _, h in stats],
            "diverged": [len(errors[s]) - len(finite[s]) for s in errors],
            "median": [float(torch.tensor(errors[s]).nan_to_num(nan=float("inf")).median()) for s in errors]}


def run(name: str, steps: int, eval_tasks: int, tune_tasks: int, seed: int) -> dict:
    torch.set_num_threads(1)
    seed_everything(seed)
    model = MLP(1, 1, hidden=(40, 40))
    if name == "maml":
        method = MAML(model, inner_lr=INNER_LR, inner_steps=1, test_inner_steps=10, batched=True)
    else:
        method = PretrainedFineTune(model, inner_lr=INNER_LR, test_inner_steps=10)
    tasks = SinusoidTasks(k_shot=K_TRAIN, q_query=K_TRAIN, seed=seed)
    history = train(method, tasks, steps=steps, meta_batch=25, lr=1e-3, seed=seed, device="cpu", progress=False)
    loss = torch.tensor(history["loss"])
    every = max(1, steps // 200)
    out: dict = {
        "train_seconds": history.seconds,
        "curve": {"step": list(range(every, steps + 1, every)),
                  "loss": loss[: (len(loss) // every) * every].view(-1, every).mean(1).tolist()},
        "weights": {n: p.detach().tolist() for n, p in method.model.named_parameters()},
        "results": {},
    }
    if name == "pretrained":
        # step-size sweep on tuning tasks (seeds 2000 + K), disjoint from the evaluation tasks (1000 + K)
        sweep, chosen = {}, {}
        for k in EVAL_SHOTS:
            sweep[f"K{k}"] = {}
            for lr in TUNE_LRS:
                method.inner_lr = lr
                errors = task_errors(method, k, tune_tasks, seed=2000 + k, steps=(TUNE_STEPS,))
                errors = torch.tensor(errors[TUNE_STEPS])
                # a step size that diverges on any tuning task is recorded as None and never chosen
                sweep[f"K{k}"][str(lr)] = float(errors.mean()) if bool(torch.isfinite(errors).all()) else None
            usable = [lr for lr in TUNE_LRS if sweep[f"K{k}"][str(lr)] is not None]
            chosen[f"K{k}"] = min(usable, key=lambda lr, k=k: sweep[f"K{k}"][str(lr)])
        out["tuning"] = {"step_sizes": list(TUNE_LRS), "tasks": tune_tasks, "task_seeds": "2000 + K",
                         "criterion": f"query MSE after {TUNE_STEPS} steps", "mse": sweep, "chosen": chosen}
        fixed = {}
        for k in EVAL_SHOTS:
            method.inner_lr = chosen[f"K{k}"]
            out["results"][f"K{k}"] = summary(task_errors(method, k, eval_tasks, 1000 + k, EVAL_STEPS))
            method.inner_lr = INNER_LR
            fixed[f"K{k}"] = summary(task_errors(method, k, eval_tasks, 1000 + k, EVAL_STEPS))
        out["results_fixed_step"] = fixed  # the same baseline fine-tuned with α = 0.01, untuned
    else:
        for k in EVAL_SHOTS:
            out["results"][f"K{k}"] = summary(task_errors(method, k, eval_tasks, 1000 + k, EVAL_STEPS))
    print(name, {k: [round(m, 3) for m in v["mse"]] for k, v in out["results"].items()}, flush=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--steps", type=int, default=70000, help="meta-iterations (paper: 70000)")
    parser.add_argument("--eval-tasks", type=int, default=600)
    parser.add_argument("--tune-tasks", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="processes (MAML and the baseline in parallel)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="maml_sinusoid_paper.json")
    args = parser.parse_args()
    torch.set_num_threads(1)
    env = environment(1)
    began = time.perf_counter()
    names = ("maml", "pretrained")
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        futures = {n: pool.submit(run, n, args.steps, args.eval_tasks, args.tune_tasks, args.seed) for n in names}
        runs = {n: f.result() for n, f in futures.items()}
    payload = {
        **env,
        "seed": args.seed,
        "wall_seconds": time.perf_counter() - began,
        "train_seconds": {n: runs[n]["train_seconds"] for n in names},
        "config": {"meta_iterations": args.steps, "paper_meta_iterations": 70000, "k_shot_train": K_TRAIN,
                   "q_query_train": K_TRAIN, "meta_batch": 25, "inner_lr": INNER_LR, "inner_steps_train": 1,
                   "outer": "Adam(1e-3)", "model": "MLP(1, 1, hidden=(40, 40))", "eval_shots": list(EVAL_SHOTS),
                   "eval_tasks": args.eval_tasks, "eval_task_seeds": "1000 + K", "eval_query_points": 100,
                   "workers": args.workers},
        "results": {n: runs[n]["results"] for n in names},
        "pretrained_fixed_step": runs["pretrained"]["results_fixed_step"],
        "tuning": runs["pretrained"]["tuning"],
        "curves": {n: runs[n]["curve"] for n in names},
        "weights": {n: runs[n]["weights"] for n in names},
    }
    print("wrote", write_json(args.out, payload))


if __name__ == "__main__":
    main()
