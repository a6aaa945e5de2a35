"""Global sensitivity estimators on the unit cube: Sobol indices (Saltelli, Jansen) and Morris screening.

Written here, not taken from SALib: the estimators are a few lines each, and owning them keeps
the sampling (scrambled Sobol points of scipy.stats.qmc, seeded) and the bootstrap in one place.
- Sobol: matrices A and B (N x k) and AB_i (A with column i from B); N (k + 2) evaluations.
  First order S_i = mean(f(B) (f(AB_i) - f(A))) / V (Saltelli et al. 2010, Comput. Phys. Commun.
  181:259-270, their eq. (b)); total ST_i = mean((f(A) - f(AB_i))^2) / (2 V) (Jansen 1999);
  V the variance of f(A) and f(B) together, every f centred on their mean. 95% intervals: percentile bootstrap over the N rows.
- Morris (1991), with the mu* of Campolongo, Cariboni and Saltelli (2007): r trajectories on a
  p-level grid, each moving one input at a time by Delta = p / (2 (p - 1)); per input the mean
  absolute elementary effect mu*, its bootstrap interval over trajectories, and sigma.
Inputs are quantiles in [0, 1]; mapping them to values (sim.scenario.uncertain) is the caller's.
"""

from __future__ import annotations

import numpy as np

LEVEL = 0.95
BOOTSTRAP = 1000


def sobol_design(n: int, k: int, seed: int) -> np.ndarray:
    """The rows to evaluate, in blocks: A (n), B (n), then AB_1 ... AB_k (n each); (n (k + 2)) x k."""
    from scipy.stats import qmc

    base = qmc.Sobol(2 * k, scramble=True, seed=np.random.default_rng([seed, 0x50B0])).random(n)
    a, b = base[:, :k], base[:, k:]
    blocks = [a, b]
    for i in range(k):
        ab = a.copy()
        ab[:, i] = b[:, i]
        blocks.append(ab)
    return np.vstack(blocks)


def _indices(fa: np.ndarray, fb: np.ndarray, fab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(S, ST) from f(A), f(B) (n) and f(AB_i) (k x n), rows being resample-aligned."""
    # Centred first: the S_i estimator is unbiased for any shift, but its variance grows with the
    # mean squared (a time to delivery of 300 days varying by 15 would swamp it).
    both = np.concatenate([fa, fb])
    c = both.mean()
    fa, fb, fab = fa - c, fb - c, fab - c
    v = np.var(both, ddof=1)
    s1 = np.mean(fb[None, :] * (fab - fa[None, :]), axis=1) / v
    st = 0.5 * np.mean((fa[None, :] - fab) ** 2, axis=1) / v
    return s1, st


def sobol_indices(y: np.ndarray, n: int, k: int, seed: int = 0, bootstrap: int = BOOTSTRAP) -> dict[str, np.ndarray]:
    """First-order and total indices with bootstrap intervals from the values of `sobol_design`'s rows."""
    y = np.asarray(y, dtype=np.float64)
    fa, fb, fab = y[:n], y[n : 2 * n], y[2 * n :].reshape(k, n)
    s1, st = _indices(fa, fb, fab)
    rng = np.random.default_rng([seed, 0xB007])
    boot_s1, boot_st = np.empty((bootstrap, k)), np.empty((bootstrap, k))
    for b in range(bootstrap):
        rows = rng.integers(0, n, n)
        boot_s1[b], boot_st[b] = _indices(fa[rows], fb[rows], fab[:, rows])
    q = [(1 - LEVEL) / 2, (1 + LEVEL) / 2]
    (s1_lo, s1_hi), (st_lo, st_hi) = np.quantile(boot_s1, q, axis=0), np.quantile(boot_st, q, axis=0)
    return {"S1": s1, "S1_lo": s1_lo, "S1_hi": s1_hi, "ST": st, "ST_lo": st_lo, "ST_hi": st_hi}


def morris_design(r: int, k: int, seed: int, levels: int = 4) -> np.ndarray:
    """r trajectories of k + 1 points each ((r (k + 1)) x k): a random start on the grid, one input moved per step."""
    rng = np.random.default_rng([seed, 0x3022])
    delta = levels / (2.0 * (levels - 1))
    grid = np.arange(levels // 2) / (levels - 1)  # starts from which +delta stays inside [0, 1]
    out = []
    for _ in range(r):
        x = rng.choice(grid, size=k)
        sign = rng.choice([-1.0, 1.0], size=k)
        x = np.where(sign < 0, x + delta, x)  # a downward step starts high
        traj = [x.copy()]
        for i in rng.permutation(k):
            x = x.copy()
            x[i] += sign[i] * delta
            traj.append(x)
        out.append(np.array(traj))
    return np.vstack(out)


def morris_effects(x: np.ndarray, y: np.ndarray, r: int, k: int, seed: int = 0, bootstrap: int = BOOTSTRAP):
    """mu*, its bootstrap interval over trajectories, mu and sigma of each input's elementary effects."""
    x, y = np.asarray(x).reshape(r, k + 1, k), np.asarray(y, dtype=np.float64).reshape(r, k + 1)
    ee = np.empty((r, k))
    for t in range(r):
        step = np.diff(x[t], axis=0)  # one nonzero entry per row
        which = np.argmax(np.abs(step), axis=1)
        ee[t, which] = np.diff(y[t]) / step[np.arange(k), which]
    mu_star = np.abs(ee).mean(axis=0)
    rng = np.random.default_rng([seed, 0xB007])
    boot = np.array([np.abs(ee[rng.integers(0, r, r)]).mean(axis=0) for _ in range(bootstrap)])
    lo, hi = np.quantile(boot, [(1 - LEVEL) / 2, (1 + LEVEL) / 2], axis=0)
    return {
        "mu_star": mu_star,
        "mu_star_lo": lo,
        "mu_star_hi": hi,
        "mu": ee.mean(axis=0),
        "sigma": ee.std(axis=0, ddof=1) if r > 1 else np.full(k, np.nan),
    }
