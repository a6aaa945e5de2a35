"""The donor's readiness gap: from the donation decision to the replacement entering its stock, censored.

Per donated lot the gap runs from `decided_day` (the units leave the donor's books) to
`backfilled_day`; a donation not replaced by the horizon is right-censored at `horizon -
decided_day`, never dropped. Per donor and item, over replications, weighted by units:
`gap_p50` is the Kaplan-Meier median gap (`inf` when fewer than half the units are replaced
before the curve ends) with its bootstrap interval over replications (as the headline, see
sim.metrics.headline), `gap_rmst` the restricted mean gap up to `gap_rmst_tau`, the shortest
follow-up of any donation of the group (horizon minus the last decision day). Labelled secondary
figures, among replaced donations only: `replaced_gap_mean` (from the decision) and
`handover_gap_mean` (from the hand-over, `donated_day`, the gap the donor feels once the goods
have left), each the mean over replications of the per-replication mean, with a t-interval.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..stats import t_interval
from .headline import interval, resamples
from .survival import Sample, figures

OBS_COLUMNS = ["rep", "donor", "item", "qty", "decided_day", "donated_day", "backfilled_day", "time", "replaced"]
SUMMARY_COLUMNS = [
    "donor",
    "item",
    "donations",
    "qty",
    "replaced_share",
    "gap_p50",
    "gap_p50_lo",
    "gap_p50_hi",
    "gap_rmst",
    "gap_rmst_lo",
    "gap_rmst_hi",
    "gap_rmst_tau",
    "replaced_gap_mean",
    "replaced_gap_mean_lo",
    "replaced_gap_mean_hi",
    "handover_gap_mean",
    "handover_gap_mean_lo",
    "handover_gap_mean_hi",
    "open",
    "open_gap_min_days",
    "open_per_rep",
]


def observations(backfills: pd.DataFrame, horizon: float) -> pd.DataFrame:
    """One row per donated lot: its gap from the decision, or its censored gap at the horizon."""
    b = backfills
    replaced = b["backfilled_day"].notna().to_numpy()
    decided = b["decided_day"].to_numpy(dtype=np.float64)
    end = np.where(replaced, b["backfilled_day"].to_numpy(dtype=np.float64), horizon)
    return pd.DataFrame(
        {
            "rep": b["rep"].to_numpy(dtype=np.int64),
            "donor": b["donor"].astype(str).to_numpy(),
            "item": b["item"].astype(str).to_numpy(),
            "qty": b["qty"].to_numpy(dtype=np.float64),
            "decided_day": decided,
            "donated_day": b["donated_day"].to_numpy(dtype=np.float64),
            "backfilled_day": b["backfilled_day"].to_numpy(dtype=np.float64),
            "time": end - decided,
            "replaced": replaced,
        },
        columns=OBS_COLUMNS,
    )


def _rep_means(values: np.ndarray, rep: np.ndarray, reps: int) -> np.ndarray:
    """Per replication the mean of `values` (NaN where it has none)."""
    s = pd.Series(values).groupby(rep).mean()
    return s.reindex(range(reps)).to_numpy(dtype=float)


def summary(obs: pd.DataFrame, reps: int, horizon: float) -> pd.DataFrame:
    """The backfill table per donor and item (see the module docstring)."""
    reps = max(int(reps), 1)
    rows = []
    counts = resamples(reps)
    for (donor, item), g in obs.groupby(["donor", "item"], sort=True):
        s = Sample.of(g["time"], g["replaced"], g["qty"], g["rep"])
        tau = float(horizon - g["decided_day"].max())
        f = figures(s, counts, (0.5,), tau, ())
        p50, area = f.quantiles[0.5], f.rmst
        done = g[g["replaced"]]
        repl = t_interval(_rep_means(done["time"].to_numpy(), done["rep"].to_numpy(), reps))
        hand = t_interval(
            _rep_means(
                (done["backfilled_day"] - done["donated_day"]).clip(lower=0.0).to_numpy(), done["rep"].to_numpy(), reps
            )
        )
        still = g[~g["replaced"]]
        rows.append(
            {
                "donor": donor,
                "item": item,
                "donations": len(g) / reps,
                "qty": float(g["qty"].sum()) / reps,
                "replaced_share": float(g["replaced"].mean()),
                "gap_p50": float(p50[0]),
                **dict(
                    zip(
                        ("gap_p50_lo", "gap_p50_hi"), interval(p50[1:], reps=reps) if reps > 1 else (math.nan, math.nan)
                    )
                ),
                "gap_rmst": float(area[0]),
                **dict(
                    zip(
                        ("gap_rmst_lo", "gap_rmst_hi"),
                        interval(area[1:], reps=reps) if reps > 1 else (math.nan, math.nan),
                    )
                ),
                "gap_rmst_tau": tau,
                "replaced_gap_mean": repl[0],
                "replaced_gap_mean_lo": repl[1],
                "replaced_gap_mean_hi": repl[2],
                "handover_gap_mean": hand[0],
                "handover_gap_mean_lo": hand[1],
                "handover_gap_mean_hi": hand[2],
                "open": int(len(still)),
                "open_gap_min_days": float(still["time"].min()) if len(still) else math.nan,
                "open_per_rep": len(still) / reps,
            }
        )
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS).set_index(["donor", "item"])
