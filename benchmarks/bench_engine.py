"""Engine overhead: the same M/M/3 queue (utilisation 0.9, 200,000 arrivals) three ways, side by side.

1. purlsim: benchmarks/scenarios/mm3.yaml through the full engine, recording on, DataFrames built;
2. a minimal hand-written SimPy model (benchmarks/mm3_reference.py);
3. Ciw.
Each is timed in this one process, alternating, best of a few rounds, so machine load affects
them alike. Targets: purlsim at most 1.5x the hand-written SimPy model, at least 2x faster than Ciw.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import sim  # noqa: E402
from mm3_reference import ciw_mm3, simpy_mm3  # noqa: E402

N = int(os.environ.get("PURLSIM_BENCH_ARRIVALS", 200_000))
ROUNDS = int(os.environ.get("PURLSIM_BENCH_ROUNDS", 5))


def _purlsim(n: int) -> float:
    scenario = sim.load_scenario(HERE / "scenarios" / "mm3.yaml", {"requests.stream.max_requests": n})
    t = time.perf_counter()
    results = sim.run(scenario, reps=1, seed=1)
    elapsed = time.perf_counter() - t
    assert results.deliveries["delivered_day"].notna().sum() >= n * 0.99
    return elapsed


def _timed(fn, n):
    t = time.perf_counter()
    fn(n)
    return time.perf_counter() - t


def main() -> list[tuple]:
    """Measure, print the table, return rows (name, measured, target, ok)."""
    best = {"purlsim": float("inf"), "simpy": float("inf"), "ciw": float("inf")}
    for _ in range(ROUNDS):
        best["purlsim"] = min(best["purlsim"], _purlsim(N))
        best["simpy"] = min(best["simpy"], _timed(simpy_mm3, N))
        best["ciw"] = min(best["ciw"], _timed(ciw_mm3, N))
    print(f"M/M/3 at utilisation 0.9, {N:,} arrivals, best of {ROUNDS} rounds")
    print(f"{'model':<22}{'wall s':>10}{'arrivals/s':>14}")
    for name, label in (("purlsim", "purlsim (full engine)"), ("simpy", "hand-written SimPy"), ("ciw", "Ciw")):
        print(f"{label:<22}{best[name]:>10.2f}{N / best[name]:>14,.0f}")
    vs_simpy = best["purlsim"] / best["simpy"]
    vs_ciw = best["ciw"] / best["purlsim"]
    rows = [("purlsim / hand-written SimPy", f"{vs_simpy:.2f}x", "<= 1.5x", vs_simpy <= 1.5),
            ("Ciw / purlsim (speed-up)", f"{vs_ciw:.2f}x", ">= 2x", vs_ciw >= 2.0)]
    for name, measured, target, ok in rows:
        print(f"{name:<32}{measured:>10}  target {target:<8} {'PASS' if ok else 'MISS'}")
    return rows


if __name__ == "__main__":
    main()
