"""Ukraine's stock of each item over time, with the deliveries that fed it and the spells it was empty."""

from __future__ import annotations

import numpy as np
from matplotlib.figure import Figure

from ..vocabulary import UKRAINE_SERIES
from .base import (
    BAND_LABEL,
    _band,
    _date_axis,
    _dates,
    _empty,
    _figure,
    _results_list,
    _title,
    _units_over_dates,
    item_label,
    panels_legend,
    target_axes,
)

GRID_POINTS = 600  # days sampled for the median and band over replications


def ukraine_items(results) -> list[str]:
    """Items whose stock Ukraine keeps in the scenario (its `ukraine:` section)."""
    return list(results.scenario.ukraine.items)


def ukraine_stock(results, items=None, ax=None) -> Figure:
    """Ukraine's stock per item: the median over replications (band: 10th-90th percentile), each
    delivery a tick at the bottom, and the days when at least half the replications had none shaded.

    With one replication the line is the stock itself and the shading its stockout spells.
    ax: one Axes per item (default: a new figure); returns the figure.
    """
    (r,) = _results_list([results])
    names = list(items) if items is not None else ukraine_items(r)
    fig, axes, ours = target_axes(ax, len(names), lambda: _figure(len(names), ncols=1, right=2.9))
    if ours:
        _title(fig, f"{r.scenario.name}: Ukraine's stock", [r])
    if not names:
        _empty(fig, axes[0], "Ukraine's stock is not kept in this scenario (no `ukraine:` section)")
        return fig
    sc, h = r.scenario, r.horizon_days
    grid = np.linspace(0.0, h, GRID_POINTS)
    lv_all = r.levels[r.levels["series"].astype(str).str.startswith(UKRAINE_SERIES)]
    for ax_, item in zip(axes, names):
        lv = lv_all[lv_all["series"].astype(str) == UKRAINE_SERIES + item]
        if r.reps == 1:
            # The stock is linear between its points (use is a fluid): the points are the line's vertices.
            x = lv["day"].to_numpy(dtype=float)
            med = lv["value"].to_numpy(dtype=float)
            ax_.plot(_dates(sc, x), med, color="C0", label="on hand")
            empty = [(s.start_day, s.end_day) for s in r.ukraine_stockouts().itertuples() if s.item == item]
        else:
            curves = np.full((r.reps, len(grid)), np.nan)
            for rep, g in lv.groupby("rep"):
                curves[int(rep)] = np.interp(grid, g["day"].to_numpy(dtype=float), g["value"].to_numpy(dtype=float))
            med, lo, hi = _band(curves)
            ax_.fill_between(_dates(sc, grid), lo, hi, color="C0", alpha=0.2, lw=0, label=BAND_LABEL)
            ax_.plot(_dates(sc, grid), med, color="C0", label="on hand (median)")
            zero = med <= 1e-9
            edges = np.flatnonzero(np.diff(np.concatenate([[0], zero.astype(int), [0]])))
            empty = [(grid[a], grid[min(b, len(grid) - 1)]) for a, b in zip(edges[0::2], edges[1::2])]
        for k, (a, b) in enumerate(empty):
            ax_.axvspan(
                _dates(sc, [a])[0],
                _dates(sc, [b])[0],
                color="C3",
                alpha=0.15,
                lw=0,
                label="no stock" + ("" if r.reps == 1 else " (median)") if k == 0 else None,
            )
        d = r.deliveries
        got = d[(d["item"] == item) & d["delivered_day"].notna()]
        if len(got):
            ax_.plot(
                _dates(sc, got["delivered_day"]),
                np.zeros(len(got)),
                "|",
                color="C2",
                ms=10,
                alpha=min(1.0, 5.0 / r.reps**0.5),
                label="deliveries",
                clip_on=False,
            )
        _units_over_dates(ax_, f"{item_label(sc, item)} (units)", _dates(sc, [0.0])[0], _dates(sc, [h])[0])
        _date_axis(ax_)
    panels_legend(fig, axes, ours)
    return fig
