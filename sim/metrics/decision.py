"""Figures the decision methods read: one headline figure per replication, and the risk of missing a date.

Ranking, sensitivity and optimisation need one number per replication (the replication is the
independent unit, and replication r of every policy shares its random numbers): the headline
figure of that replication's own Kaplan-Meier curve (`per_replication`, the identity rows of
sim.metrics.survival). Their mean over replications is not the pooled estimate of the headline
table (a pooled curve weighs replications by their quantity), but it ranks the same way and is
what a sequential procedure can update one replication at a time.

P(closed by its date): a package with `required_by` is closed in time in a replication when all
its lines have arrived by that date (arriving after it, or not by the horizon, is a miss; a
date beyond the horizon that is not reached is also a miss). Over n replications, k successes
give k/n with the exact (Clopper-Pearson) interval: beta quantiles, conservative at any n.

P(any stockout day): an item Ukraine keeps (its `ukraine:` stock) has a stockout in a window of a
replication when its stock is at zero for some time inside [from, to) (sim.metrics.ukraine's
spells; a spell still open at the horizon counts up to it). Per replication a 0/1 figure
(`STOCKOUT`, lower is better: the decision methods can rank and screen on it); over n
replications k/n with its exact interval, as above.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from . import headline as hl
from . import ukraine
from .observations import REQUEST

FINITE = ("rmst", "delivered_share", *hl.SHARE_DAYS)  # figures finite in every replication
HIGHER_IS_BETTER = ("delivered_share", *hl.SHARE_DAYS)
STOCKOUT = "p_stockout"  # any stockout day of an item Ukraine keeps, in a window: 0/1 per replication
FIGURES = (*FINITE, STOCKOUT)  # what the decision methods may read, one value per replication
STOCKOUT_COLUMNS = [
    "item",
    "from_day",
    "to_day",
    "reps",
    "with_stockout",
    "p_stockout",
    "p_stockout_lo",
    "p_stockout_hi",
]
DATE_COLUMNS = ["request_id", "required_day", "reps", "closed_in_time", "p_closed", "p_closed_lo", "p_closed_hi"]


def per_replication(
    lots: pd.DataFrame,
    reps: int,
    tau: float,
    window: tuple[float, float],
    figure: str = hl.HEADLINE,
    group: str = hl.ALL,
) -> np.ndarray:
    """One figure of one group (an item, or ALL by value) in each replication 0..reps-1 (NaN where it has no units)."""
    if figure not in FINITE:
        raise ValueError(f"{figure}: per replication only {', '.join(FINITE)} (quantiles may be infinite)")
    est = hl.estimate(lots, reps, tau, window, counts=np.eye(reps))
    if group not in est.groups:
        return np.full(reps, math.nan)
    return np.asarray(hl.values(est.groups[group], figure), dtype=np.float64)


def clopper_pearson(k: int, n: int, level: float = hl.LEVEL) -> tuple[float, float]:
    """Exact two-sided interval of a binomial proportion with k successes in n trials."""
    from scipy.stats import beta

    if n <= 0:
        return math.nan, math.nan
    a = (1.0 - level) / 2.0
    lo = 0.0 if k == 0 else float(beta.ppf(a, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1.0 - a, k + 1, n - k))
    return lo, hi


def required_days(scenario) -> dict[str, float]:
    """Each package's required date, in days from the scenario's start (packages without one left out)."""
    return {p.id: scenario.day(p.required_by) for p in scenario.requests.packages if p.required_by is not None}


def closed_by_date(requests: pd.DataFrame, reps: int, scenario, level: float = hl.LEVEL) -> pd.DataFrame:
    """Per package with a required date: in how many of `reps` replications it closed by it, P and its exact CI."""
    due = required_days(scenario)
    r = requests.loc[(requests["what"] == REQUEST) & requests["request_id"].isin(list(due))]
    rows = []
    for rid, day in due.items():
        g = r.loc[r["request_id"] == rid]
        closed_day = g["requested_day"].to_numpy() + g["time"].to_numpy()
        k = int(np.sum(g["delivered"].to_numpy(dtype=bool) & (closed_day <= day + 1e-9)))
        lo, hi = clopper_pearson(k, reps, level)
        rows.append([rid, day, reps, k, k / reps if reps else math.nan, lo, hi])
    return pd.DataFrame(rows, columns=DATE_COLUMNS)


def stockout_per_replication(
    levels: pd.DataFrame, reps: int, item: str, window: tuple[float, float], horizon: float
) -> np.ndarray:
    """1.0 in each replication 0..reps-1 where `item`'s stock in Ukraine is at zero some time in [from, to), else 0.0."""
    days = ukraine.days_at_zero_per_rep(ukraine.stockouts(levels, horizon), reps, item, window)
    return (days > 0).astype(np.float64)


def stockout_risk(
    levels: pd.DataFrame, reps: int, scenario, window: tuple[float, float] | None = None, level: float = hl.LEVEL
) -> pd.DataFrame:
    """Per item Ukraine keeps: replications with a stockout day in `window` (default the run), P and its exact CI."""
    lo_day, hi_day = window if window is not None else (0.0, scenario.horizon_days)
    rows = []
    for item in scenario.ukraine.items:
        k = int(stockout_per_replication(levels, reps, item, (lo_day, hi_day), scenario.horizon_days).sum())
        lo, hi = clopper_pearson(k, reps, level)
        rows.append([item, lo_day, hi_day, reps, k, k / reps if reps else math.nan, lo, hi])
    return pd.DataFrame(rows, columns=STOCKOUT_COLUMNS)
