"""Input uncertainty, a second-order run: how much of a figure's spread is the uncertain inputs, how much the run.

An outer sample of the scenario's uncertain inputs (a Latin hypercube over their quantiles,
mapped through each input's distribution, fixed seed), and at each outer point the same inner
replications 0..R-1: common random numbers across outer points. The values form an a x R table
Y (outer point i, replication j) of one figure per replication (sim.experiments.evaluate).

The decomposition. Write Y_ij = m + A_i + B_j + C_ij: A the inputs' effect (variance s2_in), and
the run's randomness B_j + C_ij (variance s2_run = s2_B + s2_C), B_j being the part replication
j shares at every outer point through its common random numbers. The one-way random-effects
ANOVA estimator, s2_in = (MS_between - MS_within) / R, is unbiased when outer points have
independent streams; under common random numbers its expectation is s2_in - s2_B / R (the
shared part cancels from the differences between points but not from MS_within). The bias
correction used here is the two-way ANOVA of the same table (points x replications, one value a
cell): s2_in = (MS_points - MS_residual) / R, unbiased for s2_in under common random numbers,
truncated at 0; s2_run = MS_within (unbiased either way). The input share is
s2_in / (s2_in + s2_run), the variance of a figure at a point drawn from the inputs' ranges.
The one-way estimate is reported beside it. Its 95% interval: a bootstrap resampling outer
points and replications independently (the "pigeonhole" bootstrap of a crossed design, which
carries the sampling error of both variances), percentile.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..metrics import headline
from ..scenario.uncertain import points
from .checkpoint import Checkpoint, scenario_digest
from .evaluate import Evaluator, Variants

LEVEL = 0.95
BOOTSTRAP = 1000
BLOCK = 16  # outer points per round of the executor (and per checkpointed block)


@dataclass
class Uncertainty:
    """A second-order run: its values, the spread of the figure and its split between inputs and run."""

    values: np.ndarray  # outer points x inner replications
    points: pd.DataFrame  # one row per outer point: the inputs' values, then the point's mean and sd
    var_inputs: float  # s2_in, two-way (corrected for common random numbers), truncated at 0
    var_run: float  # s2_run = MS_within
    share_inputs: float
    share_lo: float
    share_hi: float
    var_inputs_one_way: float  # (MS_between - MS_within) / R, truncated at 0: biased low under CRN
    attrs: dict = field(default_factory=dict)

    @property
    def mean(self) -> float:
        """The figure's mean over every outer point and replication."""
        return float(np.nanmean(self.values))

    @property
    def sd(self) -> float:
        """Total spread: sqrt(s2_in + s2_run), the sd of one replication at a random outer point."""
        return float(np.sqrt(self.var_inputs + self.var_run))

    def text(self) -> list[str]:
        """What the run found, in lines for a console."""
        a = self.attrs
        q05, q95 = np.nanquantile(self.points["mean"], [0.05, 0.95])
        return [
            f"{a['outer']} outer points x {a['inner']} replications (seed {a['seed']}), {a['figure']} of {a['group']}:",
            f"  mean {self.mean:,.2f}, total sd {self.sd:,.2f}; outer-point means from {q05:,.2f} to {q95:,.2f} "
            f"(5%-95%)",
            f"  variance from the inputs {self.var_inputs:,.3g}, from the run's randomness {self.var_run:,.3g}",
            f"  share of the inputs {self.share_inputs:.0%} (95% CI {self.share_lo:.0%}-{self.share_hi:.0%}); "
            f"the run's {1 - self.share_inputs:.0%}",
        ]


def anova(y: np.ndarray) -> tuple[float, float, float]:
    """(s2_in two-way, s2_run, s2_in one-way) of an a x R table, variances truncated at 0."""
    a, r = y.shape
    grand = y.mean()
    rows, cols = y.mean(axis=1), y.mean(axis=0)
    ms_points = r * np.sum((rows - grand) ** 2) / (a - 1)
    ms_within = np.sum((y - rows[:, None]) ** 2) / (a * (r - 1))
    resid = y - rows[:, None] - cols[None, :] + grand
    ms_resid = np.sum(resid**2) / ((a - 1) * (r - 1))
    return max(0.0, (ms_points - ms_resid) / r), float(ms_within), max(0.0, (ms_points - ms_within) / r)


def _share(s2_in: float, s2_run: float) -> float:
    total = s2_in + s2_run
    return s2_in / total if total > 0 else float("nan")


def decompose(y: np.ndarray, seed: int = 0, bootstrap: int = BOOTSTRAP) -> dict[str, float]:
    """The decomposition of a table of values with the bootstrap interval of the input share (see the module)."""
    y = np.asarray(y, dtype=np.float64)
    if y.ndim != 2 or y.shape[0] < 2 or y.shape[1] < 2:
        raise ValueError("a second-order run needs at least 2 outer points and 2 replications at each")
    s2_in, s2_run, one_way = anova(y)
    rng = np.random.default_rng([seed, 0x2D0])
    a, r = y.shape
    boot = np.empty(bootstrap)
    for b in range(bootstrap):
        rows, cols = rng.integers(0, a, a), rng.integers(0, r, r)
        bi, br, _ = anova(y[np.ix_(rows, cols)])
        boot[b] = _share(bi, br)
    lo, hi = np.nanquantile(boot, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return {
        "var_inputs": s2_in,
        "var_run": s2_run,
        "share_inputs": _share(s2_in, s2_run),
        "share_lo": float(lo),
        "share_hi": float(hi),
        "var_inputs_one_way": one_way,
    }


def outer_design(outer: int, k: int, seed: int) -> np.ndarray:
    """A Latin hypercube of `outer` points in [0, 1]^k (one stratum per point in every input), seeded."""
    from scipy.stats import qmc

    return qmc.LatinHypercube(d=k, seed=np.random.default_rng([seed, 0x0E7])).random(outer)


def uncertainty(
    scenario: str | Path,
    outer: int = 32,
    inner: int = 10,
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
) -> Uncertainty:
    """A second-order run of `scenario` over its uncertain inputs (all, or `inputs`): outer x inner replications.

    figure, group: as sim.experiments.evaluate.Evaluator (rmst of ALL; e.g. of pac3_mse, or
    p_stockout of pac3_mse); checkpoint: a directory keeping finished blocks of outer points
    (resume: continue from them, see sim.experiments.checkpoint); it is removed at the end unless
    `keep` (the caller removes it once its own output is written).
    """
    if outer < 2 or inner < 2:
        raise ValueError(f"outer and inner must be at least 2 (got {outer}, {inner})")
    variants = Variants(scenario)
    declared = variants.base.uncertain
    if not declared:
        raise ValueError(f"{scenario}: the scenario declares no uncertain inputs (an uncertain: section)")
    names = list(inputs or declared)
    unknown = [x for x in names if x not in declared]
    if unknown:
        raise ValueError(f"not uncertain inputs of {scenario}: {', '.join(unknown)} (declared: {', '.join(declared)})")
    chosen = {x: declared[x] for x in names}
    the_seed = variants.base.seed if seed is None else int(seed)
    unit = outer_design(outer, len(chosen), the_seed)
    ev = Evaluator([variants.base], the_seed, figure, group, tau=tau, executor=executor)
    study = {
        "study": "uncertainty",
        "scenario": scenario_digest(variants.base),
        "outer": outer,
        "inner": inner,
        "figure": figure,
        "group": group,
        "inputs": names,
        "seed": the_seed,
        "tau": ev.tau,
        "block": BLOCK,
    }
    kept = Checkpoint(checkpoint, study, resume)
    overrides = points(chosen, unit)
    y = np.empty((outer, inner))
    for b, lo in enumerate(range(0, outer, BLOCK)):
        block = overrides[lo : lo + BLOCK]
        y[lo : lo + len(block)] = kept.block(b, _values, ev, variants, block, inner)
        if progress is not None:
            progress(len(block) * inner)
    found = decompose(y, the_seed)
    table = pd.DataFrame(overrides).rename(columns={chosen[x].path: x for x in names})
    table["mean"], table["sd"] = np.nanmean(y, axis=1), np.nanstd(y, axis=1, ddof=1)
    if not keep:
        kept.discard()
    return Uncertainty(
        values=y,
        points=table,
        **found,
        attrs={
            "outer": outer,
            "inner": inner,
            "figure": figure,
            "group": group,
            "seed": the_seed,
            "tau": ev.tau,
            "inputs": names,
            "resumed_blocks": kept.resumed,
        },
    )


def _values(ev: Evaluator, variants: Variants, block: list, inner: int) -> np.ndarray:
    """The figure in replications 0..inner-1 at each outer point of a block (points x replications)."""
    return ev.run([variants.scenario(p) for p in block], list(range(inner)))
