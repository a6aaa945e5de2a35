"""Writing results to a directory: all or nothing.

Files are written into a temporary sibling directory and renamed into place when complete, so a
killed run never leaves something that looks finished. Every output carries `manifest.json`
listing its files with sizes and SHA-256 checksums.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from . import interrupts
from .outdir import OutputExists  # noqa: F401 (raised here; defined there so the CLI catches it without pandas)

MANIFEST = "manifest.json"
SCENARIO_FILE = "scenario.json"  # the resolved scenario a run --out ran (extends merged, overrides applied)
OVERRIDES_FILE = "overrides.json"  # the --set overrides it was run with, {dotted path: value}
FORMAT = "purlsim-output/1"
# What each kind of purlsim output holds: a manifest must list every file of one of these sets.
REQUIRED = {
    "run": (  # the CSV copies are written only on request (run --csv)
        "deliveries.parquet",
        "events.parquet",
        "levels.parquet",
        "backfills.parquet",
        "summary.json",
    ),
    "compare": ("comparison.csv", "comparison.json"),
    "sweep": ("sweep.csv", "sweep.json"),
}


def sha256(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@contextmanager
def staged_dir(out: Path, force: bool = False):
    """Yield a temporary directory; on success it replaces `out` (refused if `out` exists unless force)."""
    from .outdir import check_target

    out = Path(out)
    if out.exists() and not force:
        raise OutputExists(f"{out} exists (use --force to replace it)")
    check_target(out, force)  # never replaces what purlsim did not write
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.partial-", dir=out.parent))
    try:
        yield tmp
        interrupts.check()  # no finished output after a Ctrl-C, even one lost where it landed
        write_manifest(tmp)
        if out.exists():
            trash = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, trash / out.name)
            os.replace(tmp, out)
            shutil.rmtree(trash, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def write_manifest(directory: Path) -> dict:
    """Write manifest.json listing every other file with its size and checksum."""
    directory = Path(directory)
    files = {}
    for p in sorted(directory.rglob("*")):
        if p.is_file() and p.name != MANIFEST:
            files[p.relative_to(directory).as_posix()] = {"bytes": p.stat().st_size, "sha256": sha256(p)}
    manifest = {"format": FORMAT, "files": files}
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    return manifest


def verify(directory: Path) -> list[str]:
    """Problems with an output directory against its manifest (empty when intact)."""
    directory = Path(directory)
    mpath = directory / MANIFEST
    if not mpath.is_file():
        return [f"{directory}: no {MANIFEST}: incomplete or not a purlsim output"]
    try:
        manifest = json.loads(mpath.read_text())
        files = manifest["files"]
    except RecursionError:
        return [f"{mpath}: unreadable manifest (nested too deeply)"]
    except (OSError, ValueError, KeyError, TypeError):
        return [f"{mpath}: unreadable manifest"]
    if not isinstance(files, dict) or not all(isinstance(m, dict) for m in files.values()):
        return [f"{mpath}: unreadable manifest"]
    if manifest.get("format") != FORMAT:
        return [
            f"{mpath}: not a purlsim output manifest (format {str(manifest.get('format'))[:40]!r}, expected {FORMAT!r})"
        ]
    if not any(all(name in files for name in names) for names in REQUIRED.values()):
        return [
            f"{mpath}: lists none of the table sets a purlsim output has "
            f"(a run's deliveries, events, levels, backfills and summary.json)"
        ]
    problems = []
    root = directory.resolve()
    for name, meta in files.items():
        p = directory / name
        # A listed path must stay inside the directory: '../x' or '/etc/passwd' is never part of an output.
        if Path(name).is_absolute() or ".." in Path(name).parts or root not in (directory / name).resolve().parents:
            problems.append(f"{mpath}: lists {name!r}, which is outside the output directory")
            continue
        if not p.is_file():
            problems.append(f"{p}: missing")
        elif p.stat().st_size != meta.get("bytes") or sha256(p) != meta.get("sha256"):
            problems.append(f"{p}: size or checksum differs from the manifest")
    # A file the manifest does not list was not written with it (e.g. left over from older content).
    for p in sorted(directory.rglob("*")):
        if p.is_file() and p != mpath and p.relative_to(directory).as_posix() not in files:
            problems.append(f"{p}: not listed in the manifest")
    return problems


def _jsonable(obj):
    if isinstance(obj, float) and not math.isfinite(obj):
        # A quantile not reached before the curve ends is +inf: "inf", never confused with a missing value.
        return "inf" if obj == math.inf else None
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if hasattr(obj, "item"):
        return _jsonable(obj.item())
    return obj


def table_records(df: pd.DataFrame) -> list[dict]:
    """A summary table as JSON-ready records (index included, NaN as null, a quantile not reached as "inf")."""
    return _jsonable(df.reset_index().to_dict(orient="records"))


def write_inputs(directory: Path, scenario, overrides: dict | None = None) -> None:
    """Write what a run ran: the resolved scenario (scenario.json, itself a valid scenario file) and its overrides."""
    directory = Path(directory)
    doc = scenario.model_dump(mode="json")
    (directory / SCENARIO_FILE).write_text(json.dumps(_jsonable(doc), indent=2, sort_keys=True), encoding="utf-8")
    # An override value is YAML read from the command line: a date there is written as its ISO text.
    over = json.dumps(_jsonable(dict(overrides or {})), indent=2, sort_keys=True, default=str)
    (directory / OVERRIDES_FILE).write_text(over, encoding="utf-8")


def write_results(results, directory: Path, extra: dict | None = None, csv: bool = False) -> None:
    """Write the four tables as Parquet (and CSV with `csv`), and summary.json, into `directory`."""
    directory = Path(directory)
    for kind in ("deliveries", "events", "levels", "backfills"):
        df = getattr(results, kind)
        df.to_parquet(directory / f"{kind}.parquet", index=False)
        if csv:
            df.to_csv(directory / f"{kind}.csv", index=False)
    summary = {
        "scenario": results.scenario.name,
        "seed": results.seed,
        "reps": results.reps,
        "horizon_days": results.scenario.horizon_days,
        "latency": table_records(results.summary()),
        "backfill": table_records(results.backfill_summary()),
        "closure": table_records(results.closure_summary()),
    }
    summary.update(extra or {})
    (directory / "summary.json").write_text(json.dumps(_jsonable(summary), indent=2, sort_keys=True))
    write_inputs(directory, results.scenario, results.overrides)


def read_joined(files, columns: list[str], filters, schema):
    """The `columns` of chunk files, rows kept by `filters`, read with Arrow and cast to their joined `schema`.

    How the join and the plots read a chunk: the arrays a round trip through pandas gives (as the
    join was first written; tests/test_pngs.py checks it), at half the cost.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    target = pa.schema([schema.field(c) for c in columns])
    return pa.concat_tables(pq.read_table(f, columns=columns, filters=filters).cast(target) for f in files)
