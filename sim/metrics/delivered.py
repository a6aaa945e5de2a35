"""A secondary view, labelled "among delivered lots": latency of the lots delivered by the horizon, one count per lot.

Each statistic (mean, median, 90th and 95th percentile of the latency of delivered lots, all
requests) is computed within each replication; the figure is the mean of those values over the
replications with deliveries and its bracket the 95% Student-t interval across them. It leaves
out every lot still on its way, so where many are undelivered it understates the delay: the
headline (sim.metrics.headline) counts them.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..stats import t_interval
from .headline import ALL

STATS = ["mean", "p50", "p90", "p95"]
PER_REP_COLUMNS = ["item", "rep", "lots", "delivered_lots", "undelivered_lots", *STATS, "max"]
COLUMNS = [
    *[c for s in STATS for c in (f"delivered_{s}", f"delivered_{s}_lo", f"delivered_{s}_hi")],
    "delivered_max",
    "delivered_lots",
    "undelivered_lots",
    "reps_with_deliveries",
]


def per_rep(obs: pd.DataFrame) -> pd.DataFrame:
    """Per item (and ALL) and replication: lots, delivered and undelivered lots, latency statistics of the delivered."""
    if obs.empty:
        return pd.DataFrame(columns=PER_REP_COLUMNS)
    base = pd.DataFrame(
        {
            "item": obs["item"].astype(str).to_numpy(),
            "rep": obs["rep"].to_numpy(dtype=np.int64),
            "delivered": obs["delivered"].to_numpy(dtype=bool),
            "latency": obs["time"].to_numpy(),
        }
    )
    base["undelivered"] = (~base["delivered"]).astype(int)
    both = pd.concat([base, base.assign(item=ALL)], ignore_index=True)
    keys = ["item", "rep"]
    out = both.groupby(keys, sort=True).agg(
        lots=("latency", "size"), delivered_lots=("delivered", "sum"), undelivered_lots=("undelivered", "sum")
    )
    lat = both[both["delivered"]].groupby(keys, sort=True)["latency"]
    stats = pd.DataFrame(
        {"mean": lat.mean(), "p50": lat.median(), "p90": lat.quantile(0.9), "p95": lat.quantile(0.95), "max": lat.max()}
    )
    return out.join(stats).reset_index()[PER_REP_COLUMNS]


def summary(per: pd.DataFrame, reps: int) -> pd.DataFrame:
    """The delivered-only columns per item (and ALL) from per-replication figures of `reps` replications."""
    reps = max(int(reps), 1)
    rows = []
    for item, g in per.groupby("item", sort=True):
        row = {"item": item}
        for s in STATS:
            m, lo, hi = t_interval(g[s].to_numpy(dtype=float))
            row[f"delivered_{s}"], row[f"delivered_{s}_lo"], row[f"delivered_{s}_hi"] = m, lo, hi
        row["delivered_max"] = float(g["max"].max()) if g["max"].notna().any() else math.nan
        row["delivered_lots"] = float(g["delivered_lots"].sum()) / reps
        row["undelivered_lots"] = float(g["undelivered_lots"].sum()) / reps
        row["reps_with_deliveries"] = int(g["mean"].notna().sum())
        rows.append(row)
    return pd.DataFrame(rows, columns=["item", *COLUMNS]).set_index("item")
