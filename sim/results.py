"""Results of an ensemble: its tables as DataFrames (each with `rep`) and the figures analysts read.

The figures come from the one metric layer (sim.metrics); this container only holds the tables,
computes each figure once on first use, and hands the tables to the plots.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import metrics
from .output import OVERRIDES_FILE, SCENARIO_FILE, verify
from .scenario.schema import Scenario
from .tables import CATEGORIES, COLUMNS, STAGES, dates, finish, ledger, table, with_stage_events
from .vocabulary import LOST


@dataclass
class Results:
    """What an ensemble produced: deliveries, backfills, events, levels (each with `rep`)."""

    scenario: Scenario
    seed: int
    reps: int
    deliveries: pd.DataFrame
    event_log: pd.DataFrame  # what is not a stage of a lot: contributions, holds, disruptions, backfills
    levels: pd.DataFrame
    backfills: pd.DataFrame
    overrides: dict[str, Any] = field(default_factory=dict)  # the dotted overrides the scenario was loaded with
    _events: pd.DataFrame | None = field(default=None, repr=False)
    _obs: dict | None = field(default=None, repr=False)
    _cache: dict = field(default_factory=dict, repr=False)

    @property
    def events(self) -> pd.DataFrame:
        """The long event log: `event_log` plus every request and lot stage, by replication and day.

        Stage events are derived from the deliveries columns on first use (and cached), so runs
        that never look at them never pay for them.
        """
        if self._events is None:
            self._events = with_stage_events(self.event_log, self.deliveries)
        return self._events

    @property
    def losses(self) -> pd.DataFrame:
        """Lots lost in transit (outages with `on_transit: lost`), one row each: rep, day, date, request_id,
        lot_id, item, qty, tonnes (NaN without the item's `weight_t`), value_musd, leg.

        From the event log's `lost` rows; the units were ordered again, and their replacements are
        the request's delivery rows (a lost lot is not a delivery row)."""
        ev = self.event_log
        rows = ev[ev["kind"] == LOST]
        items = self.scenario.items
        item = rows["item"].astype(object)
        weight = item.map(lambda k: items[k].weight_t if items[k].weight_t is not None else np.nan)
        cost = item.map(lambda k: items[k].unit_cost_musd)
        qty = rows["qty"].astype("int64")
        return pd.DataFrame(
            {
                "rep": rows["rep"].to_numpy(),
                "day": rows["day"].to_numpy(),
                "date": dates(self.scenario.start, rows["day"]).to_numpy(),
                "request_id": rows["request_id"].to_numpy(),
                "lot_id": rows["lot_id"].to_numpy(),
                "item": item.to_numpy(),
                "qty": qty.to_numpy(),
                "tonnes": (qty * weight.astype(float)).to_numpy(),
                "value_musd": (qty * cost.astype(float)).to_numpy(),
                "leg": rows["where"].astype(object).str.removeprefix("leg:").to_numpy(),
            }
        )

    def ukraine_stockouts(self) -> pd.DataFrame:
        """Ukraine's stockout spells: rep, item, start_day, end_day, days, ongoing (see sim.metrics.ukraine)."""
        return self._cached(("stockouts",), lambda: metrics.ukraine.stockouts(self.levels, self.horizon_days))

    def ukraine_summary(self, window: tuple[float, float] | None = None) -> pd.DataFrame:
        """Per item Ukraine keeps: mean days at zero in `window` (days; default the whole run) and
        P(any stockout day) there, per replication with intervals, and the share of its use met over the run."""
        lo, hi = window if window is not None else (0.0, self.horizon_days)
        items = list(self.scenario.ukraine.items)
        zero = metrics.ukraine.days_at_zero(self.ukraine_stockouts(), self.reps, items, (lo, hi))
        use = metrics.ukraine.use_over(self.scenario, 0.0, self.horizon_days)
        return zero.join(metrics.ukraine.use_met(self.levels, self.reps, use))

    def tonnes_by_month(self, node: str | None = None) -> pd.DataFrame:
        """Tonnes delivered per month (mean a replication, t interval), of goods through `node` (default: all)."""
        from .metrics import cargo

        return cargo.monthly_through(self.deliveries, self.scenario, self.reps, node)

    def tonnes_by_mode(self) -> pd.DataFrame:
        """Tonnes delivered per replication by mode (air, sea, land) and each mode's share of tonnage."""
        from .metrics import cargo

        return cargo.mode_shares(self.deliveries, self.scenario, self.reps)

    def vehicle_use(self) -> pd.DataFrame:
        """Per leg with vehicles: vehicles (sorties) that left per replication, tonnes, load factors."""
        from .metrics import vehicles

        return vehicles.vehicle_use(self.levels, self.scenario, self.reps)

    def node_queues(self) -> pd.DataFrame:
        """Per node with handling: tonnes waiting (time-weighted mean, t interval; peaks; days queued), see sim.metrics.nodes."""
        from .metrics import nodes

        return nodes.node_queues(self.levels, self.reps, self.horizon_days)

    def record(self) -> pd.DataFrame:
        """The scenario's `record:` targets, each measured per replication and scored (see sim.metrics.record)."""
        from .metrics import record

        return self._cached(("record",), lambda: record.score(self))

    @property
    def ledger(self) -> pd.DataFrame:
        """The NATO account's ledger, per replication: every deposit and withdrawal, with who and why ($M)."""
        return ledger(self.event_log, self.scenario.funding.initial_musd)

    @classmethod
    def from_frames(
        cls,
        scenario: Scenario,
        seed: int,
        reps: int,
        frames: dict[str, list[pd.DataFrame]],
        overrides: dict[str, Any] | None = None,
    ) -> Results:
        """Concatenate per-chunk frames (already in rep order)."""
        tables = {}
        for kind in COLUMNS:
            parts = frames.get(kind) or [table(kind, [])]
            df = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
            tables[kind] = finish(kind, df, scenario.start)
        tables["event_log"] = tables.pop("events")
        return cls(scenario, seed, reps, **tables, overrides=dict(overrides or {}))

    @classmethod
    def load(cls, directory: str | Path) -> Results:
        """The Results a `purlsim run --out DIR` wrote, read back from DIR: the same tables, scenario and overrides.

        Reads the Parquet tables, the resolved scenario (`scenario.json`), the overrides it was
        run with (`overrides.json`) and the seed and reps (`summary.json`). Raises ValueError
        naming the file when DIR is not a run's output (or one written before scenario.json).
        """
        from .scenario.loader import validate_mapping

        d = Path(directory)
        problems = verify(d)
        if problems:
            raise ValueError(f"{d}: not an intact purlsim run output: " + "; ".join(problems[:3]))
        for name in ("summary.json", SCENARIO_FILE, "deliveries.parquet"):
            if not (d / name).is_file():
                raise ValueError(f"{d / name}: missing (Results.load reads the --out directory of `purlsim run`)")
        summary = json.loads((d / "summary.json").read_text(encoding="utf-8"))
        scenario = validate_mapping(json.loads((d / SCENARIO_FILE).read_text(encoding="utf-8")), str(d / SCENARIO_FILE))
        over = d / OVERRIDES_FILE
        overrides = json.loads(over.read_text(encoding="utf-8")) if over.is_file() else {}
        tables = {kind: _read_table(d / f"{kind}.parquet", kind) for kind in COLUMNS}
        events = tables.pop("events")
        stage_kinds = [k for k, *_ in STAGES]
        # The file holds the long log (stages included): the event log is what is not a stage.
        event_log = events[~events["kind"].isin(stage_kinds)].reset_index(drop=True)
        for c in CATEGORIES & set(event_log.columns):
            event_log[c] = event_log[c].cat.remove_unused_categories()
        return cls(
            scenario,
            int(summary["seed"]),
            int(summary["reps"]),
            tables["deliveries"],
            event_log,
            tables["levels"],
            tables["backfills"],
            overrides=overrides,
            _events=events,
        )

    @property
    def horizon_days(self) -> float:
        return self.scenario.horizon_days

    @property
    def plot(self):
        """Plots of these results as `results.plot.NAME()` (see sim.plots)."""
        from .plots import PlotAccessor

        return PlotAccessor(self)

    def observations(self) -> dict[str, pd.DataFrame]:
        """What the metrics count (sim.metrics.observations): lots, requests and donations, delivered or censored."""
        if self._obs is None:
            self._obs = metrics.chunk_observations(
                {"deliveries": self.deliveries, "backfills": self.backfills}, self.scenario
            )
        return self._obs

    def _cached(self, key, compute):
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def summary(self, tau: float | None = None, cohort: tuple[float, float] | None = None) -> pd.DataFrame:
        """Time to delivery per item and across items (`ALL`, by value), counting every unit, with 95% intervals.

        Columns (sim.metrics.headline): `ttd_p50`, `ttd_p90` (days, inf when not reached before the
        curve ends at `followup_days`), `rmst` up to `rmst_tau`, `delivered_share`, `share_30d`,
        `share_90d`, `share_180d`, each with `_lo`/`_hi`, over the cohort of requests made from
        `cohort_from_day` to `cohort_to_day` (default: at least tau before the horizon). Then the
        secondary view among delivered lots, all requests (`delivered_mean`, `delivered_p50`, ...
        see sim.metrics.delivered). tau: days (default by rule, see sim.metrics.headline.default_tau);
        cohort: (from, to) days.

        Per replication or total: every time and share is one estimate over all replications;
        the counts `lots`, `qty` (in the cohort), `delivered_lots` and `undelivered_lots` (all
        requests) are per replication (the total divided by `reps`); `reps_with_deliveries` is a
        total (replications with a delivered lot). `df.attrs["counts"]` says so per column.
        """
        tau_, window = metrics.headline.window_for([self.horizon_days], tau, cohort)
        return self._cached(
            ("summary", tau, cohort),
            lambda: metrics.lot_summary(
                self.observations(),
                self.reps,
                est=self.estimates(tau_, window),
                delivered_cols=self.delivered_summary(),
            ),
        )

    def estimates(self, tau: float, window: tuple[float, float]):
        """The headline estimates (the estimate and its bootstrap rows) of the requests made in
        `window`, RMST up to `tau`: computed once for the summary and every comparison."""
        key = ("estimates", float(tau), (float(window[0]), float(window[1])))
        return self._cached(key, lambda: metrics.estimates(self.observations(), self.reps, tau, window))

    def delivered_summary(self) -> pd.DataFrame:
        """The secondary view among delivered lots, per item and ALL (sim.metrics.delivered), computed once."""
        return self._cached(("delivered",), lambda: metrics.delivered_summary(self.observations(), self.reps))

    def closure_summary(self, tau: float | None = None, cohort: tuple[float, float] | None = None) -> pd.DataFrame:
        """Time to close each request, and each group of items that work together, censored the same way.

        `requests` is per replication (see `df.attrs["counts"]`); the rest are estimates over all replications.
        """
        return self._cached(
            ("closure", tau, cohort),
            lambda: metrics.closure_summary(self.observations(), self.reps, self.horizon_days, tau, cohort),
        )

    def per_rep(self, tau: float | None = None, cohort: tuple[float, float] | None = None) -> pd.DataFrame:
        """Each replication's own headline estimates per item (rows: item, rep), as baselines test them."""

        def compute():
            tau_, window = metrics.window_for([self.horizon_days], tau, cohort)
            est = metrics.estimates(self.observations(), self.reps, tau_, window, counts=np.eye(self.reps))
            rows = []
            for item, f in est.groups.items():
                for name in metrics.FIGURES:
                    v = metrics.headline.values(f, name)
                    rows.append(pd.DataFrame({"item": item, "rep": range(self.reps), "figure": name, "value": v}))
            long = pd.concat(rows, ignore_index=True)
            return long.pivot_table(index=["item", "rep"], columns="figure", values="value", dropna=False, sort=True)[
                metrics.FIGURES
            ].reset_index()

        return self._cached(("per_rep", tau, cohort), compute)

    def backfill_summary(self) -> pd.DataFrame:
        """The donor's readiness gap per donor and item (see sim.metrics.backfill).

        `donations`, `qty` and `open_per_rep` are per replication; `open` is the total over all
        replications (see `df.attrs["counts"]`); gaps and shares are estimates over all replications.
        """
        return self._cached(
            "backfill", lambda: metrics.backfill_summary(self.observations(), self.reps, self.horizon_days)
        )


def _read_table(path: Path, kind: str) -> pd.DataFrame:
    """A table of an output directory as Results holds it: labels as categories sorted by name, lot ids nullable."""
    df = pd.read_parquet(path)
    if kind in ("deliveries", "events"):
        # The combined file is written through Arrow without pandas' metadata: an id column
        # with a missing value comes back float.
        df["lot_id"] = df["lot_id"].astype("Int64")
    for c in CATEGORIES & set(df.columns):
        col = df[c] if isinstance(df[c].dtype, pd.CategoricalDtype) else df[c].astype("category")
        df[c] = col.cat.reorder_categories(sorted(col.cat.categories, key=str))
    return df
