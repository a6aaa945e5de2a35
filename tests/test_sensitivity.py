"""Global sensitivity: Sobol indices of the Ishigami function against their analytic values, Morris on a
linear function against its coefficients, and the study of baseline_2025's uncertain inputs."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sim.experiments import gsa
from sim.experiments.sensitivity import sensitivity

ROOT = Path(__file__).resolve().parents[1]
A, B = 7.0, 0.1


def ishigami(u: np.ndarray) -> np.ndarray:
    x = -math.pi + 2 * math.pi * u
    return np.sin(x[:, 0]) + A * np.sin(x[:, 1]) ** 2 + B * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_indices():
    """Analytic first-order and total indices (Ishigami and Homma 1990; Sobol' and Levitan 1999)."""
    v1 = 0.5 * (1 + B * math.pi**4 / 5) ** 2
    v2 = A**2 / 8
    v13 = 8 * B**2 * math.pi**8 / 225
    v = v1 + v2 + v13
    return np.array([v1, v2, 0.0]) / v, np.array([v1 + v13, v2, v13]) / v


@pytest.mark.parametrize("seed", [1, 2])
def test_sobol_indices_of_ishigami_lie_within_their_intervals(seed):
    s1, st = ishigami_indices()
    assert s1 == pytest.approx([0.3139, 0.4424, 0.0], abs=1e-4)  # the published values
    assert st == pytest.approx([0.5576, 0.4424, 0.2437], abs=1e-4)
    n = 2048
    x = gsa.sobol_design(n, 3, seed)
    assert x.shape == (n * 5, 3)
    est = gsa.sobol_indices(ishigami(x), n, 3, seed)
    assert np.all(est["S1_lo"] <= s1) and np.all(s1 <= est["S1_hi"])
    assert np.all(est["ST_lo"] <= st) and np.all(st <= est["ST_hi"])
    assert np.all(est["ST_hi"] - est["ST_lo"] < 0.15)  # informative, not just wide


def test_sobol_of_an_additive_function_by_hand():
    # f = 2 u1 + u2: variances 4/12 and 1/12, so S = ST = (0.8, 0.2, 0) with no interaction
    n = 1024
    x = gsa.sobol_design(n, 3, 5)
    est = gsa.sobol_indices(2 * x[:, 0] + x[:, 1], n, 3, 5)
    assert est["S1"] == pytest.approx([0.8, 0.2, 0.0], abs=0.03)
    assert est["ST"] == pytest.approx([0.8, 0.2, 0.0], abs=0.01)


def test_morris_effects_of_a_linear_function_are_its_coefficients():
    r, k = 20, 4
    x = gsa.morris_design(r, k, 3)
    assert x.shape == (r * (k + 1), k) and x.min() >= 0 and x.max() <= 1
    # each step moves exactly one input by +-delta = 2/3 (4 levels)
    steps = np.abs(np.diff(x.reshape(r, k + 1, k), axis=1))
    assert np.all((steps > 1e-12).sum(axis=2) == 1)
    assert np.allclose(steps.max(axis=2), 2 / 3)
    coef = np.array([3.0, -1.0, 0.0, 0.5])
    est = gsa.morris_effects(x, x @ coef, r, k)
    assert est["mu_star"] == pytest.approx(np.abs(coef))
    assert est["mu"] == pytest.approx(coef)
    assert est["sigma"] == pytest.approx(np.zeros(k), abs=1e-9)  # linear: no interaction


def test_baseline_2025_pac3_time_to_delivery_rests_on_us_stock_and_the_line_share():
    # A modest study (16 base samples x 10 points x 2 replications); the command output in the
    # report of #20 is the larger one. What it must say whatever N: PAC-3 flies (air_rzeszow), so
    # the sealift interval and nothing of the sea route can move its time to delivery.
    df = sensitivity(ROOT / "scenarios" / "baseline_2025.yaml", "sobol", n=16, reps=2, group="pac3_mse")
    assert len(df) == 8 and df.attrs["points"] == 16 * 10
    top = list(df["input"].head(3))
    assert "us_pac3_on_hand" in top
    assert df.set_index("input").loc["sealift_interval", "ST"] < 0.02
    assert (df["ST_lo"] <= df["ST"]).all() and (df["ST"] <= df["ST_hi"]).all()


def test_a_scenario_without_uncertain_inputs_is_refused():
    with pytest.raises(ValueError, match="no uncertain inputs"):
        sensitivity(ROOT / "scenarios" / "baseline.yaml", "morris", n=2, reps=1)
