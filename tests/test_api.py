"""The library API without surprises (issue 16, item 4): paths and Results accepted where scenarios are,
missing values as NA, dates to the second for every stage, an --out directory read back whole, and
summaries that say which counts are per replication."""

from __future__ import annotations

import datetime as dt
import inspect
import json
import math

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, run_cli

import sim
from sim import metrics
from sim.experiments import baselines
from sim.scenario.workload import DEFAULT_REPS
from sim.tables import CATEGORIES, DATE_COLUMNS

# Donations (backfills), undelivered lots at the horizon, lines never sourced, pauses: every kind of missing value.
STOCKPILE = REPO / "scenarios" / "stockpile_first.yaml"
FACTORY = REPO / "scenarios" / "factory_only.yaml"
SEED, REPS = 3, 4
KINDS = ("deliveries", "event_log", "events", "levels", "backfills")


@pytest.fixture(scope="module")
def results() -> sim.Results:
    return sim.run(sim.load_scenario(STOCKPILE), reps=REPS, seed=SEED)


def assert_same_tables(a: sim.Results, b: sim.Results) -> None:
    for kind in KINDS:
        pd.testing.assert_frame_equal(getattr(a, kind), getattr(b, kind), obj=kind)


# --- sim.run and sim.compare take what the other functions take ---------------------------------


def test_run_takes_a_path_as_text_or_path_and_its_overrides(results):
    assert_same_tables(sim.run(str(STOCKPILE), reps=REPS, seed=SEED), results)
    over = {"production.pac3_line.servers": 3}
    by_path = sim.run(STOCKPILE, reps=REPS, seed=SEED, overrides=over)
    assert by_path.overrides == over
    assert_same_tables(by_path, sim.run(sim.load_scenario(STOCKPILE, over), reps=REPS, seed=SEED))
    assert by_path.scenario.production["pac3_line"].servers == 3 != results.scenario.production["pac3_line"].servers
    with pytest.raises(TypeError, match="pass its path"):
        sim.run(results.scenario, reps=1, overrides=over)


def test_compare_takes_results_alone_or_mixed_with_scenarios(results):
    factory = sim.run(FACTORY, reps=REPS, seed=SEED)
    ran = sim.compare([STOCKPILE, FACTORY], reps=REPS, seed=SEED)
    pd.testing.assert_frame_equal(sim.compare([results, factory]), ran)
    pd.testing.assert_frame_equal(sim.compare([results, FACTORY]), ran)  # the path runs with the Results' seed and reps
    assert ran.attrs["seed"] == SEED


def test_compare_refuses_results_that_cannot_be_paired(results):
    other_seed = sim.run(FACTORY, reps=REPS, seed=SEED + 1)
    with pytest.raises(
        ValueError, match=r"share one seed and one number of replications.*seed 3, 4 reps.*seed 4, 4 reps"
    ):
        sim.compare([results, other_seed])
    fewer = sim.run(FACTORY, reps=REPS - 1, seed=SEED)
    with pytest.raises(ValueError, match="share one seed"):
        sim.compare([results, fewer])
    with pytest.raises(ValueError, match=r"reps=9, but the Results given have 4 replications"):
        sim.compare([results, FACTORY], reps=9)
    with pytest.raises(ValueError, match=r"seed=0, but the Results given were run with seed 3"):
        sim.compare([results, FACTORY], seed=0)


# --- missing values are NA ---------------------------------------------------------------------


def test_missing_labels_and_ids_are_na_never_empty_text_or_minus_one(results):
    d = results.deliveries
    assert d["lot_id"].dtype == "Int64"
    never_sourced = d["source"].isna()
    assert never_sourced.any() and d["source"].notna().any()  # both kinds of row are checked
    assert (d["lot_id"].isna() == never_sourced).all()  # a line never sourced has no lot
    assert (d["donor"].notna() == (d["source"] == "stockpile").fillna(False)).all()
    assert (d["route"].isna() == d["shipped_day"].isna()).all()  # no route before it ships
    assert (d["phase_at_horizon"].isna() == d["delivered_day"].notna()).all()
    for name in KINDS:
        df = getattr(results, name)
        for c in df.columns:
            if c in CATEGORIES:
                assert "" not in df[c].cat.categories, (name, c)
            if c == "request_id" or c in CATEGORIES:
                assert not (df[c].astype(object) == "").any(), (name, c)
            if c == "lot_id":
                assert not (df[c] == -1).any(), (name, c)
    e = results.events
    request_level = e["kind"].isin(["requested", "approved", "funded"])
    assert request_level.any()
    assert e.loc[request_level, ["lot_id", "item", "where"]].isna().all().all()
    assert e.loc[e["kind"] == "delivered", ["lot_id", "item"]].notna().all().all()
    no_request = e["kind"].isin(["pause_start", "pause_end", "contribution"])
    assert no_request.any() and e.loc[no_request, "request_id"].isna().all()


# --- dates -------------------------------------------------------------------------------------


def test_every_stage_day_has_a_date_to_the_second(results):
    start = dt.datetime.combine(results.scenario.start, dt.time())
    for kind, stages in DATE_COLUMNS.items():
        df = getattr(results, kind)
        days = [c for c in df.columns if c.endswith("_day")]
        assert sorted(days) == sorted(f"{s}_day" for s in stages), kind  # a date for every stage day
        for s in stages:
            day, date = df[f"{s}_day"], df[f"{s}_date"]
            assert (day.isna() == date.isna()).all()
            assert date.dtype == "datetime64[ns]"
            assert (date.dropna().astype("int64") % 1_000_000_000 == 0).all()  # whole seconds: no float noise
            for v, when in zip(day.dropna()[:50], date.dropna()[:50]):  # the date by hand, from the day
                assert when.to_pydatetime() == start + dt.timedelta(seconds=round(v * 86400)), (kind, s, v)


# --- Results.load ------------------------------------------------------------------------------


def test_results_load_reads_a_run_out_directory_back_whole(tmp_path):
    out = tmp_path / "run"
    res = run_cli(
        "run",
        STOCKPILE,
        "--reps",
        "5",
        "--seed",
        "7",
        "--chunk-size",
        "2",  # three chunks: the combined files must read back as one table
        "--workers",
        "1",
        "--no-plots",
        "--set",
        "production.pac3_line.servers=3",
        "--set",
        "start=2025-07-01",
        "--out",
        out,
    )
    assert res.returncode == 0, res.stderr
    over = {"production.pac3_line.servers": 3, "start": dt.date(2025, 7, 1)}
    loaded = sim.Results.load(out)
    direct = sim.run(STOCKPILE, reps=5, seed=7, overrides=over)
    assert (loaded.seed, loaded.reps) == (7, 5)
    assert loaded.scenario == direct.scenario
    assert loaded.overrides == {"production.pac3_line.servers": 3, "start": "2025-07-01"}  # JSON: a date as text
    assert_same_tables(loaded, direct)
    pd.testing.assert_frame_equal(loaded.summary(), direct.summary())
    # The resolved scenario is itself a scenario file: run it again and get the same scenario.
    assert sim.load_scenario(out / "scenario.json") == direct.scenario
    assert json.loads((out / "manifest.json").read_text())["files"].keys() >= {"scenario.json", "overrides.json"}


def test_results_load_refuses_what_is_not_a_run_output(tmp_path):
    with pytest.raises(ValueError, match="not an intact purlsim run output"):
        sim.Results.load(tmp_path)


# --- summaries say per replication or total ----------------------------------------------------


def test_summary_counts_say_whether_they_are_per_replication_or_totals(results):
    s = results.summary()
    counts = s.attrs["counts"]
    assert counts["lots"] == counts["qty"] == counts["delivered_lots"] == metrics.PER_REPLICATION
    assert counts["reps_with_deliveries"] == metrics.TOTAL
    d = results.deliveries[results.deliveries["qty"] > 0]
    for item, g in d.groupby("item", observed=True):
        delivered = g["delivered_day"].notna()
        # by hand: a per-replication count is the run's total over reps; the total counts replications
        assert s.loc[item, "delivered_lots"] == pytest.approx(delivered.sum() / REPS)
        assert s.loc[item, "undelivered_lots"] == pytest.approx((~delivered).sum() / REPS)
        assert s.loc[item, "reps_with_deliveries"] == g.loc[delivered, "rep"].nunique()
    b = results.backfill_summary()
    assert b.attrs["counts"] == {
        "donations": metrics.PER_REPLICATION,
        "qty": metrics.PER_REPLICATION,
        "open": metrics.TOTAL,
        "open_per_rep": metrics.PER_REPLICATION,
    }
    bf = results.backfills
    for (donor, item), g in bf.groupby(["donor", "item"], observed=True):
        assert b.loc[(donor, item), "donations"] == pytest.approx(len(g) / REPS)
        assert b.loc[(donor, item), "open"] == g["backfilled_day"].isna().sum()
    assert results.closure_summary().attrs["counts"]["requests"] == metrics.PER_REPLICATION
    assert "per replication" in sim.Results.summary.__doc__ and "total" in sim.Results.summary.__doc__


# --- one default replication count -------------------------------------------------------------


def test_every_api_function_defaults_to_the_same_replications():
    from sim.experiments.compare import report

    defaults = {
        "run": inspect.signature(sim.run).parameters["reps"].default,
        "sweep": inspect.signature(sim.sweep).parameters["reps"].default,
        "report": inspect.signature(report).parameters["reps"].default,
        "baseline record": inspect.signature(baselines.record).parameters["reps"].default,
    }
    assert set(defaults.values()) == {DEFAULT_REPS}, defaults
    assert baselines.DEFAULT_REPS == DEFAULT_REPS
    # compare's None means DEFAULT_REPS unless Results fix it: two scenarios run that many replications.
    df = sim.compare([STOCKPILE, FACTORY], seed=1)
    assert df.attrs["seed"] == 1
    assert math.isclose(
        df.set_index(["item", "scenario"]).loc[("ALL", "stockpile_first"), "lots"],
        sim.run(STOCKPILE, seed=1).summary().loc["ALL", "lots"],
    )
    assert np.isfinite(DEFAULT_REPS) and DEFAULT_REPS > 1
