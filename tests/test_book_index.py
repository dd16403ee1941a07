"""The index of methods (book/methods.md) lists every method `mlbook` exports, and names only things that exist.

A *method* is a class exported by a method family's ``__all__`` (plus ``mlbook.baselines``) that a reader would
train, apply or aggregate with: an ``EpisodicMethod`` (except the abstract ``MetricMethod``), a multi-task
``Aggregator`` or ``LossWeighting``, or a multi-task architecture (it splits its parameters into
``shared_parameters()`` and ``task_parameters()``). Helpers (data classes, histories, toys) are not methods.
"""

from __future__ import annotations

import importlib
import inspect
import json
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
INDEX = REPO / "book" / "methods.md"
FAMILIES = ("mlbook.baselines", "mlbook.optimization", "mlbook.metric", "mlbook.multitask")
ABSTRACT = {"MetricMethod", "Aggregator", "LossWeighting", "EpisodicMethod"}
LABEL = re.compile(r"^\(([A-Za-z0-9_-]+)\)=\s*$", re.MULTILINE)


def _rows() -> list[str]:
    lines = INDEX.read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.startswith("| ") and not line.startswith(("| Method", "| ---"))]


def _exported(module) -> list[str]:
    names = getattr(module, "__all__", None)
    if names is None:  # mlbook.baselines has no __all__: its own public names
        names = [n for n, obj in vars(module).items() if not n.startswith("_")
                 and getattr(obj, "__module__", None) == module.__name__]
    return list(names)


def _method_classes() -> dict[str, type]:
    from mlbook.multitask import Aggregator, LossWeighting
    from mlbook.training import EpisodicMethod

    found = {}
    for family in FAMILIES:
        module = importlib.import_module(family)
        for name in _exported(module):
            obj = getattr(module, name)
            if not inspect.isclass(obj) or name in ABSTRACT:
                continue
            architecture = callable(getattr(obj, "shared_parameters", None)) and callable(
                getattr(obj, "task_parameters", None)
            )
            if issubclass(obj, (EpisodicMethod, Aggregator, LossWeighting)) or architecture:
                found[f"{family}.{name}"] = obj
    return found


def _named_paths() -> list[str]:
    return [path for row in _rows() for path in re.findall(r"`(mlbook(?:\.\w+)+)`", row)]


def _labels() -> set[str]:
    labels = set()
    for path in [*REPO.glob("book/**/*.md"), *REPO.glob("book/**/*.ipynb")]:
        if "_build" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".ipynb":
            text = "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"]
                             if cell["cell_type"] == "markdown")
        labels |= set(LABEL.findall(text))
    return labels


def test_the_index_has_rows():
    assert len(_rows()) >= 30


def test_every_method_class_is_in_the_index():
    named = set(_named_paths())
    missing = sorted(path for path in _method_classes() if path not in named)
    assert not missing, f"methods exported by mlbook but missing from book/methods.md: {missing}"


@pytest.mark.parametrize("path", sorted(set(_named_paths())))
def test_every_named_class_or_function_exists(path):
    module_name, _, attribute = path.rpartition(".")
    module = importlib.import_module(module_name)
    assert hasattr(module, attribute), f"book/methods.md names {path}, which does not exist"
    assert attribute in _exported(module), f"{path} is not part of {module_name}'s public names"


def test_every_row_links_its_section_and_names_a_class():
    labels = _labels()
    for row in _rows():
        cells = [c.strip() for c in row.strip("|").split("|")]
        assert len(cells) == 5, f"a row of book/methods.md must have 5 columns: {row}"
        section = re.findall(r"\{ref\}`[^`<]*<([^>]+)>`", cells[1])
        assert section, f"no section link in: {row}"
        assert all(label in labels for label in section), f"unknown label {section} in: {row}"
        assert re.search(r"`mlbook\.", cells[2]), f"no mlbook class or function in: {row}"
        assert cells[3] == "—" or re.search(r"\{doc\}`[^`]*</exercises/ch\d\d/ch\d\d_exercises>`", cells[3]), row
        assert cells[4] == "—" or "{cite:t}`" in cells[4], f"paper must be a citation or '—': {row}"


def test_exercise_links_point_at_existing_notebooks():
    for row in _rows():
        for target in re.findall(r"</(exercises/ch\d\d/ch\d\d_exercises)>", row):
            assert (REPO / f"{target}.ipynb").exists(), target
