"""Benchmark: what `purlsim --help` costs to start: the heavy modules it imports (a count) and its wall time.

    .venv/bin/python benchmarks/bench_startup.py [--rounds 7] [--against TREE]

Target: `--help`, `validate` and `schema` import none of scipy, matplotlib, pyarrow, dask or the
model (sim.model): PASS when the count is 0. With --against (another source tree, e.g. an older
checkout), the two trees' `--help` are timed in paired rounds (order alternating) and the median
ratio is printed; without it, the median of this tree's rounds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HEAVY = ("scipy", "matplotlib", "pyarrow", "dask", "distributed")
PROBE = (
    "import json, sys\n"
    "dump = sys.argv[2]\n"
    "sys.argv = ['purlsim', *json.loads(sys.argv[1])]\n"
    "from sim.cli import main\n"
    "try:\n    main()\nexcept SystemExit:\n    pass\n"
    "open(dump, 'w').write(json.dumps(sorted(sys.modules)))\n"
)


def heavy_modules(args: list[str], tree: Path = REPO) -> list[str]:
    """The heavy top-level packages (and sim.model) left imported by `purlsim ARGS`, in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        dump = Path(tmp) / "m.json"
        env = dict(os.environ, PYTHONPATH=str(tree))
        subprocess.run(
            [sys.executable, "-c", PROBE, json.dumps(args), str(dump)],
            env=env,
            cwd=tree,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
        )
        mods = json.loads(dump.read_text())
    return sorted({m.split(".")[0] for m in mods if m.split(".")[0] in HEAVY} | {m for m in mods if m == "sim.model"})


def help_time(tree: Path) -> float:
    env = dict(os.environ, PYTHONPATH=str(tree))
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "sim.cli", "--help"],
        env=env,
        cwd=tempfile.gettempdir(),
        stdout=subprocess.DEVNULL,
        check=True,
    )
    return time.perf_counter() - t


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--against", type=Path, help="another source tree to time --help against (paired)")
    args = ap.parse_args()
    commands = [["--help"], ["validate", "scenarios/baseline_2025.yaml"], ["schema"]]
    found = {" ".join(c): heavy_modules(c) for c in commands}
    for cmd, mods in found.items():
        print(f"purlsim {cmd}: heavy modules imported: {', '.join(mods) or 'none'}")
    count = sum(len(m) for m in found.values())
    help_time(REPO)  # compiled modules and the file cache warm
    if args.against:
        pairs = []
        for k in range(args.rounds):
            order = [REPO, args.against][:: 1 if k % 2 == 0 else -1]
            t = {tree: help_time(tree) for tree in order}
            pairs.append((t[REPO], t[args.against]))
        ratio = statistics.median(a / b for a, b in pairs)
        print(
            f"--help: median {statistics.median(p[0] for p in pairs):.2f} s here, "
            f"{statistics.median(p[1] for p in pairs):.2f} s in {args.against}; ratio {ratio:.2f} "
            f"(median of {args.rounds} paired rounds)"
        )
    else:
        print(
            f"--help: median {statistics.median(help_time(REPO) for _ in range(args.rounds)):.2f} s "
            f"({args.rounds} rounds)"
        )
    print(
        f"{'PASS' if count == 0 else 'MISS'}: {count} heavy module(s) imported by --help, validate and schema (target 0)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
