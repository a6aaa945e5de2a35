"""Statistics across replications: replication means with Student-t intervals.

Method: a statistic (mean, a percentile) is computed within each replication; its estimate is
the mean of those per-replication values and its 95% interval is the t-interval across them.
Replications are independent, so this is valid for percentiles as well as for means.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats as _st


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
    half = float(_st.t.ppf(0.5 + level / 2, n - 1) * v.std(ddof=1) / math.sqrt(n))
    return m, m - half, m + half
