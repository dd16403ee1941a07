"""The bad-input suite covers every public entry point of ``mlbook``: each public class and function has at least
one row in a table, or an entry in ``NOTHING_TO_CHECK`` saying why it takes no argument a reader could get wrong."""

from __future__ import annotations

import importlib
import inspect
from collections import Counter

from tests.bad_input.tables import all_rows

#: The modules whose public names a reader imports (``__all__`` where the module has one).
PUBLIC_MODULES = (
    "mlbook",
    "mlbook.baselines",
    "mlbook.data",
    "mlbook.grading",
    "mlbook.metric",
    "mlbook.models",
    "mlbook.multitask",
    "mlbook.optimization",
    "mlbook.plotting",
    "mlbook.progress",
    "mlbook.project",
    "mlbook.results",
    "mlbook.training",
    "mlbook.validate",
    "mlbook.widgets",
)

#: Public callables with no argument to get wrong, each with the reason. Keep it short and honest.
NOTHING_TO_CHECK: dict[str, str] = {
    "mlbook.default_device": "takes no argument",
    "mlbook.results.cpu_name": "takes no argument",
    "mlbook.data.digit_pools": "takes no argument",
    "mlbook.optimization.pytorch_derivatives": "takes no argument",
    "mlbook.validate.describe": "formats any value for an error message",
}


def public_callables() -> list[str]:
    names = []
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        exported = getattr(module, "__all__", None)
        if exported is None:
            exported = [
                n
                for n, obj in vars(module).items()
                if not n.startswith("_") and getattr(obj, "__module__", None) == module_name
            ]
        for name in exported:
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, BaseException):
                continue  # the errors we raise
            if inspect.isclass(obj) or inspect.isfunction(obj):
                names.append(f"{module_name}.{name}")
    return sorted(set(names))


def _covered(name: str, entries: set[str]) -> bool:
    return any(entry == name or entry.startswith(name + ".") for entry in entries)


def test_every_public_entry_point_has_a_bad_input_row_or_a_reason():
    entries = {row.entry for row in all_rows()}
    missing = [n for n in public_callables() if n not in NOTHING_TO_CHECK and not _covered(n, entries)]
    assert not missing, f"{len(missing)} public entry points without a bad-input row: {missing}"


def test_rows_name_real_public_entry_points_and_ids_are_unique():
    public = public_callables()
    rows = all_rows()
    unknown = sorted({r.entry for r in rows if not any(r.entry == n or r.entry.startswith(n + ".") for n in public)})
    assert not unknown, f"rows for names that are not public: {unknown}"
    repeated = [i for i, count in Counter(r.id for r in rows).items() if count > 1]
    assert not repeated, f"row ids must be unique: {repeated}"


def test_exemptions_are_still_public():
    public = set(public_callables())
    assert not set(NOTHING_TO_CHECK) - public
