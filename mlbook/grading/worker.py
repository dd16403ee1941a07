"""The grading worker: one subprocess that loads one submission's definitions and runs question after question.

It is started by :mod:`mlbook.grading.grade` as ``python -m mlbook.grading.worker SPEC.json`` and appends one
JSON line per event to the results file named in the spec (``loaded``, then ``start`` and ``result`` per
question), flushing after each, so the parent knows which question was running if the worker has to be
killed (a loop that ignores the per-test alarm, a hang inside C code) or dies (``os._exit``, a crash).
Its own stdout and stderr go nowhere; what tests print is capped by :func:`mlbook.grading.runner.run_test_file`.
"""

from __future__ import annotations

import builtins
import json
import os
import sys
import traceback
from pathlib import Path

from mlbook.grading.runner import MESSAGE_LIMIT, capped_output, run_test_file, time_limit


def load_definitions(chunks: list[dict], timeout: float | None, output_limit: int | None) -> tuple[dict, list[str]]:
    """Execute the kept statements one by one in a fresh namespace; a failing one is noted and skipped."""
    env: dict = {"__name__": "__submission__", "__builtins__": builtins}
    errors = []
    for chunk in chunks:
        code = "\n" * (chunk["line"] - 1) + chunk["code"]
        try:
            with capped_output(output_limit), time_limit(timeout):
                exec(compile(code, f"<submission code cell {chunk['cell']}>", "exec"), env)  # noqa: S102 - grading runs submissions
        except KeyboardInterrupt:
            raise
        except BaseException as error:  # noqa: BLE001
            first_line = chunk["code"].strip().splitlines()[0] if chunk["code"].strip() else ""
            errors.append(
                f"code cell {chunk['cell']}: `{first_line[:80]}` raised {type(error).__name__}: {str(error)[:300]}"
            )
    return env, errors


def main(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    threads = int(spec.get("threads", 1))
    try:
        import torch

        torch.set_num_threads(threads)
    except ImportError:  # pragma: no cover - torch is a dependency of mlbook
        pass
    if spec.get("cwd"):
        os.chdir(spec["cwd"])
    results = open(spec["results"], "a", encoding="utf-8")  # noqa: SIM115 - kept open for the whole run

    def emit(event: dict) -> None:
        results.write(json.dumps(event) + "\n")
        results.flush()
        os.fsync(results.fileno())

    env, errors = load_definitions(spec["chunks"], spec.get("load_timeout"), spec.get("output_limit"))
    emit({"event": "loaded", "errors": errors})
    for question in spec["questions"]:
        emit({"event": "start", "question": question})
        try:
            result = run_test_file(
                spec["tests"][question],
                env,
                test_timeout=spec.get("test_timeout"),
                output_limit=spec.get("output_limit"),
                on_case=lambda index, q=question: emit({"event": "case", "question": q, "index": index}),
            ).to_dict()
        except Exception:  # noqa: BLE001 - a broken test file must not stop the other questions
            result = {
                "question": question,
                "score": 0.0,
                "possible": spec["possible"][question],
                "cases": [],
                "error": "the test file could not run: " + traceback.format_exc()[-MESSAGE_LIMIT:],
            }
        emit({"event": "result", "question": question, "result": result})
    results.close()
    return 0


def run_forked(spec_path: str) -> None:
    """Entry point of a worker forked from the grader's forkserver: own session (so the parent can kill the
    whole group), no terminal, matplotlib without a display; never returns."""
    code = 1
    try:
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
