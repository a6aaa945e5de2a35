"""Plots of results: each function takes Results (or a comparison or sweep DataFrame) and returns a Figure.

Figures are built as `matplotlib.figure.Figure` objects, never through pyplot, so they work on
any backend (Agg included), leave no global state behind, and display once in Jupyter (as PNG,
through `PlotFigure._repr_png_`, or the inline backend's formatter when that is active). Every
plot works for one replication (the recorded values) and for many: the line is then the median
across replications and the shaded band runs from the 10th to the 90th percentile across them.
Several Results (run with the same seed and replications) share panels, one colour each.
`results.plot.NAME(...)` reaches the same functions; `write_pngs` saves the standard set as PNG.

Latency is delivered_day - requested_day; lots undelivered at the horizon are censored, so an
ECDF ends at the delivered share, not at 1.
"""
from __future__ import annotations

import math
import re
from pathlib import Path

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

BAND = (10, 90)  # percentiles across replications drawn as the shaded band
BAND_LABEL = f"{BAND[0]}th-{BAND[1]}th percentile band"
PHASES = [  # (label, from milestone, to milestone)
    ("approval", "requested_day", "approved_day"),
    ("funding", "approved_day", "funded_day"),
    ("sourcing / production", "funded_day", "ready_day"),
    ("release and waiting", "ready_day", "shipped_day"),
    ("transport", "shipped_day", "delivered_day"),
]
MILESTONES = ["requested_day", "approved_day", "funded_day", "ready_day", "shipped_day", "delivered_day"]
PHASE_COLOURS = ["#8c6bb1", "#e6ab02", "#d95f02", "#7f7f7f", "#1b9e77"]
WINDOW_COLOURS = (["0.55", "tab:cyan", "tab:brown", "tab:pink"], ["tab:red", "darkred", "salmon", "orangered"])
DPI = 100


# --- shared helpers -------------------------------------------------------------------------

class PlotFigure(Figure):
    """A Figure that shows itself as a PNG in Jupyter without pyplot (IPython calls `_repr_png_`)."""

    def _repr_png_(self) -> bytes:
        """The figure as PNG for IPython's display."""
        return png_bytes(self)


def _results_list(results) -> list:
    """A flat list of Results from one Results, several, or lists of them."""
    out = []
    for r in results if isinstance(results, (list, tuple)) else [results]:
        out.extend(_results_list(r) if isinstance(r, (list, tuple)) else [r])
    if not out:
        raise ValueError("no results to plot")
    return out


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


def _empty(fig: Figure, ax, message: str) -> None:
    """Write a message in the middle of an axes that has nothing to show."""
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="0.35")


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


def _rep_totals(rep, w, reps: int) -> np.ndarray:
    """Sum of w per replication 0..reps-1."""
    return np.bincount(np.asarray(rep, dtype=np.int64), weights=np.asarray(w, dtype=float), minlength=reps)[:reps]


# --- latency ECDF ---------------------------------------------------------------------------

def _ecdf_curves(deliveries: pd.DataFrame, reps: int, grid: np.ndarray) -> np.ndarray:
    """Per replication, share of requested quantity delivered within each grid latency (NaN: no demand)."""
    rep = deliveries["rep"].to_numpy(dtype=np.int64)
    qty = deliveries["qty"].to_numpy(dtype=float)
    curves = _rep_curves(rep, deliveries["latency_days"].to_numpy(dtype=float), qty, reps, grid)
    total = _rep_totals(rep, qty, reps)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(total[:, None] > 0, curves / total[:, None], np.nan)


def latency_ecdf(results, *more, items=None) -> Figure:
    """Latency ECDF per item (share of requested quantity delivered within x days), one line per scenario.

    Undelivered lots count in the denominator, so a line ends at the delivered share.
    """
    rl = _results_list([results, *more])
    items = _items(rl, items)
    fig, axes = _figure(len(items), right=2.4)
    _title(fig, "Latency ECDF: request to delivery in Ukraine", rl)
    cols = ["rep", "item", "qty", "latency_days", "delivered_day"]
    tables = [r.deliveries[cols] for r in rl]  # a few columns: filtering them is much cheaper
    for ax, item in zip(axes, items):
        frames = [d[(d["item"] == item) & (d["qty"] > 0)] for d in tables]
        lat_max = max([float(f["latency_days"].max()) for f in frames if f["latency_days"].notna().any()],
                      default=1.0)
        x_end = max(lat_max * 1.03, 1.0)
        drawn = 0
        for k, (r, d) in enumerate(zip(rl, frames)):
            if not len(d):
                continue
            if r.reps == 1:
                done = d[d["delivered_day"].notna()].sort_values("latency_days")
                x = np.concatenate([[0.0], done["latency_days"].to_numpy(), [x_end]])
                cum = np.cumsum(done["qty"].to_numpy(dtype=float)) / d["qty"].sum()
                y = np.concatenate([[0.0], cum, [cum[-1] if len(cum) else 0.0]])
                ax.step(x, y, where="post", color=f"C{k}", label=r.scenario.name)
            else:
                grid = np.linspace(0.0, x_end, 400)
                med, lo, hi = _band(_ecdf_curves(d, r.reps, grid))
                ax.plot(grid, med, color=f"C{k}", label=r.scenario.name)
                ax.fill_between(grid, lo, hi, color=f"C{k}", alpha=0.2, linewidth=0)
            drawn += 1
        if not drawn:
            _empty(fig, ax, "no requests for this item")
        _panel_title(ax, item_label(rl[0].scenario, item))
        ax.set_xlabel("latency (days from request to delivery)")
        ax.set_ylabel("share of requested quantity delivered")
        ax.set_ylim(0, 1.02)
        ax.set_xlim(0, x_end)
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
        ax.grid(alpha=0.3)
    figure_legend(fig, axes, title="scenario")
    return fig


# --- where the time goes --------------------------------------------------------------------

def phase_means(results) -> pd.DataFrame:
    """Mean days per phase over delivered lots, per item and overall ('ALL').

    Each phase is the mean within a replication, averaged over replications, so the phases of
    an item add up to its mean latency in `summary()`. A milestone a lot skipped (NaN) counts as
    reached at the previous one.
    """
    d = results.deliveries[["rep", "item", "qty", *MILESTONES]]
    d = d[(d["qty"] > 0) & d["delivered_day"].notna()]
    t = d[MILESTONES].ffill(axis=1).to_numpy(dtype=float)
    phases = pd.DataFrame(np.diff(t, axis=1), columns=[p[0] for p in PHASES], index=d.index)
    phases["rep"] = d["rep"].astype(int).to_numpy()
    phases["item"] = d["item"].astype(str).to_numpy()
    rows = {}
    for item, g in list(phases.groupby("item", sort=True)) + [("ALL", phases)]:
        per_rep = g.drop(columns="item").groupby("rep").mean()
        rows[item] = per_rep.mean()
    cols = [p[0] for p in PHASES]
    return pd.DataFrame.from_dict(rows, orient="index", columns=cols).rename_axis("item")


def time_breakdown(results, *more, items=None) -> Figure:
    """Where the time goes: per item, stacked mean days in approval, funding, sourcing/production, release, transport."""
    rl = _results_list([results, *more])
    items = _items(rl, items)
    rows = []  # (label, scenario name, item, phase means, summary row)
    means = [phase_means(r) for r in rl]
    for item in items:
        for r, pm in zip(rl, means):
            if item not in pm.index:
                continue
            s = r.summary().loc[item] if item in r.summary().index else None
            label = short_label(r.scenario, item) + (f"\n{r.scenario.name}" if len(rl) > 1 else "")
            rows.append((label, r.scenario.name, item, pm.loc[item], s))
    fig, ax = _one_axes(11, len(rows), 0.62 if len(rl) > 1 else 0.45, [row[0] for row in rows])
    _title(fig, "Where the time goes: mean days per phase over delivered lots", rl, bands=False)
    y = np.arange(len(rows))[::-1]
    left = np.zeros(len(rows))
    for (name, _, _), colour in zip(PHASES, PHASE_COLOURS):
        widths = np.array([row[3][name] for row in rows], dtype=float)
        ax.barh(y, np.nan_to_num(widths), left=left, color=colour, label=name, height=0.6)
        left += np.nan_to_num(widths)
    right = left.copy()
    for k, (yi, total, row) in enumerate(zip(y, left, rows)):
        s = row[4]
        if s is not None and s["mean_lo"] == s["mean_lo"]:
            ax.errorbar([total], [yi], xerr=[[total - s["mean_lo"]], [s["mean_hi"] - total]], fmt="none",
                        ecolor="black", capsize=3, lw=1)
            right[k] = max(total, s["mean_hi"])
        ax.annotate(f"{total:,.0f} d", (right[k], yi), xytext=(6, 0), textcoords="offset points",
                    va="center", fontsize="small")
    if not rows:
        _empty(fig, ax, "no delivered lots")
    ax.set_yticks(y, [row[0] for row in rows])
    ax.set_xlabel("mean days from request to delivery, by phase (whisker: 95% CI of the total)")
    ax.set_ylabel("item")
    ax.set_xlim(0, max(right.max() if len(right) else 1.0, 1.0) * 1.15)
    ax.grid(axis="x", alpha=0.3)
    fig.legend(*ax.get_legend_handles_labels(), loc="lower center", bbox_to_anchor=(0.5, 0.02), ncols=5,
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
    """Backfill gap per donor and item: mean days a donor is short of what it gave, 95% CI, each donation as a dot."""
    rl = _results_list([results, *more])
    rows = []  # (label, mean, lo, hi, gaps, open count, open min, donations)
    for r in rl:
        bs = r.backfill_summary()
        for (donor, item), s in bs.iterrows():
            b = r.backfills
            g = b[(b["donor"] == donor) & (b["item"] == item)]
            label = f"{donor}: {short_label(r.scenario, item)}" + (f"\n{r.scenario.name}" if len(rl) > 1 else "")
            rows.append((label, s["gap_mean"], s["gap_mean_lo"], s["gap_mean_hi"],
                         g["backfill_gap_days"].dropna().to_numpy(), int(s["open"]), s["open_gap_min_days"], len(g)))
    fig, ax = _one_axes(11, len(rows), 0.85, [row[0] for row in rows])
    _title(fig, "Backfill gap per donor: days from donation to replacement", rl, bands=False)
    y = np.arange(len(rows))[::-1]
    means = np.array([row[1] for row in rows], dtype=float)
    ax.barh(y, np.nan_to_num(means), height=0.55, color="tab:orange", alpha=0.6, label="mean gap (replaced donations)")
    rng = np.random.default_rng(0)
    dots = False
    for yi, row in zip(y, rows):
        _, m, lo, hi, gaps, n_open, open_min, n = row
        if lo == lo:
            ax.errorbar([m], [yi], xerr=[[m - lo], [hi - m]], fmt="none", ecolor="black", capsize=4, lw=1.2,
                        label="95% CI of the mean" if yi == y[0] else None)
        if len(gaps):
            ax.plot(gaps, yi + rng.uniform(-0.2, 0.2, len(gaps)), "o", ms=3, color="0.25", alpha=0.5,
                    label=None if dots else "one donation")
            dots = True
        if n_open:
            ax.annotate(f"{n_open} of {n} donations not replaced by the horizon (open for at least "
                        f"{open_min:,.0f} d)", (0, yi + 0.31), xytext=(3, 0), textcoords="offset points",
                        va="bottom", fontsize="x-small", color="tab:red")
    if not rows:
        _empty(fig, ax, "no donations from allied stockpiles: no backfill gap")
    ax.set_yticks(y, [row[0] for row in rows])
    ax.set_xlabel("days a donor is short of what it gave (donated -> backfilled)")
    ax.set_ylabel("donor: item")
    ax.set_xlim(left=0)
    ax.set_ylim(-0.6, max(len(rows), 1) - 0.2)
    ax.grid(axis="x", alpha=0.3)
    if rows:
        fig.legend(*ax.get_legend_handles_labels(), loc="lower center", bbox_to_anchor=(0.5, 0.02), ncols=3,
                   fontsize="small", frameon=False)
    return fig


# --- comparison and sweep -------------------------------------------------------------------

def comparison_frame(results_list) -> pd.DataFrame:
    """The `sim.compare` table of already-run Results (same seed and replications), without running anything again."""
    from .compare import comparison_table, unique_names

    rl = _results_list(results_list)
    base = rl[0]
    for r in rl[1:]:
        if (r.seed, r.reps) != (base.seed, base.reps):
            raise ValueError(f"{r.scenario.name}: run with seed {r.seed} and {r.reps} replication(s), "
                             f"{base.scenario.name} with seed {base.seed} and {base.reps}: not paired")
    names = unique_names([r.scenario.name for r in rl])
    return comparison_table([r.per_rep() for r in rl], names, base.reps, [r.scenario for r in rl])


def comparison(data, *more) -> Figure:
    """Paired differences in mean latency against the first scenario, per item, with 95% CI whiskers.

    `data` is a `sim.compare` DataFrame, or several Results run with the same seed and
    replications (compared here with the same method).
    """
    df = data if isinstance(data, pd.DataFrame) else comparison_frame([data, *more])
    base = str(df["scenario"].iloc[0]) if len(df) else "the first scenario"
    diffs = df[df["diff_mean"].notna()] if len(df) else df
    label_col = "item_name" if "item_name" in df.columns else "item"
    scen = [str(s) for s in dict.fromkeys(diffs["scenario"].astype(str))]
    items = [str(i) for i in dict.fromkeys(diffs[label_col].astype(str))]
    fig = PlotFigure(figsize=(10, 1.9 + 0.45 * max(len(items) * max(len(scen), 1), 1)), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    fig.suptitle(f"Paired differences in mean latency against {base}\n"
                 "(95% CI over replications, common random numbers)", fontsize="medium")
    step = 0.6 / max(len(scen), 1)
    for k, s in enumerate(scen):
        sub = diffs[diffs["scenario"].astype(str) == s]
        offset = ((len(scen) - 1) / 2 - k) * step
        ys = np.array([len(items) - 1 - items.index(str(i)) + offset for i in sub[label_col].astype(str)])
        x = sub["diff_mean"].to_numpy(dtype=float)
        lo = sub["diff_lo"].to_numpy(dtype=float)
        hi = sub["diff_hi"].to_numpy(dtype=float)
        err = np.vstack([np.nan_to_num(x - lo), np.nan_to_num(hi - x)])
        ax.errorbar(x, ys, xerr=err, fmt="o", capsize=4, label=f"{s} minus {base}")
    ax.axvline(0, color="black", lw=1)
    ax.set_yticks(np.arange(len(items))[::-1], items)
    ax.set_ylim(-0.7, max(len(items), 1) - 0.3)
    ax.set_xlabel(f"difference in mean latency (days; negative = faster than {base})")
    ax.set_ylabel("item")
    ax.grid(axis="x", alpha=0.3)
    if scen:
        ax.legend(loc="best", fontsize="small")
    else:
        _empty(fig, ax, "no item delivered in both scenarios: nothing to compare")
    return fig


def sweep(df: pd.DataFrame, param: str | None = None, metric: str = "mean", items=None) -> Figure:
    """A metric against a swept parameter with its 95% CI band: one line per item, or per value of a second parameter.

    `df` is a `sim.sweep` DataFrame: a column per parameter (listed in `df.attrs["params"]`, else
    the dotted column names), `item`, and `metric` with `metric_lo`/`metric_hi`.
    """
    params = list(df.attrs.get("params") or [c for c in df.columns if "." in str(c)])
    if param is None:
        if not params:
            raise ValueError("sweep plot: give param= (no parameter column found)")
        param = params[0]
    data = df
    if items is not None and "item" in data.columns:
        items = [items] if isinstance(items, str) else list(items)
        data = data[data["item"].astype(str).isin(items)]
    others = [p for p in params if p != param and data[p].astype(str).nunique() > 1]
    keys = others + (["item"] if "item" in data.columns and data["item"].nunique() > 1 else [])
    lo_col, hi_col = f"{metric}_lo", f"{metric}_hi"
    x_all = pd.to_numeric(data[param], errors="coerce")
    numeric = bool(x_all.notna().all())
    categories = list(dict.fromkeys(data[param].astype(str)))
    fig = PlotFigure(figsize=(8.5, 4.8), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    groups = data.groupby(keys, sort=False, observed=True) if keys else [((), data)]
    for key, g in groups:
        key = key if isinstance(key, tuple) else (key,)
        if numeric:
            g = g.assign(_x=pd.to_numeric(g[param])).sort_values("_x")
            x = g["_x"].to_numpy(dtype=float)
        else:
            x = np.array([categories.index(v) for v in g[param].astype(str)], dtype=float)
        label = ", ".join(f"{k} = {v}" if k != "item" else str(v) for k, v in zip(keys, key)) or metric
        line, = ax.plot(x, g[metric].to_numpy(dtype=float), "o-", label=label)
        if lo_col in g.columns and hi_col in g.columns:
            ax.fill_between(x, g[lo_col].to_numpy(dtype=float), g[hi_col].to_numpy(dtype=float),
                            color=line.get_color(), alpha=0.2, linewidth=0)
    if not numeric:
        ax.set_xticks(range(len(categories)), categories, rotation=20, ha="right", fontsize="small")
    what = f"{metric} latency" if metric in ("mean", "p50", "p90", "p95", "max") else metric
    ax.set_title(f"{what} against {param}\n(band: 95% CI across replications)", fontsize="medium")
    ax.set_xlabel(param)
    ax.set_ylabel(f"{what} (days)" if what.endswith("latency") else what)
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return fig


def tornado(effects: pd.DataFrame, base: float | None = None, metric: str = "mean latency (days)",
            title: str | None = None) -> Figure:
    """Tornado chart: for each parameter (index), the metric at its low and high setting, widest swing on top.

    `effects` has columns `low` and `high` (the metric at each setting) and optionally
    `low_setting`/`high_setting` (the parameter values, shown in the labels).
    """
    e = effects.copy()
    e["swing"] = (e["high"] - e["low"]).abs()
    e = e.sort_values("swing", ascending=True)
    if base is None:
        base = float(np.nanmedian(np.r_[e["low"].to_numpy(float), e["high"].to_numpy(float)]))
    fig = PlotFigure(figsize=(9.5, 1.8 + 0.65 * max(len(e), 1)), dpi=DPI, layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(e))
    # low and high side by side in each row, so both show even when they fall on the same side of the base
    ax.barh(y + 0.19, e["low"] - base, left=base, color="tab:blue", height=0.38, label="low setting")
    ax.barh(y - 0.19, e["high"] - base, left=base, color="tab:orange", height=0.38, label="high setting")
    labels = []
    for name, row in e.iterrows():
        if "low_setting" in e.columns and "high_setting" in e.columns:
            labels.append(f"{name}\n({row['low_setting']} -> {row['high_setting']})")
        else:
            labels.append(str(name))
    ax.set_yticks(y, labels)
    ax.axvline(base, color="black", lw=1, label=f"base ({base:,.1f})")
    ax.set_xlabel(metric)
    ax.set_ylabel("parameter")
    ax.set_title(title or f"What moves {metric} most", fontsize="medium")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="best", fontsize="small")
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
        if "diff_mean" in obj.columns:
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


def png_bytes(fig: Figure, dpi: int | None = None) -> bytes:
    """The figure as PNG bytes."""
    import io

    buf = io.BytesIO()
    with matplotlib.rc_context({"text.hinting": "none"}):  # unhinted glyphs: text draws ~25% faster, still crisp
        fig.savefig(buf, format="png", dpi=dpi or DPI, pil_kwargs={"compress_level": 1})  # fast; files ~15% larger
    return buf.getvalue()


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
