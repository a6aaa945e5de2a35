"""The metric layer: weighted Kaplan-Meier by hand and against lifelines, bootstrap coverage, censoring in the headline."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from conftest import MINIMAL

import sim
from sim.metrics import comparison, headline
from sim.metrics.observations import LOT_COLUMNS
from sim.metrics.survival import Sample, figures, kaplan_meier

# A small censored sample with ties and weights: (time, delivered, weight).
HAND = [(2, True, 2), (3, True, 1), (3, False, 1), (5, True, 3), (5, True, 1), (7, False, 2), (8, True, 1)]


def test_weighted_kaplan_meier_with_ties_by_hand():
    t, e, w = map(np.array, zip(*HAND))
    times, surv = kaplan_meier(t, e, w)
    # Total weight 11. At 2: 2 of 11 at risk leave by delivery. At 3: 9 at risk (the unit censored
    # at 3 still counts as at risk there), 1 delivered. At 5: 7 at risk, 4 delivered. At 7: only
    # censoring. At 8: the last unit at risk is delivered.
    s2, s3, s5 = 9 / 11, 9 / 11 * 8 / 9, 9 / 11 * 8 / 9 * 3 / 7
    assert times.tolist() == [2, 3, 5, 7, 8]
    assert surv == pytest.approx([s2, s3, s5, s5, 0.0], abs=1e-15)
    f = figures(Sample.of(t, e, w, np.zeros(len(t), int)), np.ones((1, 1)), (0.5, 0.9), 6.0, (4.0, 7.5, 9.0))
    assert f.quantiles[0.5][0] == 5 and f.quantiles[0.9][0] == 8  # first time S <= 0.5, S <= 0.1
    # RMST to 6: 2 days at 1, 1 day at 9/11, 2 days at 8/11, 1 day at 24/77 = 353/77.
    assert f.rmst[0] == pytest.approx(2 + 9 / 11 + 2 * 8 / 11 + 24 / 77) == pytest.approx(353 / 77)
    assert f.share_by[4.0][0] == pytest.approx(3 / 11)
    assert f.share_by[7.5][0] == pytest.approx(1 - 24 / 77) and f.share_by[9.0][0] == pytest.approx(1.0)
    assert f.event_share[0] == pytest.approx(8 / 11)  # 8 of 11 units delivered at all


def test_kaplan_meier_agrees_with_scipy_on_a_random_weighted_sample():
    # scipy.stats.ecdf estimates the product-limit curve of right-censored data, without weights:
    # a unit weight of w is w identical observations, so the weighted estimate of integer
    # weights must equal scipy's on the sample repeated by weight.
    from scipy.stats import CensoredData, ecdf

    rng = np.random.default_rng(3)
    t = np.round(rng.exponential(20, 300), 1)  # rounding makes ties
    e, w = rng.random(300) < 0.6, rng.integers(1, 50, 300)
    times, surv = kaplan_meier(t, e, w)
    rt, re_ = np.repeat(t, w), np.repeat(e, w)
    ref = ecdf(CensoredData(uncensored=rt[re_], right=rt[~re_])).sf
    assert surv == pytest.approx(ref.evaluate(times), abs=1e-12)
    f = figures(Sample.of(t, e, w, np.zeros(300, int)), np.ones((1, 1)), (0.5,), 30.0, ())
    # scipy's curve as steps: the area under it up to 30 days, and where it first falls to 1/2.
    q, p = ref.quantiles, ref.probabilities
    edges = np.minimum(np.r_[0.0, q[q < 30], 30.0], 30.0)
    steps = np.r_[1.0, p[q < 30]]
    assert f.rmst[0] == pytest.approx(float(np.sum(np.diff(edges) * steps)), rel=1e-12)
    assert f.quantiles[0.5][0] == q[np.argmax(p <= 0.5 + 1e-12)]


def test_a_curve_that_ends_early_reports_not_reached_and_unknown_shares():
    # One unit delivered at 5, two censored at 10: S falls to 2/3 and no further, so the median is
    # never reached, and past 10 days nothing is known.
    f = figures(Sample.of([5, 10], [True, False], [1, 2], [0, 0]), np.ones((1, 1)), (0.5, 0.9), 20.0, (8.0, 15.0))
    assert f.quantiles[0.5][0] == math.inf and f.quantiles[0.9][0] == math.inf
    assert f.share_by[8.0][0] == pytest.approx(1 / 3) and math.isnan(f.share_by[15.0][0])
    assert math.isnan(f.rmst[0])  # the curve is not known up to 20 days


def _obs(times, delivered=None, item="x", qty=1.0):
    """Lot observations of one lot per replication (requested at day 0)."""
    n = len(times)
    return pd.DataFrame(
        {
            "rep": np.arange(n),
            "item": item,
            "requested_day": 0.0,
            "time": np.asarray(times, float),
            "delivered": np.ones(n, bool) if delivered is None else np.asarray(delivered),
            "qty": qty,
            "value": qty,
        },
        columns=LOT_COLUMNS,
    )


@pytest.mark.parametrize("whole", [True, False])
def test_bootstrap_curves_on_the_grid_are_the_exact_curves_of_times_rounded_up_to_it(whole):
    """The grid path (sparse products over replications x cells) against the exact path on the
    same sample with each time rounded up to the 0.1-day grid by hand: 6 replications, 40
    multinomial resamples, ties and censoring. Whole-unit weights sum exactly in any order, so the
    figures are identical; fractional weights (values) agree to 1e-12."""
    rng = np.random.default_rng(11)
    n, reps = 300, 6
    time = np.round(rng.uniform(0, 60, n), 3)
    event = rng.random(n) < 0.8
    weight = rng.integers(1, 9, n).astype(float) if whole else rng.uniform(0.1, 5.0, n)
    rep = rng.integers(0, reps, n)
    counts = rng.multinomial(reps, [1 / reps] * reps, size=40).astype(float)
    rounded = np.ceil(time / 0.1 - 1e-9) * 0.1
    grid = figures(Sample.of(time, event, weight, rep), counts, (0.5, 0.9), 45.0, (10.0, 30.0), grid=0.1)
    exact = figures(Sample.of(rounded, event, weight, rep), counts, (0.5, 0.9), 45.0, (10.0, 30.0))
    tol = {"rtol": 0.0, "atol": 0.0} if whole else {"rtol": 1e-12, "atol": 1e-12}
    for p in (0.5, 0.9):
        np.testing.assert_allclose(grid.quantiles[p], exact.quantiles[p], rtol=1e-12)  # grid days, as floats
    for t in (10.0, 30.0):
        np.testing.assert_allclose(grid.share_by[t], exact.share_by[t], **tol)
    np.testing.assert_allclose(grid.event_share, exact.event_share, **tol)
    np.testing.assert_allclose(grid.total, exact.total, **tol)
    np.testing.assert_allclose(grid.rmst, exact.rmst, rtol=1e-12)  # widths of grid days against rounded days


def test_the_grid_matrices_hold_each_replications_weight_per_occupied_cell_by_hand():
    """_on_grid on 5 observations in 3 replications, 0.5-day cells, written out by hand: a cell
    with weight in no replication is left out, and a cell whose weight is all censored stores no
    event entry (as a matrix made from a dense one would not)."""
    from sim.metrics.survival import _on_grid

    #          time  event  weight rep -> cell (time / 0.5 rounded up)
    obs = [(0.2, True, 2.0, 0), (0.5, False, 1.0, 2), (0.4, True, 3.0, 0), (1.7, False, 4.0, 1), (2.0, True, 5.0, 2)]
    time, event, weight, rep = (np.array(c) for c in zip(*obs))
    cells, d, lv = _on_grid(Sample.of(time, event, weight, rep), 3, 0.5)
    # cells 1 (0.2, 0.4, 0.5), 4 (1.7, 2.0); cells 0, 2 and 3 hold nothing
    np.testing.assert_array_equal(cells, [0.5, 2.0])
    np.testing.assert_array_equal(lv.toarray(), [[5.0, 0.0], [0.0, 4.0], [1.0, 5.0]])
    np.testing.assert_array_equal(d.toarray(), [[5.0, 0.0], [0.0, 0.0], [0.0, 5.0]])
    assert d.nnz == 2 and lv.nnz == 4


def test_bootstrap_intervals_cover_the_true_median_and_rmst():
    # Exponential times to delivery (mean 10 d), censored at 15 d, 50 units in each of 30
    # replications: true median 10 ln 2, true RMST to 12 d 10 (1 - e^-1.2). Over 200 independent
    # ensembles (fixed seed) the 95% intervals should cover about 95% of the time; the binomial
    # standard error of a coverage over 200 is 1.5 points, so 0.90-0.99 fails a method that is
    # off by more than about three of them (the plain percentile interval, too narrow over 30
    # replications, gave 0.91 and 0.915 here; the expanded one gives 0.935 and 0.92).
    rng = np.random.default_rng(7)
    reps, n, trials = 30, 50, 200
    true_median, true_rmst = 10 * math.log(2), 10 * (1 - math.exp(-1.2))
    hits = np.zeros(2)
    for _ in range(trials):
        t = rng.exponential(10, (reps, n))
        obs = pd.DataFrame(
            {
                "rep": np.repeat(np.arange(reps), n),
                "item": "x",
                "requested_day": 0.0,
                "time": np.minimum(t, 15).ravel(),
                "delivered": (t <= 15).ravel(),
                "qty": 1.0,
                "value": 1.0,
            }
        )
        row = headline.table(headline.estimate(obs, reps, 12.0, (0.0, 1.0))).loc["x"]
        hits += [row["ttd_p50_lo"] <= true_median <= row["ttd_p50_hi"], row["rmst_lo"] <= true_rmst <= row["rmst_hi"]]
    assert np.all((hits / trials >= 0.90) & (hits / trials <= 0.99)), hits / trials


def test_an_undelivered_lot_moves_the_headline():
    delivered = _obs([10, 12, 11, 9])
    late = _obs([10, 12, 11, 9]).pipe(lambda o: pd.concat([o, _obs([400], [False]).assign(rep=0)]))
    a = headline.table(headline.estimate(delivered, 4, 100.0, (0.0, 1.0))).loc["x"]
    b = headline.table(headline.estimate(late, 4, 100.0, (0.0, 1.0))).loc["x"]
    assert a["rmst"] == pytest.approx(10.5)
    # The fifth unit is never delivered: it counts tau (100 d) in the restricted mean, and pulls
    # the delivered share to 4/5; among delivered lots nothing would change.
    assert b["rmst"] == pytest.approx((10 + 12 + 11 + 9 + 100) / 5)
    assert b["delivered_share"] == pytest.approx(0.8) and b["ttd_p90"] == math.inf


def test_units_weigh_their_quantity_and_all_items_their_value():
    obs = pd.concat([_obs([10, 10], item="a", qty=3.0), _obs([30, 30], item="b", qty=1.0)], ignore_index=True)
    obs.loc[obs["item"] == "b", "value"] = 9.0  # one unit of b is worth three units of a together
    t = headline.table(headline.estimate(obs, 2, 50.0, (0.0, 1.0)))
    assert t.loc["a", "qty"] == 3.0 and t.loc["b", "qty"] == 1.0  # per replication
    # ALL by value: 3 (value of a) at 10 d and 9 (value of b) at 30 d -> mean 25 d, median 30 d.
    assert t.loc["ALL", "rmst"] == pytest.approx((3 * 10 + 9 * 30) / 12) and t.loc["ALL", "ttd_p50"] == 30


def _scenarios(horizon=1000.0):
    return [SimpleNamespace(horizon_days=horizon, items={}) for _ in range(2)]


def test_verdicts_read_the_paired_rmst_difference():
    ref = pd.concat(
        [
            _obs([130, 132, 128, 131], item="a"),
            _obs([50, 52, 49, 51], item="b"),
            _obs([10, 11, 9, 10], item="c"),
            _obs([20, 21, 22, 20], item="d"),
            _obs([5, 5, 6, 5], item="e"),
        ]
    )
    new = pd.concat(
        [
            _obs([90, 91, 89, 90], item="a"),
            _obs([60, 63, 58, 61], item="b"),
            _obs([12, 9, 10, 10], item="c"),
            _obs([300] * 4, [False] * 4, item="d"),
        ]
    )
    df = comparison.comparison_table(
        [{"lots": ref}, {"lots": new}], ["ref", "new"], 4, _scenarios(), tau=200.0, cohort=(0.0, 1.0)
    ).set_index(["item", "scenario"])
    got = df.xs("new", level="scenario")
    assert got["verdict"].drop("ALL").to_dict() == {
        "a": "faster",
        "b": "slower",
        "c": "no significant difference",
        "d": "slower",
        "e": "not requested",
    }
    # Paired: per replication the differences of a are -40, -41, -39, -41, so every resample's
    # mean difference lies in [-41, -39]; the estimate is their mean.
    a = got.loc["a"]
    assert a["diff_rmst"] == pytest.approx(-40.25) and -41 <= a["diff_rmst_lo"] <= a["diff_rmst_hi"] <= -39
    assert a["sentence"].startswith("a: new is 40 days faster than ref (mean time to delivery to 200 d, 95% CI ")
    # d is never delivered in `new`: it counts tau, so it is slower, and the sentence says the
    # censoring is heavy (the old delivered-only headline had nothing to say about it).
    assert got.loc["d", "diff_rmst"] == pytest.approx(200 - 20.75)
    assert "censoring is heavy (new delivers 0%" in got.loc["d", "sentence"]
    assert got.loc["c", "diff_rmst_lo"] < 0 < got.loc["c", "diff_rmst_hi"]


def test_tau_and_cohort_follow_the_rule():
    # Two thirds of 548 is 365.3: 360; the shortest horizon decides; below 45 days no multiple of 30 fits.
    assert headline.default_tau([548.0]) == 360.0 and headline.default_tau([548.0, 1000.0]) == 360.0
    assert headline.default_tau([50.0]) == 30.0 and headline.default_tau([30.0]) == 20.0
    assert headline.cohort_window([548.0, 700.0], 360.0) == (0.0, 188.0)
    assert headline.cohort_window([548.0], 270.0, (10.0, 20.0)) == (10.0, 20.0)
    assert headline.window_for([548.0]) == (360.0, (0.0, 188.0))
    for bad in (0.0, -1.0, math.inf):
        with pytest.raises(ValueError, match="tau must be a positive number of days"):
            headline.window_for([548.0], bad)


def test_results_summary_counts_undelivered_lots_in_the_cohort():
    from sim.scenario.loader import deep_merge, validate_mapping

    # One line making 10 a month, 3 units requested on day 0 (delivered at day 9) and 3 on day 20
    # (made from day 20 to 29); a horizon of 25 days: the second lot is censored at 5 days. tau by
    # rule is 2/3 of 25 d, so the cohort is requests made by day 25 - 16.7: only the first.
    data = deep_merge(MINIMAL, {"horizon_days": 25, "production": {"line": {"rate_per_month": 10}}})
    data["requests"] = {
        "packages": [
            {"id": "p", "at": 0, "lines": [{"item": "shell", "qty": 3}]},
            {"id": "q", "at": 20, "lines": [{"item": "shell", "qty": 3}]},
        ]
    }
    res = sim.run(validate_mapping(data, "<t>"), reps=1)
    s = res.summary().loc["shell"]
    assert s["rmst_tau"] == pytest.approx(50 / 3) and s["cohort_to_day"] == pytest.approx(25 / 3) and s["qty"] == 3
    assert s["ttd_p50"] == pytest.approx(9.0) and s["delivered_share"] == 1.0
    # With every request counted (cohort from 0 to 25), the censored lot halves the delivered share.
    all_ = res.summary(tau=5.0, cohort=(0.0, 25.0)).loc["shell"]
    assert all_["qty"] == 6 and all_["delivered_share"] == pytest.approx(0.5)
    assert all_["rmst"] == pytest.approx(5.0)  # nothing arrives within 5 days of its request
    assert s["delivered_mean"] == pytest.approx(9.0) and s["undelivered_lots"] == 1  # secondary view: all requests


def test_a_request_and_a_group_close_when_their_last_lot_arrives():
    from sim.scenario.loader import deep_merge, validate_mapping

    # Shells at 10 a month (3 days each), fuses at 30 a month (1 day each), one server each, no
    # transport. Request p on day 0: 3 shells (ready day 9) and 2 fuses (ready day 2): the request
    # and its "round" group close on day 9, the fuses alone would say day 2. Request u on day 950
    # (30 shells: 90 days of work) is not finished by the horizon (1,000): censored at 50 days, so
    # it is still at risk at 9 days and the curve falls to 1/2 there, no further.
    data = deep_merge(
        MINIMAL,
        {
            "items": {"fuse": {"name": "fuse", "unit_cost_musd": 0.1}},
            "groups": {"round": ["shell", "fuse"]},
            "production": {"fuse_line": {"item": "fuse", "node": "plant", "rate_per_month": 30}},
        },
    )
    data["transport"]["choose"].append({"origin": "plant", "item": "fuse", "route": "direct"})
    lines = [{"item": "shell", "qty": 3}, {"item": "fuse", "qty": 2}]
    late = [{"item": "shell", "qty": 30}, {"item": "fuse", "qty": 2}]
    data["requests"] = {"packages": [{"id": "p", "at": 0, "lines": lines}, {"id": "u", "at": 950, "lines": late}]}
    res = sim.run(validate_mapping(data, "<t>"), reps=2)
    c = res.closure_summary(tau=5.0, cohort=(0.0, 1000.0))
    for what in ("request", "round"):
        row = c.loc[what]
        assert row["requests"] == 2 and row["delivered_share"] == 0.5  # per replication; u is still open
        assert row["ttd_p50"] == pytest.approx(9.0) and row["ttd_p90"] == math.inf
        assert row["rmst"] == pytest.approx(5.0)  # to 5 days: neither had closed
    # Per item, the fuses of p count when they arrive (day 2): the group does not change the items' figures.
    s = res.summary(tau=5.0, cohort=(0.0, 1000.0))
    # Both fuse lots arrive 2 days after their request: every fuse within 30 days.
    assert s.loc["fuse", "share_30d"] == pytest.approx(1.0) and s.loc["fuse", "rmst"] == pytest.approx(2.0)
    assert s.loc["shell", "share_30d"] == pytest.approx(3 / 33)  # 3 of 33 shells; the 30 are censored at 50 d


def test_groups_must_name_items_of_the_catalogue():
    from sim.errors import ScenarioError
    from sim.scenario.loader import deep_merge, validate_mapping

    bad = deep_merge(MINIMAL, {"groups": {"round": ["shell", "nope"], "shell": ["shell", "shell"]}})
    with pytest.raises(ScenarioError) as exc:
        validate_mapping(bad, "<t>")
    assert any(p.path == "groups.round.1" and "item 'nope' is not defined" in p.message for p in exc.value.problems)
    assert any(p.path == "groups.shell" and "is an item" in p.message for p in exc.value.problems)
    assert any(p.path == "groups.shell" and "listed twice" in p.message for p in exc.value.problems)


def test_the_bootstrap_runs_numpys_blas_on_one_thread_and_gives_the_threads_back(monkeypatch):
    """OpenBLAS's spare threads spin between the many small products of a bootstrap (~15% of the
    report's CPU, measured): figures holds numpy's BLAS to one thread while it computes, and only then."""
    from threadpoolctl import threadpool_info

    from sim.metrics import survival

    def blas_threads() -> list[int]:
        # numpy's own (what `@` on arrays calls); scipy may load another, which figures does not use
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas" and "numpy" in i["filepath"]]

    before = blas_threads()
    if not before or max(before) == 1:
        pytest.skip("numpy's BLAS has one thread here already: nothing to hold")
    seen = []
    block = survival._block

    def spy(*args):
        seen.append(blas_threads())
        return block(*args)

    monkeypatch.setattr(survival, "_block", spy)
    rng = np.random.default_rng(3)
    s = Sample.of(rng.uniform(0, 50, 200), rng.random(200) < 0.9, np.ones(200), rng.integers(0, 5, 200))
    figures(s, rng.multinomial(5, [0.2] * 5, size=30).astype(float), (0.5,), 40.0, (10.0,), grid=0.5)
    assert seen and all(max(t) == 1 for t in seen)  # one thread while the blocks are computed
    assert blas_threads() == before  # and the threads given back after
