"""Global sensitivity of a headline figure to a scenario's uncertain inputs: Sobol indices or Morris screening.

Each design point (quantiles of the inputs of the scenario's `uncertain:` section, see
sim.experiments.gsa) becomes a scenario (sim.experiments.evaluate.Variants) run for replications
0..reps-1 with one seed: common random numbers, so two points differ only by their inputs and the
run's own randomness mostly cancels out of the indices. The output at a point is the mean over
its replications of the figure per replication (sim.metrics.decision.per_replication); what is
left of the run's randomness in it shows as a small spurious share of variance, which more
replications shrink.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from pathlib import Path

import numpy as np
import pandas as pd

from ..metrics import headline
from ..scenario.uncertain import points
from . import gsa
from .checkpoint import Checkpoint, scenario_digest
from .evaluate import Evaluator, Variants

METHODS = ("sobol", "morris")
BATCH = 64  # design points per round of the executor: bounded memory, and progress as it goes


def sensitivity(
    scenario: str | Path,
    method: str = "sobol",
    n: int = 64,
    reps: int = 10,
    figure: str = headline.HEADLINE,
    group: str = headline.ALL,
    inputs: Sequence[str] | None = None,
    seed: int | None = None,
    executor: Executor | None = None,
    progress: Callable[[int], None] | None = None,
    tau: float | None = None,
    checkpoint: Path | None = None,
    resume: bool = False,
    keep: bool = False,
) -> pd.DataFrame:
    """One row per uncertain input: Sobol S1 and ST with 95% intervals, or Morris mu* (interval) and sigma.

    n: base samples (Sobol: n (k + 2) points) or trajectories (Morris: n (k + 1) points); reps:
    replications per point; inputs: names from the scenario's `uncertain:` section (default: all);
    figure, group: as sim.experiments.evaluate.Evaluator (e.g. rmst of pac3_mse); checkpoint: a
    directory keeping each finished block of design points (resume: continue from them, see
    sim.experiments.checkpoint), removed at the end unless `keep` (the caller's output is not written yet).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)} (got {method})")
    variants = Variants(scenario)
    declared = variants.base.uncertain
    if not declared:
        raise ValueError(f"{scenario}: the scenario declares no uncertain inputs (an uncertain: section)")
    names = list(inputs or declared)
    unknown = [x for x in names if x not in declared]
    if unknown:
        raise ValueError(f"not uncertain inputs of {scenario}: {', '.join(unknown)} (declared: {', '.join(declared)})")
    chosen = {x: declared[x] for x in names}
    k = len(chosen)
    the_seed = variants.base.seed if seed is None else int(seed)
    unit = gsa.sobol_design(n, k, the_seed) if method == "sobol" else gsa.morris_design(n, k, the_seed)
    ev = Evaluator([variants.base], the_seed, figure, group, tau=tau, executor=executor)
    study = {
        "study": "sensitivity",
        "scenario": scenario_digest(variants.base),
        "method": method,
        "n": n,
        "reps": reps,
        "figure": figure,
        "group": group,
        "inputs": names,
        "seed": the_seed,
        "tau": ev.tau,
        "block": BATCH,
    }
    kept = Checkpoint(checkpoint, study, resume)
    y = np.empty(len(unit))
    for b, lo in enumerate(range(0, len(unit), BATCH)):
        block = points(chosen, unit[lo : lo + BATCH])
        y[lo : lo + len(block)] = kept.block(b, _means, ev, variants, block, reps)
        if progress is not None:
            progress(len(block) * reps)
    if not keep:
        kept.discard()
    if method == "sobol":
        est = gsa.sobol_indices(y, n, k, the_seed)
    else:
        est = gsa.morris_effects(unit, y, n, k, the_seed)
    df = pd.DataFrame(
        {"input": names, "path": [chosen[x].path for x in names], "source": [chosen[x].source for x in names]}
    )
    for col, v in est.items():
        df[col] = v
    df = df.sort_values("ST" if method == "sobol" else "mu_star", ascending=False, ignore_index=True)
    df.attrs.update(
        method=method,
        n=n,
        reps=reps,
        points=len(unit),
        figure=figure,
        group=group,
        seed=the_seed,
        tau=ev.tau,
        output_mean=float(np.nanmean(y)),
        output_sd=float(np.nanstd(y, ddof=1)),
        resumed_blocks=kept.resumed,
    )
    return df


def _means(ev: Evaluator, variants: Variants, block: list, reps: int) -> np.ndarray:
    """The mean over replications 0..reps-1 of the figure at each design point of a block."""
    return np.nanmean(ev.run([variants.scenario(p) for p in block], list(range(reps))), axis=1)
