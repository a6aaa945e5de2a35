"""Every table of every shipped and validation scenario, recorded to parquet or compared with a recording.

    python benchmarks/compare_tables.py record DIR [--reference]   # write DIR/<scenario>.<table>.parquet
    python benchmarks/compare_tables.py compare DIR [--reference]  # exit 1 unless every table is identical

For a change that must not move any result (the kernel, a speed-up): record before it, compare
after it. Tables are compared exactly (assert_frame_equal, no tolerance), 3 replications, seed 0.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sim  # noqa: E402 (after the path set-up above: the tree being compared, not an installed one)

TABLES = ("deliveries", "event_log", "levels", "backfills")
REPS, SEED = 3, 0


def scenario_files() -> list[Path]:
    """The shipped scenarios (not scenarios/common) and the validation scenarios."""
    return sorted((ROOT / "scenarios").glob("*.yaml")) + sorted((ROOT / "tests/validation/scenarios").glob("*.yaml"))


def tables(path: Path, reference: bool = False) -> dict[str, pd.DataFrame]:
    """The four tables of one scenario's run."""
    kw = {"reference": True} if reference else {}  # a tree from before the flag existed runs too
    res = sim.run(sim.load_scenario(path), reps=REPS, seed=SEED, **kw)
    return {name: getattr(res, name) for name in TABLES}


def _name(path: Path) -> str:
    return (
        f"{path.parent.parent.name}.{path.stem}"
        if path.parent.name == "scenarios" and path.parent.parent.name == "validation"
        else path.stem
    )


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("action", choices=("record", "compare"))
    ap.add_argument("dir", type=Path)
    ap.add_argument("--reference", action="store_true", help="run in the kernel's reference mode")
    args = ap.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    differ = 0
    for path in scenario_files():
        for name, df in tables(path, args.reference).items():
            file = args.dir / f"{_name(path)}.{name}.parquet"
            if args.action == "record":
                df.to_parquet(file)
                continue
            try:
                # Both sides through parquet: a round trip changes some dtypes (an empty
                # categorical's categories) alike on both, and nothing else.
                buf = io.BytesIO()
                df.to_parquet(buf)
                pd.testing.assert_frame_equal(pd.read_parquet(buf), pd.read_parquet(file), check_exact=True)
            except (AssertionError, FileNotFoundError) as exc:
                differ += 1
                print(f"DIFFERS {file.name}: {str(exc).splitlines()[0]}")
        print(f"{args.action.rstrip('e')}ed {_name(path)}")
    if args.action == "compare":
        print("all tables identical" if not differ else f"{differ} tables differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
