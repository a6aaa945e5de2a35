"""Statistics across replications: replication means with Student-t intervals.

Method: a statistic (mean, a percentile) is computed within each replication; its estimate is
the mean of those per-replication values and its 95% interval is the t-interval across them.
Replications are independent, so this is valid for percentiles as well as for means. Two
scenarios run with common random numbers are compared by the paired difference per replication.
"""

from __future__ import annotations

import math

import numpy as np


def t_interval(values, level: float = 0.95) -> tuple[float, float, float]:
    """(mean, low, high) of independent values; the interval is NaN with fewer than two values."""
    v = np.asarray(values, dtype=float)
    v = v[~np.isnan(v)]
    n = v.size
    if n == 0:
        return math.nan, math.nan, math.nan
    m = float(v.mean())
    if n < 2:
        return m, math.nan, math.nan
    # scipy.special's Student-t quantile: scipy.stats would add ~1 s to every CLI start-up.
    from scipy.special import stdtrit

    half = float(stdtrit(n - 1, 0.5 + level / 2) * v.std(ddof=1) / math.sqrt(n))
    return m, m - half, m + half


def paired_difference(a, b, level: float = 0.95) -> tuple[float, float, float, int]:
    """(mean of b - a, low, high, pairs) over the replications where both a and b are defined.

    With common random numbers a[r] and b[r] come from the same random streams, so the
    difference is taken per replication and its t-interval is the paired one.
    """
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    both = ~(np.isnan(a) | np.isnan(b))
    m, lo, hi = t_interval(b[both] - a[both], level)
    return m, lo, hi, int(both.sum())
