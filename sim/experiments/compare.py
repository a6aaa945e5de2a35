"""Comparing scenarios with common random numbers: run them, then read the comparison off the metric layer.

Every scenario runs replications 0..reps-1 with the same seed, so replication r of each draws
the same random numbers in every part they share; the figures and paired differences are those
of sim.metrics.comparison, over one tau and one cohort for all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from pathlib import Path

import pandas as pd

from ..metrics import comparison
from ..metrics.comparison import comparison_table
from ..results import Results
from ..scenario.loader import load_scenario
from ..scenario.schema import Scenario
from ..scenario.workload import DEFAULT_REPS
from .ensemble import run_stats


def compare(
    scenarios: Sequence[Scenario | Results | str | Path],
    reps: int | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    names: Sequence[str] | None = None,
    chunk_size: int | None = None,
    progress: Callable[[int], None] | None = None,
    tau: float | None = None,
    cohort: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Run scenarios with common random numbers; per item and scenario the headline figures and the paired differences against the first.

    scenarios: Scenario objects, file paths, or Results already run (mixed as you like). Results
    are not run again; they must share one seed and one replication count, and whatever else is
    given runs with that seed and count (a `seed` or `reps` argument that disagrees is refused).
    reps: default DEFAULT_REPS when no Results are given; seed: the same for all (default: the
    first scenario's). One row per item (plus `ALL`, by value) and scenario: the columns of
    `Results.summary()`, and for every figure `diff_<figure>` with `_lo`/`_hi` (scenario minus
    the first, paired 95% interval), a `verdict` and a plain `sentence` (on the restricted mean
    time to delivery). tau, cohort: as in `Results.summary`, one for all scenarios (default by
    rule from the shortest horizon).
    """
    if len(scenarios) < 2:
        raise ValueError("compare needs at least two scenarios")
    done = [s for s in scenarios if isinstance(s, Results)]
    if done:
        reps, seed = _pairing(done, reps, seed)
    else:
        reps = DEFAULT_REPS if reps is None else reps
    loaded = [
        s.scenario if isinstance(s, Results) else s if isinstance(s, Scenario) else load_scenario(s) for s in scenarios
    ]
    seed = loaded[0].seed if seed is None else int(seed)
    todo = [i for i, s in enumerate(scenarios) if not isinstance(s, Results)]
    ran = run_stats([loaded[i] for i in todo], reps, [seed] * len(todo), executor, chunk_size, progress) if todo else []
    by_index = dict(zip(todo, ran))
    obs = [s.observations() if isinstance(s, Results) else by_index[i] for i, s in enumerate(scenarios)]
    names = comparison.unique_names(list(names) if names is not None else [sc.name for sc in loaded])
    if len(names) != len(loaded):
        raise ValueError("give one name per scenario")
    df = comparison_table(obs, names, reps, loaded, tau, cohort)
    df.attrs["seed"] = seed
    return df


def _pairing(done: Sequence[Results], reps: int | None, seed: int | None) -> tuple[int, int]:
    """The (reps, seed) every scenario of a comparison with Results in it must have, or ValueError saying why not."""
    pairs = sorted({(r.seed, r.reps) for r in done})
    if len(pairs) > 1:
        each = "; ".join(f"{r.scenario.name!r}: seed {r.seed}, {r.reps} reps" for r in done)
        raise ValueError(
            "compare: Results are paired replication by replication (common random numbers), so they must "
            f"share one seed and one number of replications; got {each}. Run them again with the same seed and reps."
        )
    [(got_seed, got_reps)] = pairs
    if reps is not None and reps != got_reps:
        raise ValueError(f"compare: reps={reps}, but the Results given have {got_reps} replications; leave reps out")
    if seed is not None and seed != got_seed:
        raise ValueError(f"compare: seed={seed}, but the Results given were run with seed {got_seed}; leave seed out")
    return got_reps, got_seed


def report(
    scenarios: Sequence[Scenario | Results | str | Path],
    out,
    reps: int = DEFAULT_REPS,
    seed: int | None = None,
    executor: Executor | None = None,
) -> Path:
    """Run scenarios (Scenario objects or paths) with common random numbers and write their HTML report to `out`.

    Results already run (with one seed and replication count) are reported as they are, and
    nothing is run again; the report opens with its summary (sim.report.summary_block).
    """
    from ..report import write_report
    from .ensemble import run

    runs = [s for s in scenarios if isinstance(s, Results)]
    if len(runs) == len(scenarios):
        if len({(r.seed, r.reps) for r in runs}) != 1:
            raise ValueError("report: Results must share their seed and replications (common random numbers)")
        return write_report(runs, out)
    if any(isinstance(s, Results) for s in scenarios):
        raise ValueError("report: give Results only, or scenarios and paths only")
    loaded = [s if isinstance(s, Scenario) else load_scenario(s) for s in scenarios]
    sources = [str(s) if isinstance(s, (str, Path)) else None for s in scenarios]
    seed = loaded[0].seed if seed is None else seed
    results = [run(s, reps=reps, seed=seed, executor=executor) for s in loaded]
    return write_report(results, out, sources)
