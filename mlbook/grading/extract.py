"""Read a submission (a notebook or otter's export zip) and keep only what tests need: its definitions.

The grader never runs a student's exploratory cells (experiments, prints, plots): it keeps, cell by cell, the
top-level imports, function and class definitions, assignments that call nothing and the assignments of
globals those definitions read, in notebook order. Tests then look the functions up by name. So a slow
experiment or a stray infinite loop at the top level of a cell costs the student nothing, and every question
is graded on the functions alone.
"""

from __future__ import annotations

import ast
import json
import symtable
import zipfile
from dataclasses import dataclass
from pathlib import Path

KEPT_STATEMENTS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


class SubmissionError(ValueError):
    """The submission cannot be read as a notebook."""


@dataclass
class Chunk:
    """One kept top-level statement: its cell number, first line and source."""

    cell: int
    line: int
    code: str

    @property
    def filename(self) -> str:
        return f"<submission code cell {self.cell}>"


def read_notebook(path: str | Path, prefer: str | None = None) -> dict:
    """The notebook JSON of ``path``: an ``.ipynb`` file, or the notebook inside an otter export ``.zip``
    (``prefer`` names the notebook to pick when the zip holds several)."""
    path = Path(path)
    try:
        if path.suffix == ".zip":
            with zipfile.ZipFile(path) as archive:
                names = [
                    n
                    for n in archive.namelist()
                    if n.endswith(".ipynb") and "__MACOSX" not in n and ".ipynb_checkpoints" not in n
                ]
                if not names:
                    raise SubmissionError(f"{path.name}: the zip file contains no .ipynb notebook")
                preferred = [n for n in names if prefer and Path(n).name == prefer]
                name = (preferred or sorted(names, key=len))[0]
                return json.loads(archive.read(name).decode("utf-8"))
        return json.loads(path.read_text(encoding="utf-8"))
    except SubmissionError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, UnicodeDecodeError) as error:
        raise SubmissionError(f"{path.name}: not a readable notebook ({type(error).__name__}: {error})") from error


def cell_sources(notebook: dict) -> list[str]:
    """The sources of the code cells, in order."""
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise SubmissionError("not a Jupyter notebook: no list of cells")
    sources = []
    for cell in notebook["cells"]:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            source = cell.get("source", "")
            sources.append("".join(source) if isinstance(source, list) else str(source))
    return sources


def _calls_nothing(node: ast.AST) -> bool:
    return not any(isinstance(n, ast.Call | ast.Lambda | ast.Await | ast.Yield | ast.NamedExpr) for n in ast.walk(node))


def _is_assignment(node: ast.stmt) -> bool:
    return isinstance(node, ast.Assign) or (isinstance(node, ast.AnnAssign) and node.value is not None)


def _loaded_names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def _global_reads(node: ast.stmt) -> set[str]:
    """The global names a top-level statement reads. For a function or class: what its body reads from the
    module (parameters and local variables excluded, via ``symtable``), plus its decorators and defaults."""
    if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return _loaded_names(node)
    try:
        table = symtable.symtable(ast.unparse(ast.Module(body=[node], type_ignores=[])), "<cell>", "exec")
    except SyntaxError:  # pragma: no cover - the node came from a parsed cell
        return _loaded_names(node)
    names: set[str] = set()
    pending = [table]
    while pending:
        scope = pending.pop()
        at_module = scope.get_type() == "module"  # decorators and default values run at definition time
        names |= {s.get_name() for s in scope.get_symbols() if s.is_referenced() and (at_module or s.is_global())}
        pending += scope.get_children()
    return names


def _assigned_names(node: ast.stmt) -> set[str]:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _select(nodes: list[ast.stmt]) -> list[bool]:
    """Which top-level statements to keep: imports, functions, classes, assignments that call nothing, and
    assignments of globals that a kept statement reads (``DEVICE = torch.device("cpu")`` used in a function),
    transitively. Everything else (experiments, prints, training runs) is dropped."""
    keep = [isinstance(n, KEPT_STATEMENTS) or (_is_assignment(n) and _calls_nothing(n)) for n in nodes]
    needed: set[str] = set()
    for node, kept in zip(nodes, keep, strict=True):
        if kept:
            needed |= _global_reads(node)
    changed = True
    while changed:
        changed = False
        for i, node in enumerate(nodes):
            if not keep[i] and _is_assignment(node) and _assigned_names(node) & needed:
                keep[i], changed = True, True
                needed |= _loaded_names(node)
    return keep


def _to_python(source: str) -> str:
    """IPython syntax (``%pip``, ``!ls``) to plain Python."""
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def definitions(notebook: dict) -> tuple[list[Chunk], list[str]]:
    """The kept statements of every code cell (see :func:`_select`), and a note for every cell that does
    not parse."""
    parsed, problems = [], []
    for number, source in enumerate(cell_sources(notebook), start=1):
        try:
            code = _to_python(source)
            tree = ast.parse(code)
        except (SyntaxError, ValueError) as error:
            problems.append(f"code cell {number} does not parse and was skipped: {error}")
            continue
        lines = code.splitlines()
        parsed += [(number, lines, node) for node in tree.body]
    chunks = []
    for (number, lines, node), kept in zip(parsed, _select([node for _, _, node in parsed]), strict=True):
        if kept:
            first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            chunks.append(Chunk(number, first, "\n".join(lines[first - 1 : node.end_lineno])))
    return chunks, problems
