"""Run one otter test file against a namespace, with a time limit per test case and a cap on printed output.

This is the single place where test code meets submission code: the grading worker (one subprocess per
submission), the mutation tests and the reference checks all call :func:`run_test_file`, so they run exactly
the same tests. Test files are otter's exception-based format (``@test_case`` functions whose arguments are
looked up by name in the namespace); scores follow otter's rules (``TestFile.score``).
"""

from __future__ import annotations

import contextlib
import io
import signal
import sys
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from mlbook.validate import check_callable, check_non_negative, check_path, check_positive, check_positive_int

MESSAGE_LIMIT = 2000  # characters of a failure message kept in reports


class TestTimeout(BaseException):  # noqa: N818 - BaseException so a student's `except Exception` cannot swallow it
    """Raised inside a test case that ran past its time limit."""


class OutputLimitExceeded(BaseException):  # noqa: N818
    """Raised when a test case prints more than the output limit."""


@dataclass
class CaseResult:
    name: str
    hidden: bool
    points: float
    passed: bool
    message: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(f"name must be the test case's name (a str), got {type(self.name).__name__}")
        check_non_negative("points", self.points)


@dataclass
class QuestionResult:
    question: str
    score: float
    possible: float
    cases: list[CaseResult] = field(default_factory=list)
    error: str | None = None  # why the question got no points as a whole (timeout, crash, output flood)

    def __post_init__(self) -> None:
        if not isinstance(self.question, str):
            raise TypeError(f"question must be the question's name (a str), got {type(self.question).__name__}")
        check_non_negative("score", self.score)
        check_non_negative("possible", self.possible)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> QuestionResult:
        if not isinstance(data, dict) or not {"question", "score", "possible"} <= set(data):
            raise ValueError(
                f"data must be a dict with question, score and possible (from to_dict), got {data!r}"[:300]
            )
        cases = [CaseResult(**case) for case in data.get("cases", [])]
        return cls(data["question"], data["score"], data["possible"], cases, data.get("error"))

    @classmethod
    def zero(cls, question: str, possible: float, error: str) -> QuestionResult:
        return cls(question, 0.0, possible, [], error)

    @property
    def passed_all(self) -> bool:
        return self.error is None and self.score == self.possible


def load_test_file(path: str | Path):
    """Parse an otter exception-based test file (``otter.test_files.ExceptionTestFile``)."""
    from otter.test_files.exception_test import ExceptionTestFile

    return ExceptionTestFile.from_file(str(path))


class CappedStream(io.TextIOBase):
    """A text stream that keeps the first ``limit`` characters and raises once more is written."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.written = 0
        self.kept: list[str] = []
        self.exceeded = False

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        text = str(text)
        room = self.limit - self.written
        if room > 0:
            self.kept.append(text[:room])
        self.written += len(text)
        if self.written > self.limit:
            self.exceeded = True
            raise OutputLimitExceeded(f"printed more than {self.limit} characters")
        return len(text)

    def flush(self) -> None:
        pass

    def getvalue(self) -> str:
        return "".join(self.kept)


@contextlib.contextmanager
def capped_output(limit: int | None):
    """Send ``print`` output to a :class:`CappedStream` (``None``: leave stdout and stderr alone)."""
    if limit is None:
        yield None
        return
    stream = CappedStream(limit)
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = stream
    try:
        yield stream
    finally:
        sys.stdout, sys.stderr = saved


def _can_use_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


@contextlib.contextmanager
def time_limit(seconds: float | None):
    """Raise :class:`TestTimeout` in the block after ``seconds`` (wall clock, main thread only).

    A Python loop is interrupted at the next bytecode; a single long C call is not, which is why the grader
    also kills the whole worker process when a question runs past its own deadline.
    """
    if seconds is None or not _can_use_alarm():
        yield
        return

    def on_alarm(signum, frame):
        raise TestTimeout(f"timed out after {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _describe(test_file, error: BaseException) -> str:
    try:
        return test_file._generate_error_message(error)  # otter's "Error at line N in test q1: ..." message
    except Exception:  # noqa: BLE001 - the traceback may not reach the test function (e.g. an early timeout)
        return f"{type(error).__name__}: {error}"


def run_test_file(
    path: str | Path,
    env: dict,
    *,
    test_timeout: float | None = None,
    output_limit: int | None = None,
    include_hidden: bool = True,
    on_case: Callable[[int], None] | None = None,
    stop_on_failure: bool = False,
) -> QuestionResult:
    """Run every test case of the test file at ``path`` against ``env`` and score the question.

    A case fails when it raises anything (including :class:`TestTimeout` after ``test_timeout`` seconds).
    After a timeout the question's remaining cases are not run (they fail): code that hung once would make
    every case wait out its limit. When the cases together print more than ``output_limit`` characters the
    whole question scores 0. ``on_case(i)`` is called before case ``i`` runs (the worker reports progress).
    ``stop_on_failure`` skips the cases after the first failure (mutation testing only needs one).
    """
    if not check_path("path", path).is_file():
        raise FileNotFoundError(f"path: no test file at {path}")
    if not isinstance(env, dict):
        raise TypeError(f"env must be a dict (the namespace the tests call into), got {type(env).__name__}")
    if test_timeout is not None:
        check_positive("test_timeout", test_timeout)
    if output_limit is not None:
        check_positive_int("output_limit", output_limit)
    if on_case is not None:
        check_callable("on_case", on_case)
    from otter.test_files.abstract_test import TestCaseResult

    test_file = load_test_file(path)
    if not include_hidden:
        test_file.test_cases = [tc for tc in test_file.test_cases if not tc.hidden]
    results, flooded, printed, skip_reason = [], False, 0, None
    for index, case in enumerate(test_file.test_cases):
        if skip_reason:
            results.append(TestCaseResult(test_case=case, message=f"not run: {skip_reason}", passed=False))
            continue
        if on_case is not None:
            on_case(index)
        passed, message = True, ""
        with capped_output(None if output_limit is None else max(output_limit - printed, 0)) as stream:
            try:
                with time_limit(test_timeout):
                    case.body.call_func(env)
            except KeyboardInterrupt:
                raise
            except OutputLimitExceeded:
                passed, flooded = False, True
                message = f"printed more than {output_limit} characters: output is capped"
            except TestTimeout as error:
                passed, message = False, f"{error} (per-test time limit)"
                skip_reason = "an earlier case timed out"
            except BaseException as error:  # noqa: BLE001 - student code may raise anything, SystemExit included
                passed, message = False, _describe(test_file, error)
        if stream is not None:
            printed += stream.written
            flooded = flooded or stream.exceeded
        results.append(TestCaseResult(test_case=case, message=message[:MESSAGE_LIMIT], passed=passed))
        if stop_on_failure and not passed:
            skip_reason = skip_reason or "stopped at the first failure"
    test_file.test_case_results = results
    cases = [
        CaseResult(r.test_case.name, bool(r.test_case.hidden), float(r.test_case.points), r.passed, r.message or "")
        for r in results
    ]
    if flooded:
        return QuestionResult(
            test_file.name, 0.0, float(test_file.possible), cases, f"printed more than {output_limit} characters"
        )
    return QuestionResult(test_file.name, float(test_file.score), float(test_file.possible), cases)
