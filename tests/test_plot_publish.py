"""Plots an analyst would publish: drawn into the user's axes, scenarios apart, nothing dropped, years, labels clear.

Assertions read the matplotlib artists (styles, labels, tick texts, bounding boxes from the
renderer), never pixels.
"""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

import sim
from sim import plots
from sim.plots.compare import param_label, param_unit
from sim.plots.timeline import label_rows

ROOT = Path(__file__).resolve().parents[1]
SCEN = ROOT / "scenarios"
NAN = math.nan


@pytest.fixture(scope="module")
def runs():
    """baseline_2025 (its four packages pledged within three weeks) and stockpile_first (donations), 2 reps, seed 4."""
    return {
        name: sim.run(sim.load_scenario(SCEN / f"{name}.yaml"), reps=2, seed=4)
        for name in ("baseline_2025", "stockpile_first")
    }


def drawn(fig):
    """Lay the figure out and draw it (an Agg canvas), so texts have their final places; returns the renderer."""
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    return canvas.get_renderer()


def data_lines(ax, prefix):
    return [l for l in ax.get_lines() if l.get_label().startswith(prefix)]


# --- ax=: draw into the user's axes, return the figure -------------------------------------------


def test_every_plot_draws_into_the_axes_it_is_given_and_returns_their_figure(runs):
    a, b = runs["baseline_2025"], runs["stockpile_first"]
    items = ["pac3_mse", "gmlrs"]
    table = sim.compare([a, b])
    sweep = pd.DataFrame({"p.rate_per_month": [1, 2], "item": ["x", "x"], "rmst": [5.0, 4.0]})
    effects = pd.DataFrame({"low": [90.0], "high": [110.0]}, index=["lead"])
    cases = [
        (lambda ax: plots.latency_ecdf(a, b, items=items, ax=ax), 2),
        (lambda ax: plots.delivery_timeline(a, b, items=items, ax=ax), 2),
        (lambda ax: plots.stock_levels(b, series=["us_stock:pac3_mse"], ax=ax), 1),
        (lambda ax: plots.time_breakdown(a, b, ax=ax), 1),
        (lambda ax: plots.backfill_gap(b, ax=ax), 1),
        (lambda ax: plots.comparison(table, ax=ax), 1),
        (lambda ax: plots.sweep(sweep, ax=ax), 1),
        (lambda ax: plots.tornado(effects, base=100.0, ax=ax), 1),
    ]
    for draw, n in cases:
        fig = Figure()
        axes = fig.subplots(1, n, squeeze=False).ravel()
        got = draw(axes[0] if n == 1 else axes)
        assert got is fig and len(fig.axes) == n, "no axes added or replaced"
        assert all(ax.has_data() for ax in axes)
        assert fig.get_suptitle() == "" and not fig.legends, "the user's figure keeps its own title and legends"
    with pytest.raises(ValueError, match="draws 2 panel"):
        plots.latency_ecdf(a, items=items, ax=Figure().add_subplot())


# --- scenarios apart ------------------------------------------------------------------------------


def test_overlapping_scenarios_differ_in_line_style(runs):
    a, b = runs["baseline_2025"], runs["stockpile_first"]
    (ecdf,) = plots.latency_ecdf(a, b, items="gmlrs").axes
    styles = [l.get_linestyle() for l in ecdf.get_lines() if l.get_label() in (a.scenario.name, b.scenario.name)]
    assert len(styles) == 2 and styles[0] != styles[1]
    (timeline,) = plots.delivery_timeline(a, b, items="gmlrs").axes
    styles = [l.get_linestyle() for l in data_lines(timeline, "delivered")]
    assert len(styles) == 2 and styles[0] != styles[1]
    us = plots.stock_levels(a, b, series="us_stock:pac3_mse").axes[0]
    styles = [l.get_linestyle() for l in data_lines(us, "on hand")]
    assert len(styles) == 2 and styles[0] != styles[1]
    # the sweep's lines and the comparison's markers too
    sweep = pd.DataFrame({"p.x_days": [1, 2] * 2, "item": ["a", "a", "b", "b"], "rmst": [1.0, 2.0, 3.0, 4.0]})
    lines = [l for l in plots.sweep(sweep).axes[0].get_lines() if not l.get_label().startswith("_")]
    assert lines[0].get_linestyle() != lines[1].get_linestyle() and lines[0].get_marker() != lines[1].get_marker()


def test_a_note_says_where_two_scenarios_coincide_exactly(runs):
    a = runs["baseline_2025"]
    b = sim.run(sim.load_scenario(SCEN / "diversion_2026.yaml"), reps=2, seed=4)
    fig = plots.latency_ecdf(a, a, items=["gmlrs", "pac3_mse"])
    for ax in fig.axes:
        assert [t.get_text() for t in ax.texts] == ["baseline_2025 and baseline_2025 coincide exactly"]
    # PAC-3 MSE comes later when US stock and line output are diverted in 2026: no note; Germany's
    # launchers are donated the same way in both (their restricted means agree to the last
    # digit): a note
    (pac3, launcher) = plots.latency_ecdf(a, b, items=["pac3_mse", "patriot_launcher"]).axes
    assert a.summary().loc["pac3_mse", "rmst"] != b.summary().loc["pac3_mse", "rmst"]
    assert not [t for t in pac3.texts if "coincide" in t.get_text()]
    assert a.summary().loc["patriot_launcher", "rmst"] == b.summary().loc["patriot_launcher", "rmst"]
    assert [t.get_text() for t in launcher.texts] == ["baseline_2025 and diversion_2026 coincide exactly"]
    (ax,) = plots.delivery_timeline(a, a, items="gmlrs").axes
    assert any("coincide exactly" in t.get_text() for t in ax.texts)


# --- nothing dropped from the forest plot ---------------------------------------------------------


def test_the_forest_plot_keeps_items_with_no_deliveries_or_no_requests_and_labels_them():
    df = pd.DataFrame(
        {
            "item": ["a", "a", "c", "c", "d", "d"],
            "item_name": ["Alpha", "Alpha", "Gamma", "Gamma", "Delta", "Delta"],
            "scenario": ["base", "s"] * 3,
            "qty": [10.0, 10.0, 5.0, 5.0, 4.0, 0.0],
            "delivered_share": [0.8, 0.9, 0.6, 0.0, 1.0, NAN],
            "rmst_tau": [270.0] * 6,
            "diff_rmst": [NAN, -10.0, NAN, 120.0, NAN, NAN],
            "diff_rmst_lo": [NAN, -14.0, NAN, 100.0, NAN, NAN],
            "diff_rmst_hi": [NAN, -6.0, NAN, 140.0, NAN, NAN],
        }
    )
    ax = plots.comparison(df).axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["Alpha", "Gamma\n(none delivered in s)", "Delta\n(not requested in s)"]  # top to bottom
    tick_y = dict(zip(labels, ax.get_yticks()))
    (dots,) = [l for l in ax.get_lines() if l.get_label() == "s minus base"]
    assert list(dots.get_xdata()) == [-10.0, 120.0], "the item none of whose units arrived is drawn, at +120 d"
    (note,) = [t for t in ax.texts if "no difference to draw" in t.get_text()]
    assert note.xy[1] == pytest.approx(tick_y["Delta\n(not requested in s)"])


# --- years on date axes ---------------------------------------------------------------------------


def test_every_date_tick_label_carries_its_year(runs):
    a, b = runs["baseline_2025"], runs["stockpile_first"]
    for fig in (plots.delivery_timeline(a, items=["gmlrs", "pac3_mse"]), plots.stock_levels(b)):
        drawn(fig)
        # a shared x axis shows its labels on the bottom panel only: read the ones shown
        texts = [t.get_text() for ax in fig.axes for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
        assert len(texts) >= 3
        assert all(re.search(r"\b20\d\d\b", t) for t in texts), texts
        assert {int(y) for t in texts for y in re.findall(r"\b20\d\d\b", t)} >= {2025, 2026}


# --- package labels -------------------------------------------------------------------------------


def test_label_rows_put_a_label_in_the_first_row_with_room():
    # widths 0.1 at 0.0, 0.05, 0.12, 0.5: the second overlaps the first, the third starts after the first ends
    assert label_rows([0.0, 0.05, 0.12, 0.5], [0.1] * 4, rows=2, gap=0.0) == [0, 1, 0, 0]
    assert label_rows([0.0, 0.01, 0.02], [0.1] * 3, rows=2, gap=0.0) == [0, 1, None]


def assert_apart(texts, renderer):
    """No two texts' drawn bounding boxes overlap."""
    boxes = [t.get_window_extent(renderer) for t in texts]
    for (s, bs), (t, bt) in itertools.combinations(zip(texts, boxes), 2):
        assert not bs.overlaps(bt), (s.get_text(), t.get_text())


def test_package_labels_of_the_2025_packages_do_not_overlap(runs):
    res = runs["baseline_2025"]  # four packages pledged from 4 to 24 August 2025
    fig = plots.delivery_timeline(res, items=["pac3_mse", "shell_155", "gmlrs"])
    renderer = drawn(fig)
    ids = {p.id for p in res.scenario.requests.packages}
    for ax in fig.axes:
        item = ax.get_title(loc="left").rpartition("(")[2].rstrip(")")
        mine = {p.id for p in res.scenario.requests.packages if any(l.item == item for l in p.lines)}
        texts = [t for t in ax.texts if t.get_text() in ids]
        assert {t.get_text() for t in texts} == mine, "every package of the item labelled"
        assert_apart(texts, renderer)


def test_many_packages_on_close_days_get_rows_and_a_note_for_those_left_out():
    from sim.plots.base import _date_axis, _figure
    from sim.plots.timeline import LABEL_ROWS, package_labels

    fig, (ax,) = _figure(1, ncols=1, panel_w=9.5, panel_h=2.4)
    start = np.datetime64("2025-07-01")
    ax.set_xlim(start, start + np.timedelta64(548, "D"))
    _date_axis(ax)
    pledges = [(f"package_{k}", start + np.timedelta64(30 + 2 * k, "D")) for k in range(8)]
    package_labels(ax, pledges)
    renderer = drawn(fig)
    texts = [t for t in ax.texts if t.get_text().startswith("package_")]
    assert len(texts) == LABEL_ROWS  # two days apart: one label per row, the rest left out
    assert_apart(ax.texts, renderer)  # the note included
    assert [t.get_text() for t in ax.texts if "not labelled" in t.get_text()] == [
        f"{8 - LABEL_ROWS} more package(s) not labelled"
    ]


# --- markers where they mean something -------------------------------------------------------------


def test_donations_and_backfills_are_marked_on_the_stock_line(runs):
    res = sim.run(sim.load_scenario(SCEN / "stockpile_first.yaml"), reps=1, seed=4)
    ax = plots.stock_levels(res, series="stockpile:germany:pac3_mse").axes[0]
    (line,) = data_lines(ax, "on hand")
    lv = res.levels[res.levels["series"] == "stockpile:germany:pac3_mse"]
    days, values = lv["day"].to_numpy(dtype=float), lv["value"].to_numpy(dtype=float)
    start = np.datetime64(res.scenario.start.isoformat())
    for marker in data_lines(ax, "donation") + data_lines(ax, "backfill arrival"):
        x = (mdates.date2num(marker.get_xdata()) - mdates.date2num(start)).astype(float)
        assert len(x)
        for xi, yi in zip(x, marker.get_ydata()):
            # by hand: the level recorded last at or before that day (dates are drawn to the
            # second, so the marker's day is within half a second, 6e-6 d, of the event's)
            assert yi == values[np.searchsorted(days, xi + 1e-5, side="right") - 1]
    assert line.get_ydata()[0] == values[0]


# --- tornado and sweep axes -----------------------------------------------------------------------


def test_tornado_axis_starts_at_zero_for_times_and_centres_differences_with_units_in_the_label():
    effects = pd.DataFrame({"low": [100.0, 140.0], "high": [160.0, 110.0]}, index=["rate", "lead"])
    ax = plots.tornado(effects, base=120.0).axes[0]
    left, right = ax.get_xlim()
    assert left == 0.0 and right >= 160.0
    assert ax.get_xlabel() == "restricted mean time to delivery (days)"
    diffs = pd.DataFrame({"low": [-20.0, 30.0], "high": [25.0, -5.0]}, index=["rate", "lead"])
    ax = plots.tornado(diffs, base=0.0, metric="share delivered, paired difference", unit="percentage points").axes[0]
    left, right = ax.get_xlim()
    assert left == -right and right >= 30.0
    assert ax.get_xlabel() == "share delivered, paired difference (percentage points)"


@pytest.mark.parametrize(
    "param, unit",
    [
        ("production.pac3_line.rate_per_month", "units per 30-day month per server"),
        ("horizon_days", "days"),
        ("transport.legs.sea.days", "days"),
        ("funding.initial_musd", "M$"),
        ("production.pac3_line.servers", "servers"),
        ("stockpiles.germany.items.pac3_mse.min_keep", "units"),
        ("policy.split", ""),
    ],
)
def test_a_parameter_s_unit_is_read_off_its_name(param, unit):
    assert param_unit(param) == unit
    assert param_label(param) == (f"{param} ({unit})" if unit else param)


def test_the_sweep_x_axis_reads_the_parameter_name_and_unit():
    df = pd.DataFrame({"transport.legs.sea.days": [10, 20], "item": ["a", "a"], "rmst": [50.0, 60.0]})
    assert plots.sweep(df).axes[0].get_xlabel() == "transport.legs.sea.days (days)"
    assert plots.sweep(df, unit="d at sea").axes[0].get_xlabel() == "transport.legs.sea.days (d at sea)"


# --- bands with only the vertices they need -------------------------------------------------------


def test_bands_keep_only_the_vertices_that_draw_them():
    from sim.plots.base import _step_on_grid, flat_band, step_band

    x = np.arange(6.0)
    lo, hi = np.array([1, 1, 2, 2, 2, 2.0]), np.array([3, 3, 3, 3, 4, 4.0])
    bx, blo, bhi = step_band(x, lo, hi)
    assert list(bx) == [0.0, 2.0, 4.0, 5.0]  # by hand: the edges change at 2 and 4; the last point ends the band
    # the same step function at every grid point
    assert list(_step_on_grid(bx, blo, x)) == list(lo) and list(_step_on_grid(bx, bhi, x)) == list(hi)
    fx, flo, fhi = flat_band(x, np.array([0, 0, 0, 1, 1, 1.0]), np.array([2, 2, 2, 2, 2, 2.0]))
    assert list(fx) == [0.0, 2.0, 3.0, 5.0]  # the inner points of the two flat runs go
    assert list(np.interp(x, fx, flo)) == [0, 0, 0, 1, 1, 1.0]
