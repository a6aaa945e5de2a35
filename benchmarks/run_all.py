"""`make bench`: run every benchmarks/bench_*.py, print their tables, write benchmarks/results.md.

Each benchmark runs in its own process and prints its measurements and each target with
PASS/MISS. results.md records them with the machine's cores, Python and package versions.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGES = ("purlsim", "simpy", "numpy", "pandas", "pyarrow", "ciw", "distributed", "matplotlib")


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def main() -> int:
    """Run the benchmarks one after another and write results.md."""
    only = set(sys.argv[1:])
    scripts = sorted(p for p in HERE.glob("bench_*.py") if not only or p.stem in only)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines = [
        "# Benchmark results",
        "",
        f"Measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {cores} cores, "
        f"{platform.machine()}, Python {platform.python_version()}; "
        + ", ".join(f"{p} {_version(p)}" for p in PACKAGES)
        + ".",
        "",
        "Each benchmark prints its measurements and every target as PASS or MISS. Times are wall",
        "clock; competing load on the machine slows every model in a benchmark alike, so the",
        "ratios are the figures to read.",
        "",
    ]
    status = 0
    for script in scripts:
        print(f"== {script.stem}", flush=True)
        t = time.perf_counter()
        proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True)
        took = time.perf_counter() - t
        text = proc.stdout.rstrip()
        print(text)
        if proc.returncode != 0:
            print(proc.stderr[-3000:])
            status = 1
            text += f"\n(failed with exit code {proc.returncode})"
        lines += [f"## {script.stem} ({took:.0f} s)", "", "```", text, "```", ""]
    (HERE / "results.md").write_text("\n".join(lines))
    print(f"wrote {HERE / 'results.md'}")
    return status


if __name__ == "__main__":
    sys.exit(main())
