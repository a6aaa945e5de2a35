"""Compare and sweep: common random numbers, paired differences and their sentences, parameter grids."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import MINIMAL, REPO

import sim
from sim.errors import ScenarioError
from sim.executors import process_pool
from sim.experiments.ensemble import run_stats
from sim.experiments.sweep import SweepError, grid, parse_param, parse_values
from sim.metrics import delivered
from sim.metrics.comparison import unique_names
from sim.scenario.schema import DAYS_PER_MONTH

BASELINE = REPO / "scenarios" / "baseline.yaml"
FAST_SEALIFT = {"transport.legs.sealift.departures.every_days": 7}


@pytest.fixture(scope="module")
def pool():
    with process_pool(2) as p:
        yield p


def per_rep_means(stats, item="ALL", reps=20):
    lat = delivered.per_rep(stats["lots"])
    return lat[lat["item"] == item].set_index("rep")["mean"].reindex(range(reps)).to_numpy()


def test_common_random_numbers_shrink_the_variance_of_a_paired_difference(pool):
    # The shipped baseline against the same with a sealift every 7 days instead of 10. Under common
    # random numbers (same seed) replication r of both sees the same requests, delays and transit
    # draws, so their difference carries only the effect of the schedule; with independent seeds
    # it also carries the whole replication-to-replication variation of both (measured: the CRN
    # variance is ~0.2% of the independent one; "below a quarter" leaves a wide margin).
    a, b = sim.load_scenario(BASELINE), sim.load_scenario(BASELINE, FAST_SEALIFT)
    sa, sb_same, sb_other = run_stats([a, b, b], 20, [1, 1, 2], pool)
    crn = per_rep_means(sb_same) - per_rep_means(sa)
    independent = per_rep_means(sb_other) - per_rep_means(sa)
    assert np.var(crn, ddof=1) < 0.25 * np.var(independent, ddof=1)

    # sim.compare runs exactly that CRN pair: each figure's difference is that of the two rows, and
    # its paired interval is narrower than the two scenarios' own intervals put together.
    df = sim.compare([a, b], reps=20, seed=1, executor=pool, names=["every10", "every7"])
    rows = df[df["item"] == "ALL"].set_index("scenario")
    row = rows.loc["every7"]
    assert row["diff_rmst"] == pytest.approx(row["rmst"] - rows.loc["every10", "rmst"])
    assert row["diff_rmst_hi"] - row["diff_rmst_lo"] < (row["rmst_hi"] - row["rmst_lo"]) + (
        rows.loc["every10", "rmst_hi"] - rows.loc["every10", "rmst_lo"]
    )
    assert row["verdict"] in ("faster", "slower", "no significant difference")
    assert row["sentence"].startswith("All items (by value): ")
    assert set(df["scenario"]) == {"every10", "every7"} and df.attrs["seed"] == 1 and df.attrs["tau"] > 0


def line_scenario(rate_per_month: float, horizon_days: int = 1000, name: str = "s"):
    """One line at `rate_per_month`, one package of 3 units at day 0: latency 3 units' time, no randomness."""
    from sim.scenario.loader import deep_merge, validate_mapping

    data = deep_merge(
        MINIMAL,
        {"name": name, "horizon_days": horizon_days, "production": {"line": {"rate_per_month": rate_per_month}}},
    )
    data["requests"] = {"packages": [{"id": "p", "at": 0, "lines": [{"item": "shell", "qty": 3}]}]}
    return validate_mapping(data, "<line>")


def test_compare_says_faster_by_how_much_and_counts_an_item_never_delivered():
    slow, fast = line_scenario(10, name="slow"), line_scenario(20, name="fast")
    df = sim.compare([slow, fast], reps=3, seed=0)
    shell = df[df["item"] == "shell"].set_index("scenario")
    # 3 units made one after another: delivered at 9 d at 10 a month, 4.5 d at 20; tau by rule is
    # 660 d (the largest multiple of 30 within two thirds of the 1,000-day horizon), far beyond both.
    gain = 3 * DAYS_PER_MONTH / 10 - 3 * DAYS_PER_MONTH / 20
    assert shell.loc["fast", "diff_rmst"] == pytest.approx(-gain) and shell.loc["fast", "ttd_p50"] == 4.5
    assert shell.loc["fast", "verdict"] == "faster"
    assert shell.loc["fast", "sentence"] == (
        f"155 mm round: fast is {gain:.1f} days faster than slow "
        f"(mean time to delivery to 660 d, 95% CI {gain:.1f}-{gain:.1f})."
    )
    assert shell.loc["slow", "sentence"] == ""  # the reference has no difference of its own
    # A horizon too short for the 3 units (9 days of production) delivers none: one tau for both
    # (two thirds of the shortest horizon, 3.3 d) and every unit counts, so the verdict is no difference
    # (both take longer than tau), said with the heavy censoring, never "faster".
    never = line_scenario(10, horizon_days=5, name="short")
    short = sim.compare([slow, never], reps=3, seed=0)
    row = short[(short["item"] == "shell") & (short["scenario"] == "short")].iloc[0]
    assert row["rmst_tau"] == pytest.approx(10 / 3) and row["delivered_share"] == 0.0 and row["ttd_p50"] == math.inf
    assert row["verdict"] == "no significant difference" and "censoring is heavy (short delivers 0%" in row["sentence"]


def test_names_are_made_unique():
    assert unique_names(["a", "b", "a", "a"]) == ["a", "b", "a#2", "a#3"]


def test_sweep_values_and_grid():
    assert parse_values("40,60,80") == [40, 60, 80]
    assert parse_values("8:20:4") == [8, 12, 16, 20]
    assert parse_values("0.5:1.5:0.5") == [0.5, 1.0, 1.5]
    assert parse_values("[{dist: fixed, value: 3}, 5]") == [{"dist": "fixed", "value": 3}, 5]
    assert parse_values("hub:rzeszow") == ["hub:rzeszow"]  # not a range: not numbers
    assert parse_param("a.b=1,2") == ("a.b", [1, 2])
    for bad, message in (("1:5", "from:to:step"), ("5:1:1", "below the start"), ("1:5:0", "positive")):
        with pytest.raises(SweepError, match=message):
            parse_values(bad)
    with pytest.raises(SweepError, match="PATH=VALUES"):
        parse_param("no_equals_sign")
    assert grid({"a": [1, 2], "b": ["x", "y"]}) == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 2, "b": "x"},
        {"a": 2, "b": "y"},
    ]


def test_sweep_runs_the_grid_with_the_same_seeds(tmp_path):
    path = tmp_path / "line.yaml"
    data = dict(
        MINIMAL,
        requests={"packages": [{"id": "p", "at": 0, "lines": [{"item": "shell", "qty": 3}]}]},
        approval={"delay_days": {"dist": "uniform", "low": 1, "high": 9}},
    )
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    df = sim.sweep(path, {"production.line.rate_per_month": "10,20", "description": ["a", "b"]}, reps=4, seed=3)
    assert len(df) == 4 * 2 and list(df.columns[:3]) == ["point", "production.line.rate_per_month", "description"]
    shell = df[df["item"] == "shell"].set_index(["production.line.rate_per_month", "description"])
    # The approval delay is random, but every point draws the same delays (same seed, same
    # stream), so the time to delivery differs between rates by exactly the production time...
    gain = 3 * DAYS_PER_MONTH / 10 - 3 * DAYS_PER_MONTH / 20
    assert shell.loc[(10, "a"), "rmst"] - shell.loc[(20, "a"), "rmst"] == pytest.approx(gain)
    assert shell.loc[(20, "a"), "diff_rmst"] == pytest.approx(-gain)  # against the first point, paired
    assert shell.loc[(20, "a"), "diff_rmst_lo"] == pytest.approx(-gain)  # every resample the same shift
    # ...and a parameter that changes nothing in the model changes no figure at all.
    same = [
        c
        for c in shell.columns
        if c not in ("point", "scenario") and not c.startswith("diff_") and c not in ("verdict", "sentence")
    ]
    pd.testing.assert_series_equal(shell.loc[(10, "a"), same], shell.loc[(10, "b"), same], check_names=False)
    assert shell.loc[(10, "a"), "rmst_hi"] > shell.loc[(10, "a"), "rmst_lo"]  # there is randomness to share


def test_sweep_reports_bad_paths_and_values_as_scenario_errors():
    with pytest.raises(ScenarioError, match=r"production.nope.rate_per_month: override path does not exist"):
        sim.sweep(BASELINE, {"production.nope.rate_per_month": [1, 2]})
    with pytest.raises(ScenarioError) as exc:  # every bad point is named before anything runs
        sim.sweep(BASELINE, {"transport.legs.sealift.days.mode": "8:20:4"})
    [problem] = exc.value.problems
    assert problem.path == "transport.legs.sealift.days" and "need low <= mode <= high" in problem.message
    assert "mode=8;" in problem.message and "mode=20)" in problem.message and "mode=12" not in problem.message
