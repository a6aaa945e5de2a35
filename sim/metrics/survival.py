"""Weighted Kaplan-Meier curves over replications, for many resamples of the replications at once.

Why our own estimator and not a library's: lifelines' KaplanMeierFitter takes weights but fits
one sample per call, and scipy.stats.ecdf takes no weights; a replication bootstrap needs a
thousand weighted fits per item, so the product-limit estimate is vectorized here over resamples
(numpy), and the test suite checks it against lifelines and against a hand computation.

An observation is (time, event, weight, replication): a lot's time to delivery, whether it was
delivered (event) or is right-censored at that time, and its weight (units, or their value). A
*resample* is a vector of multiplicities, one per replication: ones for the estimate itself,
the rows of an identity for per-replication estimates, multinomial counts for a bootstrap. The
product-limit estimate at the distinct times u_j is S(u_j) = prod_{k<=j} (1 - d_k / n_k) with
d_k the event weight at u_k and n_k the weight still at risk (time >= u_k): censored
observations at u_k count as at risk there (the usual convention, and lifelines').
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np

# At most this many matrix cells (resamples x observations) at once: bounded memory for
# thousands of resamples over a million lots.
CELLS = 4_000_000
EPS = 1e-12  # S(t) <= 1 - p is tested with this slack: cumulative products are not exact


@dataclass(frozen=True)
class Sample:
    """Observations of one group (an item, all items, requests), sorted by time."""

    time: np.ndarray  # days, >= 0
    event: np.ndarray  # bool: delivered (True) or censored at `time`
    weight: np.ndarray  # > 0
    rep: np.ndarray  # replication index 0..reps-1 of each observation

    @classmethod
    def of(cls, time, event, weight, rep) -> Sample:
        """A sample from unsorted columns (observations of zero weight are left out)."""
        time = np.asarray(time, dtype=np.float64)
        weight = np.asarray(weight, dtype=np.float64)
        keep = weight > 0
        order = np.argsort(time[keep], kind="stable")
        return cls(
            time[keep][order],
            np.asarray(event, dtype=bool)[keep][order],
            weight[keep][order],
            np.asarray(rep, dtype=np.int64)[keep][order],
        )

    def __len__(self) -> int:
        return int(self.time.size)


@dataclass(frozen=True)
class Figures:
    """What the curve of each resample says: one value per resample (row of the multiplicities)."""

    quantiles: dict[float, np.ndarray]  # p -> first time S <= 1 - p (inf: not reached)
    rmst: np.ndarray  # integral of S from 0 to tau (NaN: curve ends before tau)
    share_by: dict[float, np.ndarray]  # t -> 1 - S(t) (NaN: curve ends before t)
    event_share: np.ndarray  # event weight / total weight (delivered by the horizon)
    total: np.ndarray  # total weight


def kaplan_meier(time, event, weight=None) -> tuple[np.ndarray, np.ndarray]:
    """(distinct times, S at each) of one weighted sample: the plain estimate, for tables and plots."""
    time = np.asarray(time, dtype=np.float64)
    weight = np.ones_like(time) if weight is None else np.asarray(weight, dtype=np.float64)
    s = Sample.of(time, event, weight, np.zeros(time.size, dtype=np.int64))
    if not len(s):
        return np.empty(0), np.empty(0)
    times, surv, _, _ = _curves(s, np.ones((1, 1)))
    return times, surv[0]


def _curves(s: Sample, counts: np.ndarray):
    """(distinct times u, S of each resample at u, weight leaving at u): counts is (resamples x replications)."""
    starts = np.flatnonzero(np.r_[True, s.time[1:] != s.time[:-1]])
    w = counts[:, s.rep] * s.weight  # each observation's weight in each resample
    leaving = np.add.reduceat(w, starts, axis=1)  # weight whose time is u_j
    total = w.sum(axis=1, keepdims=True)
    w *= s.event  # now each observation's event weight: its total weight is taken above
    events = np.add.reduceat(w, starts, axis=1)
    return s.time[starts], _product_limit(events, leaving, total), leaving, events


def _product_limit(events: np.ndarray, leaving: np.ndarray, total: np.ndarray) -> np.ndarray:
    """S of each resample (row) at each distinct time, from the weight leaving and the event weight
    there: prod (1 - d/n), n the weight still at risk. In one array, reused step by step: these are
    (resamples x times) and a bootstrap makes many, so temporaries would cost more than the arithmetic."""
    s = np.cumsum(leaving, axis=1)
    s -= leaving
    np.subtract(total, s, out=s)  # at risk at each time
    at_risk = s > 0
    np.divide(events, s, out=s, where=at_risk)  # the hazard where anything is at risk, 0 elsewhere
    s[~at_risk] = 0.0
    np.subtract(1.0, s, out=s)
    return np.cumprod(s, axis=1, out=s)


def _grid_curves(pre, counts: np.ndarray):
    """As `_curves`, on a grid of times (see `figures`): two matrix products per block of resamples."""
    u, d, lv = pre
    # dense @ sparse, in C order as a dense product gives it (the RMST's product then sums alike)
    events, leaving = np.ascontiguousarray(counts @ d), np.ascontiguousarray(counts @ lv)
    return u, _product_limit(events, leaving, leaving.sum(axis=1, keepdims=True)), leaving, events


def _on_grid(s: Sample, reps: int, resolution: float):
    """Per replication, event and total weight in each grid cell (times rounded up to the grid),
    as sparse matrices (replications x cells with weight).

    A replication has weight in few cells (under 2% of them in the shipped scenarios), so the
    products with a thousand resamples cost a pass over the non-zero cells, not over all: 10x
    faster than dense. Each sum is then taken in one fixed order, the same on every machine
    (a BLAS product's order depends on the CPU and its threads): exact for whole units, within
    1e-15 relative of the dense product for values. The matrices are built from the occupied
    (replication, cell) pairs alone: a dense one is reps x 20,000 cells, 160 MB to fill and scan.
    """
    from scipy.sparse import csc_matrix  # here, not at import: sim.metrics loads without scipy

    step = max(resolution, float(s.time.max()) / GRID_CELLS)
    cell = np.ceil(s.time / step - 1e-9).astype(np.int64)
    g = int(cell.max()) + 1
    pairs, where = np.unique(s.rep * g + cell, return_inverse=True)  # sorted by replication, then cell
    # bincount adds each pair's observations in their order, as a dense bincount adds each cell's
    lv = np.bincount(where, weights=s.weight)  # every weight is > 0, so every pair has weight
    d = np.bincount(where, weights=s.weight * s.event)
    cells, col = np.unique(pairs % g, return_inverse=True)  # the cells with weight, in time order
    row = pairs // g
    shape = (reps, cells.size)
    hit = d != 0  # no stored zeros, as in a matrix made from a dense one
    return cells * step, csc_matrix((d[hit], (row[hit], col[hit])), shape), csc_matrix((lv, (row, col)), shape)


GRID = 0.1  # days: the bootstrap's curves are computed on this grid (the estimate on exact times)
GRID_CELLS = 20_000  # at most this many grid cells (a coarser grid beyond)


@cache
def _blas():
    """numpy's BLAS, to be held to one thread (made once: finding the loaded libraries costs ~1 ms)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController().select(user_api="blas")  # numpy's (scipy's, if loaded, is not used here)


def figures(
    s: Sample,
    counts: np.ndarray,
    levels=(0.5, 0.9),
    tau: float = np.inf,
    days=(30.0, 90.0, 180.0),
    grid: float | None = None,
) -> Figures:
    """The figures of every resample (rows of `counts`), computed in blocks of bounded memory.

    grid: compute the curves on a grid of this many days (times rounded up to it) instead of
    the exact times: a thousand bootstrap curves then cost two matrix products, not a pass
    over every observation each. The estimate itself is always computed on exact times.
    """
    counts = np.asarray(counts, dtype=np.float64)
    k = counts.shape[0]
    out = Figures(
        {p: np.full(k, np.nan) for p in levels},
        np.full(k, np.nan),
        {t: np.full(k, np.nan) for t in days},
        np.full(k, np.nan),
        np.zeros(k),
    )
    if not len(s):
        return out
    if grid:
        pre = _on_grid(s, counts.shape[1], grid)
        curves = lambda c: _grid_curves(pre, c)  # noqa: E731
        block = max(1, CELLS // max(1, pre[0].size))
    else:
        curves = lambda c: _curves(s, c)  # noqa: E731
        block = max(1, CELLS // len(s))
    # One BLAS thread: the products here are small and many, and OpenBLAS's other threads spin
    # between them; that spinning was ~15% of the report's CPU at 1,000 replications, for no
    # wall time gained (measured). Each row's dot product is one thread's either way.
    with _blas().limit(limits=1):
        for a in range(0, k, block):
            _block(curves(counts[a : a + block]), len(counts[a : a + block]), tau, out, slice(a, min(k, a + block)))
    return out


def _block(curves, n: int, tau: float, out: Figures, rows: slice) -> None:
    u, surv, leaving, events = curves
    tot = leaving.sum(axis=1)
    present = tot > 0
    out.total[rows] = tot
    with np.errstate(invalid="ignore", divide="ignore"):
        out.event_share[rows] = np.where(present, events.sum(axis=1) / tot, np.nan)
    # Where each resample's curve ends: its last distinct time with weight (later ones are absent
    # from it); past that the curve is known only if it has reached zero.
    last = u[u.size - 1 - np.argmax(leaving[:, ::-1] > 0, axis=1)]
    known = lambda t: present & ((t <= last) | (surv[:, -1] <= EPS))  # noqa: E731
    for p, values in out.quantiles.items():
        hit = surv <= 1.0 - p + EPS
        values[rows] = np.where(present, np.where(hit.any(axis=1), u[np.argmax(hit, axis=1)], np.inf), np.nan)
    for t, values in out.share_by.items():
        j = np.searchsorted(u, t, side="right") - 1  # the last distinct time <= t
        values[rows] = np.where(known(t), 1.0 - surv[:, j] if j >= 0 else 0.0, np.nan)
    if np.isfinite(tau):
        # S is 1 before u_0 and S(u_j) on [u_j, u_j+1): the area up to tau, step by step.
        widths = np.diff(np.r_[0.0, np.minimum(np.r_[u, np.inf], tau)])  # [0,u0), [u0,u1), ..., [u_last,tau)
        out.rmst[rows] = np.where(known(tau), np.hstack([np.ones((n, 1)), surv]) @ widths, np.nan)
