"""Scenarios as functions for the decision methods: replications a..b of each, one headline figure per replication.

`Evaluator` runs any replications of any of its scenarios (chunks on the executor, as ensembles do)
and returns one value per (scenario, replication): the figure of that replication's own curve
(sim.metrics.decision.per_replication). Replication r of every scenario uses the same seed and
replication number, so its random streams are the same wherever the scenarios do not differ:
common random numbers. Tau and the cohort window are fixed once for all scenarios (the rule of
sim.metrics.headline over their horizons), so every value is on one scale. The figure may also be
P(any stockout day) of an item Ukraine keeps (sim.metrics.decision.STOCKOUT: 0/1 per replication)
in a window of days (`stockout_window`, default the whole run).

`Variants` builds the scenarios of points of a parameter space (dotted path -> value) from one
file, read once: each point is the file's merged mapping with the overrides laid on, validated.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import Problem, ScenarioError
from ..metrics import decision, headline
from ..scenario.loader import apply_overrides, read_merged, validate_mapping
from ..scenario.schema import Scenario
from ..scenario.uncertain import SECTION
from .ensemble import MAX_CHUNK, as_completed, run_chunk_stats, run_chunk_tables

TASKS = 8  # tasks a call is split into when it has few scenarios: enough for 2-4 workers


class Variants:
    """Scenarios of one file at points of a parameter space (dotted path -> value)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.shown = str(path)
        data = read_merged(self.path)
        self.base = validate_mapping(data, self.shown)  # every problem of the file itself, first
        # The variants need not check the uncertain section again (done once above).
        self.data = {k: v for k, v in data.items() if k != SECTION}

    def scenario(self, point: Mapping[str, Any]) -> Scenario:
        """The file with `point`'s overrides; raises ScenarioError naming the point."""
        try:
            data, _ = apply_overrides(self.data, point, self.shown)
            return validate_mapping(data, self.shown, set())
        except ScenarioError as exc:
            at = ", ".join(f"{k}={v}" for k, v in point.items())
            raise ScenarioError([Problem(p.file, p.path, f"{p.message} (at {at})") for p in exc.problems]) from None


class Evaluator:
    """Per-replication values of one headline figure for a list of scenarios under common random numbers."""

    def __init__(
        self,
        scenarios: Sequence[Scenario],
        seed: int,
        figure: str = headline.HEADLINE,
        group: str = headline.ALL,
        tau: float | None = None,
        cohort: tuple[float, float] | None = None,
        executor: Executor | None = None,
        horizons: Sequence[float] | None = None,
        stockout_window: tuple[float, float] | None = None,
    ):
        if figure not in decision.FIGURES:
            raise ValueError(f"figure must be one of {', '.join(decision.FIGURES)} (got {figure})")
        if figure == decision.STOCKOUT and not all(group in s.ukraine.items for s in scenarios):
            raise ValueError(f"{figure}: {group} is not an item Ukraine keeps (ukraine.items) in every scenario")
        self.scenarios = list(scenarios)
        self.seed = int(seed)
        self.figure, self.group = figure, group
        self.tau, self.window = headline.window_for(horizons or [s.horizon_days for s in self.scenarios], tau, cohort)
        self.stockout_window = stockout_window
        self.executor = executor
        self.spent = 0  # replications run so far

    @property
    def lower_is_better(self) -> bool:
        """Times: lower is better; shares delivered: higher."""
        return self.figure not in decision.HIGHER_IS_BETTER

    def __call__(self, which: Sequence[int], reps: Sequence[int]) -> np.ndarray:
        """Values (len(which) x len(reps)) of the figure in replications `reps` of scenarios `which`."""
        return self.run([self.scenarios[i] for i in which], reps)

    def run(self, scenarios: Sequence[Scenario], reps: Sequence[int]) -> np.ndarray:
        """Values (len(scenarios) x len(reps)) for scenarios not in the list (e.g. built per point)."""
        reps = [int(r) for r in reps]
        # Many scenarios: one task each (all its replications); few: their replications split up.
        # The split never depends on the executor: a replication's figure is computed with the
        # others of its chunk, and a different chunking can move its last digit.
        tasks = TASKS
        size = max(1, min(MAX_CHUNK, -(-len(reps) * len(scenarios) // tasks), len(reps)))
        parts = [reps[i : i + size] for i in range(0, len(reps), size)]
        args = (self.tau, self.window, self.figure, self.group, self.stockout_window)
        calls = [(chunk_values, (sc, self.seed, c, *args)) for sc in scenarios for c in parts]
        out = np.empty((len(scenarios), len(reps)))
        for i, values in as_completed(self.executor, calls):
            k, j = divmod(i, len(parts))
            out[k, j * size : j * size + len(parts[j])] = values
        self.spent += len(scenarios) * len(reps)
        return out


def chunk_values(
    scenario: Scenario,
    seed: int,
    reps: list[int],
    tau: float,
    window: tuple[float, float],
    figure: str,
    group: str,
    stockout_window: tuple[float, float] | None = None,
) -> np.ndarray:
    """Run replications `reps` and return the figure of each (in a worker: only the numbers travel back)."""
    where = {r: i for i, r in enumerate(reps)}
    if figure == decision.STOCKOUT:
        levels = run_chunk_tables(scenario, seed, reps, record_events=False)["levels"]
        levels = levels.assign(rep=levels["rep"].map(where).astype("int64"))
        span = stockout_window if stockout_window is not None else (0.0, scenario.horizon_days)
        return decision.stockout_per_replication(levels, len(reps), group, span, scenario.horizon_days)
    lots = run_chunk_stats(scenario, seed, reps)["lots"]
    lots = lots.assign(rep=lots["rep"].map(where).astype("int64"))
    return decision.per_replication(lots, len(reps), tau, window, figure, group)
