"""Ukraine's side: stockout spells, days at zero, the share of use met, from the `ukraine:` level series.

A spell starts where an item's stock reaches zero and ends at the next delivery (a point above
zero); a spell still open at the horizon is censored there (`ongoing`). Days at zero in a window
are the spells' overlap with it. Figures over replications are means, with Student-t 95%
intervals over replications (the independent unit); probabilities of any stockout in a window
have exact Clopper-Pearson intervals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..stats import t_interval
from ..vocabulary import UKRAINE_SERIES, UKRAINE_UNMET_SERIES

SPELL_COLUMNS = ["rep", "item", "start_day", "end_day", "days", "ongoing"]


def stockouts(levels: pd.DataFrame, horizon: float) -> pd.DataFrame:
    """One row per stockout spell: rep, item, start_day, end_day, days, ongoing (censored at the horizon)."""
    series = levels["series"].astype(str)
    mine = levels[series.str.startswith(UKRAINE_SERIES)]
    rows = []
    for (rep, name), g in mine.groupby(["rep", mine["series"].astype(str)], sort=True):
        item = name[len(UKRAINE_SERIES) :]
        start = None
        for day, value in zip(g["day"].to_numpy(float), g["value"].to_numpy(float)):
            if value <= 1e-9 and start is None:
                start = day
            elif value > 1e-9 and start is not None:
                if day > start:
                    rows.append((rep, item, start, day, day - start, False))
                start = None
        if start is not None and horizon > start:
            rows.append((rep, item, start, horizon, horizon - start, True))
    return pd.DataFrame(rows, columns=SPELL_COLUMNS)


def days_at_zero_per_rep(spells: pd.DataFrame, reps: int, item: str, window: tuple[float, float]) -> np.ndarray:
    """Days at zero of `item` in [from, to) in each replication 0..reps-1 (the spells' overlap with the window)."""
    lo, hi = window
    s = spells[spells["item"] == item]
    overlap = (np.minimum(s["end_day"], hi) - np.maximum(s["start_day"], lo)).clip(lower=0)
    per_rep = np.zeros(reps)
    np.add.at(per_rep, s["rep"].to_numpy(int), overlap.to_numpy(float))
    return per_rep


def days_at_zero(spells: pd.DataFrame, reps: int, items, window: tuple[float, float]) -> pd.DataFrame:
    """Per item: mean days at zero in [from, to) over replications (t interval), and P(any stockout day) (exact)."""
    from scipy.special import betaincinv  # the beta quantile (scipy.stats would slow every start-up)

    out = []
    for item in items:
        per_rep = days_at_zero_per_rep(spells, reps, item, window)
        mean, m_lo, m_hi = t_interval(per_rep)
        k = int((per_rep > 0).sum())
        p_lo = 0.0 if k == 0 else float(betaincinv(k, reps - k + 1, 0.025))  # Clopper-Pearson
        p_hi = 1.0 if k == reps else float(betaincinv(k + 1, reps - k, 0.975))
        out.append((item, mean, m_lo, m_hi, k / reps, p_lo, p_hi))
    cols = [
        "item",
        "days_at_zero",
        "days_at_zero_lo",
        "days_at_zero_hi",
        "p_stockout",
        "p_stockout_lo",
        "p_stockout_hi",
    ]
    return pd.DataFrame(out, columns=cols).set_index("item")


def use_met(levels: pd.DataFrame, reps: int, use_total: dict[str, float]) -> pd.DataFrame:
    """Per item: the share of Ukraine's use over the run that was met (mean over replications, t interval)."""
    series = levels["series"].astype(str)
    out = []
    for item, total in use_total.items():
        g = levels[series == UKRAINE_UNMET_SERIES + item]
        unmet = g.groupby("rep")["value"].last().reindex(range(reps), fill_value=0.0).to_numpy(float)
        share = 1.0 - unmet / total if total > 0 else np.ones(reps)
        mean, lo, hi = t_interval(share)
        out.append((item, mean, lo, hi))
    return pd.DataFrame(out, columns=["item", "use_met", "use_met_lo", "use_met_hi"]).set_index("item")


def use_over(scenario, t0: float, t1: float) -> dict[str, float]:
    """Units of each item Ukraine would use over [t0, t1) by its scenario rates (met or not)."""
    out = {}
    for item, use in scenario.ukraine.items.items():
        total = use.per_day * (t1 - t0)
        for s in use.surges:
            a, b = max(t0, scenario.day(s.start)), min(t1, scenario.day(s.end))
            total += s.per_day * max(0.0, b - a)
        out[item] = total
    return out
