"""Queues at nodes with handling: tonnes waiting over time, from the `node_queue:` level series.

A series is a step function: each point holds until the next one (the last point of a day
wins), the last until the horizon. Per replication, a node's mean queue is the time-weighted
mean of tonnes waiting over [0, horizon] (weighted by days), its peak the largest point. Figures
over replications are means with Student-t 95% intervals over replications (the independent
unit). Goods still waiting at the horizon are in the queue until its end, never dropped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..stats import t_interval
from ..vocabulary import NODE_QUEUE_SERIES

COLUMNS = ["mean_queue_t", "mean_queue_t_lo", "mean_queue_t_hi", "peak_queue_t", "peak_queue_t_max", "days_queued"]


def series_starting(levels: pd.DataFrame, prefix: str) -> pd.DataFrame:
    """The rows of `levels` whose series name starts with `prefix` (matched on the names, not the rows)."""
    col = levels["series"]
    names = col.cat.categories if isinstance(col.dtype, pd.CategoricalDtype) else pd.Index(col.unique())
    return levels[col.isin([n for n in names if str(n).startswith(prefix)])]


def per_rep(levels: pd.DataFrame, horizon: float) -> pd.DataFrame:
    """One row per (rep, node): mean_queue_t (time-weighted over the run), peak_queue_t, days_queued (> 0 t)."""
    mine = series_starting(levels, NODE_QUEUE_SERIES)
    # Each (rep, series) as one slice of arrays sorted by rep, then name, then recording order:
    # the same arrays, in the same order, that a groupby would hand out, without its overhead.
    names, code = np.unique(mine["series"].astype(object).to_numpy(), return_inverse=True)
    rep = mine["rep"].to_numpy(np.int64)
    order = np.lexsort((code, rep))
    rep, code = rep[order], code[order]
    days = np.minimum(mine["day"].to_numpy(float)[order], horizon)
    values = mine["value"].to_numpy(float)[order]
    cuts = np.flatnonzero((np.diff(rep) != 0) | (np.diff(code) != 0)) + 1
    rows = []
    for a, b in zip(np.r_[0, cuts], np.r_[cuts, len(rep)]) if len(rep) else ():
        day, value = days[a:b], values[a:b]
        length = np.diff(np.append(day, horizon))  # each point holds until the next, the last until the horizon
        rows.append(
            (
                int(rep[a]),
                str(names[code[a]])[len(NODE_QUEUE_SERIES) :],
                float((value * length).sum() / horizon) if horizon > 0 else float("nan"),
                float(value.max()),
                float(length[value > 1e-9].sum()),
            )
        )
    return pd.DataFrame(rows, columns=["rep", "node", "mean_queue_t", "peak_queue_t", "days_queued"])


def node_queues(levels: pd.DataFrame, reps: int, horizon: float) -> pd.DataFrame:
    """Per node with handling: mean tonnes waiting (t interval over replications), the mean and largest
    peak, and the mean days with goods waiting; one row per node, indexed by node."""
    per = per_rep(levels, horizon)
    out = {}
    for node, g in per.groupby("node", sort=True):
        mean, lo, hi = t_interval(g["mean_queue_t"])
        days = float(g["days_queued"].sum()) / reps
        out[node] = (mean, lo, hi, float(g["peak_queue_t"].sum()) / reps, float(g["peak_queue_t"].max()), days)
    return pd.DataFrame.from_dict(out, orient="index", columns=COLUMNS).rename_axis("node")
