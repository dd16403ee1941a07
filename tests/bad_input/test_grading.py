"""Bad input to mlbook.grading's public Python API (the instructor's side): each row is a mistake a reader makes,
and the error it must get. Every row fails before any sandbox, worker or otter process is started."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from pathlib import Path

import pytest

from mlbook.grading import (
    CaseResult,
    ExerciseSet,
    GradingOptions,
    Limits,
    QuestionResult,
    SubmissionResult,
    TestSuite,
    exercises_root,
    find_submissions,
    get_set,
    grade_folder,
    grade_submission,
    grade_with_otter_run,
    list_sets,
    run_test_file,
    write_scores,
)
from mlbook.results import REPO_ROOT
from tests.bad_input.harness import BadInput, assert_clear

NAN, INF = float("nan"), float("inf")
EXERCISES = REPO_ROOT / "exercises"
TESTS = EXERCISES / "ch01" / "tests"
NOTEBOOK = EXERCISES / "ch01" / "ch01_exercises.ipynb"
MISSING = Path("/nonexistent/mlbook-bad-input")


def suite() -> TestSuite:
    return TestSuite.from_directory(TESTS, ["q1"])


def result() -> SubmissionResult:
    return SubmissionResult("a.ipynb", {"q1": QuestionResult("q1", 1.0, 2.0)})


def empty_folder() -> Path:
    """A fresh empty folder (no submissions: a row that got past the checks would grade nothing)."""
    path = Path(tempfile.mkdtemp(prefix="mlbook-bad-input-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def folder(**changes):
    arguments = dict(folder=empty_folder(), suite=suite(), options=GradingOptions(isolate=False), progress=False)
    return grade_folder(**{**arguments, **changes})


def folder_with(name: str, value):
    return lambda: folder(**{name: value})


def otter_run(**changes):
    arguments = dict(submission=NOTEBOOK, autograder_zip=NOTEBOOK, suite=suite())
    return grade_with_otter_run(**{**arguments, **changes})


ROWS = [
    BadInput("mlbook.grading.GradingOptions", "test_timeout", "negative", lambda: GradingOptions(test_timeout=-1)),
    BadInput("mlbook.grading.GradingOptions", "test_timeout", "NaN", lambda: GradingOptions(test_timeout=NAN)),
    BadInput("mlbook.grading.GradingOptions", "test_timeout", "a string", lambda: GradingOptions(test_timeout="60")),
    BadInput("mlbook.grading.GradingOptions", "output_limit", "zero", lambda: GradingOptions(output_limit=0)),
    BadInput("mlbook.grading.GradingOptions", "output_limit", "float", lambda: GradingOptions(output_limit=1e6)),
    BadInput("mlbook.grading.GradingOptions", "load_timeout", "inf", lambda: GradingOptions(load_timeout=INF)),
    BadInput("mlbook.grading.GradingOptions", "threads", "zero", lambda: GradingOptions(threads=0)),
    BadInput("mlbook.grading.GradingOptions", "kill_grace", "negative", lambda: GradingOptions(kill_grace=-1.0)),
    BadInput("mlbook.grading.GradingOptions", "start_method", "misspelt", lambda: GradingOptions(start_method="fork")),
    BadInput("mlbook.grading.GradingOptions", "isolate", "a string", lambda: GradingOptions(isolate="no")),
    BadInput("mlbook.grading.GradingOptions", "limits", "a dict", lambda: GradingOptions(limits={"cpu_seconds": 60})),
    BadInput(
        "mlbook.grading.GradingOptions",
        "notebook_name",
        "a Path",
        lambda: GradingOptions(notebook_name=Path("a.ipynb")),
    ),
    BadInput("mlbook.grading.Limits", "cpu_seconds", "zero", lambda: Limits(cpu_seconds=0)),
    BadInput("mlbook.grading.Limits", "memory_bytes", "float", lambda: Limits(memory_bytes=2.5 * 2**30)),
    BadInput("mlbook.grading.Limits", "processes", "bool", lambda: Limits(processes=True)),
    BadInput("mlbook.grading.Limits", "tmp_bytes", "negative", lambda: Limits(tmp_bytes=-1)),
    BadInput(
        "mlbook.grading.TestSuite.from_directory",
        "directory",
        "does not exist",
        lambda: TestSuite.from_directory(MISSING),
        (FileNotFoundError,),
    ),
    BadInput(
        "mlbook.grading.TestSuite.from_directory",
        "directory",
        "no test files",
        lambda: TestSuite.from_directory(EXERCISES),
    ),
    BadInput("mlbook.grading.TestSuite.from_directory", "directory", "None", lambda: TestSuite.from_directory(None)),
    BadInput(
        "mlbook.grading.TestSuite.from_directory",
        "questions",
        "a string",
        lambda: TestSuite.from_directory(TESTS, "q1"),
    ),
    BadInput(
        "mlbook.grading.TestSuite.from_directory",
        "questions",
        "unknown",
        lambda: TestSuite.from_directory(TESTS, ["q9"]),
    ),
    BadInput(
        "mlbook.grading.TestSuite.from_directory", "questions", "empty", lambda: TestSuite.from_directory(TESTS, [])
    ),
    BadInput("mlbook.grading.SubmissionResult", "questions", "a list", lambda: SubmissionResult("a.ipynb", [])),
    BadInput("mlbook.grading.SubmissionResult", "submission", "a Path", lambda: SubmissionResult(Path("a.ipynb"), {})),
    BadInput("mlbook.grading.SubmissionResult", "notes", "a string", lambda: SubmissionResult("a.ipynb", {}, "late")),
    BadInput("mlbook.grading.QuestionResult", "score", "NaN", lambda: QuestionResult("q1", NAN, 1.0)),
    BadInput("mlbook.grading.QuestionResult", "possible", "negative", lambda: QuestionResult("q1", 0.0, -1.0)),
    BadInput("mlbook.grading.QuestionResult", "score", "a string", lambda: QuestionResult("q1", "1", 1.0)),
    BadInput("mlbook.grading.QuestionResult", "question", "an int", lambda: QuestionResult(1, 1.0, 1.0)),
    BadInput(
        "mlbook.grading.QuestionResult.from_dict",
        "data",
        "missing score",
        lambda: QuestionResult.from_dict({"question": "q1"}),
    ),
    BadInput(
        "mlbook.grading.QuestionResult.from_dict", "data", "a list", lambda: QuestionResult.from_dict(["q1", 1.0, 1.0])
    ),
    BadInput("mlbook.grading.CaseResult", "points", "NaN", lambda: CaseResult("test_a", False, NAN, True)),
    BadInput("mlbook.grading.CaseResult", "name", "None", lambda: CaseResult(None, False, 1.0, True)),
    BadInput("mlbook.grading.ExerciseSet", "directory", "None", lambda: ExerciseSet("ch01", None)),
    BadInput("mlbook.grading.ExerciseSet", "name", "empty", lambda: ExerciseSet("", EXERCISES / "ch01")),
    BadInput("mlbook.grading.exercises_root", "start", "an int", lambda: exercises_root(3)),
    BadInput("mlbook.grading.exercises_root", "start", "does not exist", lambda: exercises_root(MISSING)),
    BadInput("mlbook.grading.list_sets", "root", "does not exist", lambda: list_sets(MISSING)),
    BadInput("mlbook.grading.list_sets", "root", "a file", lambda: list_sets(NOTEBOOK)),
    BadInput("mlbook.grading.list_sets", "root", "an int", lambda: list_sets(3)),
    BadInput("mlbook.grading.get_set", "name", "unknown set", lambda: get_set("ch99", EXERCISES)),
    BadInput("mlbook.grading.get_set", "name", "an int", lambda: get_set(1, EXERCISES)),
    BadInput("mlbook.grading.get_set", "root", "does not exist", lambda: get_set("ch01", MISSING)),
    BadInput(
        "mlbook.grading.find_submissions",
        "folder",
        "does not exist",
        lambda: find_submissions(MISSING),
        (FileNotFoundError,),
    ),
    BadInput("mlbook.grading.find_submissions", "folder", "None", lambda: find_submissions(None)),
    BadInput("mlbook.grading.grade_folder", "suite", "a path", folder_with("suite", TESTS)),
    BadInput("mlbook.grading.grade_folder", "options", "a dict", folder_with("options", {"isolate": False})),
    BadInput("mlbook.grading.grade_folder", "jobs", "zero", folder_with("jobs", 0)),
    BadInput("mlbook.grading.grade_folder", "jobs", "float", folder_with("jobs", 2.5)),
    BadInput("mlbook.grading.grade_folder", "grade", "a string", folder_with("grade", "otter")),
    BadInput(
        "mlbook.grading.grade_folder", "folder", "does not exist", folder_with("folder", MISSING), (FileNotFoundError,)
    ),
    BadInput(
        "mlbook.grading.grade_submission",
        "suite",
        "None",
        lambda: grade_submission(NOTEBOOK, None, GradingOptions(isolate=False)),
    ),
    BadInput(
        "mlbook.grading.grade_submission",
        "options",
        "a dict",
        lambda: grade_submission(NOTEBOOK, suite(), {"isolate": False}),
    ),
    BadInput(
        "mlbook.grading.grade_submission",
        "submission",
        "None",
        lambda: grade_submission(None, suite(), GradingOptions(isolate=False)),
    ),
    BadInput("mlbook.grading.grade_with_otter_run", "timeout", "zero", lambda: otter_run(timeout=0)),
    BadInput("mlbook.grading.grade_with_otter_run", "timeout", "NaN", lambda: otter_run(timeout=NAN)),
    BadInput("mlbook.grading.grade_with_otter_run", "suite", "a path", lambda: otter_run(suite=TESTS)),
    BadInput(
        "mlbook.grading.grade_with_otter_run",
        "autograder_zip",
        "does not exist",
        lambda: otter_run(autograder_zip=MISSING),
        (FileNotFoundError,),
    ),
    BadInput(
        "mlbook.grading.run_test_file",
        "path",
        "does not exist",
        lambda: run_test_file(MISSING, {}),
        (FileNotFoundError,),
    ),
    BadInput("mlbook.grading.run_test_file", "env", "None", lambda: run_test_file(TESTS / "q1.py", None)),
    BadInput(
        "mlbook.grading.run_test_file",
        "test_timeout",
        "negative",
        lambda: run_test_file(TESTS / "q1.py", {}, test_timeout=-1),
    ),
    BadInput(
        "mlbook.grading.run_test_file",
        "output_limit",
        "zero",
        lambda: run_test_file(TESTS / "q1.py", {}, output_limit=0),
    ),
    BadInput(
        "mlbook.grading.run_test_file",
        "on_case",
        "a string",
        lambda: run_test_file(TESTS / "q1.py", {}, on_case="print"),
    ),
    BadInput(
        "mlbook.grading.write_scores",
        "results",
        "one result",
        lambda: write_scores(result(), suite(), json_path=MISSING),
    ),
    BadInput(
        "mlbook.grading.write_scores", "suite", "a path", lambda: write_scores([result()], TESTS, json_path=MISSING)
    ),
    BadInput("mlbook.grading.write_scores", "csv_path", "neither path", lambda: write_scores([result()], suite())),
    BadInput(
        "mlbook.grading.write_scores",
        "results",
        "graded against another suite",
        lambda: write_scores([SubmissionResult("a.ipynb", {})], suite(), json_path=MISSING),
    ),
]


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.id)
def test_bad_input_gets_a_clear_error_naming_the_argument(row):
    assert_clear(row)


# The silent cases fixed, as behaviours (tests/exercises/ belongs to another area; these rows would all have
# returned without an error before).


def test_a_truthy_string_for_isolate_is_refused_instead_of_meaning_isolate():
    with pytest.raises(TypeError, match="isolate must be True or False"):
        GradingOptions(isolate="no")


def test_a_misspelt_start_method_is_refused_when_the_options_are_made_not_at_the_first_worker():
    with pytest.raises(ValueError, match="start_method must be one of"):
        GradingOptions(start_method="fork")


def test_grade_folder_refuses_zero_jobs_instead_of_running_one():
    with pytest.raises(ValueError, match="jobs must be an int >= 1"):
        folder(jobs=0)


def test_write_scores_without_any_path_is_refused_instead_of_writing_nothing():
    with pytest.raises(ValueError, match="csv_path and json_path are both None"):
        write_scores([result()], suite())


def test_a_question_result_with_a_nan_score_is_refused():
    with pytest.raises(ValueError, match="score must be a finite number"):
        QuestionResult("q1", NAN, 1.0)
