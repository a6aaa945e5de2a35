"""Where the time goes: quantity-weighted mean days per phase over every lot, delivered or not, with an interval across replications."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..recorder import PHASE_COLUMNS
from ..recorder import PHASES as _PHASES
from ..stats import t_interval

PHASES = list(_PHASES)  # a list: a tuple of names would index one column


def phase_means(results) -> dict[str, pd.DataFrame]:
    """Quantity-weighted mean days per phase over every lot, delivered or not, per item and 'ALL'.

    Returns {"all": days per phase, "undelivered": the part of those days spent by lots still
    undelivered at the horizon (their sum over qty, divided by the qty of all lots), "share":
    the undelivered share of quantity and the 95% interval across replications of the total
    (columns share, total_lo, total_hi)}, each indexed by item. Every row's phases add up to its
    time in system (to the horizon when undelivered), so the phases of an item add up to its
    quantity-weighted mean time in system. Each figure is computed within a replication, then
    averaged over replications.
    """
    d = results.deliveries
    d = d[d["qty"] > 0]
    qty = d["qty"].to_numpy(dtype=float)
    open_ = d["delivered_day"].isna().to_numpy()
    days = d[PHASE_COLUMNS].to_numpy(dtype=float) * qty[:, None]
    frame = pd.DataFrame(
        np.hstack([days, days * open_[:, None], np.column_stack([qty, qty * open_])]),
        columns=[*PHASES, *(f"open:{p}" for p in PHASES), "qty", "open_qty"],
        index=d.index,
    )
    frame["rep"] = d["rep"].astype(int).to_numpy()
    frame["item"] = d["item"].astype(str).to_numpy()
    rows = {}
    for item, g in list(frame.groupby("item", sort=True)) + [("ALL", frame)]:
        per_rep = g.drop(columns="item").groupby("rep").sum()
        per_rep = per_rep.div(per_rep["qty"], axis=0)
        rows[item] = per_rep.mean()
        _, rows[item]["total_lo"], rows[item]["total_hi"] = t_interval(per_rep[PHASES].sum(axis=1))
    out = pd.DataFrame.from_dict(rows, orient="index").rename_axis("item")
    if out.empty:
        out = pd.DataFrame(
            columns=[*frame.columns.drop(["rep", "item"]), "total_lo", "total_hi"], dtype=float
        ).rename_axis("item")
    undelivered = out[[f"open:{p}" for p in PHASES]].set_axis(PHASES, axis=1)
    share = out[["open_qty", "total_lo", "total_hi"]].rename(columns={"open_qty": "share"})
    return {"all": out[PHASES], "undelivered": undelivered, "share": share}
