"""Benchmark: a Sobol study of 8 uncertain inputs on baseline_2025 (N = 256, 10 replications a point).

    .venv/bin/python benchmarks/bench_sensitivity.py [--n 256] [--reps 10] [--no-dask]

N (k + 2) = 2,560 design points x 10 replications = 25,600 replications of baseline_2025, the
PAC-3 restricted mean time to delivery per replication, on two local worker processes and then
on a Dask LocalCluster of two single-threaded workers with the same numbers (the indices must be
identical: common random numbers do not depend on the executor). Target: each within 5 minutes
on 2 cores; prints PASS or MISS. Not a timed test: competing load on the machine slows it, so it
also prints replications per second and the CPU time of this process (building 2,560 scenarios,
gathering values), the per-evaluation overhead that is not the simulation's.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from sim.executors import dask_executor, process_pool
from sim.experiments.sensitivity import sensitivity

REPO = Path(__file__).resolve().parent.parent
TARGET_S = 300.0


def study(executor, n: int, reps: int):
    cpu, t = time.process_time(), time.perf_counter()
    df = sensitivity(REPO / "scenarios" / "baseline_2025.yaml", "sobol", n, reps, group="pac3_mse", executor=executor)
    return df, time.perf_counter() - t, time.process_time() - cpu


def report(name: str, df, wall: float, cpu: float, reps_total: int) -> bool:
    ok = wall <= TARGET_S
    print(
        f"{name}: {wall:6.1f} s wall ({reps_total / wall:5.1f} replications/s), main process CPU {cpu:5.1f} s; "
        f"target <= {TARGET_S:.0f} s: {'PASS' if ok else 'MISS'}"
    )
    top = ", ".join(f"{r.input} ST {r.ST:.2f} ({r.ST_lo:.2f}-{r.ST_hi:.2f})" for r in df.head(3).itertuples())
    print(f"  three inputs that matter most for PAC-3: {top}")
    return ok


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=256)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args()
    total = args.n * (8 + 2) * args.reps
    print(f"Sobol, 8 inputs, N = {args.n}: {args.n * 10} points x {args.reps} replications = {total} replications")
    with process_pool(2) as pool:
        local, wall, cpu = study(pool, args.n, args.reps)
    report("local pool (2 processes)", local, wall, cpu, total)
    if not args.no_dask:
        with dask_executor("local", 2) as dex:
            dask, wall, cpu = study(dex, args.n, args.reps)
        report("Dask LocalCluster (2 workers)", dask, wall, cpu, total)
        same = np.allclose(local[["S1", "ST"]].to_numpy(), dask[["S1", "ST"]].to_numpy(), equal_nan=True)
        print(f"  same indices on both executors: {'PASS' if same else 'MISS'}")


if __name__ == "__main__":
    main()
