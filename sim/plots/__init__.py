"""Plots of results: each function takes Results (or a comparison or sweep DataFrame) and returns a Figure.

Figures are built as `matplotlib.figure.Figure` objects, never through pyplot, so they work on
any backend (Agg included), leave no global state behind, and display once in Jupyter (as PNG,
through `PlotFigure._repr_png_`, or the inline backend's formatter when that is active). Every
plot works for one replication (the recorded values) and for many: the line is then the median
across replications and the shaded band runs from the 10th to the 90th percentile across them.
Several Results (run with the same seed and replications) share panels, one colour each.

Time to delivery counts every requested unit (sim.metrics): a lot still on its way at the horizon
is censored there, so `latency_ecdf` draws the Kaplan-Meier share of units delivered, the phase
plot counts every lot, and the comparison and sweep plots read the headline's restricted mean.

Every plot function takes `ax=` (one matplotlib Axes, or one per panel) to draw into the user's
axes, and returns the figure. Plots draw; they compute no statistics: the comparison of Results
(sim.metrics.comparison.of_results), the phase means (sim.metrics.phases) and every interval
come from the metric layer. Scenarios differ in colour and line style, and a panel notes where
two scenarios' curves coincide exactly.

Families: `delivery` (share delivered, where the time goes), `timeline`, `stocks` (stock levels,
backfill gaps), `compare` (paired differences, sweeps, tornado), over `base`. STANDARD is the
one list of standard plots: `results.plot.NAME()`, the PNGs of `--out` and the report use it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from .base import DPI, PHASES, PlotFigure, _results_list, figure_legend, png_bytes, svg_bytes
from .compare import comparison, param_label, sweep, tornado
from .delivery import latency_ecdf, time_breakdown
from .stocks import backfill_gap, stock_levels, stock_series
from .timeline import delivery_timeline


@dataclass(frozen=True)
class Standard:
    """One standard plot of Results: its name (file stem, `results.plot` method), when it applies, its caption."""

    name: str
    draw: Callable[..., Figure]
    applies: Callable[[list], bool]
    caption: str


def _always(rl: list) -> bool:
    return True


STANDARD = [
    Standard(
        "latency_ecdf",
        latency_ecdf,
        _always,
        "Share of requested units delivered by days since request (Kaplan-Meier, every unit counted, lots "
        "still on their way censored at the horizon), pooled over replications; a line ends where the "
        "follow-up ends.",
    ),
    Standard(
        "time_breakdown",
        time_breakdown,
        _always,
        "Days per phase from request to delivery, or to the horizon for lots still on their way (their part "
        "hatched); the plot's title says which lots it counts.",
    ),
    Standard(
        "comparison",
        comparison,
        lambda rl: len(rl) > 1,
        "Paired differences in restricted mean time to delivery against the first scenario; whiskers are "
        "95% bootstrap intervals over replications.",
    ),
    Standard(
        "backfill_gap",
        backfill_gap,
        lambda rl: any(len(r.backfills) for r in rl),
        "Days from the donation decision until the donor is backfilled: Kaplan-Meier median, donations still "
        "open at the horizon censored; each donation a dot.",
    ),
    Standard(
        "delivery_timeline",
        delivery_timeline,
        _always,
        "Cumulative quantity delivered per item, with package pledges, contributions to the NATO account, "
        "pauses, outages and gates.",
    ),
    Standard(
        "stock_levels",
        stock_levels,
        lambda rl: any(stock_series(r) for r in rl),
        "Stock on hand against the US reserve floor and the allies' minimums, with donations and backfill arrivals.",
    ),
]
BY_NAME = {s.name: s for s in STANDARD}


class PlotAccessor:
    """`results.plot.NAME(...)`: the standard plots (STANDARD), bound to one Results; `others` share the panels."""

    def __init__(self, results):
        self._results = results

    def __repr__(self) -> str:
        return "results.plot: " + ", ".join(BY_NAME)

    def __dir__(self):
        return list(BY_NAME)

    def __getattr__(self, name: str):
        if name.startswith("_") or name not in BY_NAME:
            raise AttributeError(f"results.plot has no plot {name!r}; plots: {', '.join(BY_NAME)}")
        draw = BY_NAME[name].draw

        def bound(*others, **kw) -> Figure:
            return draw(self._results, *others, **kw)

        bound.__doc__ = draw.__doc__
        bound.__name__ = name
        return bound


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
    out = []
    for std in STANDARD:
        if std.applies(rl):
            data = table if std.name == "comparison" and table is not None else rl
            out.append((std.name, std.draw(data)))
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


__all__ = [
    "BY_NAME",
    "DPI",
    "PHASES",
    "STANDARD",
    "PlotAccessor",
    "PlotFigure",
    "Standard",
    "backfill_gap",
    "comparison",
    "delivery_timeline",
    "figure_legend",
    "figures_for",
    "latency_ecdf",
    "param_label",
    "png_bytes",
    "stock_levels",
    "stock_series",
    "svg_bytes",
    "sweep",
    "time_breakdown",
    "tornado",
    "write_pngs",
]
