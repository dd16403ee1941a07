"""Results of the long benchmark runs that the book quotes, and where each one came from.

CI cannot afford full-budget training, so ``benchmarks/*.py`` scripts run it once and write a JSON file under
``benchmarks/results/``; the chapters read those files with ``load_benchmark_result`` and format every number
they quote from them, with ``provenance_note`` under each table or figure.

Every such JSON carries a ``provenance`` object (``make_provenance``): the command, the date, the commit, the CPU
and the time it took, and a fingerprint of every source file the run imported (the benchmark script, the
benchmark helpers and the ``mlbook`` modules). ``stale_sources`` compares those fingerprints with today's files:
a unit test fails as soon as a result no longer describes the code, naming the command that regenerates it.

A fingerprint ignores comments, docstrings, blank lines and trailing spaces (they cannot change a number), so a
documentation edit does not stale a result; any other edit does. A change that cannot change any number (a pure
refactor) can be declared in ``benchmarks/declared_refactors.json``, one reviewed entry per file and change.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import platform
import subprocess
import sys
import time
import tokenize
import urllib.request
from pathlib import Path

from mlbook.project import RAW_URL as REPOSITORY_RAW
from mlbook.validate import check_folder, check_path, describe

REPO_ROOT = Path(__file__).resolve().parents[1]
RESULTS_DIR = REPO_ROOT / "benchmarks" / "results"
DECLARED_REFACTORS = REPO_ROOT / "benchmarks" / "declared_refactors.json"
#: Folders (relative to the repository root) whose imported modules a result depends on ...
SOURCE_FOLDERS = ("mlbook", "benchmarks")
#: ... except this recorder itself (it writes down results, it computes none of them) and the address of the
#: repository it downloads committed results from (a release changes the ref, never a number).
NOT_SOURCES = ("mlbook/results.py", "mlbook/project.py")


def _check_result_name(name) -> None:
    if not isinstance(name, str) or not name.endswith(".json") or "/" in name or "\\" in name:
        raise ValueError(f"name must be a file name like 'maml_sinusoid.json', got {name!r}")




def _read_result(name: str, text: str, where: str) -> dict:
    try:
        result = json.loads(text)
    except ValueError as error:
        raise ValueError(f"name {name!r}: {where} is not valid JSON ({error})") from error
    if not isinstance(result, dict):
        raise ValueError(f"name {name!r}: {where} holds a {type(result).__name__}, not a result (a JSON object)")
    return result


def load_benchmark_result(name: str, directory: str | Path | None = None) -> dict:
    """A JSON written by a ``benchmarks/*.py`` script: from the repository checkout when there is one, else
    (e.g. on Colab, where only the package is installed) from the repository on GitHub. A ``directory`` given
    explicitly must exist."""
    _check_result_name(name)
    path = check_folder("directory", directory) / name if directory is not None else RESULTS_DIR / name
    if path.exists():
        return _read_result(name, path.read_text(), str(path))
    url = f"{REPOSITORY_RAW}/benchmarks/results/{name}"
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            text = response.read().decode()
    except OSError as error:
        raise FileNotFoundError(
            f"{name} is neither in {path.parent} nor downloadable from {url} ({error}); run the benchmark script "
            "that writes it (see benchmarks/)"
        ) from error
    return _read_result(name, text, url)


# ----------------------------------------------------------------------------------------------- fingerprints


def _without_comments(source: str) -> str:
    lines = source.splitlines()
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    for token in tokens:
        if token.type == tokenize.COMMENT:
            row, col = token.start
            lines[row - 1] = lines[row - 1][:col]
    return "\n".join(lines) + "\n"


def _docstring_spans(tree: ast.AST) -> list[tuple[int, int, int, int]]:
    spans = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            value = first.value if isinstance(first, ast.Expr) else None
            if isinstance(value, ast.Constant) and isinstance(value.value, str):
                spans.append((first.lineno, first.col_offset, first.end_lineno, first.end_col_offset))
    return spans


def normalised_source(source: str) -> str:
    """Python source without comments, docstrings, blank lines and trailing spaces: what a fingerprint hashes.
    Raises ``ValueError`` for text that is not Python."""
    if not isinstance(source, str):
        raise TypeError(f"source must be Python source text (a str), got {type(source).__name__}")
    try:
        text = _without_comments(source)
        tree = ast.parse(text)
    except (SyntaxError, tokenize.TokenError) as error:
        raise ValueError(f"source is not valid Python ({error})") from error
    lines = [line.encode() for line in text.splitlines()]  # ast offsets are in UTF-8 bytes
    for start, start_col, end, end_col in sorted(_docstring_spans(tree), reverse=True):
        head, tail = lines[start - 1][:start_col], lines[end - 1][end_col:]
        lines[start - 1 : end] = [head + tail]
    kept = [line.decode().rstrip() for line in lines]
    return "\n".join(line for line in kept if line.strip()) + "\n"


def source_fingerprint(path: str | Path) -> str:
    """sha256 of a file's ``normalised_source`` (Python files) or of its bytes (anything else)."""
    file = check_path("path", path)
    if not file.is_file():
        if file.exists():
            raise ValueError(f"path must be a file, got the folder {str(file)!r}")
        raise FileNotFoundError(f"path {str(file)!r} does not exist")
    data = file.read_bytes()
    if file.suffix == ".py":
        try:
            data = normalised_source(data.decode()).encode()
        except ValueError as error:
            raise ValueError(f"path {str(file)!r}: {error}") from error
    return hashlib.sha256(data).hexdigest()


def imported_sources(root: Path = REPO_ROOT, script: str | Path | None = None) -> list[str]:
    """Repository-relative paths of the loaded modules under ``SOURCE_FOLDERS`` (plus ``script``), sorted."""
    root = check_folder("root", root).resolve()
    if script is not None:
        check_path("script", script)
    found = set()
    files = [getattr(module, "__file__", None) for module in list(sys.modules.values())]
    for file in [*files, script]:
        if not file:
            continue
        path = Path(file).resolve()
        try:
            relative = path.relative_to(root)
        except ValueError:
            continue
        if (
            relative.parts[0] in SOURCE_FOLDERS
            and path.suffix == ".py"
            and relative.as_posix() not in NOT_SOURCES
            and path.is_file()  # a module with a relative __file__ (some extension modules) resolves to nothing
        ):
            found.add(relative.as_posix())
    return sorted(found)


# ------------------------------------------------------------------------------------------------- provenance


def _git(root: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=30, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout


def cpu_name() -> str:
    """The CPU's model name (from /proc/cpuinfo where there is one)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def make_provenance(script: str | Path, argv: list[str] | None = None, root: Path = REPO_ROOT) -> dict:
    """Where a result comes from, taken when a benchmark starts (after its imports): the command (run from
    the repository root), the date, the commit and any uncommitted changes to the sources, the CPU, and the
    fingerprint of every source file imported so far. ``finish_provenance`` adds what was imported later and
    the time the run took."""
    root = check_folder("root", root).resolve()
    script_path = check_path("script", script).resolve()
    if not script_path.is_file() or not script_path.is_relative_to(root):
        raise ValueError(f"script must be an existing file under root ({root}), got {str(script_path)!r}")
    if argv is not None and (
        isinstance(argv, str) or not isinstance(argv, (list, tuple)) or not all(isinstance(a, str) for a in argv)
    ):
        raise TypeError(f"argv must be a list of strings (the command-line arguments), got {argv!r}")
    argv = sys.argv[1:] if argv is None else list(argv)
    sources = {path: source_fingerprint(root / path) for path in imported_sources(root, script_path)}
    changed = _git(root, "status", "--porcelain", "--", *sources) if sources else ""
    return {
        "command": " ".join(["python", script_path.relative_to(root).as_posix(), *argv]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": (_git(root, "rev-parse", "HEAD") or "").strip() or None,
        "uncommitted_changes": sorted(line[3:].strip() for line in (changed or "").splitlines() if line.strip()),
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
        "torch": _torch_version(),
        "sources": sources,
        "_started": time.perf_counter(),
    }


def _torch_version() -> str | None:
    torch = sys.modules.get("torch")
    return getattr(torch, "__version__", None)


def finish_provenance(provenance: dict, root: Path = REPO_ROOT) -> dict:
    """The finished record: sources imported during the run added, wall time (information only: budgets are
    steps, so the numbers do not depend on it) in minutes."""
    if not isinstance(provenance, dict) or not {"sources", "_started"} <= set(provenance):
        raise ValueError(
            "provenance must be the dict make_provenance returned, not yet finished (with 'sources' and "
            f"'_started'), got {describe(provenance)}"
        )
    root = check_folder("root", root).resolve()
    finished = {key: value for key, value in provenance.items() if key != "_started"}
    sources = dict(provenance["sources"])
    for path in imported_sources(root):
        sources.setdefault(path, source_fingerprint(root / path))
    finished["sources"] = dict(sorted(sources.items()))
    finished["wall_minutes"] = round((time.perf_counter() - provenance["_started"]) / 60, 1)
    return finished


def _declared_refactors(path: Path = DECLARED_REFACTORS) -> dict[str, dict[str, str]]:
    """``{file: {old fingerprint: new fingerprint}}`` from the reviewed list of pure refactors."""
    if not path.exists():
        return {}
    chains: dict[str, dict[str, str]] = {}
    for entry in json.loads(path.read_text())["refactors"]:
        chains.setdefault(entry["file"], {})[entry["from"]] = entry["to"]
    return chains


def stale_sources(result: dict, root: Path = REPO_ROOT, declared: Path | None = None) -> list[str]:
    """Source files whose code changed since ``result`` was made (missing files count as changed), after the
    declared pure refactors. Raises ``ValueError`` when the result has no provenance."""
    sources = _recorded_sources(result)
    root = check_folder("root", root)
    chains = _declared_refactors(DECLARED_REFACTORS if declared is None else check_path("declared", declared))
    stale = []
    for path, recorded in sources.items():
        file = Path(root) / path
        if not file.exists():
            stale.append(path)
            continue
        current, fingerprint, seen = source_fingerprint(file), recorded, set()
        while fingerprint != current and fingerprint in chains.get(path, {}) and fingerprint not in seen:
            seen.add(fingerprint)
            fingerprint = chains[path][fingerprint]
        if fingerprint != current:
            stale.append(path)
    return stale



def _recorded_sources(result) -> dict:
    """``result["provenance"]["sources"]``, or a ``ValueError`` saying the result has no usable provenance."""
    if not isinstance(result, dict):
        raise TypeError(f"result must be a dict (from load_benchmark_result), got {type(result).__name__}")
    provenance = result.get("provenance")
    if not isinstance(provenance, dict) or not isinstance(provenance.get("sources"), dict):
        raise ValueError("result has no provenance: regenerate it with its benchmark script")
    return provenance["sources"]


NOTE_FIELDS = ("command", "date", "cpu")


def provenance_note(result: dict, name: str | None = None) -> str:
    """One line for under a table or figure: which committed result it reads, the command that made it, when,
    on which commit and CPU, and how long it took. Raises ``ValueError`` for a result without provenance
    (tests/test_results.py checks that every committed result has one)."""
    if not isinstance(result, dict):
        raise TypeError(f"result must be a dict (from load_benchmark_result), got {type(result).__name__}")
    if name is not None:
        _check_result_name(name)
    provenance = result.get("provenance")
    if not isinstance(provenance, dict) or not all(field in provenance for field in NOTE_FIELDS):
        raise ValueError(
            f"result has no provenance with {', '.join(NOTE_FIELDS)}: regenerate it with its benchmark script"
        )
    where = f"`benchmarks/results/{name}`, " if name else ""
    commit = (provenance.get("commit") or "unknown commit")[:7]
    took = provenance.get("wall_minutes")
    took_text = f", {took:g} min" if took is not None else ""
    return (
        f"Source: {where}made by `{provenance['command']}` on {provenance['date']} "
        f"(commit {commit}; {provenance['cpu']}{took_text})."
    )
