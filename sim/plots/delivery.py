"""Plots of deliveries: the Kaplan-Meier share of units delivered, and where the time goes."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..metrics.phases import phase_means
from ..metrics.survival import EPS, kaplan_meier
from .base import (
    BAND,
    PHASE_COLOURS,
    PHASES,
    _band,
    _empty,
    _figure,
    _items,
    _one_panel,
    _panel_title,
    _results_list,
    _step_on_grid,
    _title,
    coincide_note,
    flat_band,
    item_label,
    panels_legend,
    scenario_style,
    short_label,
    target_axes,
)

# --- time to delivery: Kaplan-Meier share delivered -------------------------------------------

KM_TITLE = "Share of requested units delivered (Kaplan-Meier, censored at the horizon)"


def _km_steps(time, event, weight) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) steps of 1 - S(t) of one weighted sample, from (0, 0) to where its curve ends."""
    t, s = kaplan_meier(time, event, weight)
    return np.r_[0.0, t], np.r_[0.0, 1.0 - s]


def _km_rep_curves(obs: pd.DataFrame, reps: int, grid: np.ndarray) -> np.ndarray:
    """Per replication (rows), 1 - S on the grid: NaN past the end of its curve (unless all delivered), or with no units.

    One sort and one grouped sum over every replication at once; what is left per replication
    (the cumulative products of its curve, read at the grid) is the arithmetic of
    `kaplan_meier` on the same numbers in the same order, so each curve is that estimator's.
    """
    out = np.full((reps, len(grid)), np.nan)
    rep = obs["rep"].to_numpy(dtype=np.int64)
    time = obs["time"].to_numpy(dtype=np.float64)
    weight = obs["qty"].to_numpy(dtype=np.float64)
    keep = (weight > 0) & (rep >= 0) & (rep < reps)  # as Sample.of, units only; replications plotted only
    rep, time, weight = rep[keep], time[keep], weight[keep]
    delivered = obs["delivered"].to_numpy(dtype=bool)[keep]
    if not len(rep):
        return out
    order = np.lexsort((time, rep))  # by replication, then time; stable, as each sample's own sort
    rep, time, weight, delivered = rep[order], time[order], weight[order], delivered[order]
    starts = np.flatnonzero(np.r_[True, (rep[1:] != rep[:-1]) | (time[1:] != time[:-1])])  # distinct (rep, time)
    leaving = np.add.reduceat(weight, starts)  # weight whose time is u_j, per replication
    events = np.add.reduceat(weight * delivered, starts)
    first = np.flatnonzero(np.r_[True, rep[starts][1:] != rep[starts][:-1]])  # each replication's first time
    bounds = np.r_[first, len(starts)]
    obs_bounds = np.r_[starts[first], len(rep)]
    for k in range(len(first)):
        a, b = bounds[k], bounds[k + 1]
        lv, ev = leaving[a:b], events[a:b]
        at_risk = weight[obs_bounds[k] : obs_bounds[k + 1]].sum() - (np.cumsum(lv) - lv)
        with np.errstate(invalid="ignore", divide="ignore"):
            hazard = np.where(at_risk > 0, ev / at_risk, 0.0)
        s = np.cumprod(1.0 - hazard)
        t = time[starts[a:b]]
        known = np.ones(len(grid), dtype=bool) if s[-1] <= EPS else grid <= t[-1]
        out[rep[starts[a]]] = np.where(known, _step_on_grid(t, 1.0 - s, grid), np.nan)
    return out


def latency_ecdf(results, *more, items=None, ax=None) -> Figure:
    """Time to delivery per item: the Kaplan-Meier share of requested units delivered by days since request, one line per scenario.

    Every requested unit counts (each lot weighs its quantity), pooled over replications: a lot
    still on its way at the horizon is censored there (never dropped, never counted delivered),
    so a line ends where the follow-up ends, at the horizon minus the earliest request. With
    many replications the band runs from the 10th to the 90th percentile of the
    per-replication curves (each known up to its own end). Scenarios differ in colour and line
    style; a panel says so where two scenarios' curves coincide exactly. ax: one Axes per item
    to draw into (default: a new figure); returns the figure.
    """
    rl = _results_list([results, *more])
    items = _items(rl, items)
    fig, axes, ours = target_axes(ax, len(items), lambda: _figure(len(items), right=2.4))
    reps = sorted({r.reps for r in rl})
    note = f"{'/'.join(map(str, reps))} replication{'s' if reps[-1] > 1 else ''}" + (
        f": line = pooled over replications, band = {BAND[0]}th-{BAND[1]}th percentile of the per-replication curves"
        if reps[-1] > 1
        else ""
    )
    if ours:
        fig.suptitle(f"{KM_TITLE}\n({note})", fontsize="medium", y=1 - 0.08 / fig.get_figheight(), va="top")
    obs = [r.observations()["lots"] for r in rl]
    for ax_, item in zip(axes, items):
        frames = [o[o["item"] == item] for o in obs]
        x_end = max(max([float(f["time"].max()) for f in frames if len(f)], default=1.0) * 1.03, 1.0)
        curves = []
        for k, (r, o) in enumerate(zip(rl, frames)):
            if not len(o):
                continue
            x, y = _km_steps(o["time"], o["delivered"], o["qty"])
            ax_.step(x, y, where="post", label=r.scenario.name, **scenario_style(k))
            curves.append((r.scenario.name, x, y))
            if r.reps > 1:
                grid = np.linspace(0.0, x_end, 400)
                _, lo, hi = _band(_km_rep_curves(o, r.reps, grid))
                ax_.fill_between(*flat_band(grid, lo, hi), color=f"C{k}", alpha=0.2, linewidth=0)
        if not curves:
            _empty(fig, ax_, "no requests for this item")
        coincide_note(ax_, curves)
        _panel_title(ax_, item_label(rl[0].scenario, item))
        ax_.set_xlabel("days since request")
        ax_.set_ylabel("share of requested units delivered\n(Kaplan-Meier, censored at the horizon)")
        ax_.set_ylim(0, 1.02)
        ax_.set_xlim(0, x_end)
        ax_.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
        ax_.grid(alpha=0.3)
    panels_legend(fig, axes, ours, title="scenario")
    return fig


# --- where the time goes --------------------------------------------------------------------


def time_breakdown(results, *more, items=None, ax=None) -> Figure:
    """Where the time goes: per item, a stacked bar of the quantity-weighted mean days per phase
    over all lots (delivered or not), with a hatched bar below it for the part of those days
    spent by lots still undelivered at the horizon, and the undelivered share beside it.
    ax: the Axes to draw into (default: a new figure); returns the figure."""
    rl = _results_list([results, *more])
    items = _items(rl, items)
    rows = []  # (label, phase means, undelivered part, undelivered share)
    means = [phase_means(r) for r in rl]
    for item in items:
        for r, pm in zip(rl, means):
            if item not in pm["all"].index:
                continue
            label = short_label(r.scenario, item) + (f"\n{r.scenario.name}" if len(rl) > 1 else "")
            rows.append((label, pm["all"].loc[item], pm["undelivered"].loc[item], pm["share"].loc[item]))
    fig, (ax,), ours = target_axes(
        ax, 1, lambda: _one_panel(11, len(rows), 0.72 if len(rl) > 1 else 0.6, [row[0] for row in rows])
    )
    heading = "Where the time goes: quantity-weighted mean days per phase, over every lot"
    if ours:
        _title(fig, heading, rl, bands=False)
    else:
        ax.set_title(heading, fontsize="medium")
    y = np.arange(len(rows))[::-1].astype(float)
    left, left_open = np.zeros(len(rows)), np.zeros(len(rows))
    shown = [p for p in PHASES if any(row[1][p] > 0 for row in rows)]
    for name in shown:
        widths = np.nan_to_num(np.array([row[1][name] for row in rows], dtype=float))
        open_w = np.nan_to_num(np.array([row[2][name] for row in rows], dtype=float))
        colour = PHASE_COLOURS[name]
        ax.barh(y + 0.12, widths, left=left, color=colour, label=name, height=0.5)
        ax.barh(
            y - 0.3,
            open_w,
            left=left_open,
            color=colour,
            height=0.22,
            hatch="////",
            edgecolor="white",
            linewidth=0,
            alpha=0.75,
            label="_undelivered",
        )
        left += widths
        left_open += open_w
    right = left.copy()
    for k, (yi, total, part, row) in enumerate(zip(y, left, left_open, rows)):
        lo, hi = row[3]["total_lo"], row[3]["total_hi"]
        if lo == lo:  # an interval needs two replications or more
            ax.errorbar(
                [total],
                [yi + 0.12],
                xerr=[[max(total - lo, 0.0)], [max(hi - total, 0.0)]],
                fmt="none",
                ecolor="black",
                capsize=3,
                lw=1,
            )
            right[k] = max(total, hi)
        ax.annotate(
            f"{total:,.0f} d, {row[3]['share']:.0%} of qty undelivered",
            (right[k], yi + 0.12),
            xytext=(6, 0),
            textcoords="offset points",
            va="center",
            fontsize="small",
        )
        if part > 0:
            ax.annotate(
                f"{part:,.0f} d of it by lots undelivered at the horizon",
                (part, yi - 0.3),
                xytext=(6, 0),
                textcoords="offset points",
                va="center",
                fontsize="x-small",
                color="0.3",
            )
    if not rows:
        _empty(fig, ax, "no lots")
    ax.set_yticks(y, [row[0] for row in rows])
    ax.set_xlabel("mean days in system (to delivery, or to the horizon), by phase, weighted by quantity")
    ax.set_ylabel("item")
    ax.set_xlim(0, max(right.max() if len(right) else 1.0, 1.0) * 1.45)
    ax.grid(axis="x", alpha=0.3)
    where = fig if ours else ax
    where.legend(
        *ax.get_legend_handles_labels(),
        loc="lower center",
        bbox_to_anchor=(0.5, 0.01) if ours else None,
        ncols=6 if ours else 2,
        fontsize="small" if ours else "x-small",
        title="phase",
        frameon=not ours,
    )
    return fig
