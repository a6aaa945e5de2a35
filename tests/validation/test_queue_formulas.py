"""The formulas the simulator is checked against, checked first against textbook values."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
from control_variates import controlled_mean
from queue_theory import erlang_c, md1_sojourn, mmc_sojourn, mmc_wait, pk_wait, tandem_sojourn_cdf
from scipy import integrate, stats


def test_erlang_c_textbook_mm3():
    # Textbook exercise: lam = 2, mu = 1, c = 3. P0 = 1 / (1 + 2 + 2 + (8/6)(3/1)) = 1/9 and
    # C = (a^3/3!) (c/(c-a)) P0 = (8/6)(3)(1/9) = 4/9, worked in exact fractions here.
    p0 = 1 / (Fraction(1) + 2 + Fraction(4, 2) + Fraction(8, 6) * 3)
    c_exact = Fraction(8, 6) * 3 * p0
    assert c_exact == Fraction(4, 9)
    assert erlang_c(3, 2.0) == pytest.approx(4 / 9, rel=1e-12)  # rel 1e-12: floating-point rounding only
    assert mmc_wait(3, 2.0, 1.0) == pytest.approx(4 / 9, rel=1e-12)  # W_q = C / (c mu - lam) = (4/9) / 1


@pytest.mark.parametrize("rho", [0.1, 0.5, 0.8, 0.9, 0.99])
def test_erlang_c_reduces_to_mm1_and_mm2(rho):
    # M/M/1: P(wait) = rho and W = 1/(mu - lam); M/M/2 (Gross & Harris): P(wait) = 2 rho^2/(1 + rho),
    # W_q = rho^2 / (mu (1 - rho^2)).
    mu = 1.7
    assert erlang_c(1, rho) == pytest.approx(rho, rel=1e-12)  # rel 1e-12: rounding only
    assert mmc_sojourn(1, rho * mu, mu) == pytest.approx(1 / (mu - rho * mu), rel=1e-12)  # rounding only
    assert erlang_c(2, 2 * rho) == pytest.approx(2 * rho**2 / (1 + rho), rel=1e-12)  # rounding only
    assert mmc_wait(2, 2 * rho * mu, mu) == pytest.approx(rho**2 / (mu * (1 - rho**2)), rel=1e-12)  # rounding only


@pytest.mark.parametrize("c,a", [(1, 0.5), (3, 2.7), (11, 10.0), (50, 45.0)])
def test_erlang_c_agrees_with_erlang_b_recursion(c, a):
    # An independent route: Erlang B by the recursion B(0)=1, B(k) = a B(k-1) / (k + a B(k-1)),
    # then C = c B / (c - a (1 - B)).
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    assert erlang_c(c, a) == pytest.approx(c * b / (c - a * (1 - b)), rel=1e-10)  # rel 1e-10: rounding in the two sums


@pytest.mark.parametrize("rho", [0.3, 0.8, 0.9])
def test_pollaczek_khinchine_matches_mm1_and_md1_is_half(rho):
    # P-K with exponential service (E[S^2] = 2/mu^2) must give the M/M/1 wait; deterministic
    # service (E[S^2] = 1/mu^2) gives exactly half of it: the textbook M/D/1 result rho/(2 mu (1-rho)).
    mu = 1.0
    lam = rho * mu
    assert pk_wait(lam, 1 / mu, 2 / mu**2) == pytest.approx(mmc_wait(1, lam, mu), rel=1e-12)  # rounding only
    assert md1_sojourn(lam, 1 / mu) - 1 / mu == pytest.approx(rho / (2 * mu * (1 - rho)), rel=1e-12)  # rounding only


def test_tandem_cdf_is_a_distribution_with_the_jackson_mean():
    # Mean of the hypoexponential = 1/(mu1 - lam) + 1/(mu2 - lam); integrate the survival function.
    lam, mu1, mu2 = 0.5, 1.0, 0.8
    mean, _ = integrate.quad(lambda t: 1.0 - float(tandem_sojourn_cdf(t, lam, mu1, mu2)), 0, math.inf)
    assert mean == pytest.approx(1 / 0.5 + 1 / 0.3, rel=1e-8)  # rel 1e-8: quadrature error only
    t = np.linspace(0, 200, 2001)
    f = tandem_sojourn_cdf(t, lam, mu1, mu2)
    assert f[0] == pytest.approx(0.0, abs=1e-12) and f[-1] == pytest.approx(1.0, abs=1e-12)  # a CDF: 0 at 0, 1 far out
    assert np.all(np.diff(f) >= 0)  # non-decreasing, exactly


def test_controlled_mean_hand_worked():
    # R = 4, one control. y = 1, 3, 5, 7 against C = -1, -1, 1, 1: X'X = diag(4, 4), so the
    # intercept is mean(y) = 4 and the slope sum(C y)/4 = 2; residuals -1, 1, -1, 1 give s^2 = 4/2 = 2
    # and SE^2 = s^2 / 4 = 0.5, so the half-width is t(0.975, 2) sqrt(0.5) = 4.302653 * 0.707107.
    est, half = controlled_mean([1, 3, 5, 7], [[-1, -1, 1, 1]])
    assert est == pytest.approx(4.0, abs=1e-12) and half == pytest.approx(4.302653 * math.sqrt(0.5), rel=1e-6)
    # The same outputs with the control off its mean (C = 0, 0, 2, 2, mean 1): the slope is still 2,
    # the intercept 4 - 2 * 1 = 2, and [(X'X)^-1]_00 = 1/4 + mean(C)^2 / sum((C - mean)^2) = 1/2, SE^2 = 1.
    est, half = controlled_mean([1, 3, 5, 7], [[0, 0, 2, 2]])
    assert est == pytest.approx(2.0, abs=1e-12) and half == pytest.approx(4.302653, rel=1e-6)
    # No control: the plain mean and its Student-t interval, sd of 1, 3, 5, 7 = sqrt(20/3).
    est, half = controlled_mean([1, 3, 5, 7])
    assert est == pytest.approx(4.0) and half == pytest.approx(3.182446 * math.sqrt(20 / 3) / 2, rel=1e-6)


def test_controlled_mean_interval_covers_95_percent():
    # 4,000 independent experiments of R = 10 replications, y correlated with two controls of mean 0
    # (R^2 = 0.48, as in the queues: 0.3-0.7): the 95% interval must hold the true mean 0.95 of the time.
    # Seed fixed; binomial SE of the coverage sqrt(0.95 * 0.05 / 4000) = 0.0034, so +-0.014 is 4 SE.
    rng = np.random.default_rng(20261204)
    cov = [[1.0, 0.6, 0.4], [0.6, 1.0, 0.1], [0.4, 0.1, 1.0]]
    hits, narrower = 0, 0
    for _ in range(4000):
        y, c1, c2 = rng.multivariate_normal([3.0, 0.0, 0.0], cov, size=10).T
        est, half = controlled_mean(y, [c1, c2])
        hits += abs(est - 3.0) <= half
        narrower += half < stats.t.ppf(0.975, 9) * y.std(ddof=1) / math.sqrt(10)
    assert abs(hits / 4000 - 0.95) < 0.014
    assert narrower > 2000  # the controls explain ~60% of y's variance: most intervals come out narrower
