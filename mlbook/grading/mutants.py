"""Mutation testing of an exercise set's tests: every plausible wrong implementation must lose points.

A mutant is a small Python file ``<question>_<bug>.py`` (e.g. ``q2_argmax.py``) that redefines one or more of
the set's functions with one bug; its module docstring says which. It is graded in-process against the
reference solution's definitions with the mutant's overriding them, by the same test files and the same
runner (:func:`mlbook.grading.runner.run_test_file`) that grade students. A mutant is *caught* when its
question scores below full marks.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from pathlib import Path

from mlbook.grading.extract import definitions, read_notebook
from mlbook.grading.runner import QuestionResult, run_test_file
from mlbook.grading.worker import load_definitions


@dataclass
class MutantOutcome:
    mutant: str
    question: str
    bug: str
    result: QuestionResult

    @property
    def caught(self) -> bool:
        return self.result.score < self.result.possible

    @property
    def caught_by(self) -> str:
        """The first failing test case (``q2 - 3``), or the question-level error."""
        failed = [c for c in self.result.cases if not c.passed]
        return failed[0].name if failed else (self.result.error or "")


def notebook_env(notebook: str | Path) -> tuple[dict, list[str]]:
    """A namespace with a notebook's definitions (as the grader keeps them) and the errors loading them."""
    chunks, problems = definitions(read_notebook(notebook))
    env, errors = load_definitions([{"cell": c.cell, "line": c.line, "code": c.code} for c in chunks], None, None)
    return env, problems + errors


def question_of(mutant: Path) -> str:
    return mutant.stem.split("_", 1)[0]


def describe(mutant: Path) -> str:
    doc = ast.get_docstring(ast.parse(mutant.read_text()))
    return (doc or "").strip().splitlines()[0] if doc else ""


def run_mutant(
    mutant: str | Path, reference_notebook: str | Path, tests_dir: str | Path, test_timeout: float | None = 60.0
) -> MutantOutcome:
    mutant = Path(mutant)
    env, errors = notebook_env(reference_notebook)
    if errors:
        raise RuntimeError(f"the reference notebook does not load cleanly: {errors}")
    exec(compile(mutant.read_text(), str(mutant), "exec"), env)  # noqa: S102 - fixtures written by the authors
    question = question_of(mutant)
    result = run_test_file(
        Path(tests_dir) / f"{question}.py", env, test_timeout=test_timeout, output_limit=1_000_000, stop_on_failure=True
    )
    return MutantOutcome(mutant.name, question, describe(mutant), result)


def mutation_report(
    mutants_dir: str | Path, reference_notebook: str | Path, tests_dir: str | Path
) -> list[MutantOutcome]:
    mutants = sorted(Path(mutants_dir).glob("q*_*.py"))
    if not mutants:
        raise ValueError(f"no mutants (q<N>_<bug>.py) in {mutants_dir}")
    return [run_mutant(m, reference_notebook, tests_dir) for m in mutants]


def summary(outcomes: list[MutantOutcome]) -> dict:
    caught = sum(o.caught for o in outcomes)
    return {
        "caught": caught,
        "total": len(outcomes),
        "score": caught / len(outcomes) if outcomes else float("nan"),
        "mutants": [
            {
                "mutant": o.mutant,
                "question": o.question,
                "bug": o.bug,
                "caught": o.caught,
                "caught_by": o.caught_by,
                "score": o.result.score,
                "possible": o.result.possible,
            }
            for o in outcomes
        ],
    }


def format_report(outcomes: list[MutantOutcome]) -> str:
    lines = [f"{'mutant':<40} {'caught by':<10} bug"]
    for o in outcomes:
        lines.append(f"{o.mutant:<40} {o.caught_by if o.caught else 'NOT CAUGHT':<10} {o.bug}")
    s = summary(outcomes)
    lines.append(f"mutation score: {s['caught']}/{s['total']}")
    return "\n".join(lines)


def write_report(outcomes: list[MutantOutcome], path: str | Path) -> None:
    Path(path).write_text(json.dumps(summary(outcomes), indent=1))
