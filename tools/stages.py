"""Run the test stages one after another, print each one's wall time, fail if any failed.

Usage: python tools/stages.py "name=command" ["name=command" ...]
Every stage runs even after a failure, so one run reports everything that is broken.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import time


def main(stages: list[str]) -> int:
    results = []
    for spec in stages:
        name, _, command = spec.partition("=")
        print(f"\n=== {name}: {command}", flush=True)
        began = time.perf_counter()
        code = subprocess.call(shlex.split(command))
        results.append((name, code, time.perf_counter() - began))
    print("\n=== stage wall times")
    for name, code, seconds in results:
        print(f"{name:<24} {'ok' if code == 0 else f'FAILED ({code})':<12} {seconds:7.1f} s")
    print(f"{'total':<24} {'':<12} {sum(r[2] for r in results):7.1f} s")
    return 0 if all(code == 0 for _, code, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
