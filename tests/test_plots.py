"""Plots: every function returns a Figure whose axes carry the right labels and the right data, for 1 and many reps."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.figure import Figure

import sim
from sim import plots

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.yaml"
MANY = 5

# A small variant of the baseline with an allied stockpile (donations and backfill), an outage
# and a gate, so that every marker of every plot has something to show.
DONOR_YAML = f"""
extends: {BASELINE}
name: donor_variant
description: Baseline plus German PAC-3 donations for urgent requests, a rail outage and a gate.
stockpiles:
  germany:
    node: de_depot
    items:
      pac3_mse: {{on_hand: 200, min_keep: 40, prep_days: 3}}
transport:
  nodes:
    de_depot: {{kind: depot, country: DE}}
  legs:
    de_road: {{from: de_depot, to: rzeszow, mode: road, days: 2}}
  routes:
    de_rzeszow: {{legs: [de_road, border_road]}}
  choose:
    - {{origin: de_depot, route: de_rzeszow}}
    - {{origin: us_depot_eu, route: depot_rzeszow}}
    - {{origin: grand_prairie, item: pac3_mse, route: air_rzeszow}}
    - {{origin: grand_prairie, route: sea_north_gp}}
    - {{origin: camden, route: sea_north}}
policy:
  sources: [us_stock, stockpile, production]
disruptions:
  - {{kind: pause, scope: us_releases, start: 2025-07-01, end: 2025-07-08}}
  - {{kind: outage, scope: "leg:rail_de_pl", start: 2025-12-01, end: 2025-12-20}}
  - {{kind: gate, at: 2026-03-01, p_continue: 0.5}}
"""


@pytest.fixture(scope="module")
def base_sc():
    """The shipped baseline scenario."""
    return sim.load_scenario(BASELINE)


@pytest.fixture(scope="module")
def donor_sc(tmp_path_factory):
    """The baseline with a German stockpile, an outage and a gate."""
    path = tmp_path_factory.mktemp("plots") / "donor_variant.yaml"
    path.write_text(DONOR_YAML)
    return sim.load_scenario(path)


@pytest.fixture(scope="module")
def runs(base_sc, donor_sc):
    """Results keyed by (scenario, reps), all with seed 3."""
    return {(name, reps): sim.run(sc, reps=reps, seed=3)
            for name, sc in (("base", base_sc), ("donor", donor_sc)) for reps in (1, MANY)}


def labelled_lines(ax):
    """Lines of an axes that carry a legend label."""
    return [l for l in ax.get_lines() if not l.get_label().startswith("_")]


def per_rep_delivered(results, item, what="share"):
    """Per replication: delivered share (by qty) or delivered quantity of an item, computed here from deliveries."""
    d = results.deliveries
    d = d[(d["item"] == item) & (d["qty"] > 0)]
    out = []
    for rep in range(results.reps):
        g = d[d["rep"] == rep]
        done = g.loc[g["delivered_day"].notna(), "qty"].sum()
        if what == "share":
            out.append(done / g["qty"].sum() if g["qty"].sum() else np.nan)
        else:
            out.append(float(done))
    return np.array(out, dtype=float)


def axes_by_title(fig):
    """The figure's axes keyed by their title."""
    return {ax.get_title(loc="left") or ax.get_title(): ax for ax in fig.axes}


# --- the per-replication curves behind every band ---------------------------------------------

@pytest.mark.parametrize("cumulative", [True, False])
def test_rep_curves_match_a_direct_computation(cumulative):
    rng = np.random.default_rng(7)
    reps, n = 4, 60
    rep = rng.integers(0, reps - 1, n)  # the last replication has no points at all
    x = rng.choice([np.nan, *np.arange(0.0, 20.0, 0.5)], n)  # ties, and points that never count
    w = rng.integers(1, 9, n).astype(float)
    grid = np.arange(-1.0, 22.0)
    got = plots._rep_curves(rep, x, w, reps, grid, cumulative=cumulative, before=-5.0)
    for r in range(reps):
        for j, g in enumerate(grid):
            mine = [(xi, wi) for ri, xi, wi in zip(rep, x, w) if ri == r and xi <= g]
            if cumulative:
                expected = -5.0 + sum(wi for _, wi in mine)
            elif mine:  # the value recorded last at the latest x at or before g
                latest = max(xi for xi, _ in mine)
                expected = [wi for xi, wi in mine if xi == latest][-1]
            else:
                expected = -5.0
            assert got[r, j] == expected, (r, g)


# --- latency ECDF ---------------------------------------------------------------------------

@pytest.mark.parametrize("reps", [1, MANY])
def test_ecdf_one_line_per_scenario_ending_at_the_delivered_share(runs, reps):
    base, donor = runs[("base", reps)], runs[("donor", reps)]
    fig = plots.latency_ecdf(base, donor)
    assert isinstance(fig, Figure)
    items = sorted(base.summary().index.drop("ALL"))
    assert len(fig.axes) == len(items)
    for ax, item in zip(fig.axes, items):
        assert item in ax.get_title()
        assert "days" in ax.get_xlabel() and "share" in ax.get_ylabel()
        lines = labelled_lines(ax)
        assert [l.get_label() for l in lines] == ["baseline", "donor_variant"]
        for line, res in zip(lines, (base, donor)):
            y = np.asarray(line.get_ydata(), dtype=float)
            assert np.all(np.diff(y) >= -1e-12), "an ECDF never decreases"
            expected = np.median(per_rep_delivered(res, item)) if reps > 1 else res.summary().loc[item, "delivered_share"]
            assert y[-1] == pytest.approx(expected)
            assert y[-1] < 1.0 or res.summary().loc[item, "undelivered"] == 0
        bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert len(bands) == (2 if reps > 1 else 0)
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["baseline", "donor_variant"]


def band_limits(band, x):
    """(lower, upper) edge of a fill_between band at each x, read from its polygon."""
    v = np.concatenate([p.vertices for p in band.get_paths()])
    lo = [v[np.isclose(v[:, 0], xi), 1].min() for xi in x]
    hi = [v[np.isclose(v[:, 0], xi), 1].max() for xi in x]
    return np.array(lo), np.array(hi)


def test_ecdf_of_many_replications_is_the_median_share_with_a_percentile_band(runs):
    res = runs[("base", MANY)]
    fig = plots.latency_ecdf(res, items="pac3_mse")
    ax = fig.axes[0]
    (line,) = labelled_lines(ax)
    (band,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    x, y = np.asarray(line.get_xdata(), dtype=float), np.asarray(line.get_ydata(), dtype=float)
    d = res.deliveries
    d = d[(d["item"] == "pac3_mse") & (d["qty"] > 0)]
    # per replication, by hand: share of requested quantity delivered within x days
    shares = np.array([[g.loc[g["latency_days"] <= xi, "qty"].sum() / g["qty"].sum() for xi in x]
                       for _, g in d.groupby("rep")])
    assert len(shares) == MANY
    assert y == pytest.approx(np.median(shares, axis=0))
    lo, hi = band_limits(band, x[::40])
    assert lo == pytest.approx(np.percentile(shares[:, ::40], 10, axis=0))
    assert hi == pytest.approx(np.percentile(shares[:, ::40], 90, axis=0))
    assert "median" in fig.get_suptitle() and f"{MANY} replications" in fig.get_suptitle()


def test_timeline_of_many_replications_is_the_median_cumulative_quantity(runs):
    res = runs[("donor", MANY)]
    fig = plots.delivery_timeline(res, items="gmlrs")
    ax = fig.axes[0]
    delivered = next(l for l in ax.get_lines() if l.get_label() == "delivered (median)")
    days = (mdates.date2num(delivered.get_xdata()) - mdates.date2num(res.scenario.start)).round(6)
    assert days[0] == 0 and days[-1] == np.floor(res.horizon_days)
    d = res.deliveries
    d = d[(d["item"] == "gmlrs") & (d["qty"] > 0)]
    by_rep = [g for _, g in d.groupby("rep")]
    cum = np.array([[g.loc[g["delivered_day"] <= t, "qty"].sum() for t in days[::25]] for g in by_rep])
    assert np.asarray(delivered.get_ydata(), dtype=float)[::25] == pytest.approx(np.median(cum, axis=0))
    requested = next(l for l in ax.get_lines() if l.get_label() == "requested (median)")
    req = np.array([[g.loc[g["requested_day"] <= t, "qty"].sum() for t in days[::25]] for g in by_rep])
    assert np.asarray(requested.get_ydata(), dtype=float)[::25] == pytest.approx(np.median(req, axis=0))


def test_ecdf_steps_at_each_delivered_lot_for_one_replication(runs):
    res = runs[("base", 1)]
    fig = plots.latency_ecdf(res, items="pac3_mse")
    (line,) = labelled_lines(fig.axes[0])
    d = res.deliveries
    d = d[(d["item"] == "pac3_mse") & d["delivered_day"].notna()].sort_values("latency_days")
    x = np.asarray(line.get_xdata(), dtype=float)
    assert np.allclose(x[1:-1], d["latency_days"].to_numpy())


# --- where the time goes --------------------------------------------------------------------

@pytest.mark.parametrize("reps", [1, MANY])
def test_time_breakdown_phases_add_up_to_the_mean_latency(runs, reps):
    res = runs[("donor", reps)]
    fig = plots.time_breakdown(res)
    ax = fig.axes[0]
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert [b.get_label() for b in bars] == [p[0] for p in plots.PHASES]
    assert "days" in ax.get_xlabel()
    items = sorted(res.summary().index.drop("ALL"))
    totals = sum(np.array([p.get_width() for p in b.patches]) for b in bars)
    assert np.allclose(totals, res.summary().loc[items, "mean"].to_numpy())
    # The approval segment is the mean of approved - requested (per replication, then over them).
    d = res.deliveries
    d = d[d["delivered_day"].notna() & (d["item"] == items[0])]
    expected = (d["approved_day"] - d["requested_day"]).groupby(d["rep"]).mean().mean()
    assert bars[0].patches[0].get_width() == pytest.approx(expected)


def test_time_breakdown_of_two_scenarios_has_a_row_per_item_and_scenario(runs):
    fig = plots.time_breakdown(runs[("base", 1)], runs[("donor", 1)])
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert len(labels) == 2 * 3
    assert sum("donor_variant" in t for t in labels) == 3


# --- delivery timeline ----------------------------------------------------------------------

@pytest.mark.parametrize("reps", [1, MANY])
def test_timeline_ends_at_the_delivered_quantity_and_marks_pledges_pauses_gates(runs, donor_sc, reps):
    res = runs[("donor", reps)]
    fig = plots.delivery_timeline(res)
    items = sorted(res.summary().index.drop("ALL"))
    assert len(fig.axes) == len(items)
    assert "date" in fig.axes[-1].get_xlabel()
    for ax, item in zip(fig.axes, items):
        assert item in ax.get_title(loc="left")
        assert "quantity" in ax.get_ylabel()
        delivered = next(l for l in ax.get_lines() if l.get_label().startswith("delivered"))
        y = np.asarray(delivered.get_ydata(), dtype=float)
        totals = per_rep_delivered(res, item, "qty")
        assert y[-1] == pytest.approx(np.median(totals))
        assert np.all(np.diff(y) >= 0)
        # x axis runs over calendar dates from the scenario's start
        left = mdates.num2date(ax.get_xlim()[0]).date()
        assert left == donor_sc.start
        # every package holding this item is marked on its pledge date
        pkgs = [p for p in donor_sc.requests.packages if any(l.item == item for l in p.lines)]
        pledge_x = sorted(mdates.num2date(mdates.date2num(l.get_xdata()[0])).date() for l in ax.get_lines()
                          if l.get_linestyle() == ":")
        assert pledge_x == sorted(donor_sc.start + dt.timedelta(days=donor_sc.day(p.at)) for p in pkgs)
        spans = [p for p in ax.patches if p.get_label().startswith(("pause", "outage"))]
        assert sorted(p.get_label() for p in spans) == ["outage: leg:rail_de_pl", "pause: us_releases"]
        gates = [l for l in ax.get_lines() if l.get_label().startswith("gate")]
        assert len(gates) == 1
        closed = res.events[res.events["kind"] == "gate_closed"]["rep"].nunique()
        assert f"closed in {closed} of {reps}" in gates[0].get_label()
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "contribution to the NATO account" in labels and "package pledged" in labels


def test_timeline_of_two_scenarios_has_one_delivered_line_each(runs):
    base, donor = runs[("base", MANY)], runs[("donor", MANY)]
    fig = plots.delivery_timeline(base, donor, items=["pac3_mse"])
    (ax,) = fig.axes
    delivered = {l.get_label(): l for l in ax.get_lines() if l.get_label().startswith("delivered")}
    assert set(delivered) == {"delivered: baseline (median)", "delivered: donor_variant (median)"}
    for res in (base, donor):
        y = delivered[f"delivered: {res.scenario.name} (median)"].get_ydata()
        assert y[-1] == pytest.approx(np.median(per_rep_delivered(res, "pac3_mse", "qty")))
    # both scenarios draw the same requests (common random numbers): one requested line
    assert len([l for l in ax.get_lines() if l.get_label().startswith("requested")]) == 1
    # the outage and the gate are the variant's only
    labels = [p.get_label() for p in ax.patches]
    assert "outage: leg:rail_de_pl (donor_variant)" in labels and "pause: us_releases" in labels


# --- stock levels ---------------------------------------------------------------------------

@pytest.mark.parametrize("reps", [1, MANY])
def test_stock_levels_against_reserve_floor_and_min_keep(runs, donor_sc, reps):
    res = runs[("donor", reps)]
    fig = plots.stock_levels(res)
    titles = axes_by_title(fig)
    us = {t: ax for t, ax in titles.items() if t.startswith("US stock")}
    assert len(us) == len(donor_sc.us_stock.items)
    for item, level in donor_sc.us_stock.items.items():
        ax = next(a for t, a in us.items() if f"({item})" in t)
        assert "units" in ax.get_ylabel() and ax.get_xlabel() == "date"
        floor = next(l for l in ax.get_lines() if l.get_label().startswith("reserve floor"))
        assert set(np.asarray(floor.get_ydata(), dtype=float)) == {level.reserve_floor}
        on_hand = next(l for l in ax.get_lines() if l.get_label().startswith("on hand"))
        lv = res.levels[res.levels["series"] == f"us_stock:{item}"]
        last = lv.groupby("rep")["value"].last().to_numpy(dtype=float)
        assert float(on_hand.get_ydata()[-1]) == pytest.approx(np.median(last))
        assert float(on_hand.get_ydata()[0]) == level.on_hand
    pile = next(a for t, a in titles.items() if t.startswith("germany stockpile"))
    keep = next(l for l in pile.get_lines() if l.get_label().startswith("minimum kept"))
    assert set(np.asarray(keep.get_ydata(), dtype=float)) == {40.0}
    donations = next(l for l in pile.get_lines() if l.get_label().startswith("donation"))
    arrivals = next(l for l in pile.get_lines() if l.get_label().startswith("backfill arrival"))
    assert len(donations.get_xdata()) == res.backfills["donated_day"].notna().sum() > 0
    assert len(arrivals.get_xdata()) == res.backfills["backfilled_day"].notna().sum()


def test_stock_levels_of_two_scenarios_share_panels(runs):
    base, donor = runs[("base", 1)], runs[("donor", 1)]
    fig = plots.stock_levels(base, donor)
    titles = axes_by_title(fig)
    assert len(fig.axes) == len(set(plots.stock_series(base)) | set(plots.stock_series(donor))) == 4
    us = next(a for t, a in titles.items() if t.startswith("US stock") and "(pac3_mse)" in t)
    assert sorted(l.get_label() for l in us.get_lines() if l.get_label().startswith("on hand")) == [
        "on hand: baseline", "on hand: donor_variant"]
    floors = [l for l in us.get_lines() if l.get_label().startswith("reserve floor")]
    assert len(floors) == 1, "the same floor in both scenarios is drawn once"
    pile = next(a for t, a in titles.items() if t.startswith("germany stockpile"))
    assert [l.get_label() for l in pile.get_lines() if l.get_label().startswith("on hand")] == ["on hand: donor_variant"]


def test_stock_levels_one_replication_is_the_recorded_series(runs):
    res = runs[("donor", 1)]
    fig = plots.stock_levels(res, series="stockpile:germany:pac3_mse")
    on_hand = next(l for l in fig.axes[0].get_lines() if l.get_label() == "on hand")
    lv = res.levels[res.levels["series"] == "stockpile:germany:pac3_mse"]
    assert np.array_equal(np.asarray(on_hand.get_ydata(), dtype=float)[:-1], lv["value"].to_numpy(dtype=float))


# --- backfill gap ---------------------------------------------------------------------------

@pytest.mark.parametrize("reps", [1, MANY])
def test_backfill_gap_bars_are_the_summary_means(runs, reps):
    res = runs[("donor", reps)]
    fig = plots.backfill_gap(res)
    ax = fig.axes[0]
    assert "days" in ax.get_xlabel() and "donor" in ax.get_ylabel()
    bs = res.backfill_summary()
    (bars,) = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert [p.get_width() for p in bars.patches] == pytest.approx(list(bs["gap_mean"]))
    dots = next(l for l in ax.get_lines() if l.get_label() == "one donation")
    assert sorted(dots.get_xdata()) == pytest.approx(sorted(res.backfills["backfill_gap_days"].dropna()))
    whiskers = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(whiskers) == (1 if reps > 1 else 0)


def test_backfill_gap_without_donations_says_so(runs):
    fig = plots.backfill_gap(runs[("base", MANY)])
    assert any("no donations" in t.get_text() for t in fig.axes[0].texts)


# --- comparison, sweep, tornado -------------------------------------------------------------

def test_comparison_plot_draws_the_given_differences_and_whiskers():
    nan = float("nan")
    df = pd.DataFrame({"item": ["a", "a", "b", "b"], "item_name": ["Alpha", "Alpha", "Beta", "Beta"],
                       "scenario": ["base", "s", "base", "s"], "diff_mean": [nan, -10.0, nan, 4.0],
                       "diff_lo": [nan, -14.0, nan, 1.0], "diff_hi": [nan, -6.0, nan, 9.0]})
    fig = plots.comparison(df)
    ax = fig.axes[0]
    (eb,) = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    data_line, _, (bars,) = eb.lines
    assert list(data_line.get_xdata()) == [-10.0, 4.0]
    segs = sorted((min(s[0][0], s[1][0]), max(s[0][0], s[1][0])) for s in bars.get_segments())
    assert segs == [(-14.0, -6.0), (1.0, 9.0)]
    assert "against base" in fig.get_suptitle() and "base" in ax.get_xlabel() and "days" in ax.get_xlabel()
    tick_y = dict(zip([t.get_text() for t in ax.get_yticklabels()], ax.get_yticks()))
    assert tick_y["Alpha"] > tick_y["Beta"], "first item on top"
    assert list(data_line.get_ydata()) == [tick_y["Alpha"], tick_y["Beta"]]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["s minus base"]


@pytest.mark.parametrize("reps", [1, MANY])
def test_comparison_of_results_is_what_sim_compare_computes(runs, base_sc, donor_sc, reps):
    base, donor = runs[("base", reps)], runs[("donor", reps)]
    fig = plots.comparison(base, donor)
    (eb,) = [c for c in fig.axes[0].containers if isinstance(c, ErrorbarContainer)]
    expected = sim.compare([base_sc, donor_sc], reps=reps, seed=3)
    expected = expected[expected["diff_mean"].notna()]
    assert list(eb.lines[0].get_xdata()) == pytest.approx(list(expected["diff_mean"]))
    # and, computed here, the mean over replications of donor minus base per-replication mean PAC-3 latency
    def per_rep_mean(r):
        """Mean PAC-3 MSE latency per replication."""
        d = r.deliveries
        return d[(d["item"] == "pac3_mse") & d["delivered_day"].notna()].groupby("rep")["latency_days"].mean()
    got = plots.comparison_frame([base, donor]).set_index(["item", "scenario"])
    assert got.loc[("pac3_mse", "donor_variant"), "diff_mean"] == pytest.approx(
        (per_rep_mean(donor) - per_rep_mean(base)).mean())


def test_comparison_of_a_scenario_with_itself_is_exactly_zero(runs):
    r = runs[("base", MANY)]
    diffs = plots.comparison_frame([r, r]).dropna(subset=["diff_mean"])
    assert len(diffs) == 4
    assert (diffs["diff_mean"] == 0).all() and (diffs["diff_lo"] == 0).all() and (diffs["diff_hi"] == 0).all()


def test_comparison_refuses_results_that_are_not_paired(runs, base_sc):
    other = sim.run(base_sc, reps=MANY, seed=4)
    with pytest.raises(ValueError, match="not paired"):
        plots.comparison(runs[("base", MANY)], other)


def test_sweep_plot_line_and_ci_band():
    df = pd.DataFrame({"production.pac3_line.rate_per_month": [40, 60, 80] * 2,
                       "item": ["pac3_mse"] * 3 + ["gmlrs"] * 3,
                       "mean": [200.0, 150.0, 120.0, 90.0, 90.0, 90.0],
                       "mean_lo": [190.0, 140.0, 110.0, 85.0, 85.0, 85.0],
                       "mean_hi": [210.0, 160.0, 130.0, 95.0, 95.0, 95.0]})
    fig = plots.sweep(df, param="production.pac3_line.rate_per_month", metric="mean")
    ax = fig.axes[0]
    lines = {l.get_label(): l for l in labelled_lines(ax)}
    assert set(lines) == {"pac3_mse", "gmlrs"}
    assert list(lines["pac3_mse"].get_ydata()) == [200.0, 150.0, 120.0]
    assert list(lines["pac3_mse"].get_xdata()) == [40.0, 60.0, 80.0]
    assert ax.get_xlabel() == "production.pac3_line.rate_per_month" and "days" in ax.get_ylabel()
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2
    ys = np.concatenate([p.vertices[:, 1] for b in bands for p in b.get_paths()])
    assert ys.min() == 85.0 and ys.max() == 210.0


def test_sweep_plot_of_a_real_sweep(tmp_path):
    df = sim.sweep(BASELINE, {"production.pac3_line.rate_per_month": [40, 80]}, reps=2, seed=1)
    fig = plots.sweep(df, items="pac3_mse")
    (line,) = labelled_lines(fig.axes[0])
    rows = df[df["item"] == "pac3_mse"].sort_values("production.pac3_line.rate_per_month")
    assert list(line.get_xdata()) == [40.0, 80.0]
    assert list(line.get_ydata()) == pytest.approx(list(rows["mean"]))
    (png,) = plots.write_pngs(df, tmp_path)
    assert png.name == "sweep.png" and png.read_bytes()[:4] == b"\x89PNG"


def test_tornado_puts_the_widest_swing_on_top():
    effects = pd.DataFrame({"low": [100.0, 140.0, 118.0], "high": [160.0, 110.0, 122.0]},
                           index=["rate", "lead", "sealift"])
    fig = plots.tornado(effects, base=120.0)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[-1] == "rate" and labels[0] == "sealift"  # bottom to top
    low, high = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert [p.get_x() + p.get_width() for p in low.patches] == pytest.approx([118.0, 140.0, 100.0])
    assert [p.get_x() + p.get_width() for p in high.patches] == pytest.approx([122.0, 110.0, 160.0])


# --- results.plot and PNG files -------------------------------------------------------------

def test_results_plot_accessor_reaches_every_results_plot(runs):
    res = runs[("donor", 1)]
    for name in ("latency_ecdf", "time_breakdown", "delivery_timeline", "stock_levels", "backfill_gap"):
        fig = getattr(res.plot, name)()
        assert isinstance(fig, Figure) and fig.axes, name
    fig = res.plot.comparison(runs[("base", 1)])
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["baseline minus donor_variant"]
    assert labelled_lines(res.plot.latency_ecdf(runs[("base", 1)]).axes[0])[1].get_label() == "baseline"
    assert "results.plot" in repr(res.plot)


def test_write_pngs_for_results_and_for_a_comparison(runs, tmp_path):
    one = plots.write_pngs(runs[("donor", 1)], tmp_path / "one")
    assert {p.name for p in one} == {"latency_ecdf.png", "time_breakdown.png", "delivery_timeline.png",
                                     "stock_levels.png", "backfill_gap.png"}
    both = plots.write_pngs([runs[("base", MANY)], runs[("donor", MANY)]], tmp_path / "two")
    names = {p.name for p in both}
    assert names == {"latency_ecdf.png", "time_breakdown.png", "comparison.png", "backfill_gap.png",
                     "delivery_timeline.png", "stock_levels.png"}
    for p in one + both:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5000


def test_plots_module_does_not_use_pyplot():
    code = ("import sys, sim.plots, sim.report; "
            "assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'")
    subprocess.run([sys.executable, "-c", code], check=True)
