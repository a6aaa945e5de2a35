"""Benchmark: rendering the HTML report of 3 scenarios x 1,000 replications against simulating them.

The report must cost a small fraction of the simulation (target: at most 25%). Both are timed
in this one process: the simulation in-process (no worker pool, so its CPU time is all here) and
the rendering (summaries, the compare table, every plot as PNG, the HTML, the atomic write).
The verdict uses CPU time, which other load on the machine does not inflate; wall-clock times
are printed beside it. With a worker pool the simulation's wall time shrinks by up to the number
of cores while rendering stays single-threaded, so on 2 cores the wall ratio is up to twice this.

    .venv/bin/python benchmarks/bench_report.py [--reps 1000] [SCENARIO ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402
from sim.report import write_report  # noqa: E402

DEFAULT = ["baseline_2025.yaml", "factory_only.yaml", "stockpile_first.yaml"]  # as `make run` reports them
TARGET = 0.25


def timed(fn):
    """(result, cpu seconds, wall seconds) of fn()."""
    c, w = time.process_time(), time.perf_counter()
    out = fn()
    return out, time.process_time() - c, time.perf_counter() - w


def main() -> int:
    """Time the simulation and the report, print both, the ratio and the verdict."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenarios", nargs="*", default=[str(ROOT / "scenarios" / n) for n in DEFAULT])
    parser.add_argument("--reps", type=int, default=1000)  # #17: judged at 1,000 replications
    args = parser.parse_args()

    scenarios = [sim.load_scenario(p) for p in args.scenarios]
    seed = scenarios[0].seed
    sim.run(scenarios[0], reps=1, seed=seed)  # warm imports and caches before timing
    results, sim_cpu, sim_wall = timed(lambda: [sim.run(sc, reps=args.reps, seed=seed) for sc in scenarios])
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "report.html"
        _, rep_cpu, rep_wall = timed(lambda: write_report(results, out, args.scenarios))
        size = out.stat().st_size

    ratio = rep_cpu / sim_cpu
    print(f"scenarios: {', '.join(sc.name for sc in scenarios)}; {args.reps} replications each, seed {seed}")
    print(f"simulation: {sim_cpu:7.2f} s CPU  {sim_wall:7.2f} s wall (in-process)")
    print(f"report:     {rep_cpu:7.2f} s CPU  {rep_wall:7.2f} s wall ({size / 1024:,.0f} KiB of HTML)")
    print(f"ratio report/simulation: {ratio:.3f} CPU, {rep_wall / sim_wall:.3f} wall")
    verdict = "PASS" if ratio <= TARGET else "MISS"
    print(
        f"{verdict}: the report costs {ratio:.0%} of the simulation (target: at most {TARGET:.0%}, 'a small fraction')"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
