"""Optimisation over policy knobs: the best point of a search space for the headline, under constraints.

A space file names knobs by dotted path (as `--set` and sweeps), each with its `values` (any
scenario value: numbers, names, lists such as a source order) or an integer or number `range`
(low, high, step). Every point of the grid is evaluated when it has at most `max_points` points;
otherwise `max_points` of them drawn at random with the seed (then the best found is the best of
those, and the output says so). Every point runs replications 0..reps-1 with one seed: common
random numbers, so two points differ only by their knobs and a paired difference is sharp.

Per replication: the objective (a decision figure of sim.metrics.decision of one item or ALL),
the donor's readiness gap (mean over donated units of the gap from the decision, a gap still
open at the horizon counted to the horizon, so the figure is then a lower bound; 0 with no
donation) and the money spent (withdrawals from the NATO account, $M). A constraint is judged on
the mean over replications (its 95% t-interval is reported beside it). The best point is the
feasible one with the best mean objective; points whose paired difference with it has a 95%
interval holding zero are marked `tied`: the replications cannot tell them apart. With a
second objective, the Pareto front of the feasible points (by means) is marked.

Why our own search and not Optuna: the knobs of a policy are few and categorical, so their grid
is small; evaluating all of it under common random numbers is exact, deterministic on every
executor and needs no sampler state, where a sampler would spend the same replications and
could miss the optimum. A larger space falls back to a seeded random sample.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..metrics import backfill, decision, headline, observations
from ..stats import t_interval
from ..tables import ledger
from .ensemble import as_completed, run_chunk_tables
from .evaluate import Variants
from .optimize_space import Space, read_space

FIGURES = {"donor_gap": True, "spent_musd": True}  # per-replication figures besides the decision ones: lower better


def point_values(scenario, seed: int, reps: int, tau: float, window, figure: str, group: str) -> dict[str, np.ndarray]:
    """Per replication 0..reps-1 of one point: its objective figure, donor gap and money spent (in a worker)."""
    tables = run_chunk_tables(scenario, seed, list(range(reps)))
    lots = observations.lot_observations(tables["deliveries"], scenario)
    objective = decision.per_replication(lots, reps, tau, window, figure, group)
    gaps = backfill.observations(tables["backfills"], scenario.horizon_days)
    total, units = np.zeros(reps), np.zeros(reps)
    np.add.at(total, gaps["rep"].to_numpy(int), (gaps["time"] * gaps["qty"]).to_numpy(float))
    np.add.at(units, gaps["rep"].to_numpy(int), gaps["qty"].to_numpy(float))
    gap = np.divide(total, units, out=np.zeros(reps), where=units > 0)
    book = ledger(tables["events"], scenario.funding.initial_musd)  # the chunk's event log
    out = book[book["amount_musd"] < 0]
    spent = np.zeros(reps)
    np.add.at(spent, out["rep"].to_numpy(int), -out["amount_musd"].to_numpy(float))
    return {figure: objective, "donor_gap": gap, "spent_musd": spent}


def _points(space: Space, max_points: int, seed: int) -> tuple[list[dict[str, Any]], bool]:
    """The points to evaluate, and whether that is the whole grid."""
    names = list(space.knobs)
    grid = [dict(zip(names, combo)) for combo in itertools.product(*(space.knobs[n].choices() for n in names))]
    if len(grid) <= max_points:
        return grid, True
    pick = np.random.default_rng(seed).choice(len(grid), size=max_points, replace=False)
    return [grid[i] for i in sorted(pick)], False


def optimize(
    scenario: str | Path,
    space: str | Path | Mapping,
    reps: int = 10,
    seed: int | None = None,
    max_points: int = 200,
    executor: Executor | None = None,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Evaluate the points of `space` on `scenario` and mark the best feasible one (see the module's docstring).

    Returns one row per point: the knobs' values, `objective` with `_lo`/`_hi`, each figure's mean
    (`donor_gap`, `spent_musd`, with intervals), `feasible`, `best`, `tied` (indistinguishable from
    the best), `diff_vs_best` with its paired interval, and `pareto` with a second objective.
    `attrs` say what was optimised, the constraints and whether the whole grid was searched.
    """
    variants = Variants(scenario)
    spec = read_space(space, variants)
    seed = variants.base.seed if seed is None else int(seed)
    pts, whole = _points(spec, max_points, seed)
    scenarios = [variants.scenario({spec.knobs[k].path: v for k, v in p.items()}) for p in pts]
    tau, window = headline.window_for([s.horizon_days for s in scenarios])
    obj = spec.objective
    calls = [(point_values, (sc, seed, reps, tau, window, obj.metric, obj.item)) for sc in scenarios]
    values: list[dict[str, np.ndarray]] = [{}] * len(pts)
    for i, v in as_completed(executor, calls):
        values[i] = v
        if progress is not None:
            progress(reps)
    lower = obj.metric not in decision.HIGHER_IS_BETTER
    rows = []
    for p, v in zip(pts, values):
        row: dict[str, Any] = {f"knob:{k}": _shown(x) for k, x in p.items()}
        row["objective"], row["objective_lo"], row["objective_hi"] = t_interval(v[obj.metric])
        for name in FIGURES:
            row[name], row[f"{name}_lo"], row[f"{name}_hi"] = t_interval(v[name])
        row["feasible"] = all(c.holds(row[_column(c.metric, obj.metric)]) for c in spec.constraints)
        rows.append(row)
    table = pd.DataFrame(rows)
    sign = 1.0 if lower else -1.0
    feasible = [i for i, r in enumerate(rows) if r["feasible"] and not math.isnan(r["objective"])]
    table["best"] = False
    table["tied"] = False
    table["diff_vs_best"] = table["diff_vs_best_lo"] = table["diff_vs_best_hi"] = math.nan
    if feasible:
        best = min(feasible, key=lambda i: (sign * rows[i]["objective"], i))
        table.loc[best, "best"] = True
        for i in range(len(rows)):
            d, lo, hi = t_interval(values[i][obj.metric] - values[best][obj.metric])
            if reps == 1 or np.all(values[i][obj.metric] == values[best][obj.metric]):
                lo = hi = d  # identical replications, or no spread to judge: the difference is what it is
            table.loc[i, ["diff_vs_best", "diff_vs_best_lo", "diff_vs_best_hi"]] = (d, lo, hi)
            table.loc[i, "tied"] = bool(i != best and i in feasible and lo <= 0 <= hi)
    if spec.second is not None:
        col = _column(spec.second.metric, obj.metric)
        s2 = 1.0 if spec.second.metric in FIGURES or spec.second.metric not in decision.HIGHER_IS_BETTER else -1.0
        table["pareto"] = [
            i in feasible
            and not any(
                sign * rows[j]["objective"] <= sign * rows[i]["objective"]
                and s2 * rows[j][col] <= s2 * rows[i][col]
                and (rows[j]["objective"], rows[j][col]) != (rows[i]["objective"], rows[i][col])
                for j in feasible
            )
            for i in range(len(rows))
        ]
    table.attrs.update(
        {
            "objective": f"{obj.metric} of {obj.item} ({'lower' if lower else 'higher'} is better)",
            "constraints": [c.text() for c in spec.constraints],
            "points": len(pts),
            "whole_grid": whole,
            "reps": reps,
            "seed": seed,
        }
    )
    return table


def _column(metric: str, objective: str) -> str:
    """The table's column of a figure named in a constraint or a second objective."""
    return "objective" if metric == objective else metric


def _shown(value: Any) -> Any:
    """A knob's value as a table cell: lists as 'a > b > c', others as they are."""
    return " > ".join(map(str, value)) if isinstance(value, (list, tuple)) else value


def best_row(table: pd.DataFrame) -> pd.Series | None:
    """The best feasible point's row, or None when no point is feasible."""
    best = table[table["best"]]
    return None if best.empty else best.iloc[0]


__all__: Sequence[str] = ["optimize", "best_row", "point_values"]
