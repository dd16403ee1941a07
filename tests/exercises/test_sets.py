"""Every exercise set: committed student files are otter assign's output, hold no solution and no hidden test,
the reference solution scores full marks, the blank notebook scores nothing, and every mutant loses points."""

from __future__ import annotations

import ast
import re

import nbformat
import pytest

from mlbook.grading import assign as assign_mod
from mlbook.grading.mutants import notebook_env, question_of, run_mutant
from mlbook.grading.runner import load_test_file, run_test_file

from .conftest import MUTANTS, SETS, exercise_set

MUTANT_FILES = sorted(MUTANTS.glob("*/q*_*.py"))


def test_there_are_three_sets():
    assert {"ch01", "ch05", "ch06"} <= set(SETS)


@pytest.mark.parametrize("name", SETS)
def test_student_files_are_otter_assign_output(name, assigned):
    problems = assign_mod.stale_student_files(exercise_set(name), assigned(name))
    assert not problems, "student files are stale; run `python -m mlbook.grading assign`:\n" + "\n".join(problems)


def _solution_lines(notebook_path) -> list[str]:
    """Code lines of the reference solutions (between BEGIN SOLUTION and END SOLUTION)."""
    lines, inside = [], False
    for cell in nbformat.read(str(notebook_path), as_version=4).cells:
        for line in cell.source.splitlines():
            if "# END SOLUTION" in line:
                inside = False
            elif "# BEGIN SOLUTION" in line:
                inside = True
            elif inside and line.strip():
                lines.append(line.strip())
    return lines


def _leaks(notebook_path, generated) -> list[str]:
    """Markers, solution lines and hidden test names found in a notebook."""
    text = notebook_path.read_text()
    found = [m for m in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN TESTS", "TEST CONFIG", "hidden: true") if m in text]
    solution = [line for line in _solution_lines(generated.autograder_notebook) if len(line) > 12]
    assert len(solution) >= 3, "could not find the reference solution in the autograder notebook"
    code = "\n".join(c.source for c in nbformat.read(str(notebook_path), as_version=4).cells if c.cell_type == "code")
    found += [line for line in solution if line in code]
    tests_text = "\n".join(p.read_text() for p in generated.autograder_tests.glob("*.py"))
    hidden = re.findall(r"hidden=True\)\ndef (\w+)", tests_text)
    assert hidden, "no hidden test found in the autograder tests"
    return found + [name for name in hidden if name in text]


@pytest.mark.parametrize("name", SETS)
def test_student_files_hold_no_solution_and_no_hidden_test(name, assigned):
    generated, committed = assigned(name), exercise_set(name)
    assert not _leaks(committed.student_notebook, generated), "the student notebook leaks a solution or hidden test"
    assert _leaks(generated.autograder_notebook, generated), "the leak check does not see the reference solution"
    public_files = sorted(committed.student_tests.glob("*.py"))
    assert [p.stem for p in public_files] == generated.questions(), "every question needs a public test file"
    public_text = "\n".join(p.read_text() for p in public_files)
    assert "hidden=True" not in public_text
    for question in generated.questions():
        public = load_test_file(committed.student_tests / f"{question}.py").test_cases
        full = load_test_file(generated.autograder_tests / f"{question}.py").test_cases
        assert public and all(not tc.hidden for tc in public), f"{question}: needs public tests, and only public ones"
        hidden = [tc for tc in full if tc.hidden]
        assert hidden, f"{question}: needs at least one hidden test"
        for case in hidden:
            assert case.body.test_func.__name__ not in public_text, f"hidden test of {question} in the public tests"


@pytest.mark.parametrize("name", SETS)
def test_every_test_cell_became_a_test_case(name, assigned):
    """Test functions with a repeated name would silently replace each other in otter's test file."""
    generated = assigned(name)
    for path in generated.autograder_tests.glob("*.py"):
        names = [n.name for n in ast.parse(path.read_text()).body if isinstance(n, ast.FunctionDef)]
        assert len(names) == len(set(names)), f"{path.name}: repeated test names {names}"
        assert len(load_test_file(path).test_cases) == len(names)


@pytest.mark.parametrize("name", SETS)
def test_reference_scores_full_marks_and_blank_scores_zero(name, assigned):
    generated = assigned(name)
    reference, errors = notebook_env(generated.autograder_notebook)
    assert not errors
    blank, errors = notebook_env(exercise_set(name).student_notebook)
    assert not errors
    for question in generated.questions():
        tests = generated.autograder_tests / f"{question}.py"
        full = run_test_file(tests, reference, test_timeout=120)
        failures = [c.message for c in full.cases if not c.passed]
        assert full.score == full.possible > 0, f"reference fails {question}: {failures}"
        empty = run_test_file(tests, blank, test_timeout=120, stop_on_failure=False)
        assert empty.score == 0, f"the blank notebook scores on {question}"


def test_every_question_has_a_mutant(assigned):
    for name in SETS:
        covered = {question_of(p) for p in (MUTANTS / name).glob("q*_*.py")}
        assert covered == set(assigned(name).questions()), f"{name}: questions without a mutant"


@pytest.mark.parametrize("mutant", MUTANT_FILES, ids=[f"{p.parent.name}/{p.stem}" for p in MUTANT_FILES])
def test_mutant_is_caught(mutant, assigned):
    generated = assigned(mutant.parent.name)
    outcome = run_mutant(mutant, generated.autograder_notebook, generated.autograder_tests)
    assert outcome.caught, f"{mutant.name} ({outcome.bug}) scores full marks on {outcome.question}"
