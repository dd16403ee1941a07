"""Shared by the chapter 5 benchmark scripts: the hardware record, provenance and JSON writing."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path

import torch

from mlbook.results import cpu_name, finish_provenance, make_provenance

RESULTS = Path(__file__).resolve().parent / "results"


def other_cores_busy(seconds: float = 2.0) -> float | None:
    """How many cores other processes kept busy while this one slept for ``seconds`` (from /proc/stat; None
    where that is not available). The load average would also count the tail of whatever ran a minute ago."""

    def snapshot() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields[:8]) - idle, sum(fields[:8])

    try:
        busy0, total0 = snapshot()
        time.sleep(seconds)
        busy1, total1 = snapshot()
    except (OSError, ValueError, IndexError):
        return None
    return (busy1 - busy0) / max(total1 - total0, 1) * (os.cpu_count() or 1)


_PROVENANCE: dict = {}


def environment(threads: int) -> dict:
    """The run's record: provenance (command, date, commit, source fingerprints; see ``mlbook.results``),
    hardware, and how busy the machine was. Call it after the script's imports, before any work."""
    _PROVENANCE.update(make_provenance(sys.argv[0]))
    busy = other_cores_busy()
    if busy is None:
        note = "whether other jobs shared the CPU is unknown: ratios measured within one run are the meaningful numbers"
    elif busy > 0.2:
        note = (f"other jobs kept {busy:.1f} cores busy just before this ran: absolute timings are inflated, ratios "
                "measured within one run are the meaningful numbers")
    else:
        note = (f"the machine was quiet just before this ran ({busy:.2f} cores busy); ratios measured within one run "
                "are still the meaningful numbers (other tenants of a virtual machine are invisible here)")
    return {
        "command": _PROVENANCE["command"],
        "platform": platform.platform(),
        "cpu": cpu_name(),
        "cpu_count": os.cpu_count(),
        "torch_threads": threads,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "load_average_at_start": list(os.getloadavg()),
        "other_cores_busy_at_start": busy,
        "note": note,
    }


def write_json(name: str, payload: dict) -> Path:
    """Write ``payload`` with its finished provenance to ``benchmarks/results/name``."""
    if not _PROVENANCE:
        raise RuntimeError("call environment() at the start of the run: a result needs its provenance")
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / name
    path.write_text(json.dumps({"provenance": finish_provenance(_PROVENANCE), **payload}, indent=1) + "\n")
    return path
