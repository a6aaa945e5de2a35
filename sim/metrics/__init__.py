"""The one metric layer: every figure a table, plot, report, baseline or notebook shows is defined here.

Below it are the tables of a run (sim.tables); above it the Results container, the experiments
(ensembles, compare, sweep, baselines) and the views, which all read their figures from here.
- observations: what is counted (every unit, delivered or censored; every request; donations);
- survival: the weighted Kaplan-Meier estimator, vectorized over bootstrap resamples;
- headline: time to delivery per item and across items (median, p90, RMST, shares) with intervals;
- delivered: the secondary view "among delivered lots" (mean, p50, p90, p95 of delivered lots);
- backfill: the donor's readiness gap, from the donation decision, censored;
- comparison: paired differences and verdicts for compare and sweep (also of Results already run);
- findings: what a comparison says first (the fastest option per item, findings by size of effect);
- phases: where the time goes (mean days per phase, every lot counted);
- ukraine: Ukraine's stockout spells, days at zero and the share of its use met;
- record: a scenario's `record:` targets, measured per replication and scored;
- cargo: tonnes delivered by month, node, mode and leg;
- nodes: tonnes waiting at nodes with handling (mean over time, peaks, days queued).
"""

from __future__ import annotations

import math

import pandas as pd

from . import backfill, comparison, delivered, headline, observations, ukraine  # noqa: F401 (sim.metrics.ukraine)
from .headline import ALL, FIGURES, HEADLINE, window_for

STATS = ("lots", "requests", "backfill")  # the per-chunk observations an ensemble keeps

# What each count of a summary counts: most are per replication (a total over replications divided
# by their number); a few are totals over the whole run. Every other column is an estimate over
# all replications (a time, a share) with its interval. Summaries carry it as `df.attrs["counts"]`.
PER_REPLICATION = "per replication"
TOTAL = "total over all replications"
COUNT_BASIS = {
    "lots": PER_REPLICATION,
    "qty": PER_REPLICATION,
    "requests": PER_REPLICATION,
    "delivered_lots": PER_REPLICATION,
    "undelivered_lots": PER_REPLICATION,
    "donations": PER_REPLICATION,
    "open_per_rep": PER_REPLICATION,
    "reps_with_deliveries": TOTAL,
    "open": TOTAL,
}


def _counted(df: pd.DataFrame) -> pd.DataFrame:
    """`df` with `attrs["counts"]`: whether each of its count columns is per replication or a total."""
    df.attrs["counts"] = {c: COUNT_BASIS[c] for c in df.columns if c in COUNT_BASIS}
    return df


def chunk_observations(tables: dict[str, pd.DataFrame], scenario) -> dict[str, pd.DataFrame]:
    """The observations of a chunk's tables: small to send between processes, enough for every figure."""
    return {
        "lots": observations.lot_observations(tables["deliveries"], scenario),
        "requests": observations.request_observations(tables["deliveries"], scenario),
        "backfill": backfill.observations(tables["backfills"], scenario.horizon_days),
    }


def estimates(obs: dict[str, pd.DataFrame], reps: int, tau: float, window, counts=None) -> headline.Estimates:
    """The headline estimates of a run's lot observations."""
    return headline.estimate(obs["lots"], reps, tau, window, counts=counts)


def delivered_summary(obs: dict[str, pd.DataFrame], reps: int) -> pd.DataFrame:
    """The delivered-only columns per item and ALL (sim.metrics.delivered)."""
    return delivered.summary(delivered.per_rep(obs["lots"]), reps)


def lot_summary(
    obs: dict[str, pd.DataFrame],
    reps: int,
    horizon: float = math.nan,
    tau: float | None = None,
    cohort: tuple[float, float] | None = None,
    est: headline.Estimates | None = None,
    delivered_cols: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per item and ALL: the headline figures with intervals, then the delivered-only columns.

    est, delivered_cols: the estimates and delivered-only columns already made for the same inputs
    (Results keeps them, so that a report computes each bootstrap once); else made here from
    `horizon`, `tau` and `cohort`.
    """
    if est is None:
        tau, window = window_for([horizon], tau, cohort)
        est = estimates(obs, reps, tau, window)
    dv = delivered_summary(obs, reps) if delivered_cols is None else delivered_cols
    return _counted(headline.table(est).join(dv, how="left"))


def closure_summary(
    obs: dict[str, pd.DataFrame],
    reps: int,
    horizon: float,
    tau: float | None = None,
    cohort: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Time to close per `what` (whole requests, and each group of items that work together); each request counts once."""
    tau, window = window_for([horizon], tau, cohort)
    req = obs["requests"].assign(qty=1.0, value=1.0)  # each request (or group of it) one observation
    est = headline.estimate(req, reps, tau, window, group_by="what")
    out = headline.table(est).drop(index=ALL)  # ALL would count a request and its groups twice
    out = out.drop(columns="qty").rename(columns={"lots": "requests"})
    out.index.name = "what"
    return _counted(out)


def backfill_summary(obs: dict[str, pd.DataFrame], reps: int, horizon: float) -> pd.DataFrame:
    """The donor's readiness gap per donor and item (see sim.metrics.backfill)."""
    return _counted(backfill.summary(obs["backfill"], reps, horizon))


__all__ = [
    "ALL",
    "COUNT_BASIS",
    "FIGURES",
    "HEADLINE",
    "STATS",
    "backfill",
    "backfill_summary",
    "chunk_observations",
    "closure_summary",
    "comparison",
    "delivered",
    "estimates",
    "headline",
    "lot_summary",
    "delivered_summary",
    "observations",
    "window_for",
]
