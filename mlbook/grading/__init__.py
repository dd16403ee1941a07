"""Graded exercises: generate student files with otter, grade submissions offline, check the tests' power.

Student side (in the exercise notebooks): ``grader.check("q1")`` runs a question's public tests,
``grader.check_all()`` shows the running score, ``grader.export(pdf=False)`` writes the submission zip.

Instructor side (command line, see ``python -m mlbook.grading --help`` and exercises/README.md)::

    python -m mlbook.grading grade SUBMISSIONS_DIR --set ch01 --out scores.csv --json scores.json
    python -m mlbook.grading assign --set ch01          # regenerate the committed student files
    python -m mlbook.grading mutants tests/exercises/mutants/ch01 --set ch01

Batch grading isolates the submissions from the grader and from each other: the tests run in a trusted worker,
the submission's functions in an OS sandbox (:mod:`mlbook.grading.sandbox`), called through proxies that move
only plain data (:mod:`mlbook.grading.remote`, :mod:`mlbook.grading.wire`, :mod:`mlbook.grading.host`).

``otter`` (otter-grader) is imported lazily: the checks and the Colab helper work without it.
"""

from mlbook.grading.grade import (
    GradingOptions,
    SubmissionResult,
    TestSuite,
    find_submissions,
    grade_folder,
    grade_submission,
    grade_with_otter_run,
    write_scores,
)
from mlbook.grading.runner import CaseResult, QuestionResult, run_test_file
from mlbook.grading.sandbox import Limits, SandboxUnavailable
from mlbook.grading.sets import ExerciseSet, exercises_root, get_set, list_sets

__all__ = [
    "CaseResult",
    "ExerciseSet",
    "GradingOptions",
    "Limits",
    "QuestionResult",
    "SandboxUnavailable",
    "SubmissionResult",
    "TestSuite",
    "exercises_root",
    "find_submissions",
    "get_set",
    "grade_folder",
    "grade_submission",
    "grade_with_otter_run",
    "list_sets",
    "run_test_file",
    "write_scores",
]
