"""Exact results of queueing theory that the validation tests hold the simulator to.

Written out here, independently of the simulator, so that a test compares two things built apart.
Notation: arrival rate `lam`, service rate per server `mu`, `c` servers, offered load a = lam/mu,
utilisation rho = a/c. Times are in the simulator's unit (days).
"""

from __future__ import annotations

import math


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in M/M/c (Erlang's C formula), for offered load a < c.

    C(c, a) = (a^c / c!) * c / (c - a)
              -----------------------------------------------
              sum_{k=0}^{c-1} a^k / k!  +  (a^c / c!) * c / (c - a)
    """
    if not 0 < a < c:
        raise ValueError("needs 0 < a < c (a stable queue)")
    head = sum(a**k / math.factorial(k) for k in range(c))
    tail = a**c / math.factorial(c) * c / (c - a)
    return tail / (head + tail)


def mmc_wait(c: int, lam: float, mu: float) -> float:
    """Mean wait in queue of M/M/c: W_q = C(c, a) / (c mu - lam)."""
    return erlang_c(c, lam / mu) / (c * mu - lam)


def mmc_sojourn(c: int, lam: float, mu: float) -> float:
    """Mean time in system of M/M/c: W = W_q + 1/mu (wait plus own service)."""
    return mmc_wait(c, lam, mu) + 1.0 / mu


def pk_wait(lam: float, mean_s: float, second_moment_s: float) -> float:
    """Mean wait in queue of M/G/1 (Pollaczek-Khinchine): W_q = lam E[S^2] / (2 (1 - rho)), rho = lam E[S]."""
    rho = lam * mean_s
    if not 0 < rho < 1:
        raise ValueError("needs 0 < rho < 1 (a stable queue)")
    return lam * second_moment_s / (2.0 * (1.0 - rho))


def md1_sojourn(lam: float, d: float) -> float:
    """Mean time in system of M/D/1 (service exactly d): P-K with E[S^2] = d^2, plus d."""
    return pk_wait(lam, d, d * d) + d


def relaxation_time(c: int, lam: float, mu: float) -> float:
    """Relaxation time of M/M/c, 1 / (c mu (1 - sqrt(rho))^2): the scale on which the queue forgets its start.

    Exact for M/M/1 (the spectral gap of the birth-death chain); used only to size warm-ups.
    """
    rho = lam / (c * mu)
    return 1.0 / (c * mu * (1.0 - math.sqrt(rho)) ** 2)


def tandem_sojourn_cdf(t, lam: float, mu1: float, mu2: float):
    """CDF of the time through two M/M/1 FIFO queues in series (a Jackson tandem).

    By Burke's theorem the first queue's departures are Poisson(lam), and by Reich's theorem a
    customer's sojourns at the two stations are independent, each exponential with rate mu_i - lam.
    Their sum is hypoexponential: F(t) = 1 - (b e^{-a t} - a e^{-b t}) / (b - a), a = mu1 - lam,
    b = mu2 - lam (a != b).
    """
    import numpy as np

    a, b = mu1 - lam, mu2 - lam
    if a <= 0 or b <= 0 or a == b:
        raise ValueError("needs stable stations with different rates")
    t = np.asarray(t, dtype=float)
    return 1.0 - (b * np.exp(-a * t) - a * np.exp(-b * t)) / (b - a)
