"""Results of an ensemble: DataFrames with a `rep` column, and the summary statistics analysts read."""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .recorder import BACKFILL_COLUMNS, DELIVERY_COLUMNS, EVENT_COLUMNS, LEVEL_COLUMNS
from .scenario.schema import Scenario
from .stats import t_interval

CATEGORIES = {"item", "priority", "source", "donor", "route", "kind", "where", "series", "paid_by"}
STAT_COLUMNS = ["mean", "p50", "p90", "p95"]
COLUMNS = {"deliveries": DELIVERY_COLUMNS, "events": EVENT_COLUMNS, "levels": LEVEL_COLUMNS,
           "backfills": BACKFILL_COLUMNS}


def frame(kind: str, cols: dict, rep: int) -> pd.DataFrame:
    """One replication's table as a DataFrame with its `rep` column first."""
    df = pd.DataFrame(cols, columns=COLUMNS[kind])
    df.insert(0, "rep", np.full(len(df), rep, dtype=np.int32))
    return df


def _finish(kind: str, df: pd.DataFrame, start) -> pd.DataFrame:
    for c in df.columns:
        if c in CATEGORIES:
            df[c] = df[c].astype("category")
    if kind == "deliveries":
        df["latency_days"] = df["delivered_day"] - df["requested_day"]
        base = pd.Timestamp(start)
        for c in ("requested", "delivered"):
            df[f"{c}_date"] = base + pd.to_timedelta(df[f"{c}_day"], unit="D")
    if kind == "backfills":
        df["backfill_gap_days"] = df["backfilled_day"] - df["donated_day"]
        df["qty"] = df["qty"].astype("int64")
    return df


@dataclass
class Results:
    """What an ensemble produced: deliveries, backfills, events, levels (each with `rep`)."""

    scenario: Scenario
    seed: int
    reps: int
    deliveries: pd.DataFrame
    events: pd.DataFrame
    levels: pd.DataFrame
    backfills: pd.DataFrame
    _summary: pd.DataFrame | None = field(default=None, repr=False)

    @classmethod
    def from_frames(cls, scenario: Scenario, seed: int, reps: int, frames: dict[str, list[pd.DataFrame]]) -> "Results":
        """Concatenate per-replication frames (already in rep order)."""
        tables = {}
        for kind in COLUMNS:
            parts = frames.get(kind) or [frame(kind, {c: [] for c in COLUMNS[kind]}, 0)]
            df = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].reset_index(drop=True)
            tables[kind] = _finish(kind, df, scenario.start)
        return cls(scenario, seed, reps, **tables)

    @property
    def horizon_days(self) -> float:
        return self.scenario.horizon_days

    def summary(self) -> pd.DataFrame:
        """Latency per item and overall: counts, delivered share, and mean/p50/p90/p95 with 95% CIs.

        Latency is delivered_day - requested_day over delivered lots. Lots not delivered by the
        horizon are censored: counted in `undelivered`, never dropped, never given a latency.
        Each statistic is computed per replication; the figure is the mean over replications and
        `*_lo`/`*_hi` its t-interval (NaN with one replication).
        """
        if self._summary is None:
            self._summary = latency_summary(self.deliveries, self.reps)
        return self._summary

    def backfill_summary(self) -> pd.DataFrame:
        """Backfill gap per donor and item: donations, replaced share, mean gap with 95% CI, max gap.

        A donor not yet replaced at the horizon has a censored gap: counted in `open`, and its
        lower bound (horizon - donated_day) reported as `open_gap_min_days`.
        """
        return backfill_summary(self.backfills, self.reps, self.horizon_days)


def _per_rep_stats(lat: pd.DataFrame) -> pd.DataFrame:
    g = lat.groupby("rep")["latency_days"]
    out = pd.DataFrame({"mean": g.mean(), "p50": g.median(), "p90": g.quantile(0.9),
                        "p95": g.quantile(0.95), "max": g.max()})
    return out


def _summary_row(name, df: pd.DataFrame, reps: int) -> dict:
    delivered = df[df["delivered_day"].notna()]
    row = {"item": name, "lots": len(df) / reps, "qty": df["qty"].sum() / reps,
           "delivered_share": float(delivered["qty"].sum() / df["qty"].sum()) if len(df) else math.nan,
           "undelivered": int(df["delivered_day"].isna().sum())}
    per = _per_rep_stats(delivered).reindex(range(reps)) if len(delivered) else pd.DataFrame(
        {c: [math.nan] * reps for c in STAT_COLUMNS + ["max"]})
    for c in STAT_COLUMNS:
        m, lo, hi = t_interval(per[c].to_numpy())
        row[c], row[f"{c}_lo"], row[f"{c}_hi"] = m, lo, hi
    row["max"] = float(delivered["latency_days"].max()) if len(delivered) else math.nan
    return row


def latency_summary(deliveries: pd.DataFrame, reps: int) -> pd.DataFrame:
    """The summary table from a deliveries frame (see Results.summary)."""
    d = deliveries[deliveries["qty"] > 0]
    d = d.assign(rep=d["rep"].astype(int))
    reps = max(reps, 1)
    rows = [_summary_row(str(item), g, reps) for item, g in d.groupby("item", observed=True, sort=True)]
    rows.append(_summary_row("ALL", d, reps))
    return pd.DataFrame(rows).set_index("item")


def backfill_summary(backfills: pd.DataFrame, reps: int, horizon: float) -> pd.DataFrame:
    """The backfill table from a backfills frame (see Results.backfill_summary)."""
    cols = ["donor", "item", "donations", "qty", "replaced_share", "gap_mean", "gap_mean_lo",
            "gap_mean_hi", "gap_max", "open", "open_gap_min_days"]
    if backfills.empty:
        return pd.DataFrame(columns=cols).set_index(["donor", "item"])
    rows = []
    for (donor, item), g in backfills.groupby(["donor", "item"], observed=True, sort=True):
        done = g[g["backfilled_day"].notna()]
        per = done.groupby("rep")["backfill_gap_days"].mean().reindex(range(reps))
        m, lo, hi = t_interval(per.to_numpy())
        open_ = g[g["backfilled_day"].isna() & g["donated_day"].notna()]
        rows.append({"donor": donor, "item": item, "donations": len(g) / reps, "qty": g["qty"].sum() / reps,
                     "replaced_share": len(done) / len(g), "gap_mean": m, "gap_mean_lo": lo,
                     "gap_mean_hi": hi, "gap_max": float(done["backfill_gap_days"].max()) if len(done) else math.nan,
                     "open": len(open_),
                     "open_gap_min_days": float((horizon - open_["donated_day"]).min()) if len(open_) else math.nan})
    return pd.DataFrame(rows, columns=cols).set_index(["donor", "item"])
