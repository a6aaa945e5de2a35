"""PNG plots in an output directory, written by `purlsim run --out` and `compare --out` before the manifest is made.

A streamed run's tables are on disk, not in memory, so its plots read back only the columns they
draw, of the first PLOT_REPS replications at most (Parquet row groups are skipped on `rep`); a
comparison keeps the tables of its first PLOT_REPS replications per scenario while it runs. So
memory stays bounded however many replications ran; each figure's title says how many it shows.
The comparison plot itself is drawn from the compare table, over every replication.

A run's plots are drawn in the run's local worker pool when it has one, a plot per task, so they
take the time of the slowest worker rather than of them all; each PNG's bytes are the same as
when drawn in this process (the same figure from the same tables). `start_run_pngs` hands them
to the workers and returns at once; the workers read the run's finished chunks (`Sources`), read
as the joined tables would be, so the plots are drawn while the run's own process joins the
tables and computes its summary.
"""

from __future__ import annotations

import gc
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures import wait as wait_futures
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from .output import read_joined
from .recorder import PHASE_COLUMNS
from .results import Results
from .scenario.schema import Scenario
from .tables import STAGES

PLOT_REPS = 1000
MILESTONES = ["requested_day", "approved_day", "funded_day", "ready_day", "shipped_day", "delivered_day"]
COLUMNS = {  # the columns the plots and the metric layer's observations read, per table of an output directory
    "deliveries": ["rep", "request_id", "item", "qty", *MILESTONES, *PHASE_COLUMNS, "latency_days"],
    "events": ["rep", "day", "kind", "request_id", "item", "qty", "where"],
    "levels": ["rep", "day", "series", "value"],
    "backfills": [
        "rep",
        "donor",
        "item",
        "qty",
        "decided_day",
        "donated_day",
        "backfilled_day",
        "backfill_gap_days",
        "handover_gap_days",
    ],
}


# A streamed run's finished chunks, per table: their files in replication order and the schema of
# the joined table they make (sim.experiments.streamed).
Sources = dict[str, tuple[list[Path], pa.Schema]]


def plotted_reps(reps: int, max_reps: int | None = None) -> int:
    """How many replications the plots of a run of `reps` show: the first min(reps, max_reps or PLOT_REPS)."""
    return max(1, min(int(reps), int(max_reps or PLOT_REPS)))


def read_back(
    directory: Path,
    scenario: Scenario,
    seed: int,
    reps: int,
    max_reps: int | None = None,
    sources: Sources | None = None,
) -> Results:
    """The plotted replications (see plotted_reps) of an output directory's tables, or of its chunks' `sources`, plot columns only.

    Read from the chunks, each is read with Arrow and cast to the joined table's schema: the
    arrays the join's round trip through pandas gives (sim.experiments.streamed), so the frames,
    categories and their order included, are the ones the joined files give (tests/test_pngs.py
    checks it on every shipped scenario), at half the cost: every plotting worker reads them.
    """
    n = plotted_reps(reps, max_reps)
    stage_kinds = [s[0] for s in STAGES]  # lot stages are in `deliveries` already: the event log is the rest
    tables = {}
    for kind, cols in COLUMNS.items():
        filters = [("rep", "<", n)] + ([("kind", "not in", stage_kinds)] if kind == "events" else [])
        if sources is None:
            table = pq.read_table(Path(directory) / f"{kind}.parquet", columns=cols, filters=filters)
        else:
            files, schema = sources[kind]
            table = read_joined(files, cols, filters, schema)
        tables[kind] = table.to_pandas()
    return Results(scenario, seed, n, tables["deliveries"], tables["events"], tables["levels"], tables["backfills"])


def write_run_pngs(
    directory: Path,
    scenario: Scenario,
    seed: int,
    reps: int,
    max_reps: int | None = None,
    executor: Executor | None = None,
) -> list[Path]:
    """Write the standard plots of a run's output directory (its Parquet tables) as PNG files beside them.

    With a local process pool as `executor` the plots are drawn in its workers, in parallel (Dask
    workers may not see this directory: with Dask, or None, they are drawn here, one by one).
    """
    return start_run_pngs(directory, scenario, seed, reps, max_reps, executor).result()


class PendingPngs:
    """The standard plots of a run being drawn in a worker pool (or, without one, drawn when asked for)."""

    def __init__(self, futures: dict[str, Future] | None = None, draw_here=None):
        self._futures = futures or {}
        self._draw_here = draw_here  # without a pool: a call that draws them all in this process

    def result(self) -> list[Path]:
        """The PNG files written, in the order of RUN_PLOTS (waits for the workers)."""
        if self._draw_here is not None:
            return self._draw_here()
        written = {name: fut.result() for name, fut in self._futures.items()}
        return [path for name in RUN_PLOTS if (path := written.get(name)) is not None]

    def cancel(self, wait: bool = True) -> None:
        """Drop the plots not started and (with `wait`) wait for those being drawn, whose files go with the directory."""
        for fut in self._futures.values():
            fut.cancel()
        if wait:
            wait_futures(list(self._futures.values()))


def start_run_pngs(
    directory: Path,
    scenario: Scenario,
    seed: int,
    reps: int,
    max_reps: int | None = None,
    executor: Executor | None = None,
    sources: Sources | None = None,
) -> PendingPngs:
    """Start the standard plots of a run's output directory (see write_run_pngs); `.result()` waits for them.

    With a local process pool every plot is submitted now, costliest first, and drawn while the
    caller goes on, from the chunks' `sources` when given (the joined tables need not exist yet);
    otherwise they are drawn in this process, from the joined tables, when `.result()` is called.
    """
    if not isinstance(executor, ProcessPoolExecutor):
        from . import plots

        return PendingPngs(
            draw_here=lambda: plots.write_pngs(read_back(directory, scenario, seed, reps, max_reps), directory)
        )
    # The costliest first, so no worker is left with a long plot at the end.
    names = sorted(RUN_PLOTS, key=lambda n: COST_ORDER.index(n) if n in COST_ORDER else -1)
    futures = {
        name: executor.submit(_write_one_png, Path(directory), scenario, seed, reps, max_reps, name, sources)
        for name in names
    }
    return PendingPngs(futures)


# The standard plots of a run (plots.STANDARD but `comparison`, which needs two scenarios), named
# here so that handing them to the workers does not import matplotlib into this process.
RUN_PLOTS = ["latency_ecdf", "time_breakdown", "backfill_gap", "delivery_timeline", "stock_levels", "ukraine_stock"]
# The standard plots of a run, costliest to draw first (measured on baseline_2025); others go first.
COST_ORDER = ["time_breakdown", "latency_ecdf", "delivery_timeline", "stock_levels", "backfill_gap", "ukraine_stock"]
_READ_BACK: dict[tuple, Results] = {}  # a worker's last read-back tables: its next plot of the same run reuses them


def _write_one_png(
    directory: Path,
    scenario: Scenario,
    seed: int,
    reps: int,
    max_reps: int | None,
    name: str,
    sources: Sources | None = None,
) -> Path | None:
    """In a worker: draw one standard plot of a run's output directory to NAME.png (None when it does not apply)."""
    from . import plots

    key = (str(directory), seed, reps, max_reps)
    if key not in _READ_BACK:
        _READ_BACK.clear()  # one run's tables at a time
        _READ_BACK[key] = read_back(directory, scenario, seed, reps, max_reps, sources)
    std = plots.BY_NAME[name]
    rl = [_READ_BACK[key]]
    if not std.applies(rl):
        return None
    path = directory / f"{name}.png"
    # The collector would rescan the worker's read-back tables at every few thousand artists made
    # (about a fifth of a plot's time); the figure's cycles are freed when it resumes.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        path.write_bytes(plots.png_bytes(std.draw(rl)))
    finally:
        if was_enabled:
            gc.enable()
    return path


def write_compare_pngs(directory: Path, table, results_list, names) -> list[Path]:
    """Write a comparison's plots: the paired differences of its compare `table`, the rest from each scenario's Results."""
    from . import plots

    for r, name in zip(results_list, names):
        if r.scenario.name != name:  # the names of the table (made unique), in the legends too
            r.scenario = r.scenario.model_copy(update={"name": name})
    return plots.write_pngs(list(results_list), directory, table)
