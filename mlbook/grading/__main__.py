"""Command line: ``python -m mlbook.grading {grade,assign,autograder,mutants,list} ...`` (see ``--help``)."""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from mlbook.grading import assign as assign_mod
from mlbook.grading.grade import (
    DEFAULT_LOAD_TIMEOUT,
    DEFAULT_OUTPUT_LIMIT,
    DEFAULT_TEST_TIMEOUT,
    KILL_GRACE,
    GradingOptions,
    TestSuite,
    grade_folder,
    grade_with_otter_run,
    remove_at_exit,
    require_sandbox,
    write_scores,
)
from mlbook.grading.sandbox import SandboxUnavailable
from mlbook.grading.sets import get_set, list_sets


def _assigned(args) -> assign_mod.Assigned:
    """Autograder files from ``--source`` (a private master notebook) or from the set's committed source."""
    if not args.set and not args.source:
        raise SystemExit("give --set NAME (e.g. --set ch01) or --source MASTER.ipynb")
    if args.source:
        source = Path(args.source)
        folder = Path(tempfile.mkdtemp(prefix="mlbook-assign-"))
        remove_at_exit(folder)  # hidden tests and solutions: gone even if the grader is killed
        return assign_mod.run_otter_assign(source, folder)
    cache = getattr(args, "assign_cache", None)
    assigned = assign_mod.build(get_set(args.set, args.exercises), cache)
    if not cache:
        remove_at_exit(assigned.root)
    return assigned


def cmd_grade(args) -> int:
    if args.engine == "otter" and not args.unsafe_no_sandbox:
        print(
            "error: --engine otter runs each submission unconfined, in the same process as the hidden tests; "
            "pass --unsafe-no-sandbox to use it anyway (only for submissions you trust)",
            file=sys.stderr,
        )
        return 2
    if args.engine == "worker":
        try:
            require_sandbox(GradingOptions(isolate=not args.unsafe_no_sandbox))
        except SandboxUnavailable as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
    assigned = _assigned(args)
    suite = TestSuite.from_directory(assigned.autograder_tests)
    options = GradingOptions(
        test_timeout=args.test_timeout or None,
        output_limit=args.output_limit or None,
        load_timeout=args.load_timeout or None,
        threads=args.threads,
        notebook_name=assigned.notebook_name,
        kill_grace=args.kill_grace,
        start_method=args.start_method,
        isolate=not args.unsafe_no_sandbox,
    )
    if args.unsafe_no_sandbox:
        print(
            "WARNING: --unsafe-no-sandbox: submissions run WITHOUT the OS sandbox; a hostile one can read the hidden "
            "tests, change other grades and outlive grading. Use only for submissions you trust.",
            file=sys.stderr,
        )
    if args.engine == "otter":

        def grade(path):
            return grade_with_otter_run(path, assigned.autograder_zip, suite, timeout=args.submission_timeout)

    else:
        grade = None
    try:
        results = grade_folder(args.submissions, suite, options, jobs=args.jobs, grade=grade)
    finally:
        if args.source or not args.assign_cache:  # a temporary directory, not the cache
            shutil.rmtree(assigned.root, ignore_errors=True)
    csv_path = args.out if args.out and not str(args.out).endswith(".json") else None
    json_path = args.json or (args.out if args.out and str(args.out).endswith(".json") else None)
    write_scores(results, suite, csv_path, json_path)
    width = max([len(r.submission) for r in results] + [10])
    print(f"\n{'submission':<{width}} " + " ".join(f"{q:>6}" for q in suite.questions) + "   total")
    print(
        f"{'(possible)':<{width}} "
        + " ".join(f"{suite.possible[q]:>6g}" for q in suite.questions)
        + f"  {suite.total_possible:>6g}"
    )
    for r in results:
        scores = " ".join(f"{r.questions[q].score:>6.3g}" for q in suite.questions)
        print(f"{r.submission:<{width}} {scores}  {r.total:>6.3g}")
    for path in (csv_path, json_path):
        if path:
            print(f"wrote {path}")
    return 0


def cmd_assign(args) -> int:
    sets = [get_set(name, args.exercises) for name in args.set] if args.set else list_sets(args.exercises)
    stale = []
    for exercise_set in sets:
        assigned = assign_mod.build(exercise_set)
        try:
            if args.check:
                problems = assign_mod.stale_student_files(exercise_set, assigned)
                stale += problems
                print(f"{exercise_set.name}: " + ("up to date" if not problems else "\n  ".join(["STALE", *problems])))
            else:
                for path in assign_mod.write_student_files(exercise_set, assigned):
                    print(f"wrote {path}")
        finally:
            shutil.rmtree(assigned.root, ignore_errors=True)
    if stale:
        print("regenerate with: python -m mlbook.grading assign", file=sys.stderr)
    return 1 if stale else 0


def cmd_autograder(args) -> int:
    assigned = _assigned(args)
    out = Path(args.out)
    if out.exists():
        shutil.rmtree(out)
    zip_name = assigned.autograder_zip.name
    shutil.copytree(assigned.root / "autograder", out)
    shutil.rmtree(assigned.root, ignore_errors=True)
    print(f"wrote {out} (hidden tests included: keep it away from students); otter run -a {out / zip_name} SUBMISSION")
    return 0


def cmd_mutants(args) -> int:
    from mlbook.grading import mutants

    assigned = _assigned(args)
    try:
        outcomes = mutants.mutation_report(args.mutants, assigned.autograder_notebook, assigned.autograder_tests)
    finally:
        shutil.rmtree(assigned.root, ignore_errors=True)
    print(mutants.format_report(outcomes))
    if args.json:
        mutants.write_report(outcomes, args.json)
    return 0 if all(o.caught for o in outcomes) else 1


def cmd_list(args) -> int:
    for exercise_set in list_sets(args.exercises):
        print(f"{exercise_set.name}: {exercise_set.student_notebook} (source {exercise_set.source})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mlbook.grading", description=__doc__)
    parser.add_argument("--exercises", help="the exercises/ directory (default: found from the working directory)")
    sub = parser.add_subparsers(dest="command", required=True)

    def add_set(p):
        p.add_argument("--set", help="exercise set, e.g. ch01")
        p.add_argument("--source", help="a master notebook to use instead of the set's (e.g. from a private fork)")

    g = sub.add_parser("grade", help="grade a folder of submissions (.ipynb or otter export .zip) into a score table")
    g.add_argument("submissions", help="a folder (searched recursively) or one submission file")
    add_set(g)
    g.add_argument("--out", help="CSV score table (or JSON when the name ends in .json)")
    g.add_argument("--json", help="JSON report with every test case's result")
    g.add_argument(
        "--engine",
        choices=["worker", "otter"],
        default="worker",
        help="worker: sandboxed, per-question isolation (default); otter: otter run (unconfined)",
    )
    g.add_argument("--jobs", type=int, default=1, help="submissions graded at once")
    g.add_argument("--threads", type=int, default=1, help="torch threads per worker")
    g.add_argument("--test-timeout", type=float, default=DEFAULT_TEST_TIMEOUT, help="seconds per test case (0: none)")
    g.add_argument(
        "--load-timeout", type=float, default=DEFAULT_LOAD_TIMEOUT, help="seconds to load a submission's definitions"
    )
    g.add_argument("--output-limit", type=int, default=DEFAULT_OUTPUT_LIMIT, help="characters a question may print")
    g.add_argument(
        "--kill-grace", type=float, default=KILL_GRACE, help="seconds past a test's limit before its worker is killed"
    )
    g.add_argument(
        "--start-method",
        choices=["forkserver", "subprocess"],
        default=GradingOptions().start_method,
        help="forkserver: workers fork from one process that imported torch (fast); subprocess: fresh interpreters",
    )
    g.add_argument(
        "--unsafe-no-sandbox",
        action="store_true",
        help="grade without the OS sandbox (where it is unavailable); only for submissions you trust",
    )
    g.add_argument("--assign-cache", help="reuse otter assign's output from this folder while the master is unchanged")
    g.add_argument("--submission-timeout", type=float, default=600.0, help="otter engine: seconds per submission")
    g.set_defaults(func=cmd_grade)

    a = sub.add_parser("assign", help="regenerate the committed student files from the master notebooks")
    a.add_argument("--set", action="append", help="set name (repeatable; default: every set)")
    a.add_argument("--check", action="store_true", help="only report stale student files (exit 1 if any)")
    a.set_defaults(func=cmd_assign)

    o = sub.add_parser("autograder", help="write otter's autograder directory (hidden tests, zip for otter run)")
    add_set(o)
    o.add_argument("--out", required=True)
    o.set_defaults(func=cmd_autograder)

    m = sub.add_parser("mutants", help="mutation score of a set's tests against a folder of wrong implementations")
    m.add_argument("mutants", help="folder of q<N>_<bug>.py files")
    add_set(m)
    m.add_argument("--json", help="write the report as JSON")
    m.set_defaults(func=cmd_mutants)

    s = sub.add_parser("list", help="list the exercise sets")
    s.set_defaults(func=cmd_list)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
