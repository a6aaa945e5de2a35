"""Pictures of a scenario's network: its structure (`diagram`) and a map of its flows (`route_map`).

`diagram` draws what the scenario says, before any run: nodes in columns by how many legs they
are from a place goods start (plants, the US depot, allies' depots), each leg an arrow with its
mode, mean days and its capacity or sailing interval, and at each node what starts there
(production lines with their rate, US stock and allies' stocks with what they may give).
`route_map` puts the nodes at their latitude and longitude (a plain equirectangular frame, no
coastlines) and draws each leg as wide as the tonnes that crossed it per month, on average over
replications (sim.metrics.cargo; items without a weight are not counted).
"""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes

from ..scenario.distributions import as_dist
from .base import PlotFigure

MODE_COLOURS = {"sea": "tab:blue", "air": "tab:red", "rail": "tab:brown", "road": "tab:gray"}
KIND_MARKERS = {"plant": "s", "depot": "D", "port": "v", "airfield": "^", "hub": "o", "destination": "*"}


def _figure(ax: Axes | None, size: tuple[float, float]):
    if ax is not None:
        return ax.figure, ax
    fig = PlotFigure(figsize=size, layout="constrained")
    return fig, fig.add_subplot()


def _leg_label(leg) -> str:
    days = as_dist(leg.days).mean()
    label = f"{leg.mode}, {days:.3g} d"
    if leg.departures is not None:
        label += f", every {leg.departures.every_days:g} d"
    if leg.capacity is not None:
        label += f", {leg.capacity} lots" + (" a sailing" if leg.departures is not None else " at once")
    v = leg.vehicles
    if v is not None:
        if leg.departures is None:
            label += ", daily"
        space = "".join(f", {lim:g} {'pos' if f == 'positions' else 'm2'}" for f, lim in v.limits())
        label += f"\n{v.per_departure} x {v.name or 'vehicle'} ({v.payload_t:g} t{space})"
    return label


def _handling_label(node) -> str:
    """A node's throughput, as a short line ('' without handling)."""
    h = getattr(node, "handling", None)
    if h is None:
        return ""
    now = f"{h.tonnes_per_day:g} t/day" if h.tonnes_per_day is not None else f"{h.on_ground} on the ground"
    changes = h.changes or []
    return now + (f", {len(changes)} change(s) from {changes[0].from_}" if changes else "")


def _what_starts_at(scenario) -> dict[str, list[str]]:
    """Per node: the lines, US stock and allies' stocks there, as short lines of text."""
    notes: dict[str, list[str]] = {}
    for lid, line in scenario.production.items():
        rate = (
            f"{line.rate_per_month:g}/month"
            if line.rate_per_month is not None
            else f"{as_dist(line.unit_days).mean():.3g} d a unit"
        )
        notes.setdefault(line.node, []).append(f"line {lid}: {line.item}, {rate}")
    us = scenario.us_stock
    if us.items:
        above = ", ".join(f"{i} {s.on_hand - s.reserve_floor:,}" for i, s in us.items.items())
        notes.setdefault(us.node, []).append(f"US stock above floor: {above}")
    for ally, pile in scenario.stockpiles.items():
        spare = ", ".join(f"{i} {s.on_hand - s.min_keep}" for i, s in pile.items.items())
        notes.setdefault(pile.node, []).append(f"{ally} may give: {spare}")
    return notes


def _columns(scenario) -> dict[str, int]:
    """Each node's column: the most legs on a path to it from a node where goods start, so every
    leg points rightwards (unreached nodes last; a cycle, which no route needs, stops growing)."""
    legs = list(scenario.transport.legs.values())
    starts = set(_what_starts_at(scenario)) | {leg.from_ for leg in legs} - {leg.to for leg in legs}
    column = {n: 0 for n in starts}
    for _ in range(len(scenario.transport.nodes)):
        changed = False
        for leg in legs:
            if leg.from_ in column and column.get(leg.to, -1) < column[leg.from_] + 1:
                column[leg.to] = column[leg.from_] + 1
                changed = True
        if not changed:
            break
    last = max(column.values(), default=0) + 1
    return {n: column.get(n, last) for n in scenario.transport.nodes}


def diagram(scenario, ax: Axes | None = None):
    """The scenario's structure: nodes, legs with their capacities, and what starts where."""
    nodes = scenario.transport.nodes
    column = _columns(scenario)
    rows: dict[int, int] = {}
    pos = {}
    for name in nodes:  # in file order within a column
        c = column[name]
        pos[name] = (c, -rows.get(c, 0))
        rows[c] = rows.get(c, 0) + 1
    width = 3.2 * (max(column.values(), default=0) + 1)
    fig, ax = _figure(ax, (max(8.0, width), 1.4 + 1.3 * max(rows.values(), default=1)))
    for lid, leg in scenario.transport.legs.items():
        (x0, y0), (x1, y1) = pos[leg.from_], pos[leg.to]
        colour = MODE_COLOURS[leg.mode]
        ax.annotate(
            "", (x1, y1), (x0, y0), arrowprops={"arrowstyle": "-|>", "color": colour, "shrinkA": 9, "shrinkB": 9}
        )
        ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.08, f"{lid}\n{_leg_label(leg)}", ha="center", fontsize=7, color=colour)
    notes = _what_starts_at(scenario)
    for name, (x, y) in pos.items():
        ax.plot([x], [y], KIND_MARKERS[nodes[name].kind], color="black", markersize=9)
        ax.text(x, y - 0.2, f"{name} ({nodes[name].kind})", ha="center", va="top", fontsize=8, weight="bold")
        lines = ([_handling_label(nodes[name])] if _handling_label(nodes[name]) else []) + notes.get(name, [])
        if lines:
            ax.text(x, y - 0.42, "\n".join(lines), ha="center", va="top", fontsize=6.5, color="dimgray")
    ax.set_xlim(-0.7, max(column.values(), default=0) + 0.7)
    ax.set_ylim(-max(rows.values(), default=1) - 0.3, 0.6)
    ax.set_axis_off()
    ax.set_title(f"{scenario.name}: network (arrows: legs by mode; grey: what starts at a node)", fontsize=10)
    return fig


EUROPE = (-12.0, 42.0, 36.0, 58.0)  # lon/lat box of the second panel: where the hubs crowd


def _draw_flows(ax: Axes, t, placed, flow, top, box=None) -> None:
    inside = {n: p for n, p in placed.items() if box is None or (box[0] <= p[0] <= box[2] and box[1] <= p[1] <= box[3])}
    for lid, leg in t.legs.items():
        if leg.from_ in placed and leg.to in placed and (leg.from_ in inside or leg.to in inside):
            (x0, y0), (x1, y1) = placed[leg.from_], placed[leg.to]
            ax.plot([x0, x1], [y0, y1], color=MODE_COLOURS[leg.mode], lw=0.8 + 7 * flow[lid] / top, alpha=0.7)
            if leg.from_ in inside and leg.to in inside:
                ax.text(
                    (x0 + x1) / 2, (y0 + y1) / 2, f"{flow[lid]:,.0f} t/mo", fontsize=7, color=MODE_COLOURS[leg.mode]
                )
    for name, (x, y) in inside.items():
        ax.plot([x], [y], KIND_MARKERS[t.nodes[name].kind], color="black", markersize=7)
        ax.annotate(name, (x, y), xytext=(4, 4), textcoords="offset points", fontsize=8)
    if inside:
        ys = np.array([p[1] for p in inside.values()])
        ax.set_aspect(1 / np.cos(np.radians(ys.mean())))  # degrees of longitude shrink with latitude
    if box is not None:
        ax.set_xlim(box[0], box[2])
        ax.set_ylim(box[1], box[3])
    ax.set_xlabel("longitude (degrees)")
    ax.set_ylabel("latitude (degrees)")


def route_map(results, ax=None):
    """Nodes at their latitude and longitude, each leg as wide as its mean tonnes a month: the whole
    network and Europe's hubs (`ax`: two Axes); nodes without a position are left out and named."""
    from ..metrics.cargo import leg_flows

    sc = results.scenario
    t = sc.transport
    placed = {n: (node.lon, node.lat) for n, node in t.nodes.items() if node.lat is not None and node.lon is not None}
    if ax is None:
        fig = PlotFigure(figsize=(11.0, 4.6), layout="constrained")
        axes = fig.subplots(1, 2, width_ratios=[1.4, 1])
    else:
        axes = list(ax)
        fig = axes[0].figure
    flow = leg_flows(results.deliveries, sc, results.reps).to_dict()
    top = max(flow.values(), default=0.0) or 1.0
    _draw_flows(axes[0], t, placed, flow, top)
    _draw_flows(axes[1], t, placed, flow, top, EUROPE)
    axes[0].set_title("whole network", fontsize=9)
    axes[1].set_title("Europe", fontsize=9)
    missing = sorted(set(t.nodes) - set(placed))
    note = f"; no position: {', '.join(missing)}" if missing else ""
    fig.suptitle(
        f"{sc.name}: tonnes a month on each leg, mean over {results.reps} replication(s) and the whole run{note}",
        fontsize=10,
    )
    return fig
