"""What every plot shares: the Figure class, PNG output, bands across replications, labels, dates and legends."""

from __future__ import annotations

import math

import matplotlib
import matplotlib.dates as mdates
import numpy as np
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from ..recorder import PHASES as _PHASE_NAMES

DPI = 100


class PlotFigure(Figure):
    """A Figure that shows itself as a PNG in Jupyter without pyplot (IPython calls `_repr_png_`)."""

    def _repr_png_(self) -> bytes:
        """The figure as PNG for IPython's display."""
        return png_bytes(self)


def png_bytes(fig: Figure, dpi: int | None = None) -> bytes:
    """The figure as PNG bytes."""
    import io

    buf = io.BytesIO()
    with matplotlib.rc_context({"text.hinting": "none"}):  # unhinted glyphs: text draws ~25% faster, still crisp
        fig.savefig(buf, format="png", dpi=dpi or DPI, pil_kwargs={"compress_level": 1})  # fast; files ~15% larger
    return buf.getvalue()


def svg_bytes(fig: Figure) -> bytes:
    """The figure as SVG bytes: text kept as text (with sans-serif fallbacks), no date stamp, so the same figure gives the same bytes."""
    import io

    buf = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "purlsim"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    return buf.getvalue()


def _results_list(results) -> list:
    """A flat list of Results from one Results, several, or lists of them."""
    out = []
    for r in results if isinstance(results, (list, tuple)) else [results]:
        out.extend(_results_list(r) if isinstance(r, (list, tuple)) else [r])
    if not out:
        raise ValueError("no results to plot")
    return out


def _empty(fig: Figure, ax, message: str) -> None:
    """Write a message in the middle of an axes that has nothing to show."""
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="0.35")


BAND = (10, 90)  # percentiles across replications drawn as the shaded band
BAND_LABEL = f"{BAND[0]}th-{BAND[1]}th percentile band"
# The phases of a lot's time in system (sim.recorder.PHASES), one fixed colour each.
PHASES = list(_PHASE_NAMES)
_COLOURS_BY_PHASE = {  # by name, so a new phase never shifts the colours of the others
    "approval": "#8c6bb1",
    "funding": "#e6ab02",
    "coordination": "#c994c7",
    "unsourced": "#000000",
    "not_offered": "#fdae6b",
    "long_lead": "#d95f02",
    "line_queue": "#a63603",
    "manufacture": "#6baed6",
    "us_handling": "#3182bd",
    "donor_prep": "#e7298a",
    "held": "#7f7f7f",
    "waiting_departure": "#1b9e77",
    "node_queue": "#66a61e",
    "node_handling": "#b15928",
}
_TRANSIT_COLOURS = ["#80b1d3", "#a6d854", "#ffd92f", "#bebada", "#b3b3b3"]  # transit_<mode>, in mode order
_transits = [p for p in PHASES if p not in _COLOURS_BY_PHASE]
PHASE_COLOURS = {p: _COLOURS_BY_PHASE.get(p) or _TRANSIT_COLOURS[_transits.index(p) % 5] for p in PHASES}
WINDOW_COLOURS = (["0.55", "tab:cyan", "tab:brown", "tab:pink"], ["tab:red", "darkred", "salmon", "orangered"])


# --- shared helpers -------------------------------------------------------------------------


def _figure(
    n_panels: int,
    ncols: int = 2,
    panel_w: float = 5.2,
    panel_h: float = 2.9,
    sharex=False,
    right: float = 0.3,
    hspace: float = 0.95,
):
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
    fig.subplots_adjust(
        left=left / width,
        right=1 - right / width,
        top=1 - top / height,
        bottom=bottom / height,
        wspace=wspace / panel_w,
        hspace=hspace / panel_h,
    )
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


def _constrained(width: float, height: float):
    """A figure of one axes laid out by matplotlib's constrained layout, as (figure, [axes])."""
    fig = PlotFigure(figsize=(width, height), dpi=DPI, layout="constrained")
    return fig, [fig.add_subplot()]


def _one_panel(*args, **kw):
    """`_one_axes` as (figure, [axes]), the shape `target_axes` takes."""
    fig, ax = _one_axes(*args, **kw)
    return fig, [ax]


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


# Every tick label carries its year: a reader of one panel, or of a cropped figure, should not
# have to find the offset text to know whether "Mar" is 2025 or 2026.
DATE_FORMATS = ["%Y", "%b %Y", "%d %b %Y", "%d %b %Y %H:%M", "%d %b %Y %H:%M", "%d %b %Y %H:%M:%S"]


def _date_axis(ax) -> None:
    """Calendar-date ticks on the x axis, each label with its year."""
    loc = mdates.AutoDateLocator(minticks=3, maxticks=7)
    ax.xaxis.set_major_locator(loc)
    ax.xaxis.set_major_formatter(
        mdates.ConciseDateFormatter(loc, formats=DATE_FORMATS, zero_formats=DATE_FORMATS, show_offset=False)
    )


# One line style and marker per scenario, beside its colour, so scenarios stay apart in grey
# print and where their lines overlap.
LINESTYLES = ["-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 3))]
MARKERS = ["o", "s", "^", "D", "v", "P"]


def scenario_style(k: int) -> dict:
    """Colour and line style of the k-th scenario of a plot."""
    return {"color": f"C{k}", "ls": LINESTYLES[k % len(LINESTYLES)]}


def coincide_note(ax, curves) -> list[tuple[str, str]]:
    """Write on the panel which scenarios' curves coincide exactly; curves: (name, x, y) arrays. Returns the pairs."""
    pairs = []
    for i in range(len(curves)):
        for j in range(i + 1, len(curves)):
            (a, xa, ya), (b, xb, yb) = curves[i], curves[j]
            if len(xa) == len(xb) and np.array_equal(xa, xb) and np.array_equal(ya, yb, equal_nan=True):
                pairs.append((a, b))
    if pairs:
        text = "; ".join(f"{a} and {b} coincide exactly" for a, b in pairs)
        # lower right: empty under rising curves, and clear of the package labels at the top
        ax.text(
            0.99,
            0.04,
            text,
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize="x-small",
            color="0.25",
            bbox={"boxstyle": "round,pad=0.2", "fc": "white", "ec": "0.7", "alpha": 0.9},
        )
    return pairs


def target_axes(ax, n: int, make):
    """(figure, axes, ours) for a plot of n panels: the user's `ax` (one Axes, or n of them) or a new figure from `make()`.

    Drawn into the user's axes, a plot leaves the figure alone (no figure title, no figure
    legend: each panel gets its own legend) and returns the figure those axes belong to.
    """
    if ax is None:
        fig, axes = make()
        return fig, list(axes), True
    axes = [ax] if isinstance(ax, Axes) else list(np.ravel(np.asarray(ax, dtype=object)))
    if len(axes) != max(n, 1) or not all(isinstance(a, Axes) for a in axes):
        raise ValueError(f"ax: this plot draws {max(n, 1)} panel(s); give as many matplotlib Axes (got {len(axes)})")
    return axes[0].get_figure(root=True), axes, False


def _panel_title(ax, text: str, **kw) -> None:
    """An axes title at a fixed height (matplotlib then skips a costly overlap check at every draw)."""
    ax.set_title(text, y=1.0, pad=4, **kw)


def figure_legend(fig: Figure, axes=None, title: str | None = None) -> None:
    """(Re)draw the figure's one legend, right of its first row, with every distinct label of its panels."""
    axes = list(axes if axes is not None else fig.axes)
    for old in list(fig.legends):
        old.remove()
    seen: dict[str, Artist] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(label, handle)
    if not seen or not axes:
        return
    box = axes[0].get_position()
    right = max(a.get_position().x1 for a in axes)
    fig.legend(
        list(seen.values()),
        list(seen),
        loc="upper left",
        bbox_to_anchor=(right + 0.01, box.y1),
        fontsize="small",
        title=title,
        borderaxespad=0,
        frameon=False,
    )


def panels_legend(fig: Figure, axes, ours: bool, title: str | None = None) -> None:
    """The figure's one legend when the figure is ours; else a legend on the last of the user's axes."""
    if ours:
        figure_legend(fig, axes, title=title)
        return
    seen: dict[str, Artist] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels()):
            seen.setdefault(label, handle)
    if seen:
        axes[-1].legend(list(seen.values()), list(seen), fontsize="x-small", title=title, loc="best")


def _reps_note(results_list, bands: bool = True) -> str:
    """How many replications, and what line and band show."""
    reps = sorted({r.reps for r in results_list})
    n = "/".join(str(x) for x in reps)
    text = f"{n} replication{'s' if reps[-1] > 1 else ''}"
    if reps[-1] > 1:
        text += (
            f": line = median, band = {BAND[0]}th-{BAND[1]}th percentile"
            if bands
            else ": mean over replications, whisker = its 95% CI"
        )
    return text


def _title(fig: Figure, title: str, results_list, bands: bool = True) -> None:
    """Figure title with the replication note on a second line."""
    fig.suptitle(
        f"{title}\n({_reps_note(results_list, bands)})", fontsize="medium", y=1 - 0.08 / fig.get_figheight(), va="top"
    )


def _items(results_list, items=None) -> list[str]:
    """Items to draw: the ones asked for, else every item with requested quantity."""
    if items is not None:
        return [items] if isinstance(items, str) else list(items)
    found: set[str] = set()
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


def step_band(x, lo, hi):
    """(x, lo, hi) of a step-post band without the grid points where neither edge changes: the same band, drawn
    with a fraction of the vertices (levels on a daily grid change on few days), so SVG files stay small."""
    x, lo, hi = np.asarray(x), np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    if len(x) < 3:
        return x, lo, hi
    same = lambda a: (a[1:] == a[:-1]) | (np.isnan(a[1:]) & np.isnan(a[:-1]))  # noqa: E731
    keep = np.r_[True, ~(same(lo) & same(hi))]  # a point matters where an edge differs from the one before
    keep[-1] = True  # the band runs to the end of the grid
    return x[keep], lo[keep], hi[keep]


def flat_band(x, lo, hi):
    """(x, lo, hi) of a band drawn straight between grid points, without the points inside a run where both
    edges stay flat (their neighbours draw the same band)."""
    x, lo, hi = np.asarray(x), np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)
    if len(x) < 3:
        return x, lo, hi
    same = lambda a: (a[1:] == a[:-1]) | (np.isnan(a[1:]) & np.isnan(a[:-1]))  # noqa: E731
    flat = same(lo) & same(hi)  # flat[i]: point i+1 equals point i
    keep = np.r_[True, ~(flat[:-1] & flat[1:]), True]
    return x[keep], lo[keep], hi[keep]


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
    same = (
        (idx >= 0) & (rep[np.clip(idx, 0, None)] == np.repeat(np.arange(reps), len(grid)))
        if len(key)
        else np.zeros(len(want), dtype=bool)
    )
    out = np.where(same, w[np.clip(idx, 0, None)] if len(key) else before, before)
    return out.reshape(reps, len(grid)).astype(float)
