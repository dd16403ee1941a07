"""Fixtures for the exercise sets: otter assign runs once per set and test session (cached on disk, shared by
the xdist workers), and notebooks are edited into plausible student submissions."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest

from mlbook.grading import assign
from mlbook.grading.sets import list_sets

REPO = Path(__file__).resolve().parents[2]
MUTANTS = Path(__file__).resolve().parent / "mutants"
SETS = [s.name for s in list_sets(REPO / "exercises")]


@pytest.fixture(scope="session")
def assign_cache(tmp_path_factory) -> Path:
    """This run's cache of otter assign outputs; under xdist the parent of the per-worker temp directory,
    which all workers of the run share (the cache is locked, so a set is assigned once per run)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    return base / "mlbook-assign-cache"


@pytest.fixture(scope="session")
def assigned(assign_cache):
    """``assigned(name)``: the otter assign output of a set (student + autograder files)."""
    cache = {}

    def get(name: str) -> assign.Assigned:
        if name not in cache:
            exercise_set = next(s for s in list_sets(REPO / "exercises") if s.name == name)
            cache[name] = assign.build(exercise_set, assign_cache)
        return cache[name]

    return get


def exercise_set(name: str):
    return next(s for s in list_sets(REPO / "exercises") if s.name == name)


def replace_definition(notebook: Path, function: str, source: str, out: Path) -> Path:
    """A copy of ``notebook`` where the code cell defining ``function`` is replaced by ``source``."""
    nb = nbformat.read(str(notebook), as_version=4)
    cells = [c for c in nb.cells if c.cell_type == "code" and f"def {function}(" in c.source]
    assert len(cells) == 1, f"expected one cell defining {function} in {notebook}"
    cells[0].source = source
    nbformat.write(nb, str(out))
    return out


def add_cells(notebook: Path, sources: list[str]) -> None:
    nb = nbformat.read(str(notebook), as_version=4)
    nb.cells += [nbformat.v4.new_code_cell(s) for s in sources]
    nbformat.write(nb, str(notebook))


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())
