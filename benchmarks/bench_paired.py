"""The engine benchmark (bench_engine.py's M/M/3) on this tree and another, in paired rounds of one run.

    python benchmarks/bench_paired.py [OTHER_TREE | --rev REV] [--rounds 7] [--arrivals 200000]

For a change that must not slow the engine: OTHER_TREE is a copy of the code before it (e.g.
`git archive main | tar -x -C /tmp/before`); without one, revision REV of this repository is
taken out with `git archive` (default 4b5860d, the last one before issue 19's vehicles, node
throughput and tie rule: its target is the engine within 15% of it). Each round runs both trees back to back, in
alternating order, each in a fresh process timing purlsim and the hand-written SimPy model; the
ratios reported are medians of the rounds' ratios, so a slow spell of a shared machine moves both
sides of a pair alike.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

# Run in a child process with the tree to time first on sys.path: prints {"purlsim": s, "simpy": s}.
CHILD = """
import json, sys, time
sys.path[:0] = [sys.argv[1], sys.argv[1] + "/benchmarks"]
import sim
from mm3_reference import simpy_mm3
n = int(sys.argv[2])
scenario = sim.load_scenario(sys.argv[1] + "/benchmarks/scenarios/mm3.yaml", {"requests.stream.max_requests": n})
t = time.perf_counter(); sim.run(scenario, reps=1, seed=1); p = time.perf_counter() - t
t = time.perf_counter(); simpy_mm3(n); s = time.perf_counter() - t
assert sim.__file__.startswith(sys.argv[1]), sim.__file__
print(json.dumps({"purlsim": p, "simpy": s}))
"""


def _time(tree: Path, n: int) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(tree), str(n)], capture_output=True, text=True, check=True, env=env
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


BEFORE = "4b5860d"  # the last revision before issue 19 (vehicles, node throughput, the tie rule)
TARGET = 1.15


def _checkout(rev: str, into: Path) -> bool:
    """Revision `rev` of this repository as a tree in `into`; False when git or the revision is missing."""
    try:
        archive = subprocess.run(["git", "-C", str(HERE.parent), "archive", rev], capture_output=True, check=True)
    except (OSError, subprocess.CalledProcessError):
        return False
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    return True


def main(argv=None) -> float:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("other", type=Path, nargs="?", help="the tree to compare with (default: --rev taken out)")
    ap.add_argument("--rev", default=BEFORE, help=f"revision to compare with when no tree is given (default {BEFORE})")
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--arrivals", type=int, default=200_000)
    args = ap.parse_args(argv)
    label = str(args.other) if args.other is not None else f"revision {args.rev}"
    if args.other is None:
        import tempfile

        tmp = Path(tempfile.mkdtemp(prefix="purlsim-before-"))
        if not _checkout(args.rev, tmp):
            print(f"SKIP: revision {args.rev} is not in this repository (give a tree to compare with)")
            return float("nan")
        args.other = tmp
    trees = {"this": HERE.parent, "other": args.other.resolve()}
    times: dict[str, list[dict]] = {k: [] for k in trees}
    for r in range(args.rounds):
        for name in ("this", "other") if r % 2 else ("other", "this"):
            times[name].append(_time(trees[name], args.arrivals))
        print(
            f"round {r + 1}: this {times['this'][-1]['purlsim']:.2f}s, other {times['other'][-1]['purlsim']:.2f}s",
            flush=True,
        )
    this_vs_other = statistics.median(a["purlsim"] / b["purlsim"] for a, b in zip(times["this"], times["other"]))
    print(f"M/M/3, {args.arrivals:,} arrivals, {args.rounds} paired rounds (medians of per-round ratios)")
    for name, tree in trees.items():
        ratio = statistics.median(t["purlsim"] / t["simpy"] for t in times[name])
        best = min(t["purlsim"] for t in times[name])
        print(f"{name:<6} {tree}: purlsim best {best:.2f}s, purlsim / hand-written SimPy {ratio:.3f}x")
    print(f"this / other (purlsim time): {this_vs_other:.3f}")
    verdict = "PASS" if this_vs_other <= TARGET else "MISS"
    print(f"{verdict}: the engine takes {this_vs_other:.2f}x its time at {label} (target <= {TARGET}x, within 15%)")
    return this_vs_other


if __name__ == "__main__":
    main()
