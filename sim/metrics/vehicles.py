"""Vehicle use on legs with vehicles: sorties or vehicles per replication, and their load factors.

Read from the level points each vehicle that leaves with goods writes (`vehicle_t:LEG`,
`vehicle_space:LEG`, see sim.model.vehicles): a vehicle that stays home for want of goods is
no point, so load factors are over vehicles that left, weighted by vehicle (each counts once).
Counts per replication are means with Student-t 95% intervals over replications.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..stats import t_interval
from .nodes import series_starting

COLUMNS = [
    "vehicle",
    "mode",
    "payload_t",
    "space_limit",
    "vehicles_per_rep",
    "vehicles_per_rep_lo",
    "vehicles_per_rep_hi",
    "tonnes_per_rep",
    "tonnes_per_vehicle",
    "weight_factor",
    "space_factor",
]


def vehicle_use(levels: pd.DataFrame, scenario, reps: int) -> pd.DataFrame:
    """One row per leg with vehicles: vehicles (sorties) that left per replication, tonnes, load factors.

    `weight_factor`: mean tonnes per vehicle / payload; `space_factor`: mean space filled / the
    vehicle's first space limit (positions, else deck m2; NaN without one).
    """
    rows = {}
    mine = series_starting(levels, "vehicle_")
    by_series = {str(name): g for name, g in mine.groupby("series", observed=True, sort=False)}
    empty = mine.iloc[:0]
    for lid, leg in scenario.transport.legs.items():
        v = leg.vehicles
        if v is None:
            continue
        t = by_series.get(f"vehicle_t:{lid}", empty)
        s = by_series.get(f"vehicle_space:{lid}", empty)
        per_rep = t.groupby("rep").size().reindex(range(reps), fill_value=0).to_numpy(float)
        mean, lo, hi = t_interval(per_rep)
        limits = v.limits()
        limit = limits[0][1] if limits else np.nan
        mean_t = float(t["value"].mean()) if len(t) else np.nan
        mean_s = float(s["value"].mean()) if len(s) else np.nan
        rows[lid] = [
            v.name or lid,
            leg.mode,
            v.payload_t,
            limit,
            mean,
            lo,
            hi,
            float(t["value"].sum()) / reps if reps else np.nan,
            mean_t,
            mean_t / v.payload_t,
            mean_s / limit if limits else np.nan,
        ]
    out = pd.DataFrame.from_dict(rows, orient="index", columns=COLUMNS)
    out.index.name = "leg"
    return out
