"""Hostile submissions against the instructor's grader (issue 17): each attack class of the issue, graded in one
folder beside honest submissions with ``--jobs 2``. Every hostile submission gets no more than its honest score
(they are built on the blank notebook: 0), the honest ones keep theirs, the hidden tests never leak into a
report, the grader finishes, and no sandboxed process or temporary folder outlives grading."""

from __future__ import annotations

import json
import os
import tempfile
import time
from pathlib import Path

import pytest

from mlbook.grading.__main__ import main
from mlbook.grading.sandbox import probe

from .conftest import REPO, add_cells, exercise_set, replace_definition

WHY_NO_SANDBOX = probe()
pytestmark = pytest.mark.skipif(WHY_NO_SANDBOX is not None, reason=f"no OS sandbox here: {WHY_NO_SANDBOX}")
MARK = "hostile-left"  # the process name the lingering attackers give themselves

FULL = {"q1": 8.0, "q2": 4.0, "q3": 4.0}
ZERO = {"q1": 0.0, "q2": 0.0, "q3": 0.0}
HIDDEN_TEXT = "label 0 not uniform over classes"  # only in a hidden test of ch01

# Class bodies run when the grader loads the definitions; function bodies when a test calls them.
ATTACKS = {
    # 1. monkeypatching what the tests call (in the sandbox's own copy: the trusted side never sees it)
    "patch_checks": """
class Patch:
    import json, torch, numpy
    import mlbook.grading.checks as checks
    import mlbook.grading.runner as runner
    for name in ("expect", "expect_equal", "expect_tensor", "expect_close", "expect_raises"):
        setattr(checks, name, lambda *args, **kwargs: args[1] if len(args) > 1 else None)
    torch.allclose = torch.equal = numpy.allclose = lambda *args, **kwargs: True
    json.dumps = lambda *args, **kwargs: '{"score": 3000}'
    runner.run_test_file = None


def nearest_support(distances):
    import mlbook.grading.checks as checks
    checks.expect_equal = lambda *args, **kwargs: None
    return distances
""",
    # 2. forging results: every file or descriptor that could reach the results
    "forge_results": """
class Forge:
    import json, os
    line = json.dumps({"event": "result", "question": "q1", "result": {"question": "q1", "score": 3000.0,
                       "possible": 8.0, "cases": [], "error": None}}) + "\\n"
    for top in ("/tmp", "/proc"):
        for folder, _, files in os.walk(top):
            for name in files:
                if name.endswith((".jsonl", "spec.json", ".csv")):
                    try:
                        with open(os.path.join(folder, name), "a") as handle:
                            handle.write(line)
                    except OSError:
                        pass
    for fd in range(3, 64):
        try:
            os.write(fd, line.encode())
        except OSError:
            pass


def oneshot_error(predictions, answers):
    import os
    for fd in range(3, 64):
        try:
            os.write(fd, b"\\x00\\x00\\x00\\x10\\x00\\x00\\x00\\x00" + b'{"value": 100.0}')
        except OSError:
            pass
    return 100.0, predictions
""",
    # 3. changing others' grades: rewrite or delete the tests, kill everything in reach
    "rewrite_tests": """
class Rewrite:
    import os, signal
    for top in ("/tmp", "/var/tmp"):  # (not the checkout: a broken sandbox must not wreck a developer's clone)
        for folder, _, files in os.walk(top):
            for name in files:
                if name.endswith(".py") and "tests" in folder or name.endswith(".ipynb"):
                    path = os.path.join(folder, name)
                    try:
                        with open(path, "w") as handle:
                            handle.write("pass\\n")
                    except OSError:
                        pass
                    try:
                        os.remove(path)
                    except OSError:
                        pass
    for pid in range(2, 4096):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def nearest_support(distances):
    import os, signal
    os.kill(-1, signal.SIGKILL)
""",
    # 4. a detached grandchild that outlives grading to rewrite the score files
    "grandchild": """
class Detach:
    import os, sys, time
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            __import__("ctypes").CDLL(None).prctl(15, b"hostile-left", 0, 0, 0)  # its process name
            for _ in range(600):
                for path in sys.argv + [os.getcwd(), "/", "/tmp"]:
                    try:
                        open(path + "/scores.csv", "w").write("forged")
                    except OSError:
                        pass
                time.sleep(0.1)
        os._exit(0)
""",
    # 5. denial of service: text that breaks encoders, floods, memory, processes, disk, the protocol
    "dos": """
def sample_episode(images, labels, n_way, k_shot, q_query, generator):
    raise ValueError("\\udcff\\udc80 lone surrogates \\x00 NUL " + "x" * 10_000_000)


def nearest_support(distances):
    import os, time
    for _ in range(500):
        try:
            if os.fork() == 0:
                __import__("ctypes").CDLL(None).prctl(15, b"hostile-left", 0, 0, 0)  # its process name
                time.sleep(120)
                os._exit(0)
        except OSError:
            break
    return bytearray(64 * 2**30)


def oneshot_error(predictions, answers):
    import os
    with open("/tmp/fill", "wb") as handle:
        while True:
            handle.write(b"x" * 2**20)
""",
    "protocol": """
def sample_episode(images, labels, n_way, k_shot, q_query, generator):
    import os
    for fd in range(0, 64):
        try:
            os.write(fd, b"\\xff" * 65536)
        except OSError:
            pass
    return 0


def nearest_support(distances):
    import os
    os.close(3)
    os.close(4)
    return distances.argmin(dim=1)
""",
    # 6. reading the hidden tests (and the sources) to print them in a failure message
    "read_hidden": """
class Steal:
    import os
    found = []
    for top in ("/", "/tmp", os.path.expanduser("~"), os.getcwd()):
        for folder, subfolders, files in os.walk(top):
            # not the system, the libraries or the kernel's files: the tests would not be there
            subfolders[:] = [
                d for d in subfolders if d not in ("usr", "sys", "site-packages") and not d.startswith("python3")
            ]
            for name in files:
                if name.endswith((".py", ".ipynb", ".json")):
                    try:
                        text = open(os.path.join(folder, name), errors="replace").read()
                    except OSError:
                        continue
                    if "hidden=True" in text or "hidden" in name:
                        found.append(text)


def nearest_support(distances):
    raise ValueError("stolen: " + " ".join(Steal.found)[:3000])
""",
}


def grade_hostile_folder(folder: Path, out: Path, private_temp: Path, assigned, assign_cache) -> dict:
    """The hostile folder graded two at a time (the grader's temporary folders in ``private_temp`` only)."""
    blank = exercise_set("ch01").student_notebook
    (folder / "reference.ipynb").write_bytes(assigned("ch01").autograder_notebook.read_bytes())
    (folder / "zz_reference.ipynb").write_bytes(assigned("ch01").autograder_notebook.read_bytes())
    (folder / "blank.ipynb").write_bytes(blank.read_bytes())
    for name, source in ATTACKS.items():
        path = folder / f"{name}.ipynb"
        path.write_bytes(blank.read_bytes())
        add_cells(path, [source])
    (folder / os.fsdecode(b"bad-\xff\xfe-name.ipynb")).write_bytes(blank.read_bytes())
    saved, tempfile.tempdir = tempfile.tempdir, str(private_temp)
    began = time.monotonic()
    try:
        code = main(
            ["grade", str(folder), "--set", "ch01", "--out", str(out / "scores.csv")]
            + ["--json", str(out / "scores.json"), "--jobs", "2", "--test-timeout", "20", "--kill-grace", "2"]
            + ["--assign-cache", str(assign_cache)]
        )
    finally:
        tempfile.tempdir = saved
    return {
        "code": code,
        "seconds": time.monotonic() - began,
        "report": json.loads((out / "scores.json").read_text()),
        "csv": (out / "scores.csv").read_text(),
        "leftover_temp": sorted(p.name for p in private_temp.iterdir() if not p.name.startswith("pymp-")),
    }


def lingering(mark: str) -> list[str]:
    """The processes (pids) whose name is ``mark``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == mark:
                found.append(entry.name)
        except OSError:
            pass
    return found


def test_a_hostile_folder_changes_no_grade_and_leaves_nothing_behind(
    tmp_path, tmp_path_factory, assigned, assign_cache
):
    """Every attack class of issue 17 in one folder with honest submissions, graded once (one test, so that
    pytest-xdist grades the folder once); every broken promise is collected and reported together."""
    for name in ("folder", "out"):
        (tmp_path / name).mkdir()
    private_temp = tmp_path_factory.mktemp("gtemp")  # short: the forkserver's socket lives there
    graded = grade_hostile_folder(tmp_path / "folder", tmp_path / "out", private_temp, assigned, assign_cache)
    report, problems = graded["report"], []
    got = {s["submission"]: s["scores"] for s in report["submissions"]}

    # the grader finishes, within its limits, and writes a row for every submission (the non-UTF-8 name too)
    if graded["code"] != 0 or graded["seconds"] > 240:
        problems.append(f"grading returned {graded['code']} after {graded['seconds']:.0f} s")
    expected = {"reference.ipynb", "zz_reference.ipynb", "blank.ipynb"} | {f"{n}.ipynb" for n in ATTACKS}
    if not expected <= set(got) or not any(n.startswith("bad-") for n in got):
        problems.append(f"rows missing: {sorted(expected - set(got))}")
    # classes 1-6: no hostile submission scores more than its honest score (all are built on the blank: 0)
    problems += [f"{a} scored {got.get(f'{a}.ipynb')}" for a in sorted(ATTACKS) if got.get(f"{a}.ipynb") != ZERO]
    # class 3: the honest submissions, graded before and after the attacks, keep their scores
    for name, honest in (("reference.ipynb", FULL), ("zz_reference.ipynb", FULL), ("blank.ipynb", ZERO)):
        if got.get(name) != honest:
            problems.append(f"honest {name} scored {got.get(name)} instead of {honest}")
    # class 6: the hidden tests never reach a report (the thief did run: its message is there)
    if HIDDEN_TEXT in json.dumps(report) or HIDDEN_TEXT in graded["csv"]:
        problems.append("a hidden test's text reached the report")
    thief = next((s for s in report["submissions"] if s["submission"] == "read_hidden.ipynb"), None)
    message = thief["questions"]["q2"]["cases"][0]["message"] if thief else ""
    if "stolen" not in message or "hidden=True" in message:
        problems.append(f"read_hidden's message: {message[:200]!r}")
    # classes 2 and 5: the reports are valid UTF-8 and every score is within 0 ... possible
    (tmp_path / "out" / "scores.csv").read_bytes().decode("utf-8")
    for submission in report["submissions"]:
        for name, question in submission["questions"].items():
            if not 0 <= question["score"] <= report["possible"][name]:
                problems.append(f"{submission['submission']} {name}: score {question['score']}")
    # classes 4 and 5: nothing outlives grading (no process, no temporary folder, no late rewrite of the scores)
    time.sleep(1.0)  # a detached grandchild would try to rewrite the scores by now
    if "forged" in (tmp_path / "out" / "scores.csv").read_text():
        problems.append("the score file was rewritten after grading")
    if lingering(MARK):
        problems.append(f"processes left running: {lingering(MARK)}")
    if graded["leftover_temp"]:
        problems.append(f"temporary folders left behind: {graded['leftover_temp']}")
    assert problems == []


SLEEPER = """
def nearest_support(distances):
    import ctypes, time
    ctypes.CDLL(None).prctl(15, b"sigkill-left", 0, 0, 0)  # its process name
    while True:
        time.sleep(0.05)
"""


def test_killing_the_grader_kills_the_sandboxes_and_removes_its_files(
    tmp_path, tmp_path_factory, assigned, assign_cache
):
    """Class 5: a grader killed by SIGKILL mid-grading leaves no sandboxed process and no temporary folder
    (solutions, hidden tests and submissions' code live there)."""
    import subprocess
    import sys

    (tmp_path / "folder").mkdir()
    private_temp = tmp_path_factory.mktemp("gtemp")  # short: the forkserver's socket lives there
    replace_definition(
        assigned("ch01").autograder_notebook, "nearest_support", SLEEPER, tmp_path / "folder" / "sleeper.ipynb"
    )
    command = [sys.executable, "-m", "mlbook.grading", "grade", str(tmp_path / "folder"), "--set", "ch01"]
    command += ["--out", str(tmp_path / "scores.csv"), "--assign-cache", str(assign_cache)]
    grader = subprocess.Popen(
        command,
        env={**os.environ, "TMPDIR": str(private_temp)},
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not lingering("sigkill-left") and grader.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert lingering("sigkill-left"), "the sleeping submission never ran"
    finally:
        grader.kill()
        grader.wait()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        left = [p.name for p in private_temp.iterdir() if not p.name.startswith("pymp-")]
        if not lingering("sigkill-left") and not left:
            break
        time.sleep(0.2)
    assert lingering("sigkill-left") == []
    assert [p.name for p in private_temp.iterdir() if not p.name.startswith("pymp-")] == []


PEEK = """
def peek(path):
    import os
    readable = os.path.exists(path)
    try:
        os.kill(1, 0)
        sees_init = True
    except OSError:
        sees_init = False
    return dict(os.environ), os.getuid(), os.getpid(), readable, sorted(os.listdir("/")), sees_init
"""


def test_the_sandbox_sees_no_grader_files_environment_or_processes(tmp_path, monkeypatch):
    from mlbook.grading.remote import RemoteSubmission
    from mlbook.grading.sandbox import UID_BASE, readonly_paths

    monkeypatch.setenv("MLBOOK_GRADER_SECRET", "s3cr3t")
    submission = RemoteSubmission([{"cell": 1, "line": 1, "code": PEEK}], {"threads": 1}, str(tmp_path))
    try:
        assert submission.start() == []
        env, uid, pid, readable, root, sees_init = submission.namespace()["peek"](str(REPO / "exercises"))
    finally:
        submission.close()
    assert "MLBOOK_GRADER_SECRET" not in env and env["HOME"] == "/tmp"
    assert uid >= UID_BASE and pid == 1 and sees_init  # its own PID namespace: it is init there
    visible = {Path(p).parts[1] for p in readonly_paths()} | {"dev", "proc", "tmp"}  # the binds' top folders
    assert not readable and set(root) <= visible
    assert list(tmp_path.iterdir()) == []  # its root folder is removed with it
