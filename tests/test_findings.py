"""What a comparison says first (sim.metrics.findings): the fastest option per item and the findings by size of effect."""

from __future__ import annotations

import math

import pandas as pd

from sim.metrics import findings

NAN = math.nan


def table(rows):
    """A comparison table of hand-made rows: (item, scenario, qty, rmst, diff, lo, hi, verdict, sentence)."""
    cols = ["item", "scenario", "qty", "rmst", "diff_rmst", "diff_rmst_lo", "diff_rmst_hi", "verdict", "sentence"]
    df = pd.DataFrame(rows, columns=cols)
    return df.assign(item_name=df["item"].str.title(), ttd_p50=100.0, followup_days=400.0, rmst_tau=360.0)


def by_item(df):
    return findings.fastest(df).set_index("item")


def test_the_fastest_against_the_reference_is_led_by_minus_its_difference():
    df = table(
        [
            ("a", "ref", 10, 200.0, NAN, NAN, NAN, "", ""),
            ("a", "x", 10, 150.0, -50.0, -60.0, -41.0, "faster", "x faster"),
            ("a", "y", 10, 180.0, -20.0, -30.0, 5.0, "no significant difference", "y same"),
        ]
    )
    a = by_item(df).loc["a"]
    assert (a["fastest"], a["against"], a["sure"]) == ("x", "ref", "significant")
    assert (a["lead"], a["lead_lo"], a["lead_hi"]) == (50.0, 41.0, 60.0)
    assert a["rmst"] == 150.0


def test_a_reference_that_is_fastest_leads_the_runner_up_by_its_difference():
    df = table(
        [
            ("a", "ref", 10, 100.0, NAN, NAN, NAN, "", ""),
            ("a", "x", 10, 130.0, 30.0, 20.0, 40.0, "slower", ""),
            ("a", "y", 10, 110.0, 10.0, -2.0, 21.0, "no significant difference", ""),
        ]
    )
    a = by_item(df).loc["a"]
    assert (a["fastest"], a["against"], a["lead"], a["lead_lo"], a["lead_hi"]) == ("ref", "y", 10.0, -2.0, 21.0)
    assert a["sure"] == "no significant difference"


def test_ties_single_options_and_missing_intervals_are_named():
    df = table(
        [
            ("a", "ref", 10, 100.0, NAN, NAN, NAN, "", ""),
            ("a", "x", 10, 100.0, 0.0, 0.0, 0.0, "no significant difference", ""),
            ("b", "ref", 0, NAN, NAN, NAN, NAN, "", ""),
            ("b", "x", 5, 70.0, NAN, NAN, NAN, "not requested", ""),
            ("c", "ref", 5, 90.0, NAN, NAN, NAN, "", ""),
            ("c", "x", 5, 80.0, -10.0, NAN, NAN, "too few replications", ""),
        ]
    )
    got = by_item(df)
    assert (got.loc["a", "fastest"], got.loc["a", "sure"]) == ("ref, x", "tied")
    assert (got.loc["b", "fastest"], got.loc["b", "sure"]) == ("x", "only option")
    assert (got.loc["c", "fastest"], got.loc["c", "lead"], got.loc["c", "sure"]) == ("x", 10.0, "too few replications")


def test_findings_put_the_largest_effect_first_and_group_no_significant_difference():
    df = table(
        [
            ("a", "ref", 10, 100.0, NAN, NAN, NAN, "", ""),
            ("a", "x", 10, 90.0, -10.0, -15.0, -5.0, "faster", "A: x is 10 days faster."),
            ("b", "ref", 10, 100.0, NAN, NAN, NAN, "", ""),
            ("b", "x", 10, 130.0, 30.0, 25.0, 35.0, "slower", "B: x is 30 days slower."),
            ("c", "ref", 10, 100.0, NAN, NAN, NAN, "", ""),
            ("c", "x", 10, 101.3, 1.3, -0.5, 3.0, "no significant difference", "C: no significant difference."),
            ("d", "ref", 10, 100.0, NAN, NAN, NAN, "", ""),
            ("d", "x", 10, 98.0, -2.0, -4.0, 0.5, "no significant difference", "D: no significant difference."),
            ("e", "ref", 10, 100.0, NAN, NAN, NAN, "", ""),
            ("e", "x", 0, NAN, NAN, NAN, NAN, "not requested", "E: not requested in x's cohort."),
        ]
    )
    said = findings.findings(df)
    assert said[:3] == ["B: x is 30 days slower.", "A: x is 10 days faster.", "E: not requested in x's cohort."]
    assert len(said) == 4
    assert said[3] == (
        "No significant difference in mean time to delivery (to 360 d) for 2 comparisons: "
        "D (x minus ref -2.0 d, 95% CI -4.0 to +0.5); C (x minus ref +1.3 d, 95% CI -0.5 to +3.0)."
    )


def test_an_empty_table_says_nothing():
    assert findings.findings(table([])) == []
    assert findings.fastest(table([])).empty
