"""Plots of results: each function takes Results (or a comparison or sweep DataFrame) and returns a Figure.

Figures are built as `matplotlib.figure.Figure` objects, never through pyplot, so they work on
any backend (Agg included), leave no global state behind, and display once in Jupyter (as PNG,
through `PlotFigure._repr_png_`, or the inline backend's formatter when that is active). Every
plot works for one replication (the recorded values) and for many: the line is then the median
across replications and the shaded band runs from the 10th to the 90th percentile across them.
Several Results (run with the same seed and replications) share panels, one colour each.
`results.plot.NAME(...)` reaches the same functions; `write_pngs` saves the standard set as PNG.

Time to delivery counts every requested unit (sim.metrics): a lot still on its way at the horizon
is censored there, so `latency_ecdf` draws the Kaplan-Meier share of units delivered, and the
comparison and sweep plots (sim.plots_compare, re-exported here) read the headline's restricted
mean time to delivery. Phase plots (`time_breakdown`) are over delivered lots.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from .metrics.survival import EPS, kaplan_meier
from .plots_compare import (DPI, PlotFigure, _empty, _results_list, comparison, comparison_frame, png_bytes,
                            sweep, tornado)

from .recorder import PHASE_COLUMNS
from .recorder import PHASES as _PHASE_NAMES
from .stats import t_interval

BAND = (10, 90)  # percentiles across replications drawn as the shaded band
BAND_LABEL = f"{BAND[0]}th-{BAND[1]}th percentile band"
# The phases of a lot's time in system (sim.recorder.PHASES), one fixed colour each.
PHASES = list(_PHASE_NAMES)
PHASE_COLOURS = dict(zip(PHASES, [
    "#8c6bb1", "#e6ab02", "#000000", "#fdae6b", "#d95f02", "#a63603", "#6baed6", "#3182bd",
    "#e7298a", "#7f7f7f", *["#1b9e77", "#80b1d3", "#a6d854", "#ffd92f", "#bebada", "#b3b3b3"][:len(_PHASE_NAMES) - 10]]))
WINDOW_COLOURS = (["0.55", "tab:cyan", "tab:brown", "tab:pink"], ["tab:red", "darkred", "salmon", "orangered"])


# --- shared helpers -------------------------------------------------------------------------

def _figure(n_panels: int, ncols: int = 2, panel_w: float = 5.2, panel_h: float = 2.9, sharex=False,
            right: float = 0.3, hspace: float = 0.95):
    """A figure with a grid of n panels (unused cells removed) and the list of axes.

    Margins are fixed in inches rather than solved by a layout engine: a grid of date axes then
    renders in half the time, which keeps a report of many plots cheap.
    """
    n = max(1, n_panels)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    left, top, bottom, wspace = 1.0, 1.0, 0.7, 1.0
    width = left + ncols * panel_w + (ncols - 1) * wspace + right
    height = top + nrows * panel_h + (nrows - 1) * hspace + bottom
    fig = PlotFigure(figsize=(width, height), dpi=DPI)
    fig.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / height, bottom=bottom / height,
                        wspace=wspace / panel_w, hspace=hspace / panel_h)
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=sharex).ravel()
    for ax in axes[n:]:
        ax.remove()
    return fig, list(axes[:n])


def _one_axes(width: float, rows: int, row_h: float, labels, top: float = 0.9, bottom: float = 1.2):
    """A figure with one axes of `rows` horizontal rows, its left margin sized to the longest y label (inches, no layout engine)."""
    longest = max([len(line) for text in labels for line in str(text).split("\n")] + [4])
    left = 0.45 + 0.068 * longest
    height = top + row_h * max(rows, 1) + bottom
    fig = PlotFigure(figsize=(width, height), dpi=DPI)
    fig.subplots_adjust(left=left / width, right=1 - 0.35 / width, top=1 - top / height, bottom=bottom / height)
    return fig, fig.add_subplot()


def item_label(scenario, item: str) -> str:
    """Readable name of an item: its catalogue name and id."""
    entry = scenario.items.get(str(item)) if scenario is not None else None
    return f"{entry.name} ({item})" if entry is not None else str(item)


def short_label(scenario, item: str, limit: int = 40) -> str:
    """The item label, without its id when that makes it longer than `limit` characters."""
    label = item_label(scenario, item)
    return label if len(label) <= limit or scenario is None or item not in scenario.items else scenario.items[item].name


def _dates(scenario, days) -> np.ndarray:
    """Calendar datetimes (numpy) of simulation days from the scenario's start."""
    base = np.datetime64(pd.Timestamp(scenario.start), "s")
    secs = np.round(np.asarray(days, dtype=float) * 86400.0).astype("int64")
    return base + secs.astype("timedelta64[s]")


def _units_over_dates(ax, ylabel: str, start, end) -> None:
    """A panel of whole units (from zero) over the calendar window [start, end]."""
    ax.set_ylabel(ylabel)
    ax.set_xlim(start, end)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.grid(alpha=0.3)


def _date_axis(ax) -> None:
    """Concise calendar-date ticks on the x axis."""
    loc = mdates.AutoDateLocator(minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(loc))


def _panel_title(ax, text: str, **kw) -> None:
    """An axes title at a fixed height (matplotlib then skips a costly overlap check at every draw)."""
    ax.set_title(text, y=1.0, pad=4, **kw)


def figure_legend(fig: Figure, axes=None, title: str | None = None) -> None:
    """(Re)draw the figure's one legend, right of its first row, with every distinct label of its panels."""
    axes = list(axes if axes is not None else fig.axes)
    for old in list(fig.legends):
        old.remove()
    seen = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(label, handle)
    if not seen or not axes:
        return
    box = axes[0].get_position()
    right = max(a.get_position().x1 for a in axes)
    fig.legend(list(seen.values()), list(seen), loc="upper left", bbox_to_anchor=(right + 0.01, box.y1),
               fontsize="small", title=title, borderaxespad=0, frameon=False)


def _reps_note(results_list, bands: bool = True) -> str:
    """How many replications, and what line and band show."""
    reps = sorted({r.reps for r in results_list})
    n = "/".join(str(x) for x in reps)
    text = f"{n} replication{'s' if reps[-1] > 1 else ''}"
    if reps[-1] > 1:
        text += f": line = median, band = {BAND[0]}th-{BAND[1]}th percentile" if bands else \
            ": mean over replications, whisker = its 95% CI"
    return text


def _title(fig: Figure, title: str, results_list, bands: bool = True) -> None:
    """Figure title with the replication note on a second line."""
    fig.suptitle(f"{title}\n({_reps_note(results_list, bands)})", fontsize="medium",
                 y=1 - 0.08 / fig.get_figheight(), va="top")


def _items(results_list, items=None) -> list[str]:
    """Items to draw: the ones asked for, else every item with requested quantity."""
    if items is not None:
        return [items] if isinstance(items, str) else list(items)
    found = set()
    for r in results_list:
        d = r.deliveries
        found.update(str(x) for x in d.loc[d["qty"] > 0, "item"].unique())
    return sorted(found)


def _band(curves: np.ndarray):
    """(median, low, high) across replications (rows) of a stack of curves, NaN rows ignored."""
    ok = ~np.all(np.isnan(curves), axis=1)
    curves = curves[ok]
    if len(curves) == 0:
        nan = np.full(curves.shape[1], np.nan)
        return nan, nan, nan
    lo, med, hi = np.percentile(curves, [BAND[0], 50, BAND[1]], axis=0)
    return med, lo, hi


def _step_on_grid(x: np.ndarray, y: np.ndarray, grid: np.ndarray, before: float = 0.0) -> np.ndarray:
    """Value of a right-continuous step function (x sorted) at grid points; `before` left of x[0]."""
    idx = np.searchsorted(x, grid, side="right") - 1
    if not len(y):
        return np.full(len(grid), before, dtype=float)
    return np.where(idx >= 0, y[np.clip(idx, 0, None)], before).astype(float)


def _rep_curves(rep, x, w, reps: int, grid: np.ndarray, cumulative: bool = True, before: float = 0.0) -> np.ndarray:
    """Per replication (rows), a step function of x on the grid: the running sum of w, or the last w, at or before each point.

    Points with NaN x never count. Ties keep their recorded order, so for levels the last value wins.
    """
    rep = np.asarray(rep, dtype=np.int64)
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    keep = ~np.isnan(x)
    rep, x, w = rep[keep], x[keep], w[keep]
    if cumulative:
        # each point adds its weight from the first grid point at or after it: one scatter-add, one cumsum
        cells = np.zeros((reps, len(grid) + 1))
        np.add.at(cells, (rep, np.searchsorted(grid, x, side="left")), w)
        return np.cumsum(cells, axis=1)[:, :-1] + before
    # last value at or before each grid point, all replications at once: sort by (rep, x) as one key
    # rep * span + x, find every (rep, grid point) key in it, and keep hits from the same replication
    span = float(max(np.nanmax(np.abs(x)) if len(x) else 0.0, np.abs(grid).max() if len(grid) else 0.0)) * 2 + 1
    key = rep * span + x
    order = np.argsort(key, kind="stable")
    key, rep, w = key[order], rep[order], w[order]
    want = (np.arange(reps)[:, None] * span + grid[None, :]).ravel()
    idx = np.searchsorted(key, want, side="right") - 1
    same = (idx >= 0) & (rep[np.clip(idx, 0, None)] == np.repeat(np.arange(reps), len(grid))) if len(key) else \
        np.zeros(len(want), dtype=bool)
    out = np.where(same, w[np.clip(idx, 0, None)] if len(key) else before, before)
    return out.reshape(reps, len(grid)).astype(float)


# --- time to delivery: Kaplan-Meier share delivered -------------------------------------------

KM_TITLE = "Share of requested units delivered (Kaplan-Meier, censored at the horizon)"


def _km_steps(time, event, weight) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) steps of 1 - S(t) of one weighted sample, from (0, 0) to where its curve ends."""
    t, s = kaplan_meier(time, event, weight)
    return np.r_[0.0, t], np.r_[0.0, 1.0 - s]


def _km_rep_curves(obs: pd.DataFrame, reps: int, grid: np.ndarray) -> np.ndarray:
    """Per replication (rows), 1 - S on the grid: NaN past the end of its curve (unless all delivered), or with no units."""
    out = np.full((reps, len(grid)), np.nan)
    for rep, g in obs.groupby("rep", sort=True):
        t, s = kaplan_meier(g["time"].to_numpy(), g["delivered"].to_numpy(), g["qty"].to_numpy())
        if len(t) and 0 <= rep < reps:
            known = np.ones(len(grid), dtype=bool) if s[-1] <= EPS else grid <= t[-1]
            out[rep] = np.where(known, _step_on_grid(t, 1.0 - s, grid), np.nan)
    return out


def latency_ecdf(results, *more, items=None) -> Figure:
    """Time to delivery per item: the Kaplan-Meier share of requested units delivered by days since request, one line per scenario.

    Every requested unit counts (each lot weighs its quantity), pooled over replications: a lot
    still on its way at the horizon is censored there (never dropped, never counted delivered),
    so a line ends where the follow-up ends, at the horizon minus the earliest request. With
    many replications the band runs from the 10th to the 90th percentile of the
    per-replication curves (each known up to its own end).
    """
    rl = _results_list([results, *more])
    items = _items(rl, items)
    fig, axes = _figure(len(items), right=2.4)
    reps = sorted({r.reps for r in rl})
    note = f"{'/'.join(map(str, reps))} replication{'s' if reps[-1] > 1 else ''}" + (
        f": line = pooled over replications, band = {BAND[0]}th-{BAND[1]}th percentile of the per-replication "
        "curves" if reps[-1] > 1 else "")
    fig.suptitle(f"{KM_TITLE}\n({note})", fontsize="medium", y=1 - 0.08 / fig.get_figheight(), va="top")
    obs = [r.observations()["lots"] for r in rl]
    for ax, item in zip(axes, items):
        frames = [o[o["item"] == item] for o in obs]
        x_end = max(max([float(f["time"].max()) for f in frames if len(f)], default=1.0) * 1.03, 1.0)
        drawn = 0
        for k, (r, o) in enumerate(zip(rl, frames)):
            if not len(o):
                continue
            ax.step(*_km_steps(o["time"], o["delivered"], o["qty"]), where="post", color=f"C{k}",
                    label=r.scenario.name)
            if r.reps > 1:
                grid = np.linspace(0.0, x_end, 400)
                _, lo, hi = _band(_km_rep_curves(o, r.reps, grid))
                ax.fill_between(grid, lo, hi, color=f"C{k}", alpha=0.2, linewidth=0)
            drawn += 1
        if not drawn:
            _empty(fig, ax, "no requests for this item")
        _panel_title(ax, item_label(rl[0].scenario, item))
        ax.set_xlabel("days since request")
        ax.set_ylabel("share of requested units delivered\n(Kaplan-Meier, censored at the horizon)")
        ax.set_ylim(0, 1.02)
        ax.set_xlim(0, x_end)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
        ax.grid(alpha=0.3)
    figure_legend(fig, axes, title="scenario")
    return fig


# --- where the time goes --------------------------------------------------------------------

def phase_means(results) -> dict[str, pd.DataFrame]:
    """Quantity-weighted mean days per phase over every lot, delivered or not, per item and 'ALL'.

    Returns {"all": days per phase, "undelivered": the part of those days spent by lots still
    undelivered at the horizon (their sum over qty, divided by the qty of all lots), "share":
    the undelivered share of quantity and the 95% interval across replications of the total
    (columns share, total_lo, total_hi)}, each indexed by item. Every row's phases add up to its
    time in system (to the horizon when undelivered), so the phases of an item add up to its
    quantity-weighted mean time in system. Each figure is computed within a replication, then
    averaged over replications.
    """
    d = results.deliveries
    d = d[d["qty"] > 0]
    qty = d["qty"].to_numpy(dtype=float)
    open_ = d["delivered_day"].isna().to_numpy()
    days = d[PHASE_COLUMNS].to_numpy(dtype=float) * qty[:, None]
    frame = pd.DataFrame(np.hstack([days, days * open_[:, None], np.column_stack([qty, qty * open_])]),
                         columns=[*PHASES, *(f"open:{p}" for p in PHASES), "qty", "open_qty"], index=d.index)
    frame["rep"] = d["rep"].astype(int).to_numpy()
    frame["item"] = d["item"].astype(str).to_numpy()
    rows = {}
    for item, g in list(frame.groupby("item", sort=True)) + [("ALL", frame)]:
        per_rep = g.drop(columns="item").groupby("rep").sum()
        per_rep = per_rep.div(per_rep["qty"], axis=0)
        rows[item] = per_rep.mean()
        _, rows[item]["total_lo"], rows[item]["total_hi"] = t_interval(per_rep[PHASES].sum(axis=1))
    out = pd.DataFrame.from_dict(rows, orient="index").rename_axis("item")
    if out.empty:
        out = pd.DataFrame(columns=[*frame.columns.drop(["rep", "item"]), "total_lo", "total_hi"],
                           dtype=float).rename_axis("item")
    undelivered = out[[f"open:{p}" for p in PHASES]].set_axis(PHASES, axis=1)
    share = out[["open_qty", "total_lo", "total_hi"]].rename(columns={"open_qty": "share"})
    return {"all": out[PHASES], "undelivered": undelivered, "share": share}


def time_breakdown(results, *more, items=None) -> Figure:
    """Where the time goes: per item, a stacked bar of the quantity-weighted mean days per phase
    over all lots (delivered or not), with a hatched bar below it for the part of those days
    spent by lots still undelivered at the horizon, and the undelivered share beside it."""
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
    fig, ax = _one_axes(11, len(rows), 0.72 if len(rl) > 1 else 0.6, [row[0] for row in rows])
    _title(fig, "Where the time goes: quantity-weighted mean days per phase, over every lot", rl, bands=False)
    y = np.arange(len(rows))[::-1].astype(float)
    left, left_open = np.zeros(len(rows)), np.zeros(len(rows))
    shown = [p for p in PHASES if any(row[1][p] > 0 for row in rows)]
    for name in shown:
        widths = np.nan_to_num(np.array([row[1][name] for row in rows], dtype=float))
        open_w = np.nan_to_num(np.array([row[2][name] for row in rows], dtype=float))
        colour = PHASE_COLOURS[name]
        ax.barh(y + 0.12, widths, left=left, color=colour, label=name, height=0.5)
        ax.barh(y - 0.3, open_w, left=left_open, color=colour, height=0.22, hatch="////",
                edgecolor="white", linewidth=0, alpha=0.75, label="_undelivered")
        left += widths
        left_open += open_w
    right = left.copy()
    for k, (yi, total, part, row) in enumerate(zip(y, left, left_open, rows)):
        lo, hi = row[3]["total_lo"], row[3]["total_hi"]
        if lo == lo:  # an interval needs two replications or more
            ax.errorbar([total], [yi + 0.12], xerr=[[max(total - lo, 0.0)], [max(hi - total, 0.0)]], fmt="none",
                        ecolor="black", capsize=3, lw=1)
            right[k] = max(total, hi)
        ax.annotate(f"{total:,.0f} d, {row[3]['share']:.0%} of qty undelivered", (right[k], yi + 0.12),
                    xytext=(6, 0), textcoords="offset points", va="center", fontsize="small")
        if part > 0:
            ax.annotate(f"{part:,.0f} d of it by lots undelivered at the horizon", (part, yi - 0.3), xytext=(6, 0),
                        textcoords="offset points", va="center", fontsize="x-small", color="0.3")
    if not rows:
        _empty(fig, ax, "no lots")
    ax.set_yticks(y, [row[0] for row in rows])
    ax.set_xlabel("mean days in system (to delivery, or to the horizon), by phase, weighted by quantity")
    ax.set_ylabel("item")
    ax.set_xlim(0, max(right.max() if len(right) else 1.0, 1.0) * 1.45)
    ax.grid(axis="x", alpha=0.3)
    fig.legend(*ax.get_legend_handles_labels(), loc="lower center", bbox_to_anchor=(0.5, 0.01), ncols=6,
               fontsize="small", title="phase", frameon=False)
    return fig


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
    out, open_ = [], {}
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
    return _rep_curves(df["rep"].to_numpy(), df[day_col].to_numpy(dtype=float), df["qty"].to_numpy(dtype=float),
                       reps, grid)


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
    packages, pledges, contributions, wins, gate_list = {}, {}, {}, {}, []
    for r in rl:
        sc = r.scenario
        for p in sc.requests.packages:
            packages.setdefault(p.id, p)
        req = r.deliveries[["request_id", "requested_day"]]
        req = req[req["request_id"].isin(list(packages))].drop_duplicates()
        for day, rid, date in zip(req["requested_day"], req["request_id"].astype(str), _dates(sc, req["requested_day"])):
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


def delivery_timeline(results, *more, items=None) -> Figure:
    """Cumulative quantity delivered over calendar dates per item, one line per scenario, with pledges, contributions, pauses and gates."""
    rl = _results_list([results, *more])
    multi = len(rl) > 1
    items = _items(rl, items)
    packages, pledges, contributions, wins, gate_list = _markers(rl)
    fig, axes = _figure(len(items), ncols=1, panel_w=9.5, panel_h=2.4, sharex=True, right=3.9, hspace=0.45)
    names = ", ".join(r.scenario.name for r in rl)
    _title(fig, f"{names}: cumulative quantity delivered to Ukraine", rl)
    many = max(r.reps for r in rl) > 1
    start = min(_dates(r.scenario, [0.0])[0] for r in rl)
    end = max(_dates(r.scenario, [r.horizon_days])[0] for r in rl)
    tables = [r.deliveries[["rep", "item", "qty", "requested_day", "delivered_day"]] for r in rl]
    for ax, item in zip(axes, items):
        requested = []
        for k, (r, d) in enumerate(zip(rl, tables)):
            di = d[(d["item"] == item) & (d["qty"] > 0)]
            grid = np.arange(0.0, r.horizon_days + 1.0)
            x, y, band = _curve(r, di, "delivered_day", grid)
            label = "delivered" + (f": {r.scenario.name}" if multi else "") + (" (median)" if r.reps > 1 else "")
            ax.step(_dates(r.scenario, x), y, where="post", color=f"C{k}", label=label)
            if band is not None:
                ax.fill_between(_dates(r.scenario, x), *band, step="post", color=f"C{k}", alpha=0.2, linewidth=0,
                                label=BAND_LABEL)
            rx, ry, _ = _curve(r, di, "requested_day", grid)
            requested.append((_dates(r.scenario, rx), ry, r.scenario.name, k))
        same = all(len(q[1]) == len(requested[0][1]) and np.array_equal(q[0], requested[0][0])
                   and np.allclose(q[1], requested[0][1]) for q in requested)
        for rx, ry, name, k in requested[:1] if same else requested:
            label = "requested" + ("" if same else f": {name}") + (" (median)" if many else "")
            ax.step(rx, ry, where="post", color="0.45" if same else f"C{k}", ls="--", lw=1, label=label)
        for k, ((kind, scope, s0, e0), where) in enumerate(wins.items()):
            colour = WINDOW_COLOURS[kind == "outage"][k % len(WINDOW_COLOURS[0])]
            only = f" ({', '.join(where)})" if multi and len(where) < len(rl) else ""
            ax.axvspan(s0, e0, color=colour, alpha=0.25, linewidth=0, label=f"{kind}: {scope}{only}")
        mine = [(pid, x) for (pid, _), x in pledges.items() if any(l.item == item for l in packages[pid].lines)]
        for k, (pid, x) in enumerate(mine):
            ax.axvline(x, color="tab:purple", ls=":", lw=1, label="package pledged" if k == 0 else None)
            if len(mine) <= 12:
                ax.annotate(pid, (x, 0.98 - 0.3 * (k % 3)), xycoords=("data", "axes fraction"), rotation=90,
                            va="top", ha="right", fontsize="x-small", color="tab:purple")
        if contributions:
            ax.plot(contributions, np.zeros(len(contributions)), "^", color="tab:olive", ms=6, clip_on=False,
                    transform=ax.get_xaxis_transform(), label="contribution to the NATO account")
        for x, scope, closed, reps, name in gate_list:
            ax.axvline(x, color="black", lw=1.5, ls="-.",
                       label=f"gate ({scope}{': ' + name if multi else ''}): closed in {closed} of {reps} replication(s)")
        _panel_title(ax, item_label(rl[0].scenario, item), loc="left")
        _units_over_dates(ax, "cumulative quantity (units)", start, end)
    figure_legend(fig, axes)
    axes[-1].set_xlabel(f"date (day 0 = {rl[0].scenario.start.isoformat()})")
    for ax in axes:
        _date_axis(ax)
    return fig


# --- stock levels ---------------------------------------------------------------------------

def stock_series(results) -> list[str]:
    """Level series of stock: 'us_stock:ITEM' then 'stockpile:ALLY:ITEM'."""
    names = sorted(str(s) for s in results.levels["series"].unique())
    return [s for s in names if s.startswith("us_stock:")] + [s for s in names if s.startswith("stockpile:")]


def _level_curves(lv: pd.DataFrame, reps: int, grid: np.ndarray) -> np.ndarray:
    """Per replication, the level (last value recorded at or before each grid day)."""
    return _rep_curves(lv["rep"].to_numpy(), lv["day"].to_numpy(dtype=float), lv["value"].to_numpy(dtype=float),
                       reps, grid, cumulative=False, before=np.nan)


def _stock_limit(scenario, name: str) -> tuple[str, int]:
    """(what, level) of the line a series must not go below: the US reserve floor or the ally's minimum."""
    parts = name.split(":")
    if parts[0] == "us_stock":
        level = scenario.us_stock.items.get(parts[1])
        return "reserve floor", level.reserve_floor if level is not None else 0
    pile = scenario.stockpiles.get(parts[1])
    return "minimum kept", pile.items[parts[2]].min_keep if pile is not None and parts[2] in pile.items else 0


def stock_levels(results, *more, series=None) -> Figure:
    """US stock against its reserve floor and allied stockpiles against their minimum, with donations and backfill arrivals; one line per scenario."""
    rl = _results_list([results, *more])
    multi = len(rl) > 1
    if series is not None:
        names = [series] if isinstance(series, str) else list(series)
    else:
        found = list(dict.fromkeys(s for r in rl for s in stock_series(r)))
        names = [s for s in found if s.startswith("us_stock:")] + [s for s in found if s.startswith("stockpile:")]
    fig, axes = _figure(len(names), ncols=2 if len(names) > 1 else 1, sharex=False, right=2.9)
    _title(fig, ", ".join(r.scenario.name for r in rl) + ": stock levels", rl)
    if not names:
        _empty(fig, axes[0], "no stock recorded in this scenario")
        axes[0].set_xlabel("date")
        axes[0].set_ylabel("on hand (units)")
        return fig
    start = min(_dates(r.scenario, [0.0])[0] for r in rl)
    end = max(_dates(r.scenario, [r.horizon_days])[0] for r in rl)
    wanted = set(names)
    by_series = [{str(k): g for k, g in r.levels[r.levels["series"].isin(wanted)].groupby("series", observed=True)}
                 for r in rl]
    for ax, name in zip(axes, names):
        parts = name.split(":")
        limits = {}
        for k, r in enumerate(rl):
            lv = by_series[k].get(name)
            if lv is None or not len(lv):
                continue
            sc = r.scenario
            label = "on hand" + (f": {sc.name}" if multi else "") + (" (median)" if r.reps > 1 else "")
            if r.reps == 1:
                x = np.concatenate([lv["day"].to_numpy(dtype=float), [r.horizon_days]])
                y = lv["value"].to_numpy(dtype=float)
                ax.step(_dates(sc, x), np.concatenate([y, y[-1:]]), where="post", color=f"C{k}", label=label)
            else:
                grid = np.arange(0.0, r.horizon_days + 1.0)
                med, lo, hi = _band(_level_curves(lv, r.reps, grid))
                ax.step(_dates(sc, grid), med, where="post", color=f"C{k}", label=label)
                ax.fill_between(_dates(sc, grid), lo, hi, step="post", color=f"C{k}", alpha=0.2, linewidth=0,
                                label=BAND_LABEL)
            limits.setdefault(_stock_limit(sc, name), []).append(k)
            if parts[0] == "stockpile":
                b = r.backfills
                mine = b[(b["donor"] == parts[1]) & (b["item"] == parts[2])]
                alpha = max(0.15, 1.0 / math.sqrt(r.reps))
                tr = ax.get_xaxis_transform()
                for col, marker, y0, what in (("donated_day", "v", 0.04, "donation"),
                                              ("backfilled_day", "^", 0.1, "backfill arrival")):
                    days = mine[col].dropna().to_numpy()
                    if len(days):
                        ax.plot(_dates(sc, days), np.full(len(days), y0 + 0.12 * k), marker, ls="none",
                                color=f"C{k}", alpha=alpha, clip_on=False, transform=tr,
                                label=f"{what}" + (f": {sc.name}" if multi else ""))
        for (what, level), ks in limits.items():
            colour = "tab:red" if len(limits) == 1 else f"C{ks[0]}"
            ax.axhline(level, color=colour, ls="--", lw=1.2, label=what if len(limits) == 1 else
                       f"{what}: {', '.join(rl[k].scenario.name for k in ks)}")
            ax.annotate(f"{what} {level:,}", (1.0, level), xycoords=("axes fraction", "data"), xytext=(-3, 3),
                        textcoords="offset points", ha="right", va="bottom", fontsize="x-small", color=colour)
        sc0 = rl[0].scenario
        item = parts[1] if parts[0] == "us_stock" else parts[2]
        title = f"US stock: {item_label(sc0, item)}" if parts[0] == "us_stock" else \
            f"{parts[1]} stockpile: {item_label(sc0, item)}"
        if len(title) > 64 and item in sc0.items:
            title = title.replace(f" ({item})", "")
        _panel_title(ax, title, loc="left", fontsize="medium")
        ax.set_xlabel("date")
        _units_over_dates(ax, "on hand (units)", start, end)
        _date_axis(ax)
    figure_legend(fig, axes)
    return fig


# --- backfill gap ---------------------------------------------------------------------------

def backfill_gap(results, *more) -> Figure:
    """Backfill gap per donor and item, from the donation decision: Kaplan-Meier median (censored at the horizon), 95% interval, each donation a dot.

    A donation not replaced by the horizon is censored (drawn as an open marker at its gap so
    far); a median the curve does not reach is drawn hatched to its bound and labelled `> N d`
    (N: `gap_rmst_tau`, the shortest follow-up of the group, as in the backfill table).
    """
    rl = _results_list([results, *more])
    rows = []  # (label, summary row, replaced gaps, open gaps so far, donations)
    for r in rl:
        b = r.backfills
        for (donor, item), s in r.backfill_summary().iterrows():
            g = b[(b["donor"].astype(str) == str(donor)) & (b["item"].astype(str) == str(item))]
            still = g[g["backfilled_day"].isna()]
            label = f"{donor}: {short_label(r.scenario, item)}" + (f"\n{r.scenario.name}" if len(rl) > 1 else "")
            rows.append((label, s, g["backfill_gap_days"].dropna().to_numpy(dtype=float),
                         (r.horizon_days - still["decided_day"]).to_numpy(dtype=float), len(g)))
    fig, ax = _one_axes(11, len(rows), 0.85, [row[0] for row in rows])
    reps = sorted({r.reps for r in rl})
    note = f"{'/'.join(map(str, reps))} replication{'s' if reps[-1] > 1 else ''}" + (
        ": bar = median over replications, whisker = 95% bootstrap interval" if reps[-1] > 1 else "")
    fig.suptitle(f"Backfill gap per donor: days from the donation decision to the replacement\n({note})",
                 fontsize="medium", y=1 - 0.08 / fig.get_figheight(), va="top")
    y = np.arange(len(rows))[::-1]
    p50 = np.array([row[1]["gap_p50"] for row in rows], dtype=float)
    bound = np.array([row[1]["gap_rmst_tau"] for row in rows], dtype=float)
    reached = np.isfinite(p50) | np.isnan(p50)
    bars = ax.barh(y, np.nan_to_num(np.where(reached, p50, bound)), height=0.55, color="tab:orange", alpha=0.6,
                   label="median gap from the donation decision (Kaplan-Meier)")
    rng = np.random.default_rng(0)
    seen = set()

    def once(label):
        """The label the first time it is drawn, None after (one legend entry each)."""
        if label in seen:
            return None
        seen.add(label)
        return label

    for yi, row, patch, ok, median, n_bound in zip(y, rows, bars.patches, reached, p50, bound):
        label, s, done, still, n = row
        if not ok:
            patch.set_hatch("//")
            ax.annotate(f"median > {n_bound:,.0f} d (fewer than half replaced)", (n_bound, yi), xytext=(4, 0),
                        textcoords="offset points", va="center", fontsize="x-small")
        lo, hi = s["gap_p50_lo"], s["gap_p50_hi"]
        if lo == lo and math.isfinite(lo):
            m = median if ok else n_bound
            top = hi if math.isfinite(hi) else n_bound
            ax.errorbar([m], [yi], xerr=[[max(m - lo, 0.0)], [max(top - m, 0.0)]], fmt="none", ecolor="black",
                        capsize=4, lw=1.2, label=once("95% interval of the median"))
        if len(done):
            ax.plot(done, yi + rng.uniform(-0.2, 0.2, len(done)), "o", ms=3, color="0.25", alpha=0.5,
                    label=once("one replaced donation"))
        if len(still):
            ax.plot(still, yi + rng.uniform(-0.2, 0.2, len(still)), ">", ms=4, mfc="none", color="tab:red",
                    alpha=0.6, label=once("one donation open at the horizon (gap so far)"))
            ax.annotate(f"{len(still)} of {n} donations not replaced by the horizon (open for at least "
                        f"{s['open_gap_min_days']:,.0f} d)", (0, yi + 0.31), xytext=(3, 0), textcoords="offset points",
                        va="bottom", fontsize="x-small", color="tab:red")
    if not rows:
        _empty(fig, ax, "no donations from allied stockpiles: no backfill gap")
    ax.set_yticks(y, [row[0] for row in rows])
    ax.set_xlabel("days a donor is short of what it gave, from the donation decision to the replacement\n"
                  "(donations still open are censored at the horizon)")
    ax.set_ylabel("donor: item")
    ax.set_xlim(left=0)
    ax.set_ylim(-0.6, max(len(rows), 1) - 0.2)
    ax.grid(axis="x", alpha=0.3)
    if rows:
        fig.legend(*ax.get_legend_handles_labels(), loc="lower center", bbox_to_anchor=(0.5, 0.02), ncols=3,
                   fontsize="small", frameon=False)
    return fig


# --- results.plot and PNG files -------------------------------------------------------------

class PlotAccessor:
    """`results.plot.NAME(...)`: the plot functions of this module, bound to one Results."""

    def __init__(self, results):
        self._results = results

    def __repr__(self) -> str:
        return "results.plot: " + ", ".join(self._names())

    @staticmethod
    def _names() -> list[str]:
        """The plot names reachable from Results."""
        return ["latency_ecdf", "time_breakdown", "delivery_timeline", "stock_levels", "backfill_gap", "comparison"]

    def __dir__(self):
        return self._names()

    def latency_ecdf(self, *others, **kw) -> Figure:
        """Latency ECDF of these results (and of `others`, one line each)."""
        return latency_ecdf(self._results, *others, **kw)

    def time_breakdown(self, *others, **kw) -> Figure:
        """Where the time goes, per item."""
        return time_breakdown(self._results, *others, **kw)

    def delivery_timeline(self, *others, **kw) -> Figure:
        """Cumulative deliveries over calendar dates, with pledges, pauses and gates."""
        return delivery_timeline(self._results, *others, **kw)

    def stock_levels(self, *others, **kw) -> Figure:
        """US stock and allied stockpiles over time."""
        return stock_levels(self._results, *others, **kw)

    def backfill_gap(self, *others) -> Figure:
        """Backfill gap per donor."""
        return backfill_gap(self._results, *others)

    def comparison(self, *others) -> Figure:
        """Paired differences of `others` against these results."""
        return comparison(self._results, *others)


def _slug(text: str) -> str:
    """A file- and anchor-safe form of a name."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(text)).strip("_") or "scenario"


def figures_for(obj, table: pd.DataFrame | None = None) -> list[tuple[str, Figure]]:
    """(stem, Figure) of the standard plots of Results, a list of them (compared via `table` if given), or a compare/sweep frame."""
    if isinstance(obj, pd.DataFrame):
        if "diff_rmst" in obj.columns and "point" not in obj.columns:  # a sweep has its `point` column
            return [("comparison", comparison(obj))]
        return [("sweep", sweep(obj))]
    rl = _results_list(obj)
    out = [("latency_ecdf", latency_ecdf(rl)), ("time_breakdown", time_breakdown(rl))]
    if len(rl) > 1:
        out.append(("comparison", comparison(rl if table is None else table)))
    if any(len(r.backfills) for r in rl):
        out.append(("backfill_gap", backfill_gap(rl)))
    out.append(("delivery_timeline", delivery_timeline(rl)))
    if any(stock_series(r) for r in rl):
        out.append(("stock_levels", stock_levels(rl)))
    return out


def write_pngs(obj, directory, table: pd.DataFrame | None = None) -> list[Path]:
    """Write the standard plots of Results, a list of Results, or a comparison/sweep frame as PNG files (see figures_for)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for stem, fig in figures_for(obj, table):
        path = directory / f"{stem}.png"
        path.write_bytes(png_bytes(fig))
        paths.append(path)
    return paths
