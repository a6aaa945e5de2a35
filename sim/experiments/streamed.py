"""An ensemble streamed into an output directory chunk by chunk, resumable after Ctrl-C.

While it runs, a hidden sibling `.NAME.partial/` holds `run.json` (what is being run: the
resolved scenario's SHA-256, seed, reps, chunk size) and, under `chunks/`, one directory per
finished chunk (its four tables and its per-replication summary figures, as Parquet), renamed
into place only once complete, with `chunk.json` giving the run's digest and each file's SHA-256: a
chunk that does not match (corrupt, or written by another run) is computed again on --resume.
Nothing there looks like a finished output: there is no manifest. The whole run holds the output's
lock (sim.outdir), so two runs into one output cannot mix.
At the end the chunks are combined one at a time into the usual tables (Parquet; CSV too on request),
`summary.json` and (if asked) PNG plots inside `sim.output.staged_dir`, which moves them to the
output directory with their manifest; then the partial directory goes. Memory is bounded by a
chunk plus the per-replication figures (a few numbers per item and replication), never by the
ensemble (plots read back a bounded number of replications, see sim.pngs).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Callable
from concurrent.futures import Executor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .. import metrics, outdir, output
from ..executors import executor_workers
from ..pngs import Sources, plotted_reps, start_run_pngs
from ..scenario.schema import Scenario
from ..tables import CATEGORIES
from .ensemble import KINDS, as_completed, check_run, chunks, default_chunk_size, run_chunk_output

PARTIAL_FORMAT = "purlsim-partial/1"
RUN_FILE = "run.json"
CHUNK_FILE = "chunk.json"
STATS = metrics.STATS
CSV_DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


class PartialRunError(ValueError):
    """A partial run is in the way (resume not asked for) or does not match the run asked for."""


@dataclass
class StreamedRun:
    """What a streamed run wrote: its settings and the two summary tables."""

    scenario: Scenario
    seed: int
    reps: int
    chunk_size: int
    out: Path
    latency: pd.DataFrame  # the headline summary (Results.summary's columns)
    backfill: pd.DataFrame
    resumed_reps: int
    pngs: list[str] = field(default_factory=list)  # plot files written beside the tables
    closure: pd.DataFrame | None = None  # time to close requests and groups (Results.closure_summary's columns)


def partial_dir(out: Path) -> Path:
    """Where the unfinished chunks of a run into `out` are kept."""
    out = Path(out)
    return out.parent / f".{out.name}.partial"


def scenario_sha256(scenario: Scenario) -> str:
    """A digest of the resolved scenario (after extends and overrides)."""
    text = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def finished_chunks(partial: Path, run_digest: str | None = None) -> dict[int, Path]:
    """The complete chunk directories of a partial run, by chunk number; with `run_digest`, only intact ones of that run."""
    root = Path(partial) / "chunks"
    if not root.is_dir():
        return {}
    found = {int(p.name): p for p in root.iterdir() if p.is_dir() and p.name.isdigit()}
    if run_digest is None:
        return found
    return {i: p for i, p in found.items() if _chunk_intact(p, run_digest)}


def _chunk_intact(chunk: Path, run_digest: str) -> bool:
    """True when the chunk's files match the checksums it was written with, by the run asked for."""
    try:
        doc = json.loads((chunk / CHUNK_FILE).read_text())
        files = doc["files"]
        if doc.get("run") != run_digest or not isinstance(files, dict) or not files:
            return False
        present = {p.name for p in chunk.iterdir()} - {CHUNK_FILE}
        return present == set(files) and all(output.sha256(chunk / n) == files[n] for n in files)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return False


def _digest(settings: dict) -> str:
    """A digest of what a run is (scenario, seed, reps, chunk size): chunks carry it."""
    keys = ("scenario_sha256", "seed", "reps", "chunk_size", "record_events")
    return hashlib.sha256(json.dumps({k: settings.get(k) for k in keys}, sort_keys=True).encode()).hexdigest()


def _is_ours(partial: Path) -> bool:
    """True for a partial directory purlsim made (its run.json, or nothing but the start of one)."""
    try:
        if json.loads((partial / RUN_FILE).read_text()).get("format") == PARTIAL_FORMAT:
            return True
    except (OSError, ValueError, AttributeError, RecursionError):
        pass
    try:
        return {p.name for p in partial.iterdir()} <= {"chunks", f".{RUN_FILE}.tmp"}
    except OSError:
        return False


def _settings(scenario: Scenario, seed: int, reps: int, chunk_size: int, record_events: bool) -> dict:
    return {
        "format": PARTIAL_FORMAT,
        "scenario": scenario.name,
        "scenario_sha256": scenario_sha256(scenario),
        "seed": seed,
        "reps": reps,
        "chunk_size": chunk_size,
        "record_events": record_events,
    }


def _open_partial(partial: Path, wanted: dict, resume: bool, force: bool, chunk_size_given: bool) -> dict:
    """Start a fresh partial directory, or check and reuse the one there; returns the settings in force."""
    if partial.exists():
        if not resume and not force:
            raise PartialRunError(
                f"{partial}: an unfinished run is there; finish it with --resume or discard it with --force"
            )
        if partial.is_symlink() or not partial.is_dir() or not _is_ours(partial):
            raise PartialRunError(f"{partial}: is not an unfinished purlsim run; refusing to use or remove it")
        if not resume:
            shutil.rmtree(partial)
    if resume and partial.exists():
        try:
            found = json.loads((partial / RUN_FILE).read_text())
        except (OSError, ValueError):
            raise PartialRunError(
                f"{partial}: no readable {RUN_FILE}; cannot resume (use --force to start over)"
            ) from None
        keys = ["format", "scenario_sha256", "seed", "reps", "record_events"] + (
            ["chunk_size"] if chunk_size_given else []
        )
        diff = [
            f"{k}: {found.get(k)!r} there, {wanted[k]!r} now"
            if k != "scenario_sha256"
            else "the scenario (after extends and overrides) is not the same"
            for k in keys
            if found.get(k) != wanted[k]
        ]
        if diff:
            raise PartialRunError(
                f"{partial}: the unfinished run there differs from this one ("
                + "; ".join(diff)
                + "); resume with the same scenario and options, or --force to start over"
            )
        return found
    (partial / "chunks").mkdir(parents=True)
    tmp = partial / f".{RUN_FILE}.tmp"
    tmp.write_text(json.dumps(wanted, indent=2, sort_keys=True))
    os.replace(tmp, partial / RUN_FILE)
    return wanted


def _write_chunk(
    partial: Path, index: int, tables: dict[str, pd.DataFrame], stats: dict[str, pd.DataFrame], run_digest: str
) -> None:
    """Write one chunk and its checksums into a temporary directory, then rename it into place (all or nothing)."""
    root = partial / "chunks"
    tmp = root / f".{index:06d}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    files = {}
    for name, df in {**tables, **stats}.items():
        df.to_parquet(tmp / f"{name}.parquet", index=False)
        files[f"{name}.parquet"] = output.sha256(tmp / f"{name}.parquet")
    (tmp / CHUNK_FILE).write_text(json.dumps({"run": run_digest, "files": files}, sort_keys=True))
    final = root / f"{index:06d}"
    if final.exists():  # a corrupt chunk found on resume, computed again
        shutil.rmtree(final)
    os.replace(tmp, final)


def _common_type(name: str, types: list[pa.DataType]) -> pa.DataType:
    """One Parquet type for column `name`, which chunks stored as `types` (labels, numbers, dates)."""
    labels = pa.dictionary(pa.int32(), pa.string())
    if name in CATEGORIES:
        return labels
    known = [t for t in types if not pa.types.is_null(t)]
    if not known:
        return pa.string()
    if all(t == known[0] for t in known) and not pa.types.is_dictionary(known[0]):
        return known[0]
    if any(pa.types.is_dictionary(t) for t in known):
        return labels
    if all(pa.types.is_integer(t) for t in known):
        return pa.int64()
    if all(pa.types.is_integer(t) or pa.types.is_floating(t) for t in known):
        return pa.float64()
    if all(pa.types.is_timestamp(t) for t in known):
        return pa.timestamp("ns")
    return pa.string()


def _unified_schema(files: list[Path]) -> pa.Schema:
    """The schema every chunk's table is cast to, from the chunks' own (only their footers are read)."""
    schemas = [pq.read_schema(f) for f in files]
    names = schemas[0].names
    return pa.schema([(n, _common_type(n, [s.field(n).type for s in schemas])) for n in names])


def _sources(chunk_dirs: list[Path]) -> Sources:
    """Each table's chunk files, in chunk (so replication) order, with the schema they are joined to."""
    files = {kind: [c / f"{kind}.parquet" for c in chunk_dirs] for kind in KINDS}
    return {kind: (fs, _unified_schema(fs)) for kind, fs in files.items()}


def _combine(sources: Sources, directory: Path, csv: bool = False) -> None:
    """Append each chunk's tables, in chunk order, to one Parquet file per table (and one CSV with `csv`)."""
    for kind, (files, schema) in sources.items():
        with ExitStack() as stack:
            writer = stack.enter_context(pq.ParquetWriter(directory / f"{kind}.parquet", schema))
            text = stack.enter_context(open(directory / f"{kind}.csv", "w", newline="")) if csv else None
            for i, f in enumerate(files):
                writer.write_table(output.read_joined([f], schema.names, None, schema))
                if text is not None:
                    pd.read_parquet(f).to_csv(text, header=(i == 0), index=False, date_format=CSV_DATE_FORMAT)


def _summary_doc(scenario: Scenario, seed: int, reps: int, latency: pd.DataFrame, backfill: pd.DataFrame) -> dict:
    return {
        "scenario": scenario.name,
        "scenario_sha256": scenario_sha256(scenario),
        "seed": seed,
        "reps": reps,
        "horizon_days": scenario.horizon_days,
        "statistics_method": metrics.headline.__doc__,
        "delivered_only_method": metrics.delivered.__doc__,
        "latency": output.table_records(latency),
        "backfill": output.table_records(backfill),
    }


def run_to_dir(
    scenario: Scenario,
    out: Path,
    reps: int,
    seed: int | None = None,
    executor: Executor | None = None,
    chunk_size: int | None = None,
    resume: bool = False,
    force: bool = False,
    record_events: bool = True,
    progress: Callable[[int], None] | None = None,
    plots: bool = False,
    tau: float | None = None,
    cohort: tuple[float, float] | None = None,
    reference: bool = False,
    overrides: dict | None = None,
    csv: bool = False,
) -> StreamedRun:
    """Run an ensemble into `out` chunk by chunk (see the module docstring); Ctrl-C keeps finished chunks.

    resume: finish the partial run found for `out` (refused if its scenario, seed, reps or chunk
    size differ); force: replace an existing `out` and discard a partial run not resumed.
    progress: called with the replications just finished (first with those found finished).
    plots: also write the standard plots as PNG (see sim.pngs), listed in the manifest with the tables.
    tau, cohort: of the headline summary (as in Results.summary); reference: as in ensemble.run
    (the tables are the same, so a resumed run may mix kernels); overrides: the dotted overrides
    `scenario` was loaded with, written beside it (overrides.json, scenario.json) for Results.load;
    csv: also write each table as CSV beside its Parquet file.
    Raises output.OutputExists, PartialRunError.
    """
    reps, seed = check_run(scenario, reps, seed)
    out = Path(out)
    if out.exists() and not force:
        raise output.OutputExists(f"{out}: exists (use --force to replace it)")
    with outdir.locked(out):
        outdir.check_target(out, force)
        partial = partial_dir(out)
        had_chunks = resume and bool(finished_chunks(partial))
        try:
            return _run_locked(
                scenario,
                out,
                partial,
                reps,
                seed,
                executor,
                chunk_size,
                resume,
                force,
                record_events,
                progress,
                plots,
                tau,
                cohort,
                reference,
                overrides,
                csv,
            )
        except OSError as exc:
            # A full disk or a vanished directory: leave no half-written output behind.
            if not had_chunks:
                shutil.rmtree(partial, ignore_errors=True)
            kept = (
                f"; the chunks finished before are kept in {partial}: free space and run again with --resume"
                if had_chunks and partial.exists()
                else "; nothing was written"
            )
            raise outdir.OutputRefused(f"{out}: cannot write: {outdir.os_reason(exc)}{kept}") from None


def _run_locked(
    scenario: Scenario,
    out: Path,
    partial: Path,
    reps: int,
    seed: int,
    executor,
    chunk_size,
    resume: bool,
    force: bool,
    record_events: bool,
    progress,
    plots: bool,
    tau: float | None = None,
    cohort: tuple[float, float] | None = None,
    reference: bool = False,
    overrides: dict | None = None,
    csv: bool = False,
) -> StreamedRun:
    """run_to_dir's work, while it holds the output's lock."""
    size = chunk_size or default_chunk_size(reps, executor_workers(executor))
    settings = _open_partial(
        partial,
        _settings(scenario, seed, reps, size, record_events),
        resume,
        force,
        chunk_size_given=chunk_size is not None,
    )
    size = int(settings["chunk_size"])
    digest = _digest(settings)
    parts = chunks(reps, size)
    done = {i for i in finished_chunks(partial, digest) if i < len(parts)}
    resumed = sum(len(parts[i]) for i in done)
    if progress is not None and resumed:
        progress(resumed)
    todo = [i for i in range(len(parts)) if i not in done]
    calls = [(run_chunk_output, (scenario, seed, parts[i], record_events, reference)) for i in todo]
    for k, got in as_completed(executor, calls):
        _write_chunk(partial, todo[k], got["tables"], got["stats"], digest)
        del got
        if progress is not None:
            progress(len(parts[todo[k]]))
    chunk_dirs = [partial / "chunks" / f"{i:06d}" for i in range(len(parts))]
    sources = _sources(chunk_dirs)
    pngs: list[str] = []
    with output.staged_dir(out, force=force) as tmp:
        pending = None  # the plots being drawn, if asked for
        if plots:
            # The plots read the chunks they show, drawn while this process joins the tables and sums up.
            shown = sum(1 for part in parts if part[0] < plotted_reps(reps))
            plotted = {kind: (files[:shown], schema) for kind, (files, schema) in sources.items()}
            pending = start_run_pngs(tmp, scenario, seed, reps, executor=executor, sources=plotted)
        try:
            stats = {
                n: pd.concat([pd.read_parquet(c / f"{n}.parquet") for c in chunk_dirs], ignore_index=True)
                for n in STATS
            }
            _combine(sources, tmp, csv)
            latency = metrics.lot_summary(stats, reps, scenario.horizon_days, tau, cohort)
            closure = metrics.closure_summary(stats, reps, scenario.horizon_days, tau, cohort)
            backfill = metrics.backfill_summary(stats, reps, scenario.horizon_days)
            doc = _summary_doc(scenario, seed, reps, latency, backfill)
            doc["closure"] = output.table_records(closure)
            (tmp / "summary.json").write_text(json.dumps(doc, indent=2, sort_keys=True))
            output.write_inputs(tmp, scenario, overrides)
            if pending is not None:
                pngs = [p.name for p in pending.result()]
        except BaseException as exc:
            if pending is not None:
                # No worker left writing into the staged directory as it goes; after Ctrl-C the
                # workers are stopping too, so nothing is waited for (see sim.cli on exit).
                pending.cancel(wait=not isinstance(exc, KeyboardInterrupt))
            raise
    shutil.rmtree(partial, ignore_errors=True)
    return StreamedRun(scenario, seed, reps, size, out, latency, backfill, resumed, pngs, closure)
