"""Generate the student and autograder files of a set from its master notebook with ``otter assign``.

``otter assign`` writes ``student/`` (blank notebook + public tests) and ``autograder/`` (solutions, every test
including the hidden ones, and the zip ``otter run`` takes). Its only non-determinism is the random ``id`` it
gives the cells it creates (the ``grader.check`` cells), so :func:`normalize_notebook` renumbers every cell id
from the cell's position and content; the committed student files are exactly that output, which
:func:`stale_student_files` checks.
"""

from __future__ import annotations

import filecmp
import hashlib
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mlbook.grading.sets import ExerciseSet

NORMALIZATION_VERSION = "1"


@dataclass(frozen=True)
class Assigned:
    """The output of one ``otter assign`` run."""

    root: Path
    notebook_name: str

    @property
    def student_notebook(self) -> Path:
        return self.root / "student" / self.notebook_name

    @property
    def student_tests(self) -> Path:
        return self.root / "student" / "tests"

    @property
    def autograder_tests(self) -> Path:
        return self.root / "autograder" / "tests"

    @property
    def autograder_notebook(self) -> Path:
        return self.root / "autograder" / self.notebook_name

    @property
    def autograder_zip(self) -> Path:
        zips = sorted((self.root / "autograder").glob("*-autograder_*.zip"))
        if not zips:
            raise FileNotFoundError(
                f"no autograder zip in {self.root / 'autograder'}: set `generate: true` in the config"
            )
        return zips[-1]

    def questions(self) -> list[str]:
        """Question names in order (``q1``, ``q2``, ...), from the autograder test files."""
        return sorted((p.stem for p in self.autograder_tests.glob("*.py")), key=_natural)


def _natural(name: str) -> tuple:
    digits = "".join(ch for ch in name if ch.isdigit())
    return (name.rstrip("0123456789"), int(digits) if digits else -1, name)


def normalize_notebook(path: Path) -> None:
    """Deterministic cell ids, no outputs, no execution counts (rewrites ``path``)."""
    import nbformat

    notebook = nbformat.read(str(path), as_version=4)
    for index, cell in enumerate(notebook.cells):
        digest = hashlib.sha1(f"{index}\0{cell.cell_type}\0{cell.source}".encode()).hexdigest()
        cell["id"] = digest[:8]
        if cell.cell_type == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
    nbformat.write(notebook, str(path))


def run_otter_assign(source: Path, out: Path) -> Assigned:
    """``otter assign`` (no PDFs, no test run: our own tests grade the solutions) into ``out``."""
    source, out = Path(source).resolve(), Path(out).resolve()
    if out.exists():
        shutil.rmtree(out)
    command = [sys.executable, "-m", "otter", "assign", "--no-pdfs", "--no-run-tests", str(source), str(out)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=source.parent)
    if done.returncode != 0:
        raise RuntimeError(f"otter assign failed for {source}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    assigned = Assigned(out, source.name)
    normalize_notebook(assigned.student_notebook)
    return assigned


def _fingerprint(source: Path) -> str:
    import otter

    digest = hashlib.sha256(Path(source).read_bytes())
    digest.update(f"otter {otter.__version__} normalization {NORMALIZATION_VERSION}".encode())
    return digest.hexdigest()[:16]


def build(exercise_set: ExerciseSet, cache: str | Path | None = None) -> Assigned:
    """The assigned files of a set, generated into ``cache`` (reused while the master notebook is unchanged;
    safe for parallel test workers) or into a fresh temporary directory."""
    if cache is None:
        return run_otter_assign(exercise_set.source, Path(tempfile.mkdtemp(prefix=f"{exercise_set.name}-assign-")))
    import fcntl

    cache = Path(cache)
    cache.mkdir(parents=True, exist_ok=True)
    target = cache / f"{exercise_set.name}-{_fingerprint(exercise_set.source)}"
    with open(cache / f"{exercise_set.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if not (target / "COMPLETE").exists():
                run_otter_assign(exercise_set.source, target)
                (target / "COMPLETE").write_text("ok\n")
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
    return Assigned(target, exercise_set.notebook_name)


def _student_pairs(exercise_set: ExerciseSet, assigned: Assigned) -> list[tuple[Path, Path]]:
    pairs = [(assigned.student_notebook, exercise_set.student_notebook)]
    pairs += [(test, exercise_set.student_tests / test.name) for test in sorted(assigned.student_tests.glob("*.py"))]
    return pairs


def stale_student_files(exercise_set: ExerciseSet, assigned: Assigned) -> list[str]:
    """Committed student files that differ from (or are missing in, or are extra to) the generated ones."""
    problems = []
    for generated, committed in _student_pairs(exercise_set, assigned):
        if not committed.exists():
            problems.append(f"missing: {committed}")
        elif not filecmp.cmp(generated, committed, shallow=False):
            problems.append(f"differs from otter assign's output: {committed}")
    expected = {p.name for p in assigned.student_tests.glob("*.py")}
    if exercise_set.student_tests.is_dir():
        extra = [p for p in exercise_set.student_tests.iterdir() if p.name not in expected and p.name != "__pycache__"]
        problems += [f"extra: {p}" for p in sorted(extra)]
    return problems


def write_student_files(exercise_set: ExerciseSet, assigned: Assigned | None = None) -> list[Path]:
    """Regenerate the committed student notebook and public tests of a set; returns the files written."""
    assigned = assigned or build(exercise_set)
    if exercise_set.student_tests.is_dir():
        shutil.rmtree(exercise_set.student_tests)
    exercise_set.student_tests.mkdir(parents=True)
    written = []
    for generated, committed in _student_pairs(exercise_set, assigned):
        shutil.copyfile(generated, committed)
        written.append(committed)
    return written
