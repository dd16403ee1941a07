"""Count how the package answers the bad-input suite: clear, unclear or silent (see tests/bad_input/harness.py).

    python tools/bad_input_report.py            # counts, and every row that is not clear
    python tools/bad_input_report.py --all      # every row with what happened

Run from the repository root. To count an older version of the package against today's tables, put that
version first on the path: ``PYTHONPATH=/path/to/old/checkout python tools/bad_input_report.py``.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections import Counter
from pathlib import Path

sys.path.append(str(Path(__file__).resolve().parents[1]))  # tests/ of this checkout, after any PYTHONPATH


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="print every row, not only those that are not clear")
    args = parser.parse_args()
    import mlbook
    from tests.bad_input.harness import classify
    from tests.bad_input.tables import all_rows

    rows = all_rows()
    verdicts = Counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for row in rows:
            verdict, detail = classify(row)
            verdicts[verdict] += 1
            if args.all or verdict != "clear":
                print(f"{verdict:8s} {row.id}: {detail[:200]}")
    counts = ", ".join(f"{verdicts[v]} {v}" for v in ("clear", "unclear", "silent"))
    print(f"\nmlbook from {Path(mlbook.__file__).parent}")
    print(f"{len(rows)} bad inputs against {len({r.entry for r in rows})} entry points: {counts}")


if __name__ == "__main__":
    main()
