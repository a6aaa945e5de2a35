"""Ranking and selection: the fastest policy, with a stated indifference zone and probability of correct selection.

Two fully sequential procedures of Kim and Nelson, written here (no library):
- KN (Kim, S.-H. and Nelson, B. L. (2001), "A fully sequential procedure for indifference-zone
  selection in simulation", ACM TOMACS 11(3):251-273): the variances of the paired differences
  from the first n0 replications, the Bonferroni split alpha/(k-1). The default: its guarantee
  is exact for normal data, at any n0.
- KN++ (Kim, S.-H. and Nelson, B. L. (2006), "On the asymptotic validity of fully sequential
  selection procedures for steady-state simulation", Operations Research 54(3):475-488): the
  variances updated at every stage with all replications so far, and the Sidak split
  beta = 1 - (1 - alpha)^(1/(k-1)). Fewer replications; its guarantee is asymptotic (measured
  here, tests/test_select.py: about 0.94 at n0 = 10 in the slippage configuration, for 0.95).
Guarantee: if the best policy's mean is at least `delta` better than every other's, it is
selected with probability at least `pcs`. Replication r of every policy uses the same random
numbers (common random numbers), so the variance of a difference, which is what the procedures
read, is small where the policies share their randomness. After n0 replications of each, a
policy is eliminated as soon as its mean is worse than another survivor's by more than a margin
that shrinks as replications accumulate; only survivors get more replications.

`two_stage_bonferroni` is the fixed-sample design with the same guarantee under common random
numbers (Clark and Yang 1986; Nelson and Matejcik 1995): after n0 replications, every policy runs
N = max(n0, ceil((t S / delta)^2)) in all, t the one-sided 1 - alpha/(k-1) quantile of Student's
t with n0 - 1 degrees of freedom and S^2 the largest variance of a paired difference; the best
mean wins. It is what the sequential procedures are measured against.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

Sampler = Callable[[list[int], list[int]], np.ndarray]  # (systems, replications) -> values, systems x reps


@dataclass
class Selection:
    """What a selection procedure chose, and what it cost."""

    winner: int
    names: list[str]
    means: np.ndarray  # each policy's mean over the replications it got
    reps: np.ndarray  # replications each policy got
    eliminated: list[tuple[int, int, int]] = field(default_factory=list)  # (policy, at replication r, by policy)
    truncated: bool = False  # stopped at max_reps with more than one survivor: the best mean then wins
    procedure: str = "KN"
    delta: float = math.nan
    pcs: float = math.nan

    @property
    def total(self) -> int:
        """Replications spent, all policies together."""
        return int(self.reps.sum())

    def text(self, unit: str = "days") -> list[str]:
        """Plain lines: the winner, each eliminated policy and when, the replications spent."""
        lines = [
            f"{self.procedure}: the best policy is {self.names[self.winner]} "
            f"(mean {self.means[self.winner]:,.1f} {unit} over {self.reps[self.winner]} replications), "
            f"indifference zone {self.delta:g} {unit}, probability of correct selection {self.pcs:g}"
            + (" [stopped at the replication limit: the best mean of the survivors wins]" if self.truncated else "")
        ]
        for i, r, by in self.eliminated:
            lines.append(
                f"  eliminated {self.names[i]} after {r} replications (mean {self.means[i]:,.1f} {unit}, "
                f"worse than {self.names[by]})"
            )
        lines.append(
            f"  replications spent: {self.total} ({', '.join(f'{n} {k}' for n, k in zip(self.names, self.reps))})"
        )
        return lines


def _sign(lower_is_better: bool) -> float:
    return 1.0 if lower_is_better else -1.0  # the procedures minimise sign * value


def _check(k: int, delta: float, pcs: float, n0: int) -> None:
    if k < 2:
        raise ValueError("give at least two policies")
    if not (delta > 0 and math.isfinite(delta)):
        raise ValueError(f"delta (the indifference zone) must be a positive number (got {delta})")
    if not 1.0 / k < pcs < 1.0:
        raise ValueError(f"pcs must lie between 1/k = {1 / k:.3g} and 1 (got {pcs})")
    if n0 < 2:
        raise ValueError(f"n0 must be at least 2 (got {n0})")


def kn_plus_plus(
    sample: Sampler,
    k: int,
    delta: float,
    pcs: float = 0.95,
    n0: int = 10,
    batch: int = 1,
    max_reps: int = 10_000,
    lower_is_better: bool = True,
    names: Sequence[str] | None = None,
    progress: Callable[[int], None] | None = None,
    update_variances: bool = False,
) -> Selection:
    """KN (or KN++ with `update_variances`) over `k` policies whose replications `sample` draws.

    batch: replications added to each survivor per stage after the first n0 (1 is the procedure
    as published; more screens less often, which only costs replications).
    """
    _check(k, delta, pcs, n0)
    sign = _sign(lower_is_better)
    beta = 1.0 - pcs ** (1.0 / (k - 1)) if update_variances else (1.0 - pcs) / (k - 1)
    x = np.full((k, max(n0, 64)), np.nan)
    x[:, :n0] = sign * sample(list(range(k)), list(range(n0)))
    first = x[:, :n0]
    s2_first = (first[:, None, :] - first[None, :, :]).var(axis=2, ddof=1)
    alive = list(range(k))
    reps = np.full(k, n0)
    r, out, truncated = n0, [], False
    if progress:
        progress(k * n0)
    while len(alive) > 1:
        xa = x[alive, :r]
        mean = xa.mean(axis=1)
        if update_variances:
            s2, dof = (xa[:, None, :] - xa[None, :, :]).var(axis=2, ddof=1), r - 1
        else:
            s2, dof = s2_first[np.ix_(alive, alive)], n0 - 1
        h2 = dof * ((2.0 * beta) ** (-2.0 / dof) - 1.0)  # 2 c eta (n - 1) with c = 1
        w = np.maximum(0.0, delta / (2.0 * r) * (h2 * s2 / delta**2 - r))
        # i is out when some survivor l beats it by more than the margin W_il
        worse = mean[:, None] > mean[None, :] + w
        np.fill_diagonal(worse, False)
        keep = []
        for a, i in enumerate(alive):
            if worse[a].any():
                by = alive[int(np.argmin(np.where(worse[a], mean, np.inf)))]
                out.append((i, r, by))
            else:
                keep.append(i)
        alive = keep
        if len(alive) <= 1:
            break
        if r >= max_reps:
            truncated = True
            break
        step = min(batch, max_reps - r)
        if r + step > x.shape[1]:
            x = np.hstack([x, np.full((k, max(x.shape[1], step)), np.nan)])
        x[alive, r : r + step] = sign * sample(alive, list(range(r, r + step)))
        reps[alive] += step
        r += step
        if progress:
            progress(len(alive) * step)
    means = np.array([np.nanmean(x[i, : reps[i]]) for i in range(k)]) * sign
    survivors = alive or [out[-1][2]]
    winner = min(survivors, key=lambda i: sign * means[i])
    name = "KN++" if update_variances else "KN"
    return Selection(winner, list(names or [str(i) for i in range(k)]), means, reps, out, truncated, name, delta, pcs)


def two_stage_bonferroni(
    sample: Sampler,
    k: int,
    delta: float,
    pcs: float = 0.95,
    n0: int = 10,
    lower_is_better: bool = True,
    names: Sequence[str] | None = None,
) -> Selection:
    """The fixed-sample comparator: two stages, a common N for all policies from the largest paired variance."""
    from scipy.stats import t as student

    _check(k, delta, pcs, n0)
    sign = _sign(lower_is_better)
    first = sign * sample(list(range(k)), list(range(n0)))
    s2 = (first[:, None, :] - first[None, :, :]).var(axis=2, ddof=1).max()
    q = float(student.ppf(1.0 - (1.0 - pcs) / (k - 1), n0 - 1))
    n = max(n0, math.ceil(q * q * s2 / delta**2))
    x = first if n == n0 else np.hstack([first, sign * sample(list(range(k)), list(range(n0, n)))])
    means = x.mean(axis=1) * sign
    winner = int(np.argmin(sign * means))
    return Selection(
        winner,
        list(names or [str(i) for i in range(k)]),
        means,
        np.full(k, n),
        [],
        False,
        "two-stage Bonferroni",
        delta,
        pcs,
    )


def select(
    scenarios: Sequence[str | Path],
    delta: float,
    pcs: float = 0.95,
    n0: int = 10,
    batch: int = 5,
    max_reps: int = 1000,
    seed: int | None = None,
    figure: str = "rmst",
    item: str = "ALL",
    executor=None,
    progress: Callable[[int], None] | None = None,
    update_variances: bool = False,
) -> Selection:
    """The fastest of several scenario files (policies) on one headline figure, by KN (KN++) under common random numbers.

    seed: for every policy (default: the first file's own); figure: `rmst` (restricted mean time to
    delivery, days, lower is better) or a share delivered (higher is better); item: an item id or
    ALL (by value). Tau and the cohort are one for all policies (sim.metrics.headline's rule).
    """
    from ..scenario.loader import load_scenario
    from .evaluate import Evaluator

    loaded = [load_scenario(p) for p in scenarios]
    ev = Evaluator(loaded, loaded[0].seed if seed is None else int(seed), figure, item, executor=executor)
    names = _names([s.name for s in loaded], [Path(p).stem for p in scenarios])
    return kn_plus_plus(
        ev, len(loaded), delta, pcs, n0, batch, max_reps, ev.lower_is_better, names, progress, update_variances
    )


def _names(names: list[str], stems: list[str]) -> list[str]:
    """Scenario names, or file names where two scenarios share one."""
    return (
        names
        if len(set(names)) == len(names)
        else stems
        if len(set(stems)) == len(stems)
        else [f"{s}#{i + 1}" for i, s in enumerate(stems)]
    )
