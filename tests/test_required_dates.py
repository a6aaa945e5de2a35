"""Risk of missing a date: exact Clopper-Pearson intervals by hand, P(closed by its date) from a run."""

from __future__ import annotations

import datetime
from pathlib import Path

import pandas as pd
import pytest

from sim.experiments.ensemble import run_stats
from sim.metrics.decision import (
    STOCKOUT,
    clopper_pearson,
    closed_by_date,
    per_replication,
    stockout_per_replication,
    stockout_risk,
)
from sim.metrics.observations import REQUEST

ROOT = Path(__file__).resolve().parents[1]


def test_clopper_pearson_by_hand():
    # k = 0: upper bound solves (1 - p)^n = 0.025, so p = 1 - 0.025^(1/n); k = n mirrors it
    lo, hi = clopper_pearson(0, 10)
    assert lo == 0.0 and hi == pytest.approx(1 - 0.025 ** (1 / 10), rel=1e-9)
    lo, hi = clopper_pearson(10, 10)
    assert hi == 1.0 and lo == pytest.approx(0.025 ** (1 / 10), rel=1e-9)
    # k = 1 of n = 2: the lower bound solves 1 - (1 - p)^2 = 0.025, the upper p^2 = 0.975
    lo, hi = clopper_pearson(1, 2)
    assert lo == pytest.approx(1 - 0.975**0.5, rel=1e-9) and hi == pytest.approx(0.975**0.5, rel=1e-9)
    # tabulated: 5 of 20 is 0.0866 to 0.4910 (Clopper and Pearson 1934 / any exact table)
    assert clopper_pearson(5, 20) == pytest.approx((0.0866, 0.4910), abs=1e-4)


def test_closed_by_date_counts_replications_that_closed_in_time(make_scenario):
    sc = make_scenario(
        [
            {"id": "early", "at": 0, "required_by": 100, "lines": [{"item": "shell", "qty": 1}]},
            {"id": "tight", "at": 0, "required_by": 4, "lines": [{"item": "shell", "qty": 2}]},
            {"id": "free", "at": 0, "lines": [{"item": "shell", "qty": 1}]},
        ]
    )
    reqs = pd.DataFrame(
        {
            "rep": [0, 1, 2, 0, 1, 2, 0],
            "what": [REQUEST] * 7,
            "request_id": ["early", "early", "early", "tight", "tight", "tight", "free"],
            "requested_day": [0.0] * 7,
            "time": [3.0, 100.0, 1000.0, 3.0, 5.0, 4.0, 1.0],
            "delivered": [True, True, False, True, True, True, True],
            "value": [1.0] * 7,
        }
    )
    got = closed_by_date(reqs, 3, sc).set_index("request_id")
    assert list(got.index) == ["early", "tight"]  # only packages with a date
    assert got.loc["early", "closed_in_time"] == 2  # day 100 itself is in time; open at the horizon is not
    assert got.loc["tight", "closed_in_time"] == 2
    assert (got.loc["early", "p_closed_lo"], got.loc["early", "p_closed_hi"]) == pytest.approx(clopper_pearson(2, 3))


def test_closed_by_date_from_a_run_agrees_with_the_deliveries(make_scenario):
    # one line making 10 a month (3 days a unit), delivered where made: 3 units close on day 9
    sc = make_scenario(
        [
            {"id": "a", "at": 0, "required_by": 9, "lines": [{"item": "shell", "qty": 3}]},
            {"id": "b", "at": 0, "required_by": 10, "lines": [{"item": "shell", "qty": 2}]},
        ]
    )
    obs = run_stats([sc], 4, [1])[0]
    got = closed_by_date(obs["requests"], 4, sc).set_index("request_id")
    closing = obs["requests"].query("what == @REQUEST").groupby("request_id")["time"].max()
    # b queues behind a (3 + 2 units = 15 days) and misses day 10; a closes by day 9
    assert closing["a"] == pytest.approx(9.0) and closing["b"] == pytest.approx(15.0)
    assert got.loc["a", "closed_in_time"] == 4 and got.loc["b", "closed_in_time"] == 0


def test_per_replication_rmst_by_hand():
    # replication 0: one unit delivered at day 2; replication 1: censored at 10 (horizon): RMST to 5 is 2 and 5
    lots = pd.DataFrame(
        {
            "rep": [0, 1],
            "item": ["x", "x"],
            "requested_day": [0.0, 0.0],
            "time": [2.0, 10.0],
            "delivered": [True, False],
            "qty": [1.0, 1.0],
            "value": [1.0, 1.0],
        }
    )
    assert per_replication(lots, 2, 5.0, (0.0, 10.0), "rmst", "x") == pytest.approx([2.0, 5.0])
    assert per_replication(lots, 2, 5.0, (0.0, 10.0), "delivered_share", "ALL") == pytest.approx([1.0, 0.0])
    with pytest.raises(ValueError):
        per_replication(lots, 2, 5.0, (0.0, 10.0), "ttd_p50")


def _levels(rows):
    return pd.DataFrame(rows, columns=["rep", "day", "series", "value"])


def test_stockout_per_replication_and_its_exact_interval_by_hand():
    # rep 0: empty from day 10 to day 12 (a delivery); rep 1: never empty; rep 2: empty from day 40
    # to the horizon (50, still open); rep 3: empty from day 2 to 5, before the window [6, 45)
    levels = _levels(
        [
            (0, 0.0, "ukraine:x", 5.0), (0, 10.0, "ukraine:x", 0.0), (0, 12.0, "ukraine:x", 3.0),
            (1, 0.0, "ukraine:x", 5.0), (1, 20.0, "ukraine:x", 1.0),
            (2, 0.0, "ukraine:x", 5.0), (2, 40.0, "ukraine:x", 0.0),
            (3, 0.0, "ukraine:x", 5.0), (3, 2.0, "ukraine:x", 0.0), (3, 5.0, "ukraine:x", 2.0),
        ]
    )  # fmt: skip
    got = stockout_per_replication(levels, 4, "x", (6.0, 45.0), 50.0)
    assert got.tolist() == [1.0, 0.0, 1.0, 0.0]
    assert stockout_per_replication(levels, 4, "x", (0.0, 50.0), 50.0).tolist() == [1.0, 0.0, 1.0, 1.0]
    # a window that ends where a spell starts sees no stockout day: [from, to) is half open
    assert stockout_per_replication(levels, 4, "x", (12.0, 40.0), 50.0).tolist() == [0.0, 0.0, 0.0, 0.0]

    class Sc:  # what stockout_risk reads of a scenario
        horizon_days = 50.0
        ukraine = type("U", (), {"items": {"x": None}})

    risk = stockout_risk(levels, 4, Sc, (6.0, 45.0)).set_index("item")
    assert risk.loc["x", "with_stockout"] == 2 and risk.loc["x", "p_stockout"] == 0.5
    # 2 of 4: the lower bound solves P(X >= 2 | p) = 0.025, the upper P(X <= 2 | p) = 0.025
    lo, hi = risk.loc["x", "p_stockout_lo"], risk.loc["x", "p_stockout_hi"]
    assert 1 - (1 - lo) ** 4 - 4 * lo * (1 - lo) ** 3 == pytest.approx(0.025, abs=1e-9)
    assert (1 - hi) ** 4 + 4 * hi * (1 - hi) ** 3 + 6 * hi**2 * (1 - hi) ** 2 == pytest.approx(0.025, abs=1e-9)


def test_p_stockout_as_a_decision_figure_agrees_with_the_run():
    # the per-replication figure the decision methods read is the run's own P(any stockout day)
    from sim import load_scenario, run
    from sim.experiments.evaluate import Evaluator

    sc = load_scenario(ROOT / "scenarios/baseline_2025.yaml")
    ev = Evaluator([sc], 3, STOCKOUT, "pac3_mse")
    assert ev.lower_is_better  # a stockout is bad
    values = ev([0], [0, 1, 2])[0]
    res = run(sc, reps=3, seed=3, record_events=False)
    assert set(values) <= {0.0, 1.0}
    assert values.mean() == pytest.approx(res.ukraine_summary().loc["pac3_mse", "p_stockout"])
    with pytest.raises(ValueError, match="not an item Ukraine keeps"):
        Evaluator([sc], 3, STOCKOUT, "gmlrs")
    # the shipped scenario's PAC-3 packages are due before the winter campaign (output only)
    dates = closed_by_date(res.observations()["requests"], 3, sc).set_index("request_id")
    assert (
        list(dates.index) == ["pkg1_nl", "pkg3_de"]
        and (dates["required_day"] == sc.day(datetime.date(2025, 12, 1))).all()
    )
    assert (dates["reps"] == 3).all() and dates["p_closed_hi"].le(1).all()
