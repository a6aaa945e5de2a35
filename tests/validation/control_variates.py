"""The mean of replications' outputs with control variates, and its confidence interval.

A control is a per-replication quantity whose mean is known exactly (here: the mean unit time
drawn, whose mean is 1/mu, and the arrival rate counted in the window, whose mean is lambda).
Where it correlates with the output, the output's deviation from its mean is partly explained by
the control's deviation from its known mean, and subtracting that part narrows the interval.

Estimator (Lavenberg and Welch, 1981; Law, Simulation Modeling and Analysis, 5th ed., 11.4): with R
replications, outputs y_r and centred controls C_r (q of them, each minus its known mean), regress
y on [1, C] by least squares; the intercept is the estimate. Under joint normality of (y, C) across
replications, (estimate - true mean) / SE follows Student's t with R - q - 1 degrees of freedom,
SE^2 = s^2 [(X'X)^-1]_00 and s^2 the residual variance on R - q - 1 degrees of freedom, so the
interval is exact for any R, coefficients estimated included. With q = 0 it is the plain mean and
its t interval.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats


def controlled_mean(y, controls=(), level: float = 0.95) -> tuple[float, float]:
    """(estimate, half-width of the `level` interval) of E[y], given controls of known mean zero."""
    y = np.asarray(y, dtype=float)
    r = y.size
    cols = [np.asarray(c, dtype=float) for c in controls]
    q = len(cols)
    if r - q - 1 < 1:
        raise ValueError(f"{r} replications leave no degree of freedom for {q} control(s)")
    x = np.column_stack([np.ones(r), *cols])
    xtx_inv = np.linalg.inv(x.T @ x)
    beta = xtx_inv @ (x.T @ y)
    resid = y - x @ beta
    df = r - q - 1
    s2 = float(resid @ resid) / df
    se = math.sqrt(s2 * xtx_inv[0, 0])
    return float(beta[0]), float(stats.t.ppf(0.5 + level / 2, df) * se)
