"""The grading worker: one trusted process per submission that runs the tests question after question.

Started by :mod:`mlbook.grading.grade` (forked from its forkserver, or ``python -m mlbook.grading.worker
SPEC.json``). Before it reads anything else it forks a clean *zygote* (:class:`mlbook.grading.remote.Zygote`);
the submission's code then runs only in sandboxes forked from that zygote (:mod:`mlbook.grading.sandbox`),
never in this process. The tests run here against proxies of the submission's functions
(:mod:`mlbook.grading.remote`), each test case under a time limit and an output cap; the worker appends one
JSON line per event (``loaded``, then ``start`` and ``result`` per question) to the results file named in the
spec, which lives in a directory the sandbox cannot see. A question during which the sandbox timed out or died
scores 0 with the reason; the next question gets a fresh sandbox.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

from mlbook.grading.host import load_definitions
from mlbook.grading.runner import MESSAGE_LIMIT, QuestionResult, run_test_file
from mlbook.grading.sandbox import Limits

__all__ = ["load_definitions", "main", "run_forked"]


def main(spec_path: str) -> int:
    from mlbook.grading.remote import RemoteSubmission, SubmissionCrashed, Zygote
    from mlbook.grading.sandbox import die_with_parent

    die_with_parent()  # the grader (or its forkserver) died: so do this worker and, in turn, its sandboxes
    zygote = Zygote()  # first: forked before any test or spec is read
    spec = json.loads(Path(spec_path).read_text())
    threads = int(spec.get("threads", 1))
    import torch

    torch.set_num_threads(threads)
    if spec.get("cwd"):
        os.chdir(spec["cwd"])
    results = open(spec["results"], "a", encoding="utf-8")  # noqa: SIM115 - kept open for the whole run

    def emit(event: dict) -> None:
        results.write(json.dumps(event) + "\n")
        results.flush()

    options = {k: spec.get(k) for k in ("load_timeout", "output_limit", "threads")}
    submission = RemoteSubmission(
        spec["chunks"],
        options,
        spec["cwd"],
        isolate=spec.get("isolate", True),
        limits=Limits(**spec.get("limits", {})),
        zygote=zygote,
    )
    try:
        try:
            errors = submission.start()
        except SubmissionCrashed as error:
            emit({"event": "loaded", "errors": [str(error)]})
            for question in spec["questions"]:
                result = QuestionResult.zero(question, spec["possible"][question], f"loading the submission: {error}")
                emit({"event": "result", "question": question, "result": result.to_dict()})
            return 0
        emit({"event": "loaded", "errors": errors})
        env = submission.namespace()
        for question in spec["questions"]:
            emit({"event": "start", "question": question})
            emit({"event": "result", "question": question, "result": _run_question(spec, question, env, submission)})
    finally:
        submission.close()
        results.close()
    return 0


def _run_question(spec: dict, question: str, env: dict, submission) -> dict:
    incidents = len(submission.incidents)
    try:
        result = run_test_file(
            spec["tests"][question], env, test_timeout=spec.get("test_timeout"), output_limit=spec.get("output_limit")
        )
    except Exception:  # noqa: BLE001 - a broken test file must not stop the other questions
        return QuestionResult.zero(
            question,
            spec["possible"][question],
            "the test file could not run: " + traceback.format_exc()[-MESSAGE_LIMIT:],
        ).to_dict()
    if len(submission.incidents) > incidents:  # a timeout or a crash costs the whole question, as it did in-process
        result.score, result.error = 0.0, submission.incidents[incidents]
    return result.to_dict()


def _let_the_forkserver_die_with_the_grader() -> None:
    """Close this process's copy of the forkserver's "a client is alive" pipe: the forkserver then exits as
    soon as the grader does (even by SIGKILL), and this worker with it (its parent-death signal)."""
    from multiprocessing import forkserver

    alive = getattr(forkserver._forkserver, "_forkserver_alive_fd", None)
    if alive is not None:
        os.close(alive)
        forkserver._forkserver._forkserver_alive_fd = None


def run_forked(spec_path: str) -> None:
    """Entry point of a worker forked from the grader's forkserver: own session (so the parent can kill the
    whole group), no terminal, matplotlib without a display; never returns."""
    code = 1
    try:
        _let_the_forkserver_die_with_the_grader()
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        sys.stdin = open(os.devnull)  # noqa: SIM115
        sys.stdout = sys.stderr = open(os.devnull, "w")  # noqa: SIM115
        os.environ["MPLBACKEND"] = "Agg"
        code = main(spec_path)
    finally:
        os._exit(code)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
