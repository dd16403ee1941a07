"""Chapter 3's measurements: every multi-task method on the same model and data, over seeds, with wall time.

    python benchmarks/multitask_benchmark.py --seeds 5 --steps 1000

writes benchmarks/results/multitask_benchmark.json with

* ``comparison``: Multi-digits (two overlapping 8x8 digits on a 12x12 canvas, 5,000 training pairs, 3,000 test
  pairs from held-out source images), a hard-sharing MLP, Adam 1e-3, batch 128, ``--steps`` steps; single-task
  networks (one per task, same architecture) and every weighting / aggregator; test accuracy per task over seeds and
  seconds per step measured in this run (ratios to the plain sum are the meaningful numbers);
* ``pareto``: the same training with fixed weights (w, 1 - w) swept over w: the trade-off front;
* ``scarce``: few labels for the task we care about, many for a second task on the same inputs, a convolutional
  trunk shared by both against a network trained on the few labels alone (labelled examples oversampled to half
  of the data): Omniglot characters (3 of 15 training drawers labelled; the 5 held-out drawers are the test set)
  with their alphabets (all 15), and Multi-digits' left digit (100 labelled pairs) with the right digit (5,000);
  look-ahead affinities (Fifty et al. 2021, a look-ahead step of the training learning rate) averaged over training;
* ``capacity``: the plain sum on a shared trunk with as many parameters as the two single-task networks, with the
  look-ahead affinity between the two digits along training;
* ``kendall``: uncertainty weighting on Kendall et al.'s two-regression toy (noise 1 and 4): the learned sigmas;
* ``peers``: our aggregators against torchjd's on the same Jacobians (from the trained model and random), the
  largest relative difference and the time ratio; MGDA on the representation (MGDA-UB) against MGDA on the
  parameters, time per step (from ``comparison``).
"""

from __future__ import annotations

import argparse
import time

import torch
from maml_common import environment, write_json

from mlbook.data import load_omniglot, make_multidigits, omniglot_multitask, split_by_drawer
from mlbook.multitask import (
    MGDA,
    MISSING,
    AlignedMTL,
    CAGrad,
    DynamicWeightAverage,
    EqualWeighting,
    FixedWeighting,
    GradNorm,
    HardSharing,
    Mean,
    NashMTL,
    OnRepresentation,
    PCGrad,
    UncertaintyWeighting,
    evaluate_multitask,
    kendall_toy,
    task_jacobian,
    task_losses,
    train_multitask,
)
from mlbook.utils import mean_confidence_interval

CANVAS, N_TRAIN, N_TEST, HIDDEN = 12, 5000, 3000, (256, 128)
WIDE = (400, 200)  # a shared trunk with as many parameters as the two single-task networks together
OMNIGLOT_SIZE, OMNIGLOT_LABELLED_DRAWERS, DIGITS_LABELLED = 20, 3, 100
PARETO_WEIGHTS = (0.02, 0.1, 0.25, 0.5, 0.75, 0.9, 0.98)


def methods(seed: int) -> dict:
    """Every method of the chapter, in the order the tables list them (a fresh, seeded instance per run)."""
    return {
        "equal": EqualWeighting(2),
        "uncertainty": UncertaintyWeighting(2, "classification"),
        "dwa": DynamicWeightAverage(2),
        "gradnorm": GradNorm(2, alpha=1.5),
        "pcgrad": PCGrad(seed=seed),
        "mgda": MGDA(),
        "mgda_ub": OnRepresentation(MGDA()),
        "cagrad": CAGrad(c=0.4),
        "nash_mtl": NashMTL(),
        "aligned_mtl": AlignedMTL(),
    }


def multidigits() -> tuple:
    train = make_multidigits(N_TRAIN, split="train", seed=0, canvas=CANVAS)
    test = make_multidigits(N_TEST, split="test", seed=1, canvas=CANVAS)
    return train, test


def mlp(outs, seed, hidden=HIDDEN):
    return HardSharing.mlp(CANVAS * CANVAS, hidden, outs, seed=seed)


def run(model, method, x, y, test_x, test_y, args, seed, **extra) -> dict:
    history = train_multitask(model, method, x, y, steps=args.steps, batch_size=128, lr=1e-3, seed=seed,
                              progress=False, **extra)
    result = {"accuracy": evaluate_multitask(model, test_x, test_y), "seconds_per_step": history.seconds_per_step,
              "final_weights": history.weights[-1]}
    if history.affinities:
        result["affinity"] = history.mean_affinity().tolist()
    return result


def summarise(runs: list[dict]) -> dict:
    accuracy = torch.tensor([r["accuracy"] for r in runs])
    per_task = [mean_confidence_interval(accuracy[:, t]) for t in range(accuracy.shape[1])]
    mean_of_tasks = mean_confidence_interval(accuracy.mean(1))
    seconds = [r["seconds_per_step"] for r in runs]
    summary = {
        "accuracy": [m for m, _ in per_task],
        "ci95": [c for _, c in per_task],
        "mean_accuracy": mean_of_tasks[0],
        "mean_ci95": mean_of_tasks[1],
        "seconds_per_step": sum(seconds) / len(seconds),
        "runs": runs,
    }
    if "affinity" in runs[0]:
        summary["affinity"] = torch.tensor([r["affinity"] for r in runs]).mean(0).tolist()
    return summary


def comparison(args) -> dict:
    train, test = multidigits()
    x, tx = train.images.flatten(1), test.images.flatten(1)
    results: dict[str, list[dict]] = {"single_task": []}
    for seed in range(args.seeds):
        singles = []
        for t in range(2):
            singles.append(run(mlp([10], seed), EqualWeighting(1), x, train.labels[:, [t]], tx, test.labels[:, [t]],
                               args, seed))
        results["single_task"].append({"accuracy": [s["accuracy"][0] for s in singles],
                                       "seconds_per_step": sum(s["seconds_per_step"] for s in singles),
                                       "final_weights": [1.0, 1.0]})
        for name, method in methods(seed).items():
            results.setdefault(name, []).append(run(mlp([10, 10], seed), method, x, train.labels, tx, test.labels,
                                                    args, seed))
        print(f"comparison: seed {seed} done", flush=True)
    return {name: summarise(runs) for name, runs in results.items()}


def capacity(args) -> dict:
    """Is the shared network's gap to the single-task networks a matter of parameters? The plain sum on a trunk as
    large as the two single-task networks together, with the look-ahead affinity recorded along training (so its
    time per step is not comparable with the methods')."""
    train, test = multidigits()
    x, tx = train.images.flatten(1), test.images.flatten(1)
    runs = [run(mlp([10, 10], seed, WIDE), EqualWeighting(2), x, train.labels, tx, test.labels, args, seed,
                affinity_every=50) for seed in range(args.seeds)]
    print("capacity: done", flush=True)
    return {"hidden": list(WIDE), "parameters": sum(p.numel() for p in mlp([10, 10], 0, WIDE).parameters()),
            "single_task_parameters": 2 * sum(p.numel() for p in mlp([10], 0).parameters()),
            "shared": summarise(runs)}


def pareto(args) -> dict:
    train, test = multidigits()
    x, tx = train.images.flatten(1), test.images.flatten(1)
    front = {}
    for w in PARETO_WEIGHTS:
        runs = [run(mlp([10, 10], seed), FixedWeighting([2 * w, 2 * (1 - w)]), x, train.labels, tx, test.labels,
                    args, seed) for seed in range(args.seeds)]
        front[str(w)] = summarise(runs)
        print(f"pareto: w = {w} done", flush=True)
    return front


def oversampled(images: torch.Tensor, labels: torch.Tensor, rare: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Repeat the ``rare`` examples (those labelled for the scarce task) until they are about half of the data, so
    that the shared network sees each of them about as often as a single-task network trained on them alone."""
    repeats = max(int((~rare).sum()) // max(int(rare.sum()), 1) - 1, 0)
    extra = rare.nonzero().flatten().repeat(repeats)
    return torch.cat([images, images[extra]]), torch.cat([labels, labels[extra]])


def scarce_case(args, name: str, make, train_images, train_labels, rare, test_images, test_labels) -> dict:
    """Task 0 labelled only on ``rare`` examples, task 1 on all: shared network vs task 0 alone."""
    args = argparse.Namespace(**{**vars(args), "steps": args.scarce_steps})
    partial = train_labels.clone()
    partial[~rare, 0] = MISSING
    x, y = oversampled(train_images, partial, rare)
    shared, single = [], []
    for seed in range(args.seeds):
        shared.append(run(make(seed, both=True), EqualWeighting(2), x, y, test_images, test_labels, args, seed,
                          affinity_every=50))
        single.append(run(make(seed, both=False), EqualWeighting(1), train_images[rare], train_labels[rare][:, [0]],
                          test_images, test_labels[:, [0]], args, seed))
    print(f"scarce: {name} done", flush=True)
    return {"shared": summarise(shared), "single_task": summarise(single),
            "labelled": [int(rare.sum()), len(train_labels)]}


def scarce(args) -> dict:
    """Two cases with the same shape, few labels for the task we care about and many for a second task on the same
    inputs: a fine task with a coarse one (Omniglot characters and alphabets) and two digits that compete for the
    same pixels (Multi-digits left and right)."""
    images = load_omniglot("background_small1", OMNIGLOT_SIZE)
    data = omniglot_multitask(images, tasks=("character", "alphabet"), seed=0)
    train, test = split_by_drawer(data, n_test_drawers=5, seed=0)
    drawers = train.info["drawer"]
    rare = torch.isin(drawers, drawers.unique()[:OMNIGLOT_LABELLED_DRAWERS])
    classes = list(train.num_classes)

    def omniglot_net(seed, both):
        outs = classes if both else classes[:1]
        return HardSharing.conv(outs, image_size=OMNIGLOT_SIZE, hidden=32, depth=3, seed=seed)

    cases = {"omniglot_character_alphabet": scarce_case(args, "omniglot", omniglot_net, train.images, train.labels,
                                                        rare, test.images, test.labels)}
    digits_train, digits_test = multidigits()
    rare = torch.arange(N_TRAIN) < DIGITS_LABELLED

    def digits_net(seed, both):
        return HardSharing.conv([10, 10] if both else [10], image_size=CANVAS, hidden=32, depth=2, seed=seed)

    cases["multidigits_left_right"] = scarce_case(args, "multi-digits", digits_net, digits_train.images,
                                                  digits_train.labels, rare, digits_test.images, digits_test.labels)
    return cases


def kendall(args) -> dict:
    sigmas = (1.0, 4.0)
    learned = []
    for seed in range(args.seeds):
        toy = kendall_toy(2000, sigmas=sigmas, seed=seed)
        model = HardSharing.mlp(toy.x.shape[1], [64, 64], [1, 1], seed=seed)
        method = UncertaintyWeighting(2, "regression")
        train_multitask(model, method, toy.x, toy.y, steps=args.steps, batch_size=256, lr=1e-2, seed=seed,
                        progress=False)
        learned.append(method.sigmas().tolist())
    learned_t = torch.tensor(learned)
    return {"true_sigmas": list(sigmas), "learned": learned,
            "mean": learned_t.mean(0).tolist(),
            "ci95": [mean_confidence_interval(learned_t[:, t])[1] for t in range(2)]}


def timed(fn, repeats: int) -> float:
    fn()
    began = time.perf_counter()
    for _ in range(repeats):
        fn()
    return (time.perf_counter() - began) / repeats


def peers(args) -> dict:
    import torchjd.aggregation as jd

    train, _ = multidigits()
    model = mlp([10, 10], 0)
    train_multitask(model, EqualWeighting(2), train.images.flatten(1), train.labels, steps=200, seed=0,
                    progress=False)
    x, y = train.images[:128].flatten(1), train.labels[:128]
    jacobians = {"multidigits (T=2)": task_jacobian(task_losses(model(x), y), model.shared_parameters()).double()}
    g = torch.Generator().manual_seed(0)
    for t in (3, 5):
        jacobians[f"random (T={t})"] = torch.randn(t, 20000, generator=g, dtype=torch.float64)
    pairs = {"MGDA": (lambda: MGDA(), lambda: jd.MGDA(epsilon=1e-12, max_iters=10000)),
             "PCGrad": (lambda: PCGrad(seed=0), lambda: jd.PCGrad()),
             "Aligned-MTL": (lambda: AlignedMTL(), lambda: jd.AlignedMTL()),
             "Mean": (lambda: Mean(), lambda: jd.Mean())}
    rows = []
    for jname, jacobian in jacobians.items():
        for name, (ours_factory, theirs_factory) in pairs.items():
            ours, theirs = ours_factory(), theirs_factory()
            torch.manual_seed(0)
            ours_d = PCGrad(seed=0)(jacobian) if name == "PCGrad" else ours(jacobian)
            torch.manual_seed(0)
            theirs_d = theirs(jacobian)
            difference = float((ours_d - theirs_d).norm() / theirs_d.norm().clamp_min(1e-30))
            rows.append({"jacobian": jname, "aggregator": name, "relative_difference": difference,
                         "ours_seconds": timed(lambda o=ours, j=jacobian: o(j), 20),
                         "torchjd_seconds": timed(lambda t=theirs, j=jacobian: t(j), 20)})
    return {"rows": rows, "not_compared": {
        "CAGrad": "torchjd 0.18.0's CAGrad needs cvxpy and clarabel, not installed here",
        "Nash-MTL": "torchjd 0.18.0's NashMTL needs cvxpy and ecos, not installed here"}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--steps", type=int, default=1000, help="training steps of every Multi-digits MLP run")
    parser.add_argument("--scarce-steps", type=int, default=500, help="training steps of the few-label runs")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", default="multitask_benchmark.json")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    record = {"environment": environment(args.threads),
              "setting": {"canvas": CANVAS, "train_pairs": N_TRAIN, "test_pairs": N_TEST, "hidden": list(HIDDEN),
                          "steps": args.steps, "scarce_steps": args.scarce_steps, "seeds": args.seeds,
                          "batch_size": 128, "lr": 1e-3, "optimizer": "Adam"}}
    record["peers"] = peers(args)
    record["kendall"] = kendall(args)
    record["scarce"] = scarce(args)
    record["comparison"] = comparison(args)
    record["capacity"] = capacity(args)
    record["pareto"] = pareto(args)
    write_json(args.out, record)


if __name__ == "__main__":
    main()
