"""The instructor's grader: one command grades a folder into CSV/JSON; broken submissions (raising, looping,
flooding stdout, crashing the worker, not even a notebook) get 0 on the affected questions only, and grading
goes on. ``otter run`` end to end agrees with it on the reference, the blank notebook and a broken one."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import nbformat
import pytest

from mlbook.grading import TestSuite, grade_with_otter_run
from mlbook.grading.__main__ import main
from mlbook.grading.extract import definitions, read_notebook
from mlbook.grading.sandbox import probe

from .conftest import REPO, add_cells, exercise_set, replace_definition

FULL = {"q1": 8.0, "q2": 4.0, "q3": 4.0}  # ch01: one point per test case
# Where the OS sandbox cannot be set up (not Linux, not root) these tests grade unconfined: the same grading
# logic, the same scores; test_hostile.py, which needs the sandbox, is skipped there with the reason.
SANDBOXED = probe() is None
UNSAFE = [] if SANDBOXED else ["--unsafe-no-sandbox"]

RAISES_Q1 = """
def sample_episode(images, labels, n_way, k_shot, q_query, generator):
    raise RuntimeError("I give up")
"""
LOOPS_Q2 = """
def nearest_support(distances):
    while True:
        pass
"""
STUBBORN_Q1 = """
import time


def sample_episode(images, labels, n_way, k_shot, q_query, generator):
    while True:  # swallows even the grader's per-test alarm: only killing the worker stops it
        try:
            time.sleep(0.01)
        except BaseException:
            pass
"""
FLOODS_Q3 = """
def oneshot_error(predictions, answers):
    for _ in range(200_000):
        print("debugging output " * 4)
    wrong = (predictions != answers).double()
    return 100.0 * wrong.mean().item(), 100.0 * wrong.mean(dim=1)
"""
CRASHES_Q2 = """
import os


def nearest_support(distances):
    os._exit(3)
"""


@pytest.fixture(scope="module")
def submissions(tmp_path_factory, assigned) -> Path:
    """A folder of ch01 submissions, one per failure mode, plus the reference, the blank notebook and a zip."""
    folder = tmp_path_factory.mktemp("submissions")
    reference = assigned("ch01").autograder_notebook
    (folder / "reference.ipynb").write_bytes(reference.read_bytes())
    (folder / "blank.ipynb").write_bytes(exercise_set("ch01").student_notebook.read_bytes())
    raises = replace_definition(reference, "sample_episode", RAISES_Q1, folder / "raises.ipynb")
    add_cells(raises, ["raise RuntimeError('a broken top-level cell')", "def half_written(:\n    pass"])
    loops = replace_definition(reference, "nearest_support", LOOPS_Q2, folder / "loops.ipynb")
    add_cells(loops, ["while True:\n    pass  # an experiment left running at the top level"])
    replace_definition(reference, "sample_episode", STUBBORN_Q1, folder / "stubborn.ipynb")
    replace_definition(reference, "oneshot_error", FLOODS_Q3, folder / "floods.ipynb")
    replace_definition(reference, "nearest_support", CRASHES_Q2, folder / "crashes.ipynb")
    (folder / "garbage.ipynb").write_text("this is not a notebook")
    nested = folder / "student_42"
    nested.mkdir()
    with zipfile.ZipFile(nested / "ch01_exercises_2026_01_01T00_00_00_000000.zip", "w") as archive:
        archive.write(reference, "ch01_exercises.ipynb")  # what grader.export() writes
        archive.writestr(".OTTER_LOG", b"")
        archive.writestr("__zip_filename__", "ch01_exercises_2026_01_01T00_00_00_000000.zip")
    return folder


EXPECTED = {
    "reference.ipynb": FULL,
    "student_42/ch01_exercises_2026_01_01T00_00_00_000000.zip": FULL,  # grader.export()'s zip
    "blank.ipynb": {"q1": 0.0, "q2": 0.0, "q3": 0.0},
    "raises.ipynb": {"q1": 0.0, "q2": 4.0, "q3": 4.0},
    "loops.ipynb": {"q1": 8.0, "q2": 0.0, "q3": 4.0},
    "stubborn.ipynb": {"q1": 0.0, "q2": 4.0, "q3": 4.0},
    "floods.ipynb": {"q1": 8.0, "q2": 4.0, "q3": 0.0},
    "crashes.ipynb": {"q1": 8.0, "q2": 0.0, "q3": 4.0},
    "garbage.ipynb": {"q1": 0.0, "q2": 0.0, "q3": 0.0},
}


def test_grade_a_folder(submissions, tmp_path, assign_cache):
    """The instructor's command on the whole folder, two submissions at a time, short time limits. One test
    (not one per submission) so that pytest-xdist runs the folder once."""
    code = main(
        ["grade", str(submissions), "--set", "ch01", "--out", str(tmp_path / "scores.csv")]
        + ["--json", str(tmp_path / "scores.json"), "--jobs", "2", "--test-timeout", "20", "--kill-grace", "2"]
        + ["--assign-cache", str(assign_cache), *UNSAFE]
    )
    assert code == 0
    report = json.loads((tmp_path / "scores.json").read_text())
    rows = list(csv.DictReader((tmp_path / "scores.csv").open()))
    by_name = {s["submission"]: s for s in report["submissions"]}

    # the score table: every submission, one column per question
    assert sorted(by_name) == sorted(EXPECTED) == sorted(r["submission"] for r in rows)
    assert report["questions"] == ["q1", "q2", "q3"] and report["possible"] == FULL
    assert rows[0].keys() >= {"submission", "q1", "q2", "q3", "total", "possible", "notes"}
    for name, expected in EXPECTED.items():
        assert by_name[name]["scores"] == expected, f"{name}: {by_name[name]['scores']} != {expected}"
        row = next(r for r in rows if r["submission"] == name)
        assert float(row["total"]) == sum(expected.values())

    # why each broken question got 0, and that the rest of each notebook was still graded
    assert "does not parse" in " ".join(by_name["raises.ipynb"]["notes"])  # a half-written cell is not fatal
    loop_messages = [c["message"] for c in by_name["loops.ipynb"]["questions"]["q2"]["cases"]]
    assert "timed out" in loop_messages[0] and all(m.startswith("not run") for m in loop_messages[1:])
    assert "timed out" in by_name["stubborn.ipynb"]["questions"]["q1"]["error"]  # worker killed, then restarted
    assert "printed more than" in by_name["floods.ipynb"]["questions"]["q3"]["error"]
    assert "died" in by_name["crashes.ipynb"]["questions"]["q2"]["error"]
    assert "not a readable notebook" in " ".join(by_name["garbage.ipynb"]["notes"])


def test_fresh_interpreter_workers_grade_the_same(assigned, submissions):
    """The portable start method (a new interpreter per worker) agrees with the forkserver."""
    from mlbook.grading import GradingOptions, grade_submission

    suite = TestSuite.from_directory(assigned("ch01").autograder_tests)
    options = GradingOptions(test_timeout=6, kill_grace=2, start_method="subprocess", isolate=SANDBOXED)
    result = grade_submission(submissions / "raises.ipynb", suite, options)
    assert {q: r.score for q, r in result.questions.items()} == EXPECTED["raises.ipynb"]


def test_definitions_keep_functions_and_drop_experiments():
    notebook = {
        "cells": [
            {"cell_type": "code", "source": "import torch\nEPS = 1e-8\nmodel = torch.nn.Linear(2, 2)\nprint('hi')"},
            {"cell_type": "code", "source": "%pip install nothing\ndef f(x, losses):\n    return x.to(DEVICE) + EPS"},
            {"cell_type": "markdown", "source": "def not_code(): pass"},
            {"cell_type": "code", "source": "NAME = 'cpu'\nDEVICE = torch.device(NAME)\nlosses = train(model)"},
            {"cell_type": "code", "source": "@staticmethod\ndef g():\n    pass\nwhile True:\n    pass"},
            {"cell_type": "code", "source": "class M:\n    def h(self):\n        return SCALE\nSCALE = float('2')"},
        ]
    }
    chunks, problems = definitions(notebook)
    kept = [c.code.splitlines()[0] for c in chunks]
    # `losses = train(model)` stays out although f has a parameter named `losses`: only globals count
    assert kept == [
        "import torch",
        "EPS = 1e-8",
        "def f(x, losses):",
        "NAME = 'cpu'",
        "DEVICE = torch.device(NAME)",
        "@staticmethod",
        "class M:",
        "SCALE = float('2')",  # read by a method
    ]
    assert [c.cell for c in chunks] == [1, 1, 2, 3, 3, 4, 5, 5] and problems == []  # code cells, counted from 1


def test_read_notebook_from_zip_prefers_the_set_notebook(tmp_path):
    path = tmp_path / "export.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("scratch.ipynb", json.dumps({"cells": [], "which": "scratch"}))
        archive.writestr("ch01_exercises.ipynb", json.dumps({"cells": [], "which": "set"}))
    assert read_notebook(path, prefer="ch01_exercises.ipynb")["which"] == "set"


@pytest.mark.parametrize("name", ["reference.ipynb", "blank.ipynb", "raises.ipynb"])
def test_otter_run_agrees_end_to_end(name, assigned, submissions):
    """``otter run`` (otter's own grading: the whole notebook executed, hidden tests included) gives the same
    scores as the grader on the reference, the blank notebook and a broken submission."""
    generated = assigned("ch01")
    suite = TestSuite.from_directory(generated.autograder_tests)
    result = grade_with_otter_run(submissions / name, generated.autograder_zip, suite, timeout=300)
    assert not result.notes, result.notes
    assert {q: r.score for q, r in result.questions.items()} == EXPECTED[name]


def test_colab_fetches_only_the_public_tests(tmp_path):
    import io
    import tarfile

    from mlbook.grading.colab import fetch_public_tests

    archive = tmp_path / "repo.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for name, text in [
            ("learning-to-learn-main/exercises/ch01/tests/q1.py", "public = 1\n"),
            ("learning-to-learn-main/exercises/ch01/tests/q2.py", "public = 2\n"),
            ("learning-to-learn-main/exercises/ch01/source/ch01_exercises.ipynb", "{}"),
            ("learning-to-learn-main/exercises/ch05/tests/q1.py", "other = 1\n"),
        ]:
            info = tarfile.TarInfo(name)
            info.size = len(text.encode())
            tar.addfile(info, io.BytesIO(text.encode()))
    written = fetch_public_tests("ch01", tmp_path / "tests", url=archive.as_uri())
    assert [p.name for p in written] == ["q1.py", "q2.py"]
    assert (tmp_path / "tests" / "q2.py").read_text() == "public = 2\n"
    with pytest.raises(FileNotFoundError, match="ch09"):
        fetch_public_tests("ch09", tmp_path / "none", url=archive.as_uri())


def test_assign_check_command_reports_up_to_date(capsys):
    assert main(["assign", "--check", "--set", "ch01"]) == 0
    assert "ch01: up to date" in capsys.readouterr().out


def test_stale_student_files_are_detected(tmp_path, assigned):
    from mlbook.grading import assign as assign_mod
    from mlbook.grading.sets import ExerciseSet

    copy = tmp_path / "ch01"
    copy.mkdir()
    source = exercise_set("ch01")
    (copy / "tests").mkdir()
    for path in source.student_tests.glob("*.py"):
        (copy / "tests" / path.name).write_bytes(path.read_bytes())
    nb = nbformat.read(str(source.student_notebook), as_version=4)
    nb.cells[0].source += "\n# edited by hand"
    nbformat.write(nb, str(copy / "ch01_exercises.ipynb"))
    (copy / "tests" / "q9.py").write_text("")
    problems = assign_mod.stale_student_files(ExerciseSet("ch01", copy), assigned("ch01"))
    assert any("differs" in p for p in problems) and any("extra" in p for p in problems)


def test_launch_links_point_at_the_committed_student_notebooks():
    from mlbook.grading.sets import launch_links, launch_markdown
    from mlbook.project import REF

    for name in ("ch01", "ch05", "ch06"):
        links = launch_links(name)
        path = f"exercises/{name}/{name}_exercises.ipynb"
        assert (REPO / path).is_file()
        assert links["colab"].endswith(f"/blob/{REF}/" + path)  # the ref the pages are built from
        assert links["binder"].endswith("?labpath=" + path.replace("/", "%2F"))
        assert links["colab"] in launch_markdown(name)


def test_autograder_from_a_private_master_notebook(tmp_path, capsys):
    """An instructor's private fork: any master notebook, hidden tests and the otter run zip come out."""
    private = tmp_path / "private" / "ch05_exercises.ipynb"
    private.parent.mkdir()
    private.write_bytes(exercise_set("ch05").source.read_bytes())
    assert main(["autograder", "--source", str(private), "--out", str(tmp_path / "ag")]) == 0
    assert "hidden=True" in (tmp_path / "ag" / "tests" / "q2.py").read_text()
    assert list((tmp_path / "ag").glob("ch05_exercises-autograder_*.zip"))
    assert main(["list"]) == 0 and "ch05" in capsys.readouterr().out
