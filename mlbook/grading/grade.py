"""Grade submissions offline, question by question, without docker.

Each submission is graded by its own trusted worker process (:mod:`mlbook.grading.worker`) that runs the
tests question after question, each test case under a time limit and an output cap, against proxies of the
submission's functions; the submission itself runs in an OS sandbox (:mod:`mlbook.grading.sandbox`) and only
plain data crosses back (:mod:`mlbook.grading.remote`). Where the sandbox cannot be set up the grader refuses
(:class:`SandboxUnavailable`) unless ``GradingOptions(isolate=False)`` (``--unsafe-no-sandbox``). The parent
reads the worker's events with bounded reads and validates every result (known question, 0 <= score <=
possible); a worker silent past its deadline is killed and the remaining questions get a fresh one.

``engine="otter"`` grades with ``otter run`` instead (the whole notebook executed by otter, one process per
submission, a wall-clock limit per submission): the reference engine for scores, but one infinite loop there
costs every question of that submission.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from mlbook.grading import sandbox
from mlbook.grading.extract import SubmissionError, definitions, read_notebook
from mlbook.grading.runner import CaseResult, QuestionResult, load_test_file
from mlbook.grading.sandbox import Limits, SandboxUnavailable
from mlbook.grading.wire import clean_text
from mlbook.validate import (
    check_bool,
    check_callable,
    check_choice,
    check_non_negative,
    check_path,
    check_positive,
    check_positive_int,
    describe,
)

DEFAULT_TEST_TIMEOUT = 60.0
DEFAULT_OUTPUT_LIMIT = 1_000_000  # characters printed per question
DEFAULT_LOAD_TIMEOUT = 120.0
KILL_GRACE = 10.0  # seconds past a test case's limit before the parent kills the worker


@dataclass
class TestSuite:
    """The test files of a set (the autograder's, hidden tests included), one per question."""

    __test__ = False  # not a pytest test class

    paths: dict[str, Path]
    possible: dict[str, float]
    cases: dict[str, int]

    @property
    def questions(self) -> list[str]:
        return list(self.paths)

    @classmethod
    def from_directory(cls, directory: str | Path, questions: Iterable[str] | None = None) -> TestSuite:
        from mlbook.grading.assign import _natural

        directory = _existing("directory", directory, folder=True)
        if questions is not None and (isinstance(questions, str) or not all(isinstance(q, str) for q in questions)):
            raise TypeError(f"questions must be a list of question names such as ['q1', 'q2'], got {questions!r}")
        names = (
            list(questions) if questions is not None else sorted((p.stem for p in directory.glob("*.py")), key=_natural)
        )
        if not names:
            raise ValueError(f"directory has no test files (*.py) for the questions asked: {directory}")
        unknown = [name for name in names if not (directory / f"{name}.py").is_file()]
        if unknown:
            raise ValueError(f"questions {unknown} have no test file in {directory}")
        paths, possible, cases = {}, {}, {}
        for name in names:
            test_file = load_test_file(directory / f"{name}.py")
            paths[name] = directory / f"{name}.py"
            possible[name] = float(test_file.possible)
            cases[name] = len(test_file.test_cases)
        return cls(paths, possible, cases)

    @property
    def total_possible(self) -> float:
        return sum(self.possible.values())


@dataclass
class SubmissionResult:
    submission: str
    questions: dict[str, QuestionResult]
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not isinstance(self.submission, str):
            raise TypeError(f"submission must be the submission's name (a str), got {type(self.submission).__name__}")
        if not isinstance(self.questions, dict):
            raise TypeError(f"questions must be a dict question -> QuestionResult, got {type(self.questions).__name__}")
        if not isinstance(self.notes, list):
            raise TypeError(f"notes must be a list of strings, got {type(self.notes).__name__}")

    @property
    def total(self) -> float:
        return sum(q.score for q in self.questions.values())

    @property
    def possible(self) -> float:
        return sum(q.possible for q in self.questions.values())

    def to_dict(self) -> dict:
        return {
            "submission": self.submission,
            "total": self.total,
            "possible": self.possible,
            "scores": {name: q.score for name, q in self.questions.items()},
            "notes": self.notes,
            "questions": {name: q.to_dict() for name, q in self.questions.items()},
        }


@dataclass
class GradingOptions:
    test_timeout: float | None = DEFAULT_TEST_TIMEOUT
    output_limit: int | None = DEFAULT_OUTPUT_LIMIT
    load_timeout: float | None = DEFAULT_LOAD_TIMEOUT
    threads: int = 1
    notebook_name: str | None = None  # which notebook to take from a zip holding several
    kill_grace: float = KILL_GRACE
    # forkserver: workers fork from a process that imported torch once (fast; Unix). subprocess: portable.
    start_method: str = "forkserver" if sys.platform != "win32" else "subprocess"
    isolate: bool = True  # False: submissions run without the OS sandbox (--unsafe-no-sandbox; trusted input only)
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        for name in ("test_timeout", "load_timeout"):  # None: no limit
            if getattr(self, name) is not None:
                check_positive(name, getattr(self, name))
        if self.output_limit is not None:
            check_positive_int("output_limit", self.output_limit)
        check_positive_int("threads", self.threads)
        if self.notebook_name is not None and not isinstance(self.notebook_name, str):
            raise TypeError(f"notebook_name must be a file name (a str) or None, got {self.notebook_name!r}")
        check_non_negative("kill_grace", self.kill_grace)
        check_choice("start_method", self.start_method, START_METHODS)
        check_bool("isolate", self.isolate)
        if not isinstance(self.limits, Limits):
            raise TypeError(f"limits must be a mlbook.grading.Limits, got {type(self.limits).__name__}")


START_METHODS = ("forkserver", "subprocess")


def _existing(name: str, path, folder: bool = False) -> Path:
    """``path`` as a ``Path`` that exists (a folder when ``folder``); errors name the argument."""
    path = check_path(name, path)
    if not path.exists():
        raise FileNotFoundError(f"{name} not found: {path}")
    if folder and not path.is_dir():
        raise ValueError(f"{name} must be a folder, got the file {path}")
    return path


def _check_grading(suite, options) -> None:
    if not isinstance(suite, TestSuite):
        raise TypeError(f"suite must be a TestSuite (TestSuite.from_directory(...)), got {type(suite).__name__}")
    if options is not None and not isinstance(options, GradingOptions):
        raise TypeError(f"options must be a GradingOptions or None, got {type(options).__name__}")


_PROBED: list[str | None] = []


def require_sandbox(options: GradingOptions) -> None:
    """Raise :class:`SandboxUnavailable` (saying why and what to do) when isolation is asked for but impossible."""
    if not options.isolate:
        return
    if not _PROBED:
        _PROBED.append(sandbox.probe())
    if _PROBED[0] is not None:
        raise SandboxUnavailable(
            f"cannot isolate submissions on this machine: {_PROBED[0]}. Grade as root on Linux (e.g. in a "
            "container), or pass --unsafe-no-sandbox (GradingOptions(isolate=False)) ONLY for submissions you trust: "
            "without the sandbox a submission can read the hidden tests and change any grade."
        )


def _worker_env(threads: int) -> dict:
    env = dict(os.environ)
    package_parent = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(p for p in [package_parent, env.get("PYTHONPATH", "")] if p)
    env["OMP_NUM_THREADS"] = str(threads)
    env.pop("MPLBACKEND", None)
    env["MPLBACKEND"] = "Agg"
    return env


JANITOR = """
import shutil, sys, time
paths = [line.rstrip("\\n") for line in sys.stdin]
for wait in (0.0, 1.0, 3.0):  # again after a while: a dying worker may still have been writing there
    time.sleep(wait)
    for path in paths:
        shutil.rmtree(path, ignore_errors=True)
"""
_JANITOR: list[subprocess.Popen] = []


def remove_at_exit(path: str | Path) -> None:
    """Remove ``path`` (solutions, hidden tests, a submission's code) when this process exits, even by SIGKILL:
    a small janitor process reads paths on its stdin and deletes them when that pipe closes."""
    if not _JANITOR:
        _JANITOR.append(
            subprocess.Popen(
                [sys.executable, "-c", JANITOR],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                text=True,
            )
        )
    _JANITOR[0].stdin.write(f"{Path(path).resolve()}\n")
    _JANITOR[0].stdin.flush()


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        process.kill()
    process.wait()


class _SubprocessWorker:
    """A fresh interpreter per worker (portable; pays the imports, a few seconds, every time)."""

    def __init__(self, spec_path: Path, options: GradingOptions) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "mlbook.grading.worker", str(spec_path)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            env=_worker_env(options.threads),
        )

    def poll(self) -> int | None:
        return self.process.poll()

    def kill(self) -> None:
        _kill(self.process)


_FORKSERVER = None
PRELOAD = [  # what a worker and its sandboxes then import for free (exercise notebooks import otter and mlbook)
    "torch",
    "otter",
    "otter.test_files",
    "mlbook.grading.worker",
    "mlbook.grading.remote",
    "mlbook.grading.host",
    "mlbook.grading.checks",
    "mlbook.grading.student",
    "mlbook.data",
    "mlbook.models",
    "mlbook.baselines",
]


def _forkserver_context():
    """A multiprocessing forkserver that has imported torch and otter once: workers fork from it in
    milliseconds. Nothing has run a torch operation in it (no thread pool yet), so forking is safe."""
    global _FORKSERVER
    if _FORKSERVER is None:
        import multiprocessing

        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(PRELOAD)
        _FORKSERVER = context
    return _FORKSERVER


class _ForkedWorker:
    def __init__(self, spec_path: Path, options: GradingOptions) -> None:
        from mlbook.grading.worker import run_forked

        self.process = _forkserver_context().Process(target=run_forked, args=(str(spec_path),))
        self.process.start()

    def poll(self) -> int | None:
        return self.process.exitcode

    def kill(self) -> None:
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # the worker leads its own session
        except (ProcessLookupError, PermissionError):
            self.process.kill()
        self.process.join()



def _start_worker(spec_path: Path, options: GradingOptions):
    if options.start_method == "forkserver":
        return _ForkedWorker(spec_path, options)
    if options.start_method == "subprocess":
        return _SubprocessWorker(spec_path, options)
    raise ValueError(f"start_method must be one of ['forkserver', 'subprocess'], got {options.start_method!r}")


class _EventReader:
    """The worker's events: bounded reads, undecodable or malformed lines skipped (never an exception)."""

    MAX_READ = 16 * 2**20

    def __init__(self, path: Path) -> None:
        self.path, self.offset, self.partial = path, 0, b""

    def read(self) -> list[dict]:
        try:
            with open(self.path, "rb") as handle:
                handle.seek(self.offset)
                data = handle.read(self.MAX_READ)
                self.offset = handle.tell()
        except OSError:
            return []
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()[-self.MAX_READ :]
        events = []
        for line in lines:
            try:
                event = json.loads(line.decode("utf-8", "replace"))
            except (ValueError, RecursionError):
                continue
            if isinstance(event, dict) and isinstance(event.get("event"), str):
                events.append(event)
        return events


def validated(question: str, data, suite: TestSuite) -> QuestionResult:
    """A worker's result for ``question``, checked: right question, finite 0 <= score <= possible, texts cleaned."""
    possible = suite.possible[question]
    try:
        score = float(data["score"])
        if data["question"] != question or not 0.0 <= score <= possible or float(data["possible"]) != possible:
            raise ValueError("inconsistent")
        cases = [
            CaseResult(
                clean_text(c["name"], 200),
                bool(c["hidden"]),
                float(c["points"]),
                bool(c["passed"]),
                clean_text(c.get("message") or ""),
            )
            for c in data.get("cases", [])[: suite.cases[question] + 1]
        ]
        error = data.get("error")
        return QuestionResult(question, score, possible, cases, None if error is None else clean_text(error))
    except (KeyError, TypeError, ValueError, AttributeError):
        return QuestionResult.zero(question, possible, "the worker reported an invalid result")


def grade_submission(
    submission: str | Path, suite: TestSuite, options: GradingOptions | None = None
) -> SubmissionResult:
    """Grade one notebook (or otter export zip) against ``suite``; never raises for a bad submission (a wrong
    argument of the grader's own gets a ``TypeError`` / ``ValueError`` before anything runs)."""
    check_path("submission", submission)
    _check_grading(suite, options)
    options = options or GradingOptions()
    require_sandbox(options)
    submission = Path(submission)
    result = SubmissionResult(clean_text(submission.name, 500), {})
    try:
        chunks, problems = definitions(read_notebook(submission, prefer=options.notebook_name))
    except SubmissionError as error:
        result.notes.append(str(error))
        result.questions = {q: QuestionResult.zero(q, suite.possible[q], str(error)) for q in suite.questions}
        return result
    result.notes += [clean_text(p, 500) for p in problems]
    payload = [{"cell": c.cell, "line": c.line, "code": c.code} for c in chunks]

    remaining = suite.questions
    while remaining:
        progress = _run_worker(payload, remaining, suite, options, result)
        remaining = [q for q in remaining if q not in result.questions]
        if remaining and not progress:
            for q in remaining:
                result.questions[q] = QuestionResult.zero(
                    q, suite.possible[q], "the worker could not start on this question"
                )
            remaining = []
    result.questions = {q: result.questions[q] for q in suite.questions}
    return result


def _run_worker(
    payload: list[dict], questions: list[str], suite: TestSuite, options: GradingOptions, result: SubmissionResult
) -> bool:
    """One worker over ``questions``; records results in ``result``. Returns whether any question finished."""
    with tempfile.TemporaryDirectory(prefix="mlbook-grade-") as tmp:
        remove_at_exit(tmp)
        tmp_path = Path(tmp)
        events_path = tmp_path / "events.jsonl"
        spec = {
            "chunks": payload,
            "questions": questions,
            "tests": {q: str(suite.paths[q].resolve()) for q in questions},
            "possible": {q: suite.possible[q] for q in questions},
            "results": str(events_path),
            "test_timeout": options.test_timeout,
            "output_limit": options.output_limit,
            "load_timeout": options.load_timeout,
            "threads": options.threads,
            "cwd": str(tmp_path / "work"),
            "isolate": options.isolate,
            "limits": vars(options.limits),
        }
        (tmp_path / "work").mkdir()
        spec_path = tmp_path / "spec.json"
        spec_path.write_text(json.dumps(spec))
        process = _start_worker(spec_path, options)
        reader = _EventReader(events_path)
        loaded, current, since, finished, killed = False, None, time.monotonic(), 0, None
        try:
            while True:
                exited = process.poll() is not None
                for event in reader.read():
                    since = time.monotonic()
                    question = event.get("question")
                    if event["event"] == "loaded" and not loaded:
                        loaded = True
                        errors = event.get("errors") if isinstance(event.get("errors"), list) else []
                        result.notes += [f"while loading definitions: {clean_text(e, 500)}" for e in errors[:50]]
                    elif event["event"] == "start" and question in questions:
                        current = question
                    elif event["event"] == "result" and question in questions and question not in result.questions:
                        result.questions[question] = validated(question, event.get("result"), suite)
                        current, finished = None, finished + 1
                if exited:
                    break
                if not loaded:
                    limit = None if options.load_timeout is None else options.load_timeout + 60.0  # + interpreter start
                elif current is not None:  # each test case reports its start: allow one case's limit
                    limit = None if options.test_timeout is None else options.test_timeout + options.kill_grace
                else:
                    limit = options.kill_grace
                if limit is not None and time.monotonic() - since > limit:
                    killed = f"timed out after {limit:g} s (the worker was stopped)"
                    process.kill()
                    for event in reader.read():  # a result written just before the kill still counts
                        question = event.get("question")
                        if event["event"] == "result" and question in questions and question not in result.questions:
                            result.questions[question] = validated(question, event.get("result"), suite)
                            current, finished = None, finished + 1
                    break
                time.sleep(0.05)
        finally:
            if process.poll() is None:
                process.kill()
        reason = killed or f"the grading worker died (exit code {process.poll()})"
        if current is not None and current not in result.questions:
            result.questions[current] = QuestionResult.zero(current, suite.possible[current], reason)
            finished += 1
        elif not loaded:
            for q in questions:
                result.questions[q] = QuestionResult.zero(q, suite.possible[q], f"loading the submission: {reason}")
            finished += len(questions)
        return finished > 0


def find_submissions(folder: str | Path) -> list[Path]:
    """Every ``.ipynb`` and ``.zip`` under ``folder`` (checkpoints excluded), sorted."""
    folder = check_path("folder", folder)
    if folder.is_file():
        return [folder]
    if not folder.is_dir():
        raise FileNotFoundError(f"submissions folder not found: {folder}")
    found = [
        p
        for p in folder.rglob("*")
        if p.suffix in (".ipynb", ".zip") and p.is_file() and ".ipynb_checkpoints" not in p.parts
    ]
    return sorted(found)


def grade_folder(
    folder: str | Path,
    suite: TestSuite,
    options: GradingOptions | None = None,
    *,
    jobs: int = 1,
    grade: Callable[[Path], SubmissionResult] | None = None,
    progress: bool = True,
) -> list[SubmissionResult]:
    """Grade every submission in ``folder`` (``jobs`` at a time); submissions are named by relative path."""
    _check_grading(suite, options)
    check_positive_int("jobs", jobs)
    if grade is not None:
        check_callable("grade", grade)
    folder = check_path("folder", folder)
    if grade is None:
        require_sandbox(options or GradingOptions())
    submissions = find_submissions(folder)
    grade = grade or (lambda path: grade_submission(path, suite, options))

    def one(path: Path) -> SubmissionResult:
        began = time.perf_counter()
        graded = grade(path)
        graded.submission = clean_text(str(path.relative_to(folder)) if folder.is_dir() else path.name, 500)
        if progress:
            seconds = time.perf_counter() - began
            print(f"graded {graded.submission}: {graded.total:g} / {graded.possible:g} ({seconds:.1f} s)", flush=True)
        return graded

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, submissions))


def write_scores(
    results: list[SubmissionResult],
    suite: TestSuite,
    csv_path: str | Path | None = None,
    json_path: str | Path | None = None,
) -> None:
    """The score table: CSV (one row per submission, one column per question) and/or JSON (with every case)."""
    if not isinstance(results, list) or not all(isinstance(r, SubmissionResult) for r in results):
        raise TypeError(f"results must be a list of SubmissionResult (from grade_folder), got {describe(results)}")
    _check_grading(suite, None)
    if csv_path is None and json_path is None:
        raise ValueError("csv_path and json_path are both None: give at least one file to write the scores to")
    for r in results:
        missing = [q for q in suite.questions if q not in r.questions]
        if missing:
            raise ValueError(f"results: {r.submission} has no score for {missing}: was it graded against this suite?")
    if csv_path is not None:
        with open(csv_path, "w", newline="", encoding="utf-8", errors="replace") as handle:
            writer = csv.writer(handle)
            writer.writerow(["submission", *suite.questions, "total", "possible", "notes"])
            for r in results:
                scores = [f"{r.questions[q].score:g}" for q in suite.questions]
                errors = [f"{q}: {r.questions[q].error}" for q in suite.questions if r.questions[q].error]
                writer.writerow(
                    [r.submission, *scores, f"{r.total:g}", f"{r.possible:g}", "; ".join(errors + r.notes)[:500]]
                )
    if json_path is not None:
        data = {
            "questions": suite.questions,
            "possible": suite.possible,
            "total_possible": suite.total_possible,
            "submissions": [r.to_dict() for r in results],
        }
        Path(json_path).write_text(json.dumps(data, indent=1), encoding="utf-8", errors="replace")


def grade_with_otter_run(
    submission: str | Path, autograder_zip: str | Path, suite: TestSuite, timeout: float = 600.0
) -> SubmissionResult:
    """Grade one submission with ``otter run`` (whole notebook executed by otter, hidden tests included)."""
    _existing("submission", submission)
    _existing("autograder_zip", autograder_zip)
    _check_grading(suite, None)
    check_positive("timeout", timeout)
    submission = Path(submission)
    result = SubmissionResult(submission.name, {})
    with tempfile.TemporaryDirectory(prefix="mlbook-otter-run-") as out:
        command = [
            sys.executable,
            "-m",
            "otter",
            "run",
            "--no-logo",
            "-a",
            str(autograder_zip),
            "-o",
            out,
            str(submission.resolve()),
        ]
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
            cwd=out,
        )
        try:
            _, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _kill(process)
            reason = f"otter run timed out after {timeout:g} s (the whole submission scores 0)"
            result.notes.append(reason)
            result.questions = {q: QuestionResult.zero(q, suite.possible[q], reason) for q in suite.questions}
            return result
        results_path = Path(out) / "results.json"
        if process.returncode != 0 or not results_path.exists():
            reason = f"otter run failed (exit code {process.returncode}): {stderr.decode(errors='replace')[-500:]}"
            result.notes.append(reason)
            result.questions = {q: QuestionResult.zero(q, suite.possible[q], reason) for q in suite.questions}
            return result
        entries = {t.get("name"): t for t in json.loads(results_path.read_text()).get("tests", [])}
    for q in suite.questions:
        entry = entries.get(q)
        if entry is None:
            result.questions[q] = QuestionResult.zero(
                q, suite.possible[q], "otter run reported no result for this question"
            )
        else:
            result.questions[q] = QuestionResult(
                q, float(entry.get("score") or 0.0), float(entry.get("max_score") or suite.possible[q])
            )
    return result
