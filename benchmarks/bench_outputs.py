"""Benchmark: what the PNG plots cost of a whole `purlsim run SCENARIO --reps 100 --out DIR` process.

    .venv/bin/python benchmarks/bench_outputs.py [--reps 100] [--rounds 5] [--scenario scenarios/baseline_2025.yaml]

Each round runs the command twice as a user would (a fresh process, default workers), with its
plots and with --no-plots, in turns (which goes first alternates); a round's plot share is
1 - (time without plots) / (time with plots), and the verdict is the median over rounds, so a slow
spell of a shared machine moves both runs of a round alike. Target: at most 30%. Also prints what
--csv adds, in time and in bytes beside the Parquet tables.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET = 0.30


def timed_run(scenario: str, reps: int, out: Path, *extra: str, tree: Path = REPO) -> float:
    """Wall seconds of one `purlsim run ... --out out` in a fresh process (run from outside the tree)."""
    argv = [sys.executable, "-m", "sim.cli", "run", scenario, "--reps", str(reps), "--out", str(out), "--force", "-q"]
    env = dict(os.environ, PYTHONPATH=str(tree))
    t = time.perf_counter()
    subprocess.run([*argv, *extra], check=True, stdout=subprocess.DEVNULL, env=env, cwd=out.parent)
    return time.perf_counter() - t


def main() -> int:
    """Time the paired rounds and print the plot share, the CSV cost and the verdict."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scenario", default=str(REPO / "scenarios" / "baseline_2025.yaml"))
    ap.add_argument("--reps", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-csv", action="store_true", help="skip the --csv runs (a tree from before --csv)")
    ap.add_argument("--tree", type=Path, default=REPO, help="the purlsim source tree to run (default: this one)")
    args = ap.parse_args()
    print(f"{Path(args.scenario).name}, {args.reps} replications, load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out"
        timed_run(args.scenario, args.reps, out, tree=args.tree)  # warm the file cache and compiled modules
        times: dict[str, list[float]] = {"plots": [], "no plots": [], "csv": []}
        for k in range(args.rounds):
            cases = [("plots", ()), ("no plots", ("--no-plots",)), ("csv", ("--no-plots", "--csv"))]
            cases = cases[:2] if args.no_csv else cases
            for name, extra in cases[:: 1 if k % 2 == 0 else -1]:
                times[name].append(timed_run(args.scenario, args.reps, out, *extra, tree=args.tree))
        parquet = sum(f.stat().st_size for f in out.glob("*.parquet"))
        csv = sum(f.stat().st_size for f in out.glob("*.csv"))
    share = statistics.median(1 - n / p for n, p in zip(times["no plots"], times["plots"]))
    if not args.no_csv:
        csv_cost = statistics.median(c / n - 1 for c, n in zip(times["csv"], times["no plots"]))
        print(
            f"--csv adds {csv_cost:.0%} to the run without plots; {csv / 1e6:.1f} MB of CSV beside {parquet / 1e6:.1f} MB of Parquet"
        )
    for name, ts in times.items():
        if ts:
            print(
                f"run --out, {name:8s}: median {statistics.median(ts):5.2f} s  (rounds: {', '.join(f'{t:.2f}' for t in ts)})"
            )
    verdict = "PASS" if share <= TARGET else "MISS"
    print(
        f"{verdict}: plots are {share:.0%} of the whole run --out process at {args.reps} replications "
        f"(median of {args.rounds} paired rounds; target at most {TARGET:.0%})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
