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
from conftest import package
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.figure import Figure

import sim
from sim import plots
from sim.metrics.comparison import of_results
from sim.plots import base as plot_base

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
    de_rzeszow: {{legs: [de_road, border_road, ua_rail]}}
  choose:
    - {{origin: de_depot, route: de_rzeszow}}
    - {{origin: us_depot_eu, route: depot_rzeszow}}
    - {{origin: camden, item: pac3_mse, route: air_rzeszow}}
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
    return {
        (name, reps): sim.run(sc, reps=reps, seed=3)
        for name, sc in (("base", base_sc), ("donor", donor_sc))
        for reps in (1, MANY)
    }


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
    got = plot_base._rep_curves(rep, x, w, reps, grid, cumulative=cumulative, before=-5.0)
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


# --- time to delivery: the Kaplan-Meier share delivered ---------------------------------------


def lots_by_hand(results, item):
    """Each lot of an item with units, from the deliveries table: days from request to delivery or to the horizon."""
    d = results.deliveries
    d = d[(d["item"] == item) & (d["qty"] > 0)]
    done = d["delivered_day"].notna()
    end = d["delivered_day"].where(done, results.horizon_days)
    return pd.DataFrame(
        {
            "rep": d["rep"].to_numpy(),
            "time": (end - d["requested_day"]).to_numpy(dtype=float),
            "delivered": done.to_numpy(),
            "qty": d["qty"].to_numpy(dtype=float),
        }
    )


def km_by_hand(lots):
    """(distinct times, 1 - S) of the unit-weighted Kaplan-Meier estimate, step by step: at each distinct
    time S is multiplied by 1 - (units delivered then) / (units still at risk then), censored units at
    that time counting as at risk."""
    times = np.sort(lots["time"].unique())
    s, at_risk, out = 1.0, lots["qty"].sum(), []
    for t in times:
        here = lots[lots["time"] == t]
        s *= 1.0 - here.loc[here["delivered"], "qty"].sum() / at_risk
        at_risk -= here["qty"].sum()
        out.append(1.0 - s)
    return times, np.array(out)


def km_at(lots, x):
    """1 - S of the hand-made curve at each x (0 before the first time, NaN past its end unless all delivered)."""
    times, share = km_by_hand(lots)
    idx = np.searchsorted(times, x, side="right") - 1
    y = np.where(idx >= 0, share[np.clip(idx, 0, None)], 0.0)
    return np.where((x <= times[-1]) | (share[-1] >= 1 - 1e-12), y, np.nan)


@pytest.mark.parametrize("reps", [1, MANY])
def test_ecdf_is_the_kaplan_meier_share_of_units_delivered_one_line_per_scenario(runs, reps):
    base, donor = runs[("base", reps)], runs[("donor", reps)]
    fig = plots.latency_ecdf(base, donor)
    assert isinstance(fig, Figure)
    assert fig.get_suptitle().startswith("Share of requested units delivered (Kaplan-Meier, censored at the horizon)")
    items = sorted(base.summary().index.drop("ALL"))
    assert len(fig.axes) == len(items)
    for ax, item in zip(fig.axes, items):
        assert item in ax.get_title()
        assert ax.get_xlabel() == "days since request"
        assert "share of requested units delivered" in ax.get_ylabel() and "Kaplan-Meier" in ax.get_ylabel()
        lines = labelled_lines(ax)
        assert [l.get_label() for l in lines] == ["baseline", "donor_variant"]
        for line, res in zip(lines, (base, donor)):
            lots = lots_by_hand(res, item)
            times, share = km_by_hand(lots)  # pooled over replications, every unit counted
            x, y = np.asarray(line.get_xdata(), dtype=float), np.asarray(line.get_ydata(), dtype=float)
            assert x[0] == 0 and y[0] == 0
            assert x[1:] == pytest.approx(times) and y[1:] == pytest.approx(share)
            assert np.all(np.diff(y) >= -1e-12), "a share delivered never decreases"
            # the curve ends where the follow-up ends: at the horizon for the earliest request still open
            assert x[-1] == pytest.approx(lots["time"].max())
            # heavy censoring: the share delivered of the lots as they stand undercounts what the curve says
            naive = lots.loc[lots["delivered"], "qty"].sum() / lots["qty"].sum()
            assert y[-1] >= naive - 1e-12
        bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
        assert len(bands) == (2 if reps > 1 else 0)
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == ["baseline", "donor_variant"]


def test_ecdf_agrees_with_scipy(runs):
    # scipy.stats.ecdf takes no weights: a lot of q units is q identical observations.
    from scipy.stats import CensoredData, ecdf

    res = runs[("donor", MANY)]
    (line,) = labelled_lines(plots.latency_ecdf(res, items="gmlrs").axes[0])
    lots = lots_by_hand(res, "gmlrs")
    q = lots["qty"].to_numpy(dtype=int)
    t, e = np.repeat(lots["time"].to_numpy(), q), np.repeat(lots["delivered"].to_numpy(dtype=bool), q)
    sf = ecdf(CensoredData(uncensored=t[e], right=t[~e])).sf
    x = np.asarray(line.get_xdata(), dtype=float)[1:]
    assert np.asarray(line.get_ydata(), dtype=float)[1:] == pytest.approx(1.0 - sf.evaluate(x), abs=1e-9)


def band_limits(band, x):
    """(lower, upper) edge of a fill_between band at each x, read from its polygon."""
    v = np.concatenate([p.vertices for p in band.get_paths()])
    lo = [v[np.isclose(v[:, 0], xi), 1].min() for xi in x]
    hi = [v[np.isclose(v[:, 0], xi), 1].max() for xi in x]
    return np.array(lo), np.array(hi)


def test_ecdf_band_is_the_spread_of_the_per_replication_kaplan_meier_curves(runs):
    res = runs[("base", MANY)]
    fig = plots.latency_ecdf(res, items="pac3_mse")
    ax = fig.axes[0]
    (band,) = [c for c in ax.collections if isinstance(c, PolyCollection)]
    lots = lots_by_hand(res, "pac3_mse")
    per_rep = [g for _, g in lots.groupby("rep")]
    assert len(per_rep) == MANY
    # grid points of the band up to the shortest replication's follow-up: every curve is known there
    xs = np.unique(np.concatenate([p.vertices[:, 0] for p in band.get_paths()]))
    xs = xs[xs <= min(g["time"].max() for g in per_rep)]  # the band keeps only the vertices where an edge bends
    xs = xs[:: max(1, len(xs) // 12)]
    assert len(xs) >= 3
    curves = np.array([km_at(g, xs) for g in per_rep])
    lo, hi = band_limits(band, xs)
    assert lo == pytest.approx(np.percentile(curves, 10, axis=0))
    assert hi == pytest.approx(np.percentile(curves, 90, axis=0))
    title = fig.get_suptitle()
    assert f"{MANY} replications" in title and "pooled over replications" in title and "10th-90th" in title


def test_per_replication_kaplan_meier_curves_by_hand():
    # rep 0: 2 units delivered at day 1, 2 censored at day 2: S = 1 - 2/4 = 0.5 from day 1, and the
    # curve ends at day 2 (NaN past it). rep 1: 1 unit at day 1 (S = 0.5), 1 at day 3 (S = 0): all
    # delivered, so known to the end of the grid. rep 2: no units (a zero-quantity line), a NaN row;
    # rep 3 is past the replications plotted and ignored.
    from sim.plots.delivery import _km_rep_curves

    obs = pd.DataFrame(
        {
            "rep": [1, 0, 0, 1, 2, 3],
            "time": [3.0, 2.0, 1.0, 1.0, 1.0, 1.0],
            "delivered": [True, False, True, True, True, True],
            "qty": [1, 2, 2, 1, 0, 5],
        }
    )
    grid = np.array([0.0, 1.0, 1.5, 2.0, 2.5, 3.0, 4.0])
    nan = np.nan
    expected = np.array(
        [
            [0.0, 0.5, 0.5, 0.5, nan, nan, nan],
            [0.0, 0.5, 0.5, 0.5, 0.5, 1.0, 1.0],
            [nan] * 7,
        ]
    )
    np.testing.assert_array_equal(_km_rep_curves(obs, 3, grid), expected)


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


def test_ecdf_of_one_replication_without_censoring_is_the_cumulative_share_of_units(make_scenario):
    # Three requests of 155 mm rounds on the minimal scenario, all delivered long before the horizon:
    # with nothing censored the Kaplan-Meier share is the plain cumulative share of units delivered.
    sc = make_scenario([package("a", at=0, qty=4), package("b", at=20, qty=2), package("c", at=40, qty=6)])
    res = sim.run(sc, reps=1, seed=1)
    d = res.deliveries[res.deliveries["qty"] > 0]
    assert d["delivered_day"].notna().all() and d["qty"].sum() == 12
    (line,) = labelled_lines(plots.latency_ecdf(res).axes[0])
    by_day = d.groupby("latency_days")["qty"].sum().sort_index()
    assert np.asarray(line.get_xdata(), dtype=float)[1:] == pytest.approx(by_day.index.to_numpy())
    assert np.asarray(line.get_ydata(), dtype=float)[1:] == pytest.approx(by_day.cumsum().to_numpy() / 12)
    assert line.get_ydata()[-1] == pytest.approx(1.0)


# --- where the time goes --------------------------------------------------------------------


@pytest.mark.parametrize("reps", [1, MANY])
def test_time_breakdown_phases_add_up_to_the_mean_time_in_system(runs, reps):
    res = runs[("donor", reps)]
    fig = plots.time_breakdown(res)
    ax = fig.axes[0]
    bars = [c for c in ax.containers if isinstance(c, BarContainer) and not c.get_label().startswith("_")]
    names = [b.get_label() for b in bars]
    assert names and names == [p for p in plots.PHASES if p in names], "phases in their fixed order"
    assert "days" in ax.get_xlabel()
    items = sorted(res.summary().index.drop("ALL"))
    totals = sum(np.array([p.get_width() for p in b.patches]) for b in bars)
    # by hand: per replication the quantity-weighted mean days from request to delivery, or to the
    # horizon for a lot still on its way, then the mean over replications
    d = res.deliveries[res.deliveries["qty"] > 0]
    end = d["delivered_day"].fillna(res.horizon_days)
    d = d.assign(w=(end - d["requested_day"]) * d["qty"])
    expected = [
        (g.groupby("rep")["w"].sum() / g.groupby("rep")["qty"].sum()).mean() for g in (d[d["item"] == i] for i in items)
    ]
    assert totals == pytest.approx(expected)


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
        pledge_x = sorted(
            mdates.num2date(mdates.date2num(l.get_xdata()[0])).date()
            for l in ax.get_lines()
            if l.get_linestyle() == ":"
        )
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
        "on hand: baseline",
        "on hand: donor_variant",
    ]
    floors = [l for l in us.get_lines() if l.get_label().startswith("reserve floor")]
    assert len(floors) == 1, "the same floor in both scenarios is drawn once"
    pile = next(a for t, a in titles.items() if t.startswith("germany stockpile"))
    assert [l.get_label() for l in pile.get_lines() if l.get_label().startswith("on hand")] == [
        "on hand: donor_variant"
    ]


def test_stock_levels_one_replication_is_the_recorded_series(runs):
    res = runs[("donor", 1)]
    fig = plots.stock_levels(res, series="stockpile:germany:pac3_mse")
    on_hand = next(l for l in fig.axes[0].get_lines() if l.get_label() == "on hand")
    lv = res.levels[res.levels["series"] == "stockpile:germany:pac3_mse"]
    assert np.array_equal(np.asarray(on_hand.get_ydata(), dtype=float)[:-1], lv["value"].to_numpy(dtype=float))


# --- backfill gap ---------------------------------------------------------------------------


def gap_median_by_hand(g, horizon):
    """Unit-weighted Kaplan-Meier median of days from the donation decision to the replacement, open donations censored at the horizon."""
    done = g["backfilled_day"].notna()
    lots = pd.DataFrame(
        {
            "time": (g["backfilled_day"].where(done, horizon) - g["decided_day"]).to_numpy(dtype=float),
            "delivered": done.to_numpy(),
            "qty": g["qty"].to_numpy(dtype=float),
        }
    )
    times, share = km_by_hand(lots)
    hit = share >= 0.5 - 1e-12
    return times[np.argmax(hit)] if hit.any() else np.inf


@pytest.mark.parametrize("reps", [1, MANY])
def test_backfill_gap_bars_are_the_censored_median_gap_from_the_decision(runs, reps):
    res = runs[("donor", reps)]
    fig = plots.backfill_gap(res)
    ax = fig.axes[0]
    assert "days" in ax.get_xlabel() and "from the donation decision" in ax.get_xlabel()
    assert "donor" in ax.get_ylabel() and "donation decision" in fig.get_suptitle()
    b = res.backfills
    groups = [g for _, g in b.groupby(["donor", "item"], observed=True)]
    (bars,) = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert len(bars.patches) == len(groups) == 1
    g = groups[0]
    assert g["backfilled_day"].isna().any(), "the case has open donations: the median must censor them"
    median = gap_median_by_hand(g, res.horizon_days)
    assert np.isfinite(median)
    assert bars.patches[0].get_width() == pytest.approx(median)
    # the dots: each replaced donation at its gap from the decision, each open one at its gap so far
    dots = next(l for l in ax.get_lines() if l.get_label() == "one replaced donation")
    done = g[g["backfilled_day"].notna()]
    assert sorted(dots.get_xdata()) == pytest.approx(sorted(done["backfilled_day"] - done["decided_day"]))
    still = next(l for l in ax.get_lines() if l.get_label().startswith("one donation open"))
    assert sorted(still.get_xdata()) == pytest.approx(
        sorted(res.horizon_days - g.loc[g["backfilled_day"].isna(), "decided_day"])
    )
    whiskers = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    assert len(whiskers) == (1 if reps > 1 else 0)


def test_backfill_gap_median_not_reached_is_hatched_to_its_bound(donor_sc):
    # Donations decided so late that none is replaced by the horizon: no median, a `>` bar.
    late = donor_sc.model_copy(update={"horizon_days": 200.0})
    res = sim.run(late, reps=2, seed=3)
    b = res.backfills
    assert len(b) and b["backfilled_day"].isna().all()
    fig = plots.backfill_gap(res)
    (bars,) = [c for c in fig.axes[0].containers if isinstance(c, BarContainer)]
    bound = 200.0 - b["decided_day"].max()  # the shortest follow-up of a donation
    assert bars.patches[0].get_width() == pytest.approx(bound) and bars.patches[0].get_hatch() == "//"
    assert any(t.get_text().startswith(f"median > {bound:,.0f} d") for t in fig.axes[0].texts)


def test_backfill_gap_without_donations_says_so(runs):
    fig = plots.backfill_gap(runs[("base", MANY)])
    assert any("no donations" in t.get_text() for t in fig.axes[0].texts)


# --- comparison, sweep, tornado -------------------------------------------------------------


def test_comparison_plot_draws_the_given_rmst_differences_and_whiskers():
    nan = float("nan")
    df = pd.DataFrame(
        {
            "item": ["a", "a", "b", "b"],
            "item_name": ["Alpha", "Alpha", "Beta", "Beta"],
            "scenario": ["base", "s", "base", "s"],
            "rmst_tau": [270.0] * 4,
            "diff_rmst": [nan, -10.0, nan, 4.0],
            "diff_rmst_lo": [nan, -14.0, nan, 1.0],
            "diff_rmst_hi": [nan, -6.0, nan, 9.0],
            "diff_ttd_p50": [nan, 99.0, nan, 99.0],
        }
    )  # another figure: not the one drawn
    fig = plots.comparison(df)
    ax = fig.axes[0]
    (data_line,) = [l for l in ax.get_lines() if l.get_label() == "s minus base"]
    assert list(data_line.get_xdata()) == [-10.0, 4.0]
    (bars,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    segs = sorted((min(s[0][0], s[1][0]), max(s[0][0], s[1][0])) for s in bars.get_segments())
    assert segs == [(-14.0, -6.0), (1.0, 9.0)]
    assert "against base" in fig.get_suptitle()
    assert ax.get_xlabel().startswith("difference in restricted mean time to delivery to 270 d")
    assert "base" in ax.get_xlabel() and "days" in ax.get_xlabel()
    tick_y = dict(zip([t.get_text() for t in ax.get_yticklabels()], ax.get_yticks()))
    assert tick_y["Alpha"] > tick_y["Beta"], "first item on top"
    assert list(data_line.get_ydata()) == [tick_y["Alpha"], tick_y["Beta"]]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["s minus base"]


def rmst_by_hand(results, item, tau):
    """Restricted mean time to delivery up to tau of an item's units requested at least tau before the horizon:
    the area under the hand-made Kaplan-Meier S(t) from 0 to tau, pooled over replications."""
    lots = lots_by_hand(results, item)
    d = results.deliveries
    requested = d[(d["item"] == item) & (d["qty"] > 0)]["requested_day"].to_numpy()
    lots = lots[requested <= results.horizon_days - tau]
    times, share = km_by_hand(lots)
    edges = np.r_[0.0, np.minimum(times, tau), tau]
    surv = np.r_[1.0, 1.0 - share]
    return float(np.sum(surv * np.diff(edges)))


@pytest.mark.parametrize("reps", [1, MANY])
def test_comparison_of_results_is_what_sim_compare_computes(runs, base_sc, donor_sc, reps):
    base, donor = runs[("base", reps)], runs[("donor", reps)]
    fig = plots.comparison(base, donor)
    (dots,) = [l for l in fig.axes[0].get_lines() if " minus " in l.get_label()]
    expected = sim.compare([base_sc, donor_sc], reps=reps, seed=3)
    expected = expected[expected["diff_rmst"].notna()]
    assert list(dots.get_xdata()) == pytest.approx(list(expected["diff_rmst"]))
    # and, computed here: donor minus base restricted mean PAC-3 MSE time to delivery, tau by the rule
    # (the largest multiple of 30 days within two thirds of the horizon)
    tau = 30.0 * np.floor(2 * base_sc.horizon_days / 90.0)
    got = of_results([base, donor]).set_index(["item", "scenario"])
    assert got["rmst_tau"].unique().tolist() == [tau]
    assert got.loc[("pac3_mse", "donor_variant"), "diff_rmst"] == pytest.approx(
        rmst_by_hand(donor, "pac3_mse", tau) - rmst_by_hand(base, "pac3_mse", tau)
    )
    assert f"to {tau:.0f} d" in fig.axes[0].get_xlabel()


def test_comparison_of_a_scenario_with_itself_is_exactly_zero(runs):
    r = runs[("base", MANY)]
    diffs = of_results([r, r]).dropna(subset=["diff_rmst"])
    assert len(diffs) == len(r.summary())
    assert (diffs["diff_rmst"] == 0).all() and (diffs["diff_rmst_lo"] == 0).all() and (diffs["diff_rmst_hi"] == 0).all()


def test_comparison_refuses_results_that_are_not_paired(runs, base_sc):
    other = sim.run(base_sc, reps=MANY, seed=4)
    with pytest.raises(ValueError, match="not paired"):
        plots.comparison(runs[("base", MANY)], other)


def test_sweep_plot_line_and_ci_band_of_the_headline():
    df = pd.DataFrame(
        {
            "production.pac3_line.rate_per_month": [40, 60, 80] * 2,
            "item": ["pac3_mse"] * 3 + ["gmlrs"] * 3,
            "rmst_tau": [270.0] * 6,
            "rmst": [200.0, 150.0, 120.0, 90.0, 90.0, 90.0],
            "rmst_lo": [190.0, 140.0, 110.0, 85.0, 85.0, 85.0],
            "rmst_hi": [210.0, 160.0, 130.0, 95.0, 95.0, 95.0],
        }
    )
    fig = plots.sweep(df, param="production.pac3_line.rate_per_month")  # metric: rmst by default
    ax = fig.axes[0]
    lines = {l.get_label(): l for l in labelled_lines(ax)}
    assert set(lines) == {"pac3_mse", "gmlrs"}
    assert list(lines["pac3_mse"].get_ydata()) == [200.0, 150.0, 120.0]
    assert list(lines["pac3_mse"].get_xdata()) == [40.0, 60.0, 80.0]
    assert ax.get_xlabel() == "production.pac3_line.rate_per_month (units per 30-day month per server)"
    assert ax.get_ylabel() == "restricted mean time to delivery to 270 d (days)"
    bands = [c for c in ax.collections if isinstance(c, PolyCollection)]
    assert len(bands) == 2
    ys = np.concatenate([p.vertices[:, 1] for b in bands for p in b.get_paths()])
    assert ys.min() == 85.0 and ys.max() == 210.0


def test_sweep_plot_leaves_out_a_median_not_reached():
    inf = float("inf")
    df = pd.DataFrame(
        {
            "p.x": [1, 2, 3],
            "item": ["a"] * 3,
            "ttd_p50": [100.0, inf, 80.0],
            "ttd_p50_lo": [90.0, 95.0, 70.0],
            "ttd_p50_hi": [110.0, inf, 90.0],
        }
    )
    fig = plots.sweep(df, param="p.x", metric="ttd_p50")
    (line,) = labelled_lines(fig.axes[0])
    y = np.asarray(line.get_ydata(), dtype=float)
    assert y[0] == 100.0 and np.isnan(y[1]) and y[2] == 80.0
    assert "1 point(s) not reached" in fig.axes[0].get_title()
    assert fig.axes[0].get_ylabel() == "median time to delivery (days)"


def test_sweep_plot_of_a_real_sweep(tmp_path):
    df = sim.sweep(BASELINE, {"production.pac3_line.rate_per_month": [40, 80]}, reps=2, seed=1)
    fig = plots.sweep(df, items="pac3_mse")
    (line,) = labelled_lines(fig.axes[0])
    rows = df[df["item"] == "pac3_mse"].sort_values("production.pac3_line.rate_per_month")
    assert list(line.get_xdata()) == [40.0, 80.0]
    assert list(line.get_ydata()) == pytest.approx(list(rows["rmst"]))
    assert fig.axes[0].get_xlabel() == "production.pac3_line.rate_per_month (units per 30-day month per server)"
    (png,) = plots.write_pngs(df, tmp_path)
    assert png.name == "sweep.png" and png.read_bytes()[:4] == b"\x89PNG"


def test_tornado_puts_the_widest_swing_on_top():
    effects = pd.DataFrame(
        {"low": [100.0, 140.0, 118.0], "high": [160.0, 110.0, 122.0]}, index=["rate", "lead", "sealift"]
    )
    fig = plots.tornado(effects, base=120.0)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[-1] == "rate" and labels[0] == "sealift"  # bottom to top
    low, high = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert [p.get_x() + p.get_width() for p in low.patches] == pytest.approx([118.0, 140.0, 100.0])
    assert [p.get_x() + p.get_width() for p in high.patches] == pytest.approx([122.0, 110.0, 160.0])
    assert ax.get_xlabel() == "restricted mean time to delivery (days)"


def test_the_plot_families_are_re_exported_and_the_standard_list_feeds_every_use(runs):
    from sim.plots import compare, delivery, stocks, timeline, ukraine

    for module, names in (
        (compare, ("comparison", "sweep", "tornado")),
        (delivery, ("latency_ecdf", "time_breakdown")),
        (timeline, ("delivery_timeline",)),
        (stocks, ("stock_levels", "backfill_gap", "stock_series")),
        (ukraine, ("ukraine_stock", "ukraine_items")),
    ):
        for name in names:
            assert getattr(plots, name) is getattr(module, name), name
    # One list: results.plot offers exactly its names, and the PNGs of two runs are its applicable plots in order.
    names = [s.name for s in plots.STANDARD]
    res = runs[("donor", MANY)]
    assert sorted(dir(res.plot)) == sorted(names)
    with pytest.raises(AttributeError, match="no plot 'nope'"):
        res.plot.nope()
    stems = [stem for stem, _ in plots.figures_for([runs[("base", 1)], runs[("donor", 1)]])]
    # Ukraine's stock is a plot of one run: two runs leave it out.
    assert stems == [n for n in names if (n != "stock_levels" or stems.count("stock_levels")) and n != "ukraine_stock"]


def test_plots_import_no_experiment():
    import ast

    for path in sorted((ROOT / "sim" / "plots").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        names = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
        names += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
        assert not [n for n in names if "experiments" in n], path.name


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
    assert {p.name for p in one} == {
        "latency_ecdf.png",
        "time_breakdown.png",
        "delivery_timeline.png",
        "stock_levels.png",
        "backfill_gap.png",
    }
    both = plots.write_pngs([runs[("base", MANY)], runs[("donor", MANY)]], tmp_path / "two")
    names = {p.name for p in both}
    assert names == {
        "latency_ecdf.png",
        "time_breakdown.png",
        "comparison.png",
        "backfill_gap.png",
        "delivery_timeline.png",
        "stock_levels.png",
    }
    for p in one + both:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and p.stat().st_size > 5000


def test_plots_module_does_not_use_pyplot():
    code = "import sys, sim.plots, sim.report; assert 'matplotlib.pyplot' not in sys.modules, 'pyplot imported'"
    subprocess.run([sys.executable, "-c", code], check=True)
