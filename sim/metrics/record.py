"""The scenario against its record: each `record:` target measured in every replication and scored.

Per target, one value per replication (sim.scenario.record_specs says what each kind counts).
A count of days to an event that has not happened by the horizon is censored: it enters as the
days to the horizon, a lower bound, and the row says how many replications were censored (their
mean is then a lower bound too, shown with ">="). Over replications: the mean with a Student-t
95% interval, the 10th and 90th percentiles (the spread of one history, which is what the record
is: one draw), and the share of replications consistent with the record. `met` judges the mean:
inside the band, or on the right side of a bound; with a point and no band, the interval must
hold the point. `circular` says the scenario was fitted to the same reports.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..stats import t_interval
from .ukraine import stockouts

COLUMNS = [
    "target",
    "kind",
    "unit",
    "record",
    "model_mean",
    "model_lo",
    "model_hi",
    "model_p10",
    "model_p90",
    "censored_reps",
    "share_consistent",
    "met",
    "source",
    "circular",
    "note",
]
UNITS = {"first_arrival": "days", "closed": "days", "value_shipped": "$M", "value_delivered": "$M"}


def _rows(deliveries: pd.DataFrame, target) -> pd.DataFrame:
    d = deliveries
    if target.requests:
        d = d[d["request_id"].isin(target.requests)]
    if target.items:
        d = d[d["item"].isin(target.items)]
    return d


def per_replication(results, target) -> tuple[np.ndarray, np.ndarray]:
    """(value, censored) in each replication 0..reps-1 of one target."""
    sc, reps, horizon = results.scenario, results.reps, results.horizon_days
    censored = np.zeros(reps, dtype=bool)
    if target.kind == "stockout_days":
        lo, hi = sc.day(target.from_), sc.day(target.by)
        s = stockouts(results.levels, horizon)
        s = s[s["item"] == target.items[0]]
        overlap = (np.minimum(s["end_day"], hi) - np.maximum(s["start_day"], lo)).clip(lower=0)
        out = np.zeros(reps)
        np.add.at(out, s["rep"].to_numpy(int), overlap.to_numpy(float))
        return out, censored
    d = _rows(results.deliveries, target)
    rep = d["rep"].to_numpy(int)
    if target.kind in ("value_shipped", "value_delivered"):
        cost = d["item"].map({k: v.unit_cost_musd for k, v in sc.items.items()}).to_numpy(float)
        when = d["shipped_day" if target.kind == "value_shipped" else "delivered_day"].to_numpy(float)
        by = sc.day(target.by)
        value = np.where(np.nan_to_num(when, nan=math.inf) <= by, d["qty"].to_numpy(float) * cost, 0.0)
        out = np.zeros(reps)
        np.add.at(out, rep, value)
        return out, censored
    t0 = sc.day(target.from_)
    delivered = d["delivered_day"].to_numpy(float)
    late = np.nan_to_num(delivered, nan=math.inf)  # never delivered: after the horizon
    out = np.full(reps, math.inf)
    if target.kind == "first_arrival":
        np.minimum.at(out, rep, late)
    else:  # closed: its last delivery; no row at all in a replication means nothing to close
        out = np.full(reps, -math.inf)
        np.maximum.at(out, rep, late)
        out[out == -math.inf] = math.inf
    censored = ~np.isfinite(out)
    return np.where(censored, horizon, out) - t0, censored


def _consistent(v: np.ndarray, target) -> np.ndarray:
    ok = np.ones(len(v), dtype=bool)
    if target.band is not None:
        ok &= (v >= target.band[0]) & (v <= target.band[1])
    if target.at_least is not None:
        ok &= v >= target.at_least
    if target.at_most is not None:
        ok &= v <= target.at_most
    if target.band is None and target.at_least is None and target.at_most is None:
        ok &= np.isclose(v, target.observed)
    return ok


def _stated(target, unit: str) -> str:
    parts = []
    if target.observed is not None:
        parts.append(f"{target.observed:g} {unit}")
    if target.band is not None:
        parts.append(f"band {target.band[0]:g}-{target.band[1]:g}")
    if target.at_least is not None:
        parts.append(f">= {target.at_least:g} {unit}")
    if target.at_most is not None:
        parts.append(f"<= {target.at_most:g} {unit}")
    return "; ".join(parts)


def score(results) -> pd.DataFrame:
    """One row per `record:` target of the results' scenario: the record, the model, and whether they match."""
    rows = []
    for name, target in results.scenario.record.items():
        v, censored = per_replication(results, target)
        unit = UNITS.get(target.kind, "days")
        mean, lo, hi = t_interval(v)
        p10, p90 = (float(np.percentile(v, q)) for q in (10, 90))
        if target.band is not None:
            met = target.band[0] <= mean <= target.band[1]
        elif target.at_least is not None or target.at_most is not None:
            met = (target.at_least is None or mean >= target.at_least) and (
                target.at_most is None or mean <= target.at_most
            )
        else:
            met = bool(lo <= target.observed <= hi)
        if censored.any() and target.at_most is not None:
            met = False  # a mean that is only a lower bound cannot show that an upper bound holds
        rows.append(
            (
                name,
                target.kind,
                unit,
                _stated(target, unit),
                mean,
                lo,
                hi,
                p10,
                p90,
                int(censored.sum()),
                float(_consistent(v, target).mean()),
                bool(met),
                target.source,
                target.circular,
                target.note,
            )
        )
    return pd.DataFrame(rows, columns=COLUMNS).set_index("target")
