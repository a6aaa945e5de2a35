"""The delivery timeline: cumulative quantity delivered per item, with pledges, contributions, pauses and gates."""

from __future__ import annotations

from typing import Any

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .base import (
    BAND_LABEL,
    WINDOW_COLOURS,
    _band,
    _date_axis,
    _dates,
    _figure,
    _items,
    _panel_title,
    _rep_curves,
    _results_list,
    _title,
    _units_over_dates,
    coincide_note,
    item_label,
    panels_legend,
    scenario_style,
    step_band,
    target_axes,
)

# --- delivery timeline ----------------------------------------------------------------------


def _of_kinds(events: pd.DataFrame, test) -> pd.DataFrame:
    """Events whose kind passes `test`, matched on the distinct kinds (the log can be long)."""
    kinds = events["kind"]
    names = kinds.cat.categories if isinstance(kinds.dtype, pd.CategoricalDtype) else kinds.unique()
    return events[kinds.isin([k for k in names if test(str(k))])]


def _unique_events(events: pd.DataFrame, kinds) -> pd.DataFrame:
    """Events of the given kinds, one row per distinct (day, kind, request, where, qty) over replications."""
    e = _of_kinds(events, lambda k: k in kinds)
    cols = ["day", "kind", "request_id", "where", "qty"]
    return e.drop_duplicates(subset=cols).sort_values(["day", "kind"])


def windows(events: pd.DataFrame, horizon: float) -> list[tuple[str, str, float, float]]:
    """(kind, scope, start day, end day) of every pause and outage (open ones end at the horizon)."""
    e = _of_kinds(events, lambda k: k.endswith(("_start", "_end")))
    e = e.drop_duplicates(subset=["day", "kind", "where"]).sort_values("day")
    out: list[tuple[str, str, float, float]] = []
    open_: dict[tuple[str, str], list[float]] = {}
    for day, kind, where in zip(e["day"], e["kind"].astype(str), e["where"].astype(str)):
        base, _, edge = kind.rpartition("_")
        key = (base, where)
        if edge == "start":
            open_.setdefault(key, []).append(day)
        elif open_.get(key):
            out.append((base, where, open_[key].pop(0), day))
    out += [(b, w, s, horizon) for (b, w), starts in open_.items() for s in starts]
    return sorted(out, key=lambda t: t[2])


def gates(events: pd.DataFrame, reps: int) -> list[tuple[float, str, int]]:
    """(day, scope, replications in which the gate closed) of every gate."""
    e = _of_kinds(events, lambda k: k in ("gate_closed", "gate_passed"))
    out = []
    for (day, where), g in e.groupby(["day", "where"], observed=True, sort=True):
        out.append((float(day), str(where), int(g.loc[g["kind"] == "gate_closed", "rep"].nunique())))
    return out


def _cumulative_curves(df: pd.DataFrame, day_col: str, reps: int, grid: np.ndarray) -> np.ndarray:
    """Per replication, cumulative quantity with `day_col` at or before each grid day."""
    return _rep_curves(
        df["rep"].to_numpy(), df[day_col].to_numpy(dtype=float), df["qty"].to_numpy(dtype=float), reps, grid
    )


def _curve(results, df: pd.DataFrame, day_col: str, grid: np.ndarray):
    """(x days, y) of a cumulative quantity: exact steps for one replication, the median on the grid for many."""
    if results.reps == 1:
        g = df[df[day_col].notna()].sort_values(day_col)
        cum = np.cumsum(g["qty"].to_numpy(dtype=float))
        x = np.concatenate([[0.0], g[day_col].to_numpy(dtype=float), [results.horizon_days]])
        return x, np.concatenate([[0.0], cum, [cum[-1] if len(cum) else 0.0]]), None
    med, lo, hi = _band(_cumulative_curves(df, day_col, results.reps, grid))
    return grid, med, (lo, hi)


def _log(results) -> pd.DataFrame:
    """The events that are not stages of a lot (contributions, pauses, gates, ...): cheap to read."""
    log = getattr(results, "event_log", None)
    return log if log is not None else results.events


def _markers(rl):
    """Pledges, contributions, pause/outage windows and gates of one or several Results, each once."""
    packages: dict[str, Any] = {}
    pledges: dict[tuple[str, float], np.datetime64] = {}
    contributions: dict[tuple[str, float, np.datetime64], None] = {}  # an ordered set
    wins: dict[tuple[str, str, np.datetime64, np.datetime64], list[str]] = {}
    gate_list = []
    for r in rl:
        sc = r.scenario
        for p in sc.requests.packages:
            packages.setdefault(p.id, p)
        req = r.deliveries[["request_id", "requested_day"]]
        req = req[req["request_id"].isin(list(packages))].drop_duplicates()
        for day, rid, date in zip(
            req["requested_day"], req["request_id"].astype(str), _dates(sc, req["requested_day"])
        ):
            pledges.setdefault((rid, float(day)), date)
        log = _log(r)
        con = _unique_events(log, ["contribution"])
        for where, qty, date in zip(con["where"].astype(str), con["qty"], _dates(sc, con["day"])):
            contributions.setdefault((where, float(qty), date), None)
        for kind, scope, s0, e0 in windows(log, r.horizon_days):
            key = (kind, scope, _dates(sc, [s0])[0], _dates(sc, [max(e0, s0 + 0.5)])[0])
            wins.setdefault(key, []).append(sc.name)
        for day, scope, closed in gates(log, r.reps):
            gate_list.append((_dates(sc, [day])[0], scope, closed, r.reps, sc.name))
    return packages, dict(sorted(pledges.items(), key=lambda kv: kv[1])), [c[2] for c in contributions], wins, gate_list


LABEL_ROWS = 4  # rows of package labels at the top of a panel
LABEL_PT = 7.0  # their font size (points)
CHAR_EM = 0.68  # a generous average glyph width (in ems) of the sans-serif font, digits and capitals included


def label_rows(xs, widths, rows: int = LABEL_ROWS, gap: float = 0.004) -> list[int | None]:
    """Row of each label (x order kept; None: no row has room) so that no two labels in a row overlap.

    xs: left edges, widths: widths, both in axes fractions. Greedy: each label takes the first
    row whose last label ends before it starts.
    """
    ends = [-np.inf] * rows
    out: list[int | None] = []
    for x, w in zip(xs, widths):
        row = next((k for k in range(rows) if ends[k] + gap <= x), None)
        if row is not None:
            ends[row] = x + w
        out.append(row)
    return out


def package_labels(ax, pledges) -> None:
    """Label each pledge line with its package id, in rows from the top so that no label overlaps another.

    Widths are estimated from the font size (no renderer is needed, so it costs nothing); a
    label with no room in any row is left out, and the panel says how many were.
    """
    if not pledges:
        return
    x0, x1 = (float(v) for v in ax.get_xlim())
    fig = ax.get_figure(root=True)
    width_pt = ax.get_position().width * fig.get_figwidth() * 72.0
    pad = 2.0  # points between the line and its label
    order = sorted(pledges, key=lambda p: mdates.date2num(p[1]))
    xs = [(mdates.date2num(x) - x0) / (x1 - x0) + pad / width_pt for _, x in order]
    widths = [(len(str(pid)) * CHAR_EM * LABEL_PT + pad) / width_pt for pid, _ in order]
    left_out = 0
    for (pid, x), row in zip(order, label_rows(xs, widths)):
        if row is None:
            left_out += 1
            continue
        ax.annotate(
            str(pid),
            (x, 0.98 - 0.11 * row),
            xycoords=("data", "axes fraction"),
            xytext=(pad, 0),
            textcoords="offset points",
            va="top",
            ha="left",
            fontsize=LABEL_PT,
            color="tab:purple",
        )
    if left_out:
        ax.annotate(
            f"{left_out} more package(s) not labelled",
            (0.99, 0.98 - 0.11 * LABEL_ROWS),
            xycoords="axes fraction",
            ha="right",
            va="top",
            fontsize=LABEL_PT,
            color="tab:purple",
        )


def delivery_timeline(results, *more, items=None, ax=None) -> Figure:
    """Cumulative quantity delivered over calendar dates per item, one line per scenario, with pledges, contributions, pauses and gates.

    Scenarios differ in colour and line style; a panel says so where two scenarios' lines
    coincide exactly. Package labels are set in rows so that none overlaps another. ax: one
    Axes per item (default: a new figure); returns the figure.
    """
    rl = _results_list([results, *more])
    multi = len(rl) > 1
    items = _items(rl, items)
    packages, pledges, contributions, wins, gate_list = _markers(rl)
    fig, axes, ours = target_axes(
        ax,
        len(items),
        lambda: _figure(len(items), ncols=1, panel_w=9.5, panel_h=2.4, sharex=True, right=3.9, hspace=0.45),
    )
    names = ", ".join(r.scenario.name for r in rl)
    if ours:
        _title(fig, f"{names}: cumulative quantity delivered to Ukraine", rl)
    many = max(r.reps for r in rl) > 1
    start = min(_dates(r.scenario, [0.0])[0] for r in rl)
    end = max(_dates(r.scenario, [r.horizon_days])[0] for r in rl)
    tables = [r.deliveries[["rep", "item", "qty", "requested_day", "delivered_day"]] for r in rl]
    for ax, item in zip(axes, items):
        requested, curves = [], []
        for k, (r, d) in enumerate(zip(rl, tables)):
            di = d[(d["item"] == item) & (d["qty"] > 0)]
            grid = np.arange(0.0, r.horizon_days + 1.0)
            x, y, band = _curve(r, di, "delivered_day", grid)
            label = "delivered" + (f": {r.scenario.name}" if multi else "") + (" (median)" if r.reps > 1 else "")
            ax.step(_dates(r.scenario, x), y, where="post", label=label, **scenario_style(k))
            curves.append((r.scenario.name, _dates(r.scenario, x), y))
            if band is not None:
                bx, blo, bhi = step_band(x, *band)
                ax.fill_between(
                    _dates(r.scenario, bx),
                    blo,
                    bhi,
                    step="post",
                    color=f"C{k}",
                    alpha=0.2,
                    linewidth=0,
                    label=BAND_LABEL,
                )
            rx, ry, _ = _curve(r, di, "requested_day", grid)
            requested.append((_dates(r.scenario, rx), ry, r.scenario.name, k))
        same = all(
            len(q[1]) == len(requested[0][1])
            and np.array_equal(q[0], requested[0][0])
            and np.allclose(q[1], requested[0][1])
            for q in requested
        )
        for rx, ry, name, k in requested[:1] if same else requested:
            label = "requested" + ("" if same else f": {name}") + (" (median)" if many else "")
            ax.step(rx, ry, where="post", color="0.45" if same else f"C{k}", ls="--", lw=1, label=label)
        for k, ((kind, scope, s0, e0), where) in enumerate(wins.items()):
            colour = WINDOW_COLOURS[kind == "outage"][k % len(WINDOW_COLOURS[0])]
            only = f" ({', '.join(where)})" if multi and len(where) < len(rl) else ""
            ax.axvspan(s0, e0, color=colour, alpha=0.25, linewidth=0, label=f"{kind}: {scope}{only}")
        mine = [(pid, x) for (pid, _), x in pledges.items() if any(l.item == item for l in packages[pid].lines)]
        for k, (_pid, x) in enumerate(mine):
            ax.axvline(x, color="tab:purple", ls=":", lw=1, label="package pledged" if k == 0 else None)
        if contributions:
            ax.plot(
                contributions,
                np.zeros(len(contributions)),
                "^",
                color="tab:olive",
                ms=6,
                clip_on=False,
                transform=ax.get_xaxis_transform(),
                label="contribution to the NATO account",
            )
        for x, scope, closed, reps, name in gate_list:
            ax.axvline(
                x,
                color="black",
                lw=1.5,
                ls="-.",
                label=f"gate ({scope}{': ' + name if multi else ''}): closed in {closed} of {reps} replication(s)",
            )
        _panel_title(ax, item_label(rl[0].scenario, item), loc="left")
        _units_over_dates(ax, "cumulative quantity (units)", start, end)
        coincide_note(ax, curves)
        package_labels(ax, mine)
    panels_legend(fig, axes, ours)
    axes[-1].set_xlabel(f"date (day 0 = {rl[0].scenario.start.isoformat()})")
    for ax in axes:
        _date_axis(ax)
    return fig
