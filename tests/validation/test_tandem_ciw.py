"""A tandem line (production, then a capacity-1 transport leg) against the same network in Ciw.

The network: Poisson requests (lam 0.5/day) -> station 1, the production line (1 server,
exponential unit time, mu1 1/day) -> station 2, a leg that carries one lot at a time
(exponential transit, mu2 0.8/day) -> Ukraine. purlsim runs tests/validation/scenarios/tandem.yaml;
Ciw runs the same network built with its own API. The latency distributions must agree by a
two-sample Kolmogorov-Smirnov test at alpha = 0.01.

Independence. The KS test assumes independent draws, but consecutive customers' latencies are
correlated. Each replication (independent streams; Ciw: its own seed) contributes every 50th
customer requested after a warm-up: 50 customers are 100 days, about 3.5 relaxation times of the
slower station (1/(mu2 (1 - sqrt(rho2))^2) = 28 days), so the kept latencies are nearly
independent; the test checks the lag-1 correlation of what it kept. One customer per
replication would be exactly independent but costs a full warm-up per sample.

Both samples are also held to the exact distribution (Burke and Reich: a customer's sojourns at
the two stations are independent exponentials with rates mu_i - lam), and the test shows it has
the power to see a leg 10% slower, so that agreement means something.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from queue_runs import tandem_ciw_replication, tandem_sim_replication
from queue_theory import tandem_sojourn_cdf
from scipy import stats
from validation_profile import LONG, load, pool  # noqa: F401 (a fixture)

ALPHA = 0.01
LAM, MU1, MU2 = 0.5, 1.0, 0.8
EVERY = 50
WARMUP = 150.0  # ~5 relaxation times of the slower station (28 days)
DRAIN = 300.0  # customers requested this close to the horizon are not measured (no censoring)
REPS = 40 if LONG else 14  # ~75 kept customers per replication: ~1000 per simulator by default

_cache: dict = {}


def samples(pool):
    if not _cache:
        s = load("tandem")
        (line,), (leg,) = s.production.values(), s.transport.legs.values()
        # The scenario file must be the network Ciw is given.
        assert 1 / s.requests.stream.interarrival_days.mean() == pytest.approx(LAM)  # same network: exact
        assert 1 / line.unit_days.mean() == pytest.approx(MU1) and line.servers == 1  # same network: exact
        assert 1 / leg.days.mean() == pytest.approx(MU2) and leg.capacity == 1  # same network: exact
        end = s.horizon_days - DRAIN
        sim_runs = pool.map(tandem_sim_replication, *zip(*[(s, s.seed, r, WARMUP, end, EVERY) for r in range(REPS)]))
        ciw_runs = pool.map(
            tandem_ciw_replication,
            *zip(*[(1000 + r, LAM, MU1, MU2, s.horizon_days, WARMUP, end, EVERY) for r in range(REPS)]),
        )
        _cache["sim"], _cache["ciw"] = list(sim_runs), list(ciw_runs)
    return _cache["sim"], _cache["ciw"]


def _pooled(runs):
    assert all(r["undelivered"] == 0 for r in runs)  # exact: the drain leaves nothing measured censored
    return np.concatenate([r["sample"] for r in runs])


def test_latency_distribution_agrees_with_ciw(pool):
    sim_runs, ciw_runs = samples(pool)
    a, b = _pooled(sim_runs), _pooled(ciw_runs)
    res = stats.ks_2samp(a, b)
    print(
        f"\ntandem: purlsim n={a.size} mean {a.mean():.3f}, Ciw n={b.size} mean {b.mean():.3f}, "
        f"theory mean {1 / (MU1 - LAM) + 1 / (MU2 - LAM):.3f}; KS D={res.statistic:.4f} p={res.pvalue:.3f}"
    )
    assert a.size >= 900 and b.size >= 900  # enough draws that the KS test can see a 10% slower leg (see below)
    assert res.pvalue > ALPHA  # two-sample KS at alpha 0.01: same latency distribution as Ciw


def test_both_agree_with_the_exact_tandem_distribution(pool):
    sim_runs, ciw_runs = samples(pool)
    cdf = lambda t: tandem_sojourn_cdf(t, LAM, MU1, MU2)  # noqa: E731
    for name, runs in (("purlsim", sim_runs), ("ciw", ciw_runs)):
        p = stats.kstest(_pooled(runs), cdf).pvalue
        print(f"\n{name} vs Burke-Reich: p={p:.3f}")
        assert p > ALPHA  # one-sample KS at alpha 0.01 against the hypoexponential of Burke and Reich


def test_the_ks_test_can_see_a_slower_leg(pool):
    sim_runs, _ = samples(pool)
    slower = lambda t: tandem_sojourn_cdf(t, LAM, MU1, 0.9 * MU2)  # noqa: E731
    p = stats.kstest(_pooled(sim_runs), slower).pvalue
    assert p < ALPHA  # power: the same sample rejects a leg 10% slower, so "agrees" above is informative


def test_kept_latencies_are_nearly_independent(pool):
    sim_runs, ciw_runs = samples(pool)
    for runs in (sim_runs, ciw_runs):
        x, y = [], []
        for r in runs:
            s = r["sample"] - r["sample"].mean()
            x.append(s[:-1])
            y.append(s[1:])
        x, y = np.concatenate(x), np.concatenate(y)
        r1 = float(np.sum(x * y) / math.sqrt(np.sum(x * x) * np.sum(y * y)))
        assert abs(r1) < 3 / math.sqrt(x.size)  # 3 standard errors of a zero correlation: thinning by 50 worked
