"""Results of an ensemble: DataFrames with a `rep` column, and the summary statistics analysts read."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from .recorder import BACKFILL_COLUMNS, DELIVERY_COLUMNS, EVENT_COLUMNS, LEVEL_COLUMNS, Labels, labels, whole_units
from .scenario.schema import Scenario
from .stats import t_interval

CATEGORIES = {"item", "priority", "source", "donor", "route", "kind", "where", "series", "paid_by"}
STAT_COLUMNS = ["mean", "p50", "p90", "p95"]
COLUMNS = {"deliveries": DELIVERY_COLUMNS, "events": EVENT_COLUMNS, "levels": LEVEL_COLUMNS,
           "backfills": BACKFILL_COLUMNS}


INT_COLUMNS = {"lot_id", "qty"}
TEXT_COLUMNS = {"request_id"}


def _column(name: str, pieces: list):
    """One typed array from the pieces of a column (one per replication): categories for
    repeated labels, Arrow strings for request ids, numpy for numbers."""
    if name in CATEGORIES:
        return _categorical(pieces)
    if name in TEXT_COLUMNS:
        return _text(pieces)
    if name in INT_COLUMNS:
        return whole_units(_joined(pieces))
    return _joined(pieces, np.float64)


def _joined(pieces: list, dtype=None) -> np.ndarray:
    # Empty pieces are left out: an empty list is float64 to numpy and would turn ints float.
    arrays = [np.asarray(p, dtype=dtype) for p in pieces if len(p)]
    if not arrays:
        return np.empty(0, dtype=dtype or np.int64)
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


def _categorical(pieces: list) -> pd.Categorical:
    """The pieces' labels as one Categorical: each piece factorized once, its codes mapped onto the union."""
    index: dict = {}
    codes = []
    for piece in pieces:
        if not len(piece):
            continue
        lab = piece if isinstance(piece, Labels) else labels(piece)
        onto = np.fromiter((index.setdefault(u, len(index)) for u in lab.uniques), dtype=np.int64,
                           count=len(lab.uniques))
        codes.append(onto[lab.codes])  # labels are never missing, so there is no -1 code
    joined = np.concatenate(codes) if codes else np.empty(0, dtype=np.int64)
    # Categories sorted here, as _finish wants them, at the cost of a small relabelling.
    names = sorted(index, key=str)
    rank = np.empty(len(names), dtype=np.int64)
    rank[[index[n] for n in names]] = np.arange(len(names))
    return pd.Categorical.from_codes(rank[joined] if len(joined) else joined, np.asarray(names, dtype=object))


TEXT = pd.array([], dtype="str").dtype
if not isinstance(TEXT, pd.StringDtype):  # pandas 2: "str" is numpy's fixed-width unicode, which truncated ids to 'p'
    TEXT = pd.StringDtype()


def _text(pieces: list):
    """Distinct labels (request ids) as pandas' `str` dtype, always.

    An explicit dtype: left to inference, an empty replication's column would come out as object
    and turn the whole column object when concatenated with the others. With Arrow storage the
    Arrow array is built directly from the values, twice as fast as through pd.array.
    """
    values = [v for p in pieces for v in p] if len(pieces) != 1 else pieces[0]
    if getattr(TEXT, "storage", None) == "pyarrow":  # pandas 3; older pandas has no Arrow-backed "str"
        return pd.arrays.ArrowStringArray(pa.array(values, type=pa.large_string()), dtype=TEXT)
    return pd.array(np.asarray(values, dtype=object), dtype=TEXT)


def table(kind: str, parts: list[tuple[int, dict]]) -> pd.DataFrame:
    """The table `kind` of replications [(rep, its columns), ...] as one DataFrame, `rep` first.

    Built once per chunk of replications, not once per replication: for small replications the
    pandas overhead of a DataFrame and its categoricals is most of the cost.
    """
    names = COLUMNS[kind]
    sizes = [len(cols[names[0]]) for _, cols in parts]
    data = {"rep": np.repeat(np.asarray([rep for rep, _ in parts], dtype=np.int32), sizes)}
    for c in names:
        data[c] = _column(c, [cols[c] for _, cols in parts])
    if kind == "events":
        data["qty"] = data["qty"].astype(np.float64)  # quantities and amounts of money: always float
    return pd.DataFrame(data)


def _finish(kind: str, df: pd.DataFrame, start) -> pd.DataFrame:
    for c in df.columns:
        if c in CATEGORIES:
            # Sorted categories: the same table whatever the chunking (concat order) or executor.
            # A chunk's table has them sorted already; a concat may not, or may have lost the
            # categorical dtype altogether (categories differing between chunks).
            col = df[c]
            cat = col if isinstance(col.dtype, pd.CategoricalDtype) else col.astype("category")
            names = list(cat.cat.categories)
            ordered = sorted(names, key=str)
            if names != ordered:
                df[c] = cat.cat.reorder_categories(ordered)
            elif cat is not col:
                df[c] = cat
    if kind == "deliveries":
        df["latency_days"] = df["delivered_day"] - df["requested_day"]
        base = pd.Timestamp(start)
        for c in ("requested", "delivered"):
            # One resolution always: pandas picks ns or us from the values (all-NaN gives us).
            df[f"{c}_date"] = (base + pd.to_timedelta(df[f"{c}_day"], unit="D")).astype("datetime64[ns]")
    if kind == "backfills":
        # Days the donor was short of what it gave: zero if the replacement came before the hand-over.
        df["backfill_gap_days"] = (df["backfilled_day"] - df["donated_day"]).clip(lower=0.0)
        df["qty"] = df["qty"].astype("int64")
    return df


# Stage events derived from the deliveries table: (kind, day column, request-level?, `where` column).
STAGES = [("requested", "requested_day", True, None), ("approved", "approved_day", True, None),
          ("funded", "funded_day", True, None), ("ready", "ready_day", False, "source"),
          ("shipped", "shipped_day", False, "route"), ("delivered", "delivered_day", False, "route")]


def with_stage_events(events: pd.DataFrame, deliveries: pd.DataFrame) -> pd.DataFrame:
    """The event log plus one event per request stage and lot stage, built from `deliveries` columns."""
    parts = [events]
    for kind, col, per_request, where in STAGES:
        d = deliveries[deliveries[col].notna()]
        if per_request:
            d = d.drop_duplicates(["rep", "request_id"])
        n = len(d)
        parts.append(pd.DataFrame({
            "rep": d["rep"].to_numpy(), "day": d[col].to_numpy(), "kind": np.full(n, kind, dtype=object),
            "request_id": d["request_id"].to_numpy(dtype=object),
            "lot_id": (np.full(n, -1) if per_request else d["lot_id"].to_numpy()),
            # A request-level stage covers all its lines: no single item or quantity.
            "item": (np.full(n, "", dtype=object) if per_request else d["item"].astype(object).to_numpy()),
            "qty": (np.full(n, np.nan) if per_request else d["qty"].to_numpy(dtype=float)),
            "where": (np.full(n, "", dtype=object) if where is None else d[where].astype(object).to_numpy()),
        }))
    out = pd.concat([p.astype({c: object for c in CATEGORIES & set(p.columns)}) for p in parts], ignore_index=True)
    out = out.sort_values(["rep", "day"], kind="stable", ignore_index=True)
    for c in CATEGORIES & set(out.columns):
        out[c] = out[c].astype("category")
    return out


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
    _summary: pd.DataFrame | None = field(default=None, repr=False)
    _events: pd.DataFrame | None = field(default=None, repr=False)
    _per_rep: pd.DataFrame | None = field(default=None, repr=False)
    _backfill_summary: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def events(self) -> pd.DataFrame:
        """The long event log: `event_log` plus every request and lot stage, by replication and day.

        Stage events are derived from the deliveries columns on first use (and cached), so runs
        that never look at them never pay for them.
        """
        if self._events is None:
            self._events = with_stage_events(self.event_log, self.deliveries)
        return self._events

    @classmethod
    def from_frames(cls, scenario: Scenario, seed: int, reps: int, frames: dict[str, list[pd.DataFrame]]) -> "Results":
        """Concatenate per-replication frames (already in rep order)."""
        tables = {}
        for kind in COLUMNS:
            parts = frames.get(kind) or [table(kind, [])]
            df = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
            tables[kind] = _finish(kind, df, scenario.start)
        tables["event_log"] = tables.pop("events")
        return cls(scenario, seed, reps, **tables)

    @property
    def horizon_days(self) -> float:
        return self.scenario.horizon_days

    @property
    def plot(self):
        """Plots of these results as `results.plot.NAME()` (see sim.plots)."""
        from .plots import PlotAccessor
        return PlotAccessor(self)

    def summary(self) -> pd.DataFrame:
        """Latency per item and overall (`ALL`) across replications, with 95% CIs (method: `latency_summary`)."""
        if self._summary is None:
            self._summary = summarize_latency(self.per_rep(), self.reps)  # = latency_summary(deliveries, reps)
        return self._summary

    def per_rep(self) -> pd.DataFrame:
        """Each replication's latency figures per item and overall (what summary and compare reduce)."""
        if self._per_rep is None:
            self._per_rep = per_rep_latency(self.deliveries)
        return self._per_rep

    def backfill_summary(self) -> pd.DataFrame:
        """Backfill gap per donor and item across replications (see `backfill_summary`)."""
        if self._backfill_summary is None:
            self._backfill_summary = backfill_summary(self.backfills, self.reps, self.horizon_days)
        return self._backfill_summary


# --- summary statistics: per replication first, then across replications ---------------------
# Every figure is reduced in two steps, (1) within each replication, (2) across replications, so
# an ensemble streamed chunk by chunk keeps only step (1)'s small tables and gets the same numbers.

SUMMARY_METHOD = (
    "Each statistic (mean, median p50, 90th and 95th percentile of lot latency) is computed within "
    "each replication; the figure is the mean of those values over replications and its bracket the "
    "95% Student-t interval across replications (replications are independent, so the interval is "
    "valid for percentiles as for means; p90/p95 estimate the expected within-replication percentile).")
CENSORING_NOTE = (
    "latency_days = delivered_day - requested_day over delivered lots only. Lots undelivered at the "
    "horizon are censored: counted in 'undelivered' (total) and 'undelivered_per_rep', never dropped, "
    "never given a latency; where many are undelivered the latency figures understate the delay.")
PER_REP_COLUMNS = ["item", "rep", "lots", "qty", "delivered_qty", "undelivered", *STAT_COLUMNS, "max"]
PER_REP_BACKFILL_COLUMNS = ["donor", "item", "rep", "donations", "qty", "replaced", "open",
                            "gap_mean", "gap_max", "last_open_donated_day"]
ALL = "ALL"


def per_rep_latency(deliveries: pd.DataFrame) -> pd.DataFrame:
    """Per item (and `ALL`) and replication: lots, quantities, undelivered lots, latency statistics."""
    d = deliveries.loc[deliveries["qty"] > 0]
    if d.empty:
        return pd.DataFrame(columns=PER_REP_COLUMNS)
    delivered = d["delivered_day"].notna().to_numpy()
    qty = d["qty"].to_numpy()
    base = pd.DataFrame({"item": d["item"].astype(str).to_numpy(), "rep": d["rep"].astype(int).to_numpy(),
                         "qty": qty, "delivered_qty": np.where(delivered, qty, 0),
                         "undelivered": (~delivered).astype(int), "delivered": delivered,
                         "latency": d["latency_days"].to_numpy()})
    both = pd.concat([base, base.assign(item=ALL)], ignore_index=True)
    keys = ["item", "rep"]
    out = both.groupby(keys, sort=True).agg(lots=("qty", "size"), qty=("qty", "sum"),
                                            delivered_qty=("delivered_qty", "sum"),
                                            undelivered=("undelivered", "sum"))
    lat = both[both["delivered"]].groupby(keys, sort=True)["latency"]
    stats = pd.DataFrame({"mean": lat.mean(), "p50": lat.median(), "p90": lat.quantile(0.9),
                          "p95": lat.quantile(0.95), "max": lat.max()})
    return out.join(stats).reset_index()[PER_REP_COLUMNS]


def summarize_latency(per_rep: pd.DataFrame, reps: int) -> pd.DataFrame:
    """The summary table (see `latency_summary`) from per-replication figures of `reps` replications."""
    reps = max(int(reps), 1)
    items = sorted(set(per_rep["item"]) - {ALL}) + [ALL]
    rows = []
    for item in items:
        g = per_rep[per_rep["item"] == item]
        qty = float(g["qty"].sum())
        row = {"item": item, "lots": float(g["lots"].sum()) / reps, "qty": qty / reps,
               "delivered_share": float(g["delivered_qty"].sum()) / qty if qty else math.nan,
               "undelivered": int(g["undelivered"].sum())}
        for c in STAT_COLUMNS:
            m, lo, hi = t_interval(g[c].to_numpy(dtype=float))
            row[c], row[f"{c}_lo"], row[f"{c}_hi"] = m, lo, hi
        row["max"] = float(g["max"].max()) if g["max"].notna().any() else math.nan
        row["undelivered_per_rep"] = row["undelivered"] / reps
        row["reps_with_deliveries"] = int(g["mean"].notna().sum())
        rows.append(row)
    return pd.DataFrame(rows).set_index("item")


def latency_summary(deliveries: pd.DataFrame, reps: int) -> pd.DataFrame:
    """Latency per item and overall (`ALL`): lots and qty per replication, delivered share, mean/p50/p90/p95 with 95% CIs.

    Method: each statistic is computed within each replication over its delivered lots; the figure
    is the mean over replications and `*_lo`/`*_hi` its Student-t 95% interval across
    replications (NaN with fewer than two). Replications are independent and identically
    distributed, so the interval is valid for the percentiles too: p90 estimates the expected
    90th percentile of one replication's lot latencies. Every replication counts equally.
    Censoring: latency_days = delivered_day - requested_day over delivered lots; lots not
    delivered by the horizon are counted in `undelivered` (total over replications) and
    `undelivered_per_rep`, never dropped and never given a latency; `delivered_share` is by quantity.
    """
    return summarize_latency(per_rep_latency(deliveries), reps)


def per_rep_backfill(backfills: pd.DataFrame) -> pd.DataFrame:
    """Per donor, item and replication: donations, replaced and open counts, gap mean and max."""
    if backfills.empty:
        return pd.DataFrame(columns=PER_REP_BACKFILL_COLUMNS)
    done = backfills["backfilled_day"].notna().to_numpy()
    open_ = ~done & backfills["donated_day"].notna().to_numpy()
    b = pd.DataFrame({"donor": backfills["donor"].astype(str).to_numpy(),
                      "item": backfills["item"].astype(str).to_numpy(),
                      "rep": backfills["rep"].astype(int).to_numpy(), "qty": backfills["qty"].to_numpy(),
                      "replaced": done.astype(int), "open": open_.astype(int),
                      "gap": backfills["backfill_gap_days"].to_numpy(),
                      "donated": backfills["donated_day"].to_numpy()})
    keys = ["donor", "item", "rep"]
    out = b.groupby(keys, sort=True).agg(donations=("qty", "size"), qty=("qty", "sum"),
                                         replaced=("replaced", "sum"), open=("open", "sum"))
    gaps = b[done].groupby(keys, sort=True)["gap"]
    out = out.join(pd.DataFrame({"gap_mean": gaps.mean(), "gap_max": gaps.max()}))
    out = out.join(b[open_].groupby(keys, sort=True)["donated"].max().rename("last_open_donated_day"))
    return out.reset_index()[PER_REP_BACKFILL_COLUMNS]


BACKFILL_SUMMARY_COLUMNS = ["donor", "item", "donations", "qty", "replaced_share", "gap_mean", "gap_mean_lo",
                            "gap_mean_hi", "gap_max", "open", "open_gap_min_days", "open_per_rep"]


def summarize_backfill(per_rep: pd.DataFrame, reps: int, horizon: float) -> pd.DataFrame:
    """The backfill table (see `backfill_summary`) from per-replication figures."""
    reps = max(int(reps), 1)
    if per_rep.empty:
        return pd.DataFrame(columns=BACKFILL_SUMMARY_COLUMNS).set_index(["donor", "item"])
    rows = []
    for (donor, item), g in per_rep.groupby(["donor", "item"], sort=True):
        m, lo, hi = t_interval(g["gap_mean"].to_numpy(dtype=float))
        last_open = g["last_open_donated_day"].max()
        rows.append({"donor": donor, "item": item, "donations": float(g["donations"].sum()) / reps,
                     "qty": float(g["qty"].sum()) / reps,
                     "replaced_share": float(g["replaced"].sum()) / float(g["donations"].sum()),
                     "gap_mean": m, "gap_mean_lo": lo, "gap_mean_hi": hi,
                     "gap_max": float(g["gap_max"].max()) if g["gap_max"].notna().any() else math.nan,
                     "open": int(g["open"].sum()),
                     "open_gap_min_days": float(horizon - last_open) if last_open == last_open else math.nan,
                     "open_per_rep": float(g["open"].sum()) / reps})
    return pd.DataFrame(rows, columns=BACKFILL_SUMMARY_COLUMNS).set_index(["donor", "item"])


def backfill_summary(backfills: pd.DataFrame, reps: int, horizon: float) -> pd.DataFrame:
    """Backfill gap per donor and item: donations, replaced share, mean gap with 95% CI, max gap.

    The gap mean is computed per replication over replaced donations, then averaged with a
    t-interval across replications. A donation not yet replaced at the horizon has a censored gap:
    counted in `open`, and the smallest such lower bound (horizon - donated_day) reported as
    `open_gap_min_days`.
    """
    return summarize_backfill(per_rep_backfill(backfills), reps, horizon)
