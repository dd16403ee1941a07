"""The chapter's benchmark scripts: their variants are valid recipes and the reference is the chapter's recipe."""

import importlib
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def import_benchmark(name: str):
    """A script of benchmarks/ as a module (imported with benchmarks/ on sys.path only for the import)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(BENCHMARKS))


@pytest.fixture(scope="module")
def ablation():
    return import_benchmark("metric_ablation")


def test_ablation_variants_are_valid_recipes(ablation):
    from mlbook.metric import RECIPE, recipe_for

    for key, (description, method, changes, options, factor) in ablation.VARIANTS.items():
        assert description and factor > 0
        if changes is None:  # evaluation-only variant: needs the reference networks
            assert ablation.REFERENCE in ablation.VARIANTS
            continue
        recipe = recipe_for(method, **changes, options=options)
        # every variant other than the reference changes something (else it measures nothing)
        if key != ablation.BASELINES[method]:
            assert changes or options or factor != 1.0, key
        assert set(recipe) - {"options"} == set(RECIPE)
    reference = ablation.VARIANTS[ablation.REFERENCE]
    assert reference[1] == "protonet" and reference[2] == {} and reference[3] == {} and reference[4] == 1.0
    assert set(ablation.BASELINES.values()) <= set(ablation.VARIANTS)


def test_benchmark_defaults_match_the_chapter(ablation):
    metric_benchmark = import_benchmark("metric_benchmark")
    args = metric_benchmark.parse_args([])
    # the chapter's claims: each method's budget in steps, one thread, >= 400 test episodes per setting, both splits
    assert args.steps == 0 and args.threads == 1 and args.episodes >= 400 and args.splits == [1, 2]
    assert set(metric_benchmark.STEPS) == set(args.methods)
    assert all(isinstance(steps, int) and steps > 0 for steps in metric_benchmark.STEPS.values())
    assert (5, 1, 15) in metric_benchmark.SETTINGS
    assert ablation.parse_args([]).steps > 0


def test_no_benchmark_budget_is_cpu_time():
    """The same command must give the same numbers on another CPU: no script sizes training by time."""
    for script in BENCHMARKS.glob("*.py"):
        text = script.read_text()
        assert "--minutes" not in text and "calibrate_steps" not in text, script.name
