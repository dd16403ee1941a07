"""Second-order MAML meta-training throughput: mlbook vs ``higher`` 0.2.1 and ``torchopt`` 0.7.3.

Same Conv4 (64 channels, BatchNorm with per-task batch statistics), same 5-way 1-shot Omniglot tasks (one
query image per class, as in the MAML paper's Omniglot setting), same initial weights, inner SGD step 0.4,
second order, meta-batch 16 and 32, 1 and 5 inner steps. Each measurement is one meta-gradient (inner
loops + outer backward) of a whole meta-batch; every repeat measures every setting and implementation once, in
shuffled order, so that load from other processes and slow drifts of the machine's speed hit all of them
alike. Before timing, every implementation's meta-gradient is compared in float64 with our per-task loop (must
agree to 1e-5; the script fails otherwise) and the float32 differences are recorded. Peak memory is measured
in a fresh subprocess per implementation and setting: the growth of the resident set (VmHWM after resetting
it) during one meta-gradient.

Threads: every implementation is timed with 1 and 2 intra-op threads (``--threads``), and ours also as
"task threads": the meta-batch split over that many worker threads with one intra-op thread each
(``MAML(workers=...)``). The summary compares each library at its fastest setting. Before timing, the
profiler measures how much of each implementation's time is spent in the convolution kernels: for the peers,
1 / that share bounds the speed-up any implementation running all four layers on these kernels can reach on
one core (ours computes the first block as a folded matrix product instead: ``mlbook/optimization/folded.py``).

    python benchmarks/maml_throughput.py            # writes benchmarks/results/maml_throughput.json
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F
from maml_common import environment, write_json

from mlbook.data import EpisodeSampler, minimal_splits
from mlbook.models import Conv4
from mlbook.optimization import MAML

INNER_LR = 0.4
IMPLEMENTATIONS = ("mlbook (task-batched)", "mlbook (per-task loop)", "higher", "torchopt")
TASK_THREADS = "mlbook (task threads)"  # the per-task loop with the meta-batch split over threads (workers)


def make_model(dtype: torch.dtype) -> Conv4:
    torch.manual_seed(0)
    return Conv4(out_features=5, hidden=64, norm="batch").to(dtype)


def make_tasks(meta_batch: int, q_query: int, dtype: torch.dtype):
    meta_train, _ = minimal_splits()
    episodes = EpisodeSampler(meta_train, 5, 1, q_query, seed=0).sample_batch(meta_batch)
    for e in episodes:
        e.support_x, e.query_x = e.support_x.to(dtype), e.query_x.to(dtype)
    return episodes


def meta_gradient_fn(name: str, model: Conv4, steps: int, workers: int = 2):
    """A function episodes -> meta-gradient (tuple, in ``model.parameters()`` order) for one implementation."""
    if name == TASK_THREADS:
        maml = MAML(model, inner_lr=INNER_LR, inner_steps=steps, workers=workers)

        def ours_threaded(episodes):
            _, _, grads = maml.meta_gradient(episodes)
            return tuple(grads[f"model.{n}"] for n, _ in model.named_parameters())

        return ours_threaded
    if name.startswith("mlbook"):
        maml = MAML(model, inner_lr=INNER_LR, inner_steps=steps, batched=name == "mlbook (task-batched)")

        def ours(episodes):
            loss, _ = maml.batch_loss(episodes)
            return torch.autograd.grad(loss, list(model.parameters()))

        return ours
    MAML(model)  # the same BatchNorm policy for the peers: batch statistics, no running statistics
    if name == "higher":
        import higher

        def with_higher(episodes):
            inner_opt = torch.optim.SGD(model.parameters(), lr=INNER_LR)
            losses = []
            for e in episodes:
                with higher.innerloop_ctx(model, inner_opt, copy_initial_weights=False) as (fmodel, diffopt):
                    for _ in range(steps):
                        diffopt.step(F.cross_entropy(fmodel(e.support_x), e.support_y))
                    losses.append(F.cross_entropy(fmodel(e.query_x), e.query_y))
            return torch.autograd.grad(torch.stack(losses).mean(), list(model.parameters()))

        return with_higher
    if name == "torchopt":
        import torchopt

        def with_torchopt(episodes):
            params = list(model.parameters())
            inner_opt = torchopt.MetaSGD(model, lr=INNER_LR)
            state = torchopt.extract_state_dict(model)
            losses = []
            for e in episodes:
                for _ in range(steps):
                    inner_opt.step(F.cross_entropy(model(e.support_x), e.support_y))
                losses.append(F.cross_entropy(model(e.query_x), e.query_y))
                torchopt.recover_state_dict(model, state)
            return torch.autograd.grad(torch.stack(losses).mean(), params)

        return with_torchopt
    raise ValueError(f"unknown implementation {name!r}")


def max_abs_diff(a, b) -> float:
    return max(float((x - y).abs().max()) for x, y in zip(a, b, strict=True))


def check_agreement(meta_batch: int, steps: int, q_query: int, workers: int) -> dict:
    """float64: every implementation against our per-task loop (must be < 1e-5); float32 differences too."""
    out = {}
    names = (*IMPLEMENTATIONS, TASK_THREADS)
    for dtype, label in ((torch.float64, "float64"), (torch.float32, "float32")):
        episodes = make_tasks(meta_batch, q_query, dtype)
        reference = meta_gradient_fn("mlbook (per-task loop)", make_model(dtype), steps)(episodes)
        scale = max(float(g.abs().max()) for g in reference)
        for name in names:
            grads = meta_gradient_fn(name, make_model(dtype), steps, workers)(episodes)
            out.setdefault(name, {})[f"max_abs_diff_{label}"] = max_abs_diff(grads, reference)
        for name in names:
            out[name][f"max_abs_grad_{label}"] = scale
    bad = {n: v["max_abs_diff_float64"] for n, v in out.items() if not v["max_abs_diff_float64"] < 1e-5}
    if bad:
        raise SystemExit(f"meta-gradients disagree (float64, > 1e-5): {bad}")
    return out


# oneDNN convolutions; the transposed ones of the double backward run inside aten::_convolution's self time
CONV_KERNELS = ("aten::mkldnn_convolution", "aten::convolution_backward", "aten::_convolution")


def convolution_share(meta_batch: int, steps: int, q_query: int) -> dict:
    """Share of each implementation's CPU time (1 thread, profiler self time) spent inside the convolution
    kernels (oneDNN). The peers call the same kernels for every layer, so 1 / (their share) bounds how much
    faster anything running all four layers on these kernels could be if all other work (autograd
    bookkeeping, BatchNorm, pooling, Python) were free. Ours runs the first layer as a folded matrix product
    (``mlbook/optimization/folded.py``), so its own share covers layers 2-4 only."""
    from torch.profiler import ProfilerActivity, profile

    episodes = make_tasks(meta_batch, q_query, torch.float32)
    shares = {}
    for name in IMPLEMENTATIONS:
        fn = meta_gradient_fn(name, make_model(torch.float32), steps)
        fn(episodes)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            fn(episodes)
        events = prof.key_averages()
        total = sum(e.self_cpu_time_total for e in events)
        conv = sum(e.self_cpu_time_total for e in events if e.key in CONV_KERNELS)
        shares[name] = {"convolution_ms": conv / 1e3, "total_ms": total / 1e3, "share": conv / total}
    return shares


ACTIVATIONS = ((5, 64, 14, 14), (5, 64, 7, 7), (5, 64, 3, 3))  # inputs of Conv4's layers 2-4, 5-image support set


def second_derivative_timings(repeats: int = 15, calls: int = 20) -> list[dict]:
    """One thread, channels-last: an operator's forward, its backward with ``create_graph`` and the second
    derivative (what second-order MAML does for every layer of an inner step), PyTorch's operator vs ours with
    hand-written second derivatives (``mlbook/optimization/batchnorm_grad.py``, ``conv_grad.py``) on Conv4's
    activations; interleaved in shuffled order, median microseconds per call."""
    from mlbook.optimization.batchnorm_grad import batch_norm_train
    from mlbook.optimization.conv_grad import conv2d

    operators = {
        "BatchNorm": (lambda x, w, b: F.batch_norm(x, None, None, w, b, True, 0.0, 1e-5), batch_norm_train),
        "conv 3x3": (lambda x, w, b: F.conv2d(x, w, b, padding=1), lambda x, w, b: conv2d(x, w, b, padding=1)),
    }
    rng = random.Random(0)
    rows = []
    for operator, (pytorch, ours) in operators.items():
        for shape in ACTIVATIONS:
            gen = torch.Generator().manual_seed(0)
            x = torch.randn(*shape, generator=gen).to(memory_format=torch.channels_last).requires_grad_()
            weight_shape = (shape[1],) if operator == "BatchNorm" else (shape[1], shape[1], 3, 3)
            weight = torch.randn(*weight_shape, generator=gen).requires_grad_()
            bias = torch.randn(shape[1], generator=gen).requires_grad_()
            cotangent = torch.randn(shape, generator=gen).to(memory_format=torch.channels_last)
            inputs, fns = (x, weight, bias), {"pytorch": pytorch, "ours": ours}
            times = {name: [] for name in fns}
            for fn in fns.values():
                _second_derivative_once(fn, inputs, cotangent)
            for _ in range(repeats):
                for name in rng.sample(list(fns), len(fns)):
                    start = time.perf_counter()
                    for _ in range(calls):
                        _second_derivative_once(fns[name], inputs, cotangent)
                    times[name].append((time.perf_counter() - start) / calls * 1e6)
            pytorch_us, ours_us = statistics.median(times["pytorch"]), statistics.median(times["ours"])
            rows.append({"operator": operator, "shape": list(shape), "pytorch_us": pytorch_us, "ours_us": ours_us,
                         "ratio": pytorch_us / ours_us})
    return rows


def _second_derivative_once(operator, inputs, cotangent) -> None:
    grads = torch.autograd.grad((operator(*inputs) * cotangent).sum(), inputs, create_graph=True)
    torch.autograd.grad((grads[0] * cotangent).sum() + (grads[1] ** 2).sum(), inputs, allow_unused=True)


def probe_memory(name: str, meta_batch: int, steps: int, q_query: int, threads: int) -> float:
    """Run in a subprocess: MiB by which the resident set grows during one meta-gradient."""
    command = [sys.executable, __file__, "--probe", name, str(meta_batch), str(steps), str(q_query), str(threads)]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])["peak_mib"]


def _status_kib(field: str) -> int:
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def run_probe(name: str, meta_batch: int, steps: int, q_query: int, threads: int) -> None:
    torch.set_num_threads(threads)
    model = make_model(torch.float32)
    fn = meta_gradient_fn(name, model, steps)
    episodes = make_tasks(meta_batch, q_query, torch.float32)
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")  # reset the high-water mark
    base = _status_kib("VmRSS")
    fn(episodes)
    print(json.dumps({"peak_mib": (_status_kib("VmHWM") - base) / 1024}))


Setting = tuple[int, int, int]  # (threads, meta-batch, inner steps)


def time_all_settings(args, agreements: dict[tuple[int, int], dict]) -> list[dict]:
    """Every repeat times every (setting, implementation) once, settings and implementations in shuffled order.
    A shared machine's speed drifts over minutes; interleaving whole settings (not only the implementations
    within one) spreads each setting's measurements over the whole run, so a slow phase hits all alike."""
    settings: list[Setting] = [(t, m, s) for m in args.meta_batch for s in args.steps for t in args.threads]
    prepared = {}
    for threads, meta_batch, steps in settings:
        torch.set_num_threads(threads)
        names = IMPLEMENTATIONS + ((TASK_THREADS,) if threads > 1 else ())
        episodes = make_tasks(meta_batch, args.q_query, torch.float32)
        fns = {name: meta_gradient_fn(name, make_model(torch.float32), steps, workers=threads) for name in names}
        for fn in fns.values():
            fn(episodes)  # warm-up
        prepared[(threads, meta_batch, steps)] = (episodes, fns)
    times = {(setting, name): [] for setting, (_, fns) in prepared.items() for name in fns}
    rng = random.Random(0)
    for repeat in range(args.repeats):
        for setting in rng.sample(settings, len(settings)):
            episodes, fns = prepared[setting]
            for name in rng.sample(list(fns), len(fns)):
                torch.set_num_threads(setting[0])
                start = time.perf_counter()
                fns[name](episodes)
                times[(setting, name)].append(time.perf_counter() - start)
        print(f"round {repeat + 1} of {args.repeats} done", flush=True)
    rows = []
    for setting in settings:
        names = list(prepared[setting][1])
        rows += setting_rows(setting, names, {n: times[(setting, n)] for n in names}, args,
                             agreements[setting[1:]])
    return rows


def setting_rows(setting: Setting, names: list[str], times: dict[str, list[float]], args, agreement: dict):
    """Median tasks/s of each implementation in one setting, its peak memory and its agreement with ours."""
    threads, meta_batch, steps = setting
    rows = []
    for name in names:
        seconds = statistics.median(times[name])
        probe = not args.no_memory and (threads == args.threads[0] or name == TASK_THREADS)
        rows.append({
            "implementation": name, "threads": threads, "meta_batch": meta_batch, "inner_steps": steps,
            "tasks_per_second": meta_batch / seconds, "seconds_per_meta_step": seconds, "all_seconds": times[name],
            "peak_mib": probe_memory(name, meta_batch, steps, args.q_query, threads) if probe else None,
            **agreement[name],
        })
    peers = {r["implementation"]: r for r in rows}
    for row in rows:
        row["speedup_vs_higher"] = row["tasks_per_second"] / peers["higher"]["tasks_per_second"]
        row["speedup_vs_torchopt"] = row["tasks_per_second"] / peers["torchopt"]["tasks_per_second"]
    print(f"{threads} thread(s), meta-batch {meta_batch}, {steps} step(s): " + ", ".join(
        f"{r['implementation']} {r['tasks_per_second']:.1f} tasks/s" for r in rows), flush=True)
    return rows


def best_of_each(rows: list[dict]) -> list[dict]:
    """Per setting, every implementation at its fastest thread count, and ours (fastest) against each peer's
    fastest: the comparison a user who tunes every library for this machine would see."""
    summary = []
    for meta_batch, steps in sorted({(r["meta_batch"], r["inner_steps"]) for r in rows}):
        best: dict[str, dict] = {}
        for r in rows:
            if (r["meta_batch"], r["inner_steps"]) == (meta_batch, steps):
                name = r["implementation"]
                if name not in best or r["tasks_per_second"] > best[name]["tasks_per_second"]:
                    best[name] = r
        ours = max((r for n, r in best.items() if n.startswith("mlbook")), key=lambda r: r["tasks_per_second"])
        summary.append({
            "meta_batch": meta_batch, "inner_steps": steps,
            "best": {n: {"tasks_per_second": r["tasks_per_second"], "threads": r["threads"]} for n, r in best.items()},
            "ours": ours["implementation"], "ours_threads": ours["threads"],
            "speedup_vs_best_higher": ours["tasks_per_second"] / best["higher"]["tasks_per_second"],
            "speedup_vs_best_torchopt": ours["tasks_per_second"] / best["torchopt"]["tasks_per_second"],
        })
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--meta-batch", type=int, nargs="+", default=[16, 32])
    parser.add_argument("--steps", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--q-query", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                        help="intra-op thread counts to measure (the task-threads variant uses that many workers)")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--out", default="maml_throughput.json")
    parser.add_argument("--probe", nargs=5, metavar=("NAME", "T", "STEPS", "Q", "THREADS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.probe:
        run_probe(args.probe[0], *map(int, args.probe[1:]))
        return
    env = environment(max(args.threads))
    began = time.perf_counter()
    torch.set_num_threads(1)
    shares = convolution_share(args.meta_batch[0], 1, args.q_query)
    for name, share in shares.items():
        print(f"{name}: {100 * share['share']:.0f}% of its CPU time in convolution kernels "
              f"-> at most {1 / share['share']:.2f}x faster if everything else were free", flush=True)
    second_derivatives = second_derivative_timings()
    for r in second_derivatives:
        print(f"{r['operator']} on {tuple(r['shape'])}, forward + backward + second derivative: "
              f"PyTorch {r['pytorch_us']:.0f} us, ours {r['ours_us']:.0f} us ({r['ratio']:.2f}x)", flush=True)
    agreements = {}
    for meta_batch in args.meta_batch:
        for steps in args.steps:
            torch.set_num_threads(1)
            agreements[(meta_batch, steps)] = check_agreement(min(meta_batch, 4), steps, args.q_query,
                                                              workers=max(args.threads))
    rows = time_all_settings(args, agreements)
    summary = best_of_each(rows)
    header = f"{'implementation':24s} {'thr':>3s} {'T':>3s} {'steps':>5s} {'tasks/s':>8s} {'x higher':>8s} " \
             f"{'x torchopt':>10s} {'peak MiB':>8s} {'|Δ| f64':>8s} {'|Δ| f32':>8s}"
    print(header)
    for r in rows:
        peak = "n/a" if r["peak_mib"] is None else f"{r['peak_mib']:.0f}"
        print(f"{r['implementation']:24s} {r['threads']:3d} {r['meta_batch']:3d} {r['inner_steps']:5d} "
              f"{r['tasks_per_second']:8.1f} {r['speedup_vs_higher']:8.2f} {r['speedup_vs_torchopt']:10.2f} "
              f"{peak:>8s} {r['max_abs_diff_float64']:8.1e} {r['max_abs_diff_float32']:8.1e}")
    print("\nbest configuration of each (fastest thread count), ours vs the peers' best:")
    for s in summary:
        print(f"  T={s['meta_batch']:2d}, {s['inner_steps']} step(s): {s['ours']} @ {s['ours_threads']} thread(s) "
              f"{s['speedup_vs_best_higher']:.2f}x higher, {s['speedup_vs_best_torchopt']:.2f}x torchopt")
    from importlib.metadata import version

    payload = {**env, "wall_seconds": time.perf_counter() - began, "seed": 0,
               "versions": {"higher": version("higher"), "torchopt": version("torchopt")},
               "config": {"model": "Conv4(hidden=64, norm='batch', per-task batch statistics)",
                          "task": f"5-way 1-shot Omniglot (minimal split 1), {args.q_query} query per class",
                          "inner_lr": INNER_LR, "second_order": True, "repeats": args.repeats,
                          "threads": args.threads,
                          "statistic": "median seconds per meta-gradient; every repeat times every setting and "
                                       "implementation once, in shuffled order"},
               "convolution_share": shares, "second_derivatives": second_derivatives,
               "rows": rows, "best_of_each": summary}
    print("wrote", write_json(args.out, payload))


if __name__ == "__main__":
    main()
