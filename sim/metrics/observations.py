"""What the metrics count: one observation per lot (its units) and one per request, delivered or censored.

Every unit of goods requested is one observation of its time to delivery: delivered (an event at
`delivered_day - requested_day`) or still on its way at the horizon (right-censored at
`horizon - requested_day`). A lot carries `qty` units, so it is one row of weight `qty`; across
items a unit weighs its value (`qty x unit_cost_musd`). A request is closed when every one of
its lines has arrived; a group of items that only work together (`groups:` in the scenario, e.g.
a Patriot system = launchers + radar/control) is delivered, within a request, when all its
items' lots have arrived. Undelivered rows are never dropped.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..scenario.schema import Scenario

LOT_COLUMNS = ["rep", "item", "requested_day", "time", "delivered", "qty", "value"]
REQUEST_COLUMNS = ["rep", "what", "request_id", "requested_day", "time", "delivered", "value"]
REQUEST = "request"  # `what` of a whole request's closure (other values: the scenario's group names)


def lot_observations(deliveries: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """One row per lot with units (qty > 0): its time to delivery or to the horizon, and its weights."""
    d = deliveries.loc[deliveries["qty"] > 0]
    delivered = d["delivered_day"].notna().to_numpy()
    requested = d["requested_day"].to_numpy(dtype=np.float64)
    end = np.where(delivered, d["delivered_day"].to_numpy(dtype=np.float64), scenario.horizon_days)
    item = d["item"].astype(str).to_numpy()
    cost = np.array([scenario.items[i].unit_cost_musd if i in scenario.items else 0.0 for i in item])
    qty = d["qty"].to_numpy(dtype=np.float64)
    return pd.DataFrame(
        {
            "rep": d["rep"].to_numpy(dtype=np.int64),
            "item": item,
            "requested_day": requested,
            "time": end - requested,
            "delivered": delivered,
            "qty": qty,
            "value": qty * cost,
        },
        columns=LOT_COLUMNS,
    )


def request_observations(deliveries: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """One row per request (`what` = "request") and per (request, group it has lines of): time to close."""
    d = deliveries.loc[deliveries["qty"] > 0]
    item = d["item"].astype(str)
    base = pd.DataFrame(
        {
            "rep": d["rep"].to_numpy(dtype=np.int64),
            "request_id": d["request_id"].astype(str).to_numpy(),
            "item": item.to_numpy(),
            "requested_day": d["requested_day"].to_numpy(dtype=np.float64),
            # an undelivered lot keeps its request (and group) open: +inf until the horizon
            "end": d["delivered_day"].fillna(np.inf).to_numpy(dtype=np.float64),
            "value": d["qty"].to_numpy(dtype=np.float64)
            * np.array([scenario.items[i].unit_cost_musd if i in scenario.items else 0.0 for i in item]),
        }
    )
    frames = [base.assign(what=REQUEST)]
    for group, members in scenario.groups.items():
        frames.append(base[base["item"].isin(members)].assign(what=group))
    both = pd.concat(frames, ignore_index=True)
    if both.empty:
        return pd.DataFrame(columns=REQUEST_COLUMNS)
    g = both.groupby(["rep", "what", "request_id"], sort=True)
    out = g.agg(requested_day=("requested_day", "min"), end=("end", "max"), value=("value", "sum")).reset_index()
    closed = np.isfinite(out["end"].to_numpy())
    end = np.where(closed, out["end"].to_numpy(), scenario.horizon_days)
    out["time"] = end - out["requested_day"].to_numpy()
    out["delivered"] = closed
    return out[REQUEST_COLUMNS]
