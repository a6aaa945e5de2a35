"""Compare and sweep: common random numbers, paired differences and their sentences, parameter grids."""
from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
import yaml

import sim
from sim.compare import comparison_table, unique_names, verdict_sentence
from sim.ensemble import run_stats
from sim.errors import ScenarioError
from sim.executors import process_pool
from sim.scenario.schema import DAYS_PER_MONTH
from sim.sweep import SweepError, grid, parse_param, parse_values

from conftest import MINIMAL, REPO

BASELINE = REPO / "scenarios" / "baseline.yaml"
FAST_SEALIFT = {"transport.legs.sealift.departures.every_days": 7}


@pytest.fixture(scope="module")
def pool():
    with process_pool(2) as p:
        yield p


def per_rep_means(stats, item="ALL", reps=20):
    lat = stats["latency"]
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

    # sim.compare runs exactly that CRN pair and reports the paired mean and t-interval.
    df = sim.compare([a, b], reps=20, seed=1, executor=pool, names=["every10", "every7"])
    row = df[(df["item"] == "ALL") & (df["scenario"] == "every7")].iloc[0]
    assert row["diff_mean"] == pytest.approx(crn.mean()) and row["diff_reps"] == 20
    half = (row["diff_hi"] - row["diff_lo"]) / 2
    assert half == pytest.approx(2.093024 * crn.std(ddof=1) / math.sqrt(20), rel=1e-5)  # t(0.975, 19)
    assert row["verdict"] in ("faster", "slower", "no significant difference")
    assert row["sentence"].startswith("All items: ")
    assert set(df["scenario"]) == {"every10", "every7"} and df.attrs["seed"] == 1


def line_scenario(rate_per_month: float, horizon_days: int = 1000, name: str = "s"):
    """One line at `rate_per_month`, one package of 3 units at day 0: latency 3 units' time, no randomness."""
    from sim.scenario.loader import deep_merge, validate_mapping

    data = deep_merge(MINIMAL, {"name": name, "horizon_days": horizon_days,
                                "production": {"line": {"rate_per_month": rate_per_month}}})
    data["requests"] = {"packages": [{"id": "p", "at": 0, "lines": [{"item": "shell", "qty": 3}]}]}
    return validate_mapping(data, "<line>")


def test_compare_says_faster_by_how_much_and_handles_an_item_never_delivered():
    slow, fast = line_scenario(10, name="slow"), line_scenario(20, name="fast")
    never = line_scenario(10, horizon_days=5, name="short")  # 3 units take 9 days: none delivered
    df = sim.compare([slow, fast, never], reps=3, seed=0)
    shell = df[df["item"] == "shell"].set_index("scenario")
    gain = 3 * DAYS_PER_MONTH / 10 - 3 * DAYS_PER_MONTH / 20
    assert shell.loc["fast", "diff_mean"] == pytest.approx(-gain)
    assert shell.loc["fast", "verdict"] == "faster"
    assert shell.loc["fast", "sentence"] == (f"155 mm round: fast is {gain:.1f} days faster than slow "
                                             f"(95% CI {gain:.1f}-{gain:.1f}).")
    assert shell.loc["short", "verdict"] == "none delivered"
    assert shell.loc["short", "sentence"].startswith("155 mm round: short delivers none within the horizon")
    assert shell.loc["short", "undelivered_per_rep"] == 1 and math.isnan(shell.loc["short", "diff_mean"])
    assert shell.loc["slow", "sentence"] == ""  # the reference has no difference of its own


def _per_rep(item_means: dict[str, list[float]]) -> pd.DataFrame:
    rows = []
    for item, means in item_means.items():
        for rep, m in enumerate(means):
            rows.append({"item": item, "rep": rep, "lots": 1, "qty": 1, "delivered_qty": 0 if m != m else 1,
                         "undelivered": 1 if m != m else 0, "mean": m, "p50": m, "p90": m, "p95": m, "max": m})
    df = pd.DataFrame(rows)
    all_rows = df.groupby("rep", as_index=False).agg({"lots": "sum", "qty": "sum", "delivered_qty": "sum",
                                                      "undelivered": "sum", "mean": "mean", "p50": "mean",
                                                      "p90": "mean", "p95": "mean", "max": "max"})
    return pd.concat([df, all_rows.assign(item="ALL")], ignore_index=True)


def test_verdicts_follow_the_confidence_interval():
    nan = math.nan
    ref = _per_rep({"a": [130, 132, 128, 131], "b": [50, 52, 49, 51], "c": [10, 11, 9, 10], "d": [20, 21, 22, 20],
                    "e": [5, 5, 6, 5]})
    new = _per_rep({"a": [90, 91, 89, 90], "b": [60, 63, 58, 61], "c": [12, 9, 10, 10], "d": [nan] * 4})
    df = comparison_table([ref, new], ["ref", "new"], 4, []).set_index(["item", "scenario"])
    verdicts = df.xs("new", level="scenario")["verdict"].to_dict()
    assert verdicts == {"a": "faster", "b": "slower", "c": "no significant difference", "d": "none delivered",
                        "e": "not requested", "ALL": verdicts["ALL"]}
    b = df.loc[("b", "new")]
    assert b["sentence"] == f"b: new is {b['diff_mean']:.1f} days slower than ref (95% CI {b['diff_lo']:.1f}-{b['diff_hi']:.1f})."
    assert re.fullmatch(r"a: new is 40 days faster than ref \(95% CI 3\d-4\d\)\.", df.loc[("a", "new"), "sentence"])
    assert "no significant difference between new and ref" in df.loc[("c", "new"), "sentence"]
    assert df.loc[("c", "new"), "diff_lo"] < 0 < df.loc[("c", "new"), "diff_hi"]


def test_a_large_gap_in_delivered_share_is_pointed_out():
    row = {"lots": 10, "reps_with_deliveries": 5, "delivered_share": 0.9, "diff_mean": -30.0, "diff_lo": -40.0,
           "diff_hi": -20.0, "diff_reps": 5, "mean": 50.0}
    base = {**row, "delivered_share": 0.2}
    verdict, text = verdict_sentence("X", "b", "a", row, base)
    assert verdict == "faster" and "delivered share 90% vs 20%" in text


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
    assert grid({"a": [1, 2], "b": ["x", "y"]}) == [{"a": 1, "b": "x"}, {"a": 1, "b": "y"},
                                                   {"a": 2, "b": "x"}, {"a": 2, "b": "y"}]


def test_sweep_runs_the_grid_with_the_same_seeds(tmp_path):
    path = tmp_path / "line.yaml"
    data = dict(MINIMAL, requests={"packages": [{"id": "p", "at": 0, "lines": [{"item": "shell", "qty": 3}]}]},
                approval={"delay_days": {"dist": "uniform", "low": 1, "high": 9}})
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    df = sim.sweep(path, {"production.line.rate_per_month": "10,20", "description": ["a", "b"]}, reps=4, seed=3)
    assert len(df) == 4 * 2 and list(df.columns[:3]) == ["point", "production.line.rate_per_month", "description"]
    shell = df[df["item"] == "shell"].set_index(["production.line.rate_per_month", "description"])
    # The approval delay is random, but every point draws the same delays (same seed, same
    # stream), so the latency differs between rates by exactly the production time...
    assert shell.loc[(10, "a"), "mean"] - shell.loc[(20, "a"), "mean"] == pytest.approx(
        3 * DAYS_PER_MONTH / 10 - 3 * DAYS_PER_MONTH / 20)
    # ...and a parameter that changes nothing in the model changes no figure at all.
    pd.testing.assert_series_equal(shell.loc[(10, "a")].drop("point"), shell.loc[(10, "b")].drop("point"),
                                   check_names=False)
    assert shell.loc[(10, "a"), "mean_hi"] > shell.loc[(10, "a"), "mean_lo"]  # there is randomness to share


def test_sweep_reports_bad_paths_and_values_as_scenario_errors():
    with pytest.raises(ScenarioError, match=r"production.nope.rate_per_month: override path does not exist"):
        sim.sweep(BASELINE, {"production.nope.rate_per_month": [1, 2]})
    with pytest.raises(ScenarioError) as exc:  # every bad point is named before anything runs
        sim.sweep(BASELINE, {"transport.legs.sealift.days.mode": "8:20:4"})
    [problem] = exc.value.problems
    assert problem.path == "transport.legs.sealift.days" and "need low <= mode <= high" in problem.message
    assert "mode=8;" in problem.message and "mode=20)" in problem.message and "mode=12" not in problem.message
