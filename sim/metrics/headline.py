"""The headline: time to delivery counting every unit, as censoring-aware, weighted estimates with intervals.

Per item (units weigh one each) and across items (`ALL`, units weigh their value), over the
*cohort* of requests made at least tau days before the horizon (so every unit in it could be
followed for tau days), the Kaplan-Meier estimate of the time to delivery pooled over
replications gives:
- `ttd_p50`, `ttd_p90`: median and 90th percentile time to delivery in days; `inf` when the
  curve does not fall that far before it ends (`followup_days`: tables print `> N d`);
- `rmst`: restricted mean time to delivery up to `rmst_tau` days (the area under the curve up to
  tau: a unit delivered after tau, or not at all, counts tau);
- `delivered_share`: the share of the cohort's quantity delivered by the horizon; `share_30d`,
  `share_90d`, `share_180d`: the share delivered within 30, 90 and 180 days of its request.
Intervals (`_lo`, `_hi`): 95% expanded percentile intervals (`tail`) of a bootstrap over
replications (the replication is the independent unit): BOOTSTRAP resamples drawn from a
generator keyed only by the number of replications, so every scenario of a comparison is
resampled the same way and their differences are paired (common random numbers). The
resamples' curves are computed on a 0.1-day grid (the estimate on exact times). A resample in
which the group has no units is left out of its interval. Tau is one for all scenarios of a comparison (`default_tau`).
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .survival import GRID, Figures, Sample, figures

ALL = "ALL"
LEVELS = {"ttd_p50": 0.5, "ttd_p90": 0.9}
SHARE_DAYS = {"share_30d": 30.0, "share_90d": 90.0, "share_180d": 180.0}
FIGURES = ["ttd_p50", "ttd_p90", "rmst", "delivered_share", *SHARE_DAYS]
HEADLINE = "rmst"  # the figure verdicts and rankings use: finite whatever the censoring
BOOTSTRAP = 1000
LEVEL = 0.95
BOOT_KEY = 0x9E3779B9


# The columns of the headline table (`table`), after its `item` index.
TABLE_COLUMNS = [
    "lots",
    "qty",
    *[c for n in FIGURES for c in (n, f"{n}_lo", f"{n}_hi")],
    "rmst_tau",
    "followup_days",
    "cohort_from_day",
    "cohort_to_day",
]


def default_tau(horizons) -> float:
    """Tau by rule: the largest multiple of 30 days within two thirds of the shortest horizon (two thirds of it below 45 d).

    Two thirds, not half: lead times of a year are common here (PAC-3 lines, backfills), and a
    tau shorter than them makes every option look alike (all units count tau); the cohort still
    keeps the requests of the first third of the run, which could each be followed for tau days.
    """
    h = float(min(horizons))
    return 30.0 * math.floor(2.0 * h / 90.0) if h >= 45.0 else 2.0 * h / 3.0


def cohort_window(horizons, tau: float, cohort: tuple[float, float] | None = None) -> tuple[float, float]:
    """Requested days counted: `cohort` as given, else every request made at least tau before the shortest horizon."""
    if cohort is not None:
        return float(cohort[0]), float(cohort[1])
    return 0.0, float(min(horizons)) - float(tau)


def window_for(horizons, tau: float | None = None, cohort: tuple[float, float] | None = None):
    """(tau, cohort window) by rule where not given: one for every scenario of a comparison."""
    tau = default_tau(horizons) if tau is None else float(tau)
    if not 0 < tau < math.inf:
        raise ValueError(f"tau must be a positive number of days (got {tau})")
    return tau, cohort_window(horizons, tau, cohort)


@functools.lru_cache(maxsize=8)
def resamples(reps: int, bootstrap: int = BOOTSTRAP) -> np.ndarray:
    """Replication multiplicities: row 0 all ones (the estimate), then the bootstrap rows.

    The rows depend on `reps` only, so two scenarios with the same replications get the same
    resamples: their differences are paired. Drawn once per `reps` (a second at 1,000 replications)
    and shared, so read-only.
    """
    ones = np.ones((1, reps))
    if reps < 2 or bootstrap < 1:
        rows = ones
    else:
        rng = np.random.default_rng([BOOT_KEY, reps])
        rows = np.vstack([ones, rng.multinomial(reps, np.full(reps, 1.0 / reps), size=bootstrap).astype(np.float64)])
    rows.setflags(write=False)
    return rows


@dataclass
class Estimates:
    """Each group's figures over resamples (row 0 the estimate) and what they were computed on."""

    groups: dict[str, Figures]
    followup: dict[str, float]  # where each group's pooled curve ends (days)
    reps: int
    tau: float
    window: tuple[float, float]
    qty: dict[str, float]  # per replication, in the cohort
    lots: dict[str, float]


def _samples(obs: pd.DataFrame) -> dict[str, Sample]:
    groups = {}
    for item, g in obs.groupby("item", sort=True):
        groups[str(item)] = Sample.of(g["time"], g["delivered"], g["qty"], g["rep"])
    groups[ALL] = Sample.of(obs["time"], obs["delivered"], obs["value"], obs["rep"])
    return groups


def estimate(
    obs: pd.DataFrame,
    reps: int,
    tau: float,
    window: tuple[float, float],
    group_by: str = "item",
    counts: np.ndarray | None = None,
) -> Estimates:
    """The figures of each group (`group_by` values, weighted by `qty`; plus ALL, by `value`) in the cohort window."""
    lo, hi = window
    o = obs.loc[(obs["requested_day"] >= lo) & (obs["requested_day"] <= hi)]
    o = o.rename(columns={group_by: "item"}) if group_by != "item" else o
    samples = _samples(o)
    rows = counts if counts is not None else resamples(reps)
    groups = {k: _figures(s, rows, tau) for k, s in samples.items()}
    followup = {k: float(s.time.max()) if len(s) else math.nan for k, s in samples.items()}
    per = max(int(reps), 1)
    qty = {k: float(s.weight.sum()) / per for k, s in samples.items()}
    lots = {str(k): len(g) / per for k, g in o.groupby("item", sort=True)} | {ALL: len(o) / per}
    return Estimates(groups, followup, int(reps), float(tau), (lo, hi), qty, lots)


def _figures(s: Sample, rows: np.ndarray, tau: float) -> Figures:
    """Row 0 of `rows` on exact times if it is the estimate (all ones); bootstrap rows on the grid."""
    levels, days = tuple(LEVELS.values()), tuple(SHARE_DAYS.values())
    if len(rows) == 1 or not np.all(rows[0] == 1.0):
        return figures(s, rows, levels, tau, days)
    first = figures(s, rows[:1], levels, tau, days)
    rest = figures(s, rows[1:], levels, tau, days, grid=GRID)
    join = lambda a, b: np.concatenate([a, b])  # noqa: E731
    return Figures(
        {p: join(first.quantiles[p], rest.quantiles[p]) for p in levels},
        join(first.rmst, rest.rmst),
        {t: join(first.share_by[t], rest.share_by[t]) for t in days},
        join(first.event_share, rest.event_share),
        join(first.total, rest.total),
    )


def values(f: Figures, name: str) -> np.ndarray:
    """One figure's values over the resamples."""
    if name in LEVELS:
        return f.quantiles[LEVELS[name]]
    if name in SHARE_DAYS:
        return f.share_by[SHARE_DAYS[name]]
    return f.rmst if name == "rmst" else f.event_share


def tail(reps: int, level: float = LEVEL) -> float:
    """The share cut from each end of the bootstrap values: the expanded percentile interval.

    A plain percentile interval over few replications is too narrow (by sqrt((n-1)/n), and a
    normal quantile where a t-quantile is due); expanding it to z = sqrt(n/(n-1)) t(n-1)
    (Hesterberg 2015) corrects both: 95% intervals over 30 replications cut 1.9% from each end.
    """
    from scipy.special import ndtr, stdtrit  # scipy.special, not scipy.stats: quick to import

    n = max(int(reps), 2)
    z = math.sqrt(n / (n - 1)) * float(stdtrit(n - 1, 0.5 + level / 2))
    return float(ndtr(-z))


def interval(samples: np.ndarray, level: float = LEVEL, reps: int | None = None) -> tuple[float, float]:
    """Expanded percentile interval of bootstrap values over `reps` replications (order statistics: no
    arithmetic on inf); NaN if too few values are defined."""
    v = np.sort(samples[~np.isnan(samples)])
    if v.size < max(2, 0.9 * samples.size):
        return math.nan, math.nan
    a = tail(reps, level) if reps else (1.0 - level) / 2.0
    return float(v[int(math.floor(a * v.size))]), float(v[int(math.ceil((1.0 - a) * v.size)) - 1])


def table(est: Estimates, names: dict[str, str] | None = None) -> pd.DataFrame:
    """The headline table: one row per group (items sorted, then ALL), every figure with `_lo`/`_hi`."""
    keys = sorted(k for k in est.groups if k != ALL) + [ALL]
    rows = []
    for k in keys:
        f = est.groups[k]
        row = {"item": k, "lots": est.lots.get(k, 0.0), "qty": est.qty.get(k, 0.0)}
        for name in FIGURES:
            v = values(f, name)
            row[name] = float(v[0])
            row[f"{name}_lo"], row[f"{name}_hi"] = (
                interval(v[1:], reps=est.reps) if v.size > 1 else (math.nan, math.nan)
            )
        row.update(
            rmst_tau=est.tau, followup_days=est.followup[k], cohort_from_day=est.window[0], cohort_to_day=est.window[1]
        )
        rows.append(row)
    return pd.DataFrame(rows, columns=["item", *TABLE_COLUMNS]).set_index("item")


def paired(base: Estimates, other: Estimates, group: str, name: str) -> tuple[float, float, float]:
    """(other - base, low, high) of one figure: the difference of the estimates and its paired bootstrap interval."""
    if group not in base.groups or group not in other.groups:
        return math.nan, math.nan, math.nan
    a, b = values(base.groups[group], name), values(other.groups[group], name)
    with np.errstate(invalid="ignore"):
        d = b - a  # inf - inf is NaN: a difference no resample can tell
    if not np.isfinite(d[0]):
        return float(d[0]) if not np.isnan(d[0]) else math.nan, math.nan, math.nan
    lo, hi = interval(d[1:], reps=base.reps) if d.size > 1 else (math.nan, math.nan)
    return float(d[0]), lo, hi
