"""Every bad-input table of the suite, gathered (the ``test_*.py`` modules beside this one each define ``ROWS``)."""

from __future__ import annotations

import importlib
from pathlib import Path

from tests.bad_input.harness import BadInput

HERE = Path(__file__).resolve().parent
TABLE_MODULES = sorted(p.stem for p in HERE.glob("test_*.py") if p.stem != "test_coverage")


def all_rows() -> list[BadInput]:
    rows: list[BadInput] = []
    for name in TABLE_MODULES:
        rows.extend(importlib.import_module(f"tests.bad_input.{name}").ROWS)
    return rows
