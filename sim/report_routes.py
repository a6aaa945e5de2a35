"""The report's Network section (each network's structure and route map) and its side-by-side view of route variants.

A scenario whose every section but `transport` (its name and description aside) equals an
earlier scenario's in the report is a route variant of it: route_italy (Trieste, then rail to
Rzeszow) of baseline_2025 (Bremerhaven, then rail across Germany and Poland). For each such
pair the "Routes side by side" section shows, per replication (means, Student-t 95% intervals
across replications, the independent unit): tonnes delivered, in all and by mode; the load of
every port, airfield and hub of either network (mean tonnes a month over the run, and its
busiest month; sim.metrics.cargo); and time to delivery, every requested unit counted, with
the variant's paired difference against its reference (the same seed and replications, so
common random numbers: sim.metrics.comparison). Tonnes count delivered goods of items with a
`weight_t`, dated by their arrival in Ukraine; goods still on their way are not tonnage yet.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .metrics import cargo
from .metrics.comparison import of_results
from .report_tables import _e, _table, comparison_table, figure_html
from .stats import t_interval

_NOT_COMPARED = {"name", "description", "transport"}


def _without_transport(scenario) -> dict:
    return scenario.model_dump(exclude=_NOT_COMPARED)


def route_variants(scenarios: Sequence) -> list[tuple[int, int]]:
    """(reference, variant) positions: each scenario paired with the first earlier one it differs from only in `transport`."""
    rest = [_without_transport(sc) for sc in scenarios]
    pairs = []
    for j, sc in enumerate(scenarios):
        for i in range(j):
            if rest[i] == rest[j] and scenarios[i].transport != sc.transport:
                pairs.append((i, j))
                break
    return pairs


def route_pairs(results_list: Sequence) -> list[tuple]:
    """(reference, variant) Results of the report's route variants (route_variants)."""
    rl = list(results_list)
    return [(rl[i], rl[j]) for i, j in route_variants([r.scenario for r in rl])]


def _tonnes(m: float, lo: float = math.nan, hi: float = math.nan) -> str:
    """Tonnes with their bracketed interval, whole tonnes ('-' for none)."""
    if m != m:
        return "-"
    return f"{m:,.0f}" if lo != lo or hi != hi else f"{m:,.0f} ({lo:,.0f} to {hi:,.0f})"


def delivered_per_rep(results) -> np.ndarray:
    """Tonnes delivered in each replication (items with a weight)."""
    rows = cargo.delivered_tonnes(results.deliveries, results.scenario)
    rows = rows[rows["tonnes"].notna()]
    return np.bincount(rows["rep"].to_numpy(int), weights=rows["tonnes"], minlength=results.reps)[: results.reps]


def tonnage_table(ref, var) -> str:
    """Tonnes delivered a replication, in all and by mode, for the reference and the variant side by side."""
    shares = [cargo.mode_shares(r.deliveries, r.scenario, r.reps) for r in (ref, var)]
    rows = [["all modes", *(_tonnes(*t_interval(delivered_per_rep(r))) for r in (ref, var))]]
    for mode in cargo.MODE_ORDER:
        cells = []
        for s in shares:
            m = s.loc[mode]
            cells.append(f"{_tonnes(m['tonnes'], m['tonnes_lo'], m['tonnes_hi'])}, {m['share']:.0%} of tonnes")
        rows.append([f"by {mode}", *cells])
    untracked = [s.attrs.get("untracked_units", 0.0) for s in shares]
    note = (
        f" Units of items without a weight, not counted: {untracked[0]:,.0f} / rep and {untracked[1]:,.0f} / rep."
        if any(untracked)
        else ""
    )
    return _table(
        ["tonnes delivered / rep", ref.scenario.name, var.scenario.name],
        [[r[0], *r[1:]] for r in rows],
        caption="Tonnes delivered to Ukraine by the horizon, mean a replication (95% t-interval across "
        "replications); a route flies when any leg flies, else sails when any leg sails, else is land." + note,
    )


def loads_table(ref, var) -> str:
    """Each port, airfield and hub of either network: mean tonnes a month through it, and its busiest month."""
    loads = [cargo.node_loads(r.deliveries, r.scenario, r.reps) for r in (ref, var)]
    nodes = list(loads[0].index) + [n for n in loads[1].index if n not in loads[0].index]
    kinds = {**var.scenario.transport.nodes, **ref.scenario.transport.nodes}
    rows = []
    for node in nodes:
        row = [f"{node} ({kinds[node].kind})"]
        for load in loads:
            if node in load.index:
                x = load.loc[node]
                row += [_tonnes(x["tonnes_a_month"], x["tonnes_a_month_lo"], x["tonnes_a_month_hi"])]
                row += [_tonnes(x["busiest_month_tonnes"])]
            else:
                row += ["not on a route", "-"]
        rows.append(row)
    a, b = ref.scenario.name, var.scenario.name
    header = ["node", f"{a}: t / month", f"{a}: busiest month t", f"{b}: t / month", f"{b}: busiest month t"]
    return _table(
        header,
        rows,
        caption="Hub loads: tonnes through each node, mean a replication; t / month over the whole run (a month "
        "is 30.4 days; 95% t-interval across replications), busiest month the calendar month with the most "
        "mean tonnes. Goods count at every node of their route, dated by their arrival in Ukraine.",
    )


def routes_block(results_list: Sequence) -> str:
    """The "Routes side by side" section, or "" when no scenario in the report is a route variant of another."""
    pairs = route_pairs(results_list)
    if not pairs:
        return ""
    parts = ['<h2 id="routes">Routes side by side</h2>']
    for ref, var in pairs:
        a, b = _e(ref.scenario.name), _e(var.scenario.name)
        parts.append(
            f'<h3 id="routes-{b}">{b} against {a}</h3><p>{b} differs from {a} only in its transport network '
            "(its nodes, legs and the routes goods take); every other input is the same, and both ran with "
            f"the same seed and {var.reps} replications, so the differences below are paired.</p>"
        )
        parts.append("<h4>Tonnage</h4>" + tonnage_table(ref, var))
        parts.append("<h4>Hub loads</h4>" + loads_table(ref, var))
        parts.append("<h4>Time to delivery</h4>" + comparison_table(of_results([ref, var])))
    return "\n".join(parts)


def _pct(x: float) -> str:
    return "-" if x != x else f"{x:.0%}"


def lift_tables(results) -> str:
    """Vehicles (sorties) per leg with their load factors, and the queues at nodes with throughput; "" without either."""
    parts = []
    use = results.vehicle_use()
    if len(use):
        rows = [
            [
                f"{leg} ({u['mode']})",
                str(u["vehicle"]),
                f"{u['vehicles_per_rep']:.1f}",
                f"{u['vehicles_per_rep_lo']:.1f}-{u['vehicles_per_rep_hi']:.1f}",
                _tonnes(u["tonnes_per_rep"]),
                _pct(u["weight_factor"]),
                _pct(u["space_factor"]),
            ]
            for leg, u in use.iterrows()
        ]
        parts.append(
            _table(
                ["leg", "vehicle", "vehicles / rep", "95% CI", "tonnes / rep", "by weight", "by space"],
                rows,
                text_cols=2,
                caption="Vehicles (sorties) that left with goods, mean a replication (Student-t interval across "
                "replications), the tonnes they carried, and their load factors (mean load / limit, over vehicles "
                "that left; space in positions, else deck m2).",
            )
        )
    queues = results.node_queues()
    if len(queues):
        rows = [
            [
                node,
                f"{q['mean_queue_t']:.1f}",
                f"{q['mean_queue_t_lo']:.1f}-{q['mean_queue_t_hi']:.1f}",
                _tonnes(q["peak_queue_t"]),
                f"{q['days_queued']:.1f}",
            ]
            for node, q in queues.iterrows()
        ]
        parts.append(
            _table(
                ["node", "mean t waiting", "95% CI", "peak t waiting", "days with a queue"],
                rows,
                caption="Queues at nodes with throughput: tonnes waiting, time-weighted over the run, a replication's "
                "peak (mean over replications) and its days with goods waiting.",
            )
        )
    return "".join(parts)


def network_block(results_list: Sequence) -> str:
    """The Network section: for each distinct network in the report, its structure and its route map."""
    from .plots import network

    parts = ['<h2 id="network">Network</h2>']
    seen: list[tuple] = []
    for r in results_list:
        sc = r.scenario
        same = next((name for transport, name in seen if transport == sc.transport), None)
        lift = lift_tables(r)
        if same is not None:
            parts.append(f'<p class="note">{_e(sc.name)} uses the network of {_e(same)}.</p>')
            if lift:
                parts.append(f"<h4>Lift and hubs: {_e(sc.name)}</h4>{lift}")
            continue
        seen.append((sc.transport, sc.name))
        parts.append(f"<h3>{_e(sc.name)}</h3>")
        parts.append(
            figure_html(
                network.diagram(sc),
                f"The network of {sc.name}: nodes, legs by mode with their mean days and capacity or sailings, "
                "and what starts at each node (lines, US stock, allies' stocks).",
                f"network diagram of {sc.name}",
            )
        )
        parts.append(
            figure_html(
                network.route_map(r),
                f"Route map of {sc.name}: nodes at their latitude and longitude, each leg as wide as the tonnes "
                f"a month that crossed it (delivered goods, mean over {r.reps} replication(s)).",
                f"route map of {sc.name}",
            )
        )
        if lift:
            parts.append(f"<h4>Lift and hubs: {_e(sc.name)}</h4>{lift}")
    return "\n".join(parts)
