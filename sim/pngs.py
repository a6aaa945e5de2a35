"""PNG plots in an output directory, written by `purlsim run --out` and `compare --out` before the manifest is made.

A streamed run's tables are on disk, not in memory, so its plots read back only the columns they
draw, of the first PLOT_REPS replications at most (Parquet row groups are skipped on `rep`); a
comparison keeps the tables of its first PLOT_REPS replications per scenario while it runs. So
memory stays bounded however many replications ran; each figure's title says how many it shows.
The comparison plot itself is drawn from the compare table, over every replication.
"""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq

from . import plots
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


def read_back(directory: Path, scenario: Scenario, seed: int, reps: int, max_reps: int | None = None) -> Results:
    """The first min(reps, max_reps or PLOT_REPS) replications of an output directory's tables, plot columns only."""
    n = max(1, min(int(reps), int(max_reps or PLOT_REPS)))
    stage_kinds = [s[0] for s in STAGES]  # lot stages are in `deliveries` already: the event log is the rest
    tables = {}
    for kind, cols in COLUMNS.items():
        filters = [("rep", "<", n)] + ([("kind", "not in", stage_kinds)] if kind == "events" else [])
        tables[kind] = pq.read_table(Path(directory) / f"{kind}.parquet", columns=cols, filters=filters).to_pandas()
    return Results(scenario, seed, n, tables["deliveries"], tables["events"], tables["levels"], tables["backfills"])


def write_run_pngs(
    directory: Path, scenario: Scenario, seed: int, reps: int, max_reps: int | None = None
) -> list[Path]:
    """Write the standard plots of a run's output directory (its Parquet tables) as PNG files beside them."""
    return plots.write_pngs(read_back(directory, scenario, seed, reps, max_reps), directory)


def write_compare_pngs(directory: Path, table, results_list, names) -> list[Path]:
    """Write a comparison's plots: the paired differences of its compare `table`, the rest from each scenario's Results."""
    for r, name in zip(results_list, names):
        if r.scenario.name != name:  # the names of the table (made unique), in the legends too
            r.scenario = r.scenario.model_copy(update={"name": name})
    return plots.write_pngs(list(results_list), directory, table)
