"""Cargo: tonnes delivered, by month, by node passed and by mode (the first step of issue 19).

Tonnes are the delivered units times the item's `weight_t`; items without a weight are left
out of every tonnage and counted in `untracked_units`, never guessed. A lot is dated by its
arrival in Ukraine (the model does not yet log when it passes each node: for the Rzeszow hub
that is one border crossing, 1-2 days, earlier; for a port, weeks). A route's mode is `air`
when any of its legs flies, else `sea` when any sails, else `land`. Figures over replications
are means with Student-t 95% intervals over replications (the independent unit).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..stats import t_interval

MODE_ORDER = ("air", "sea", "land")


def _route_facts(scenario) -> tuple[dict[str, set[str]], dict[str, str]]:
    """Per route: the nodes it passes (its legs' ends) and its mode."""
    t = scenario.transport
    nodes, modes = {}, {}
    for rid, route in t.routes.items():
        legs = [t.legs[lid] for lid in route.legs]
        nodes[rid] = {leg.from_ for leg in legs} | {leg.to for leg in legs}
        kinds = {leg.mode for leg in legs}
        modes[rid] = "air" if "air" in kinds else "sea" if "sea" in kinds else "land"
    return nodes, modes


def delivered_tonnes(deliveries: pd.DataFrame, scenario) -> pd.DataFrame:
    """Delivered rows with `tonnes`, `month` (of arrival, YYYY-MM) and `mode`; rows of weightless items have NaN tonnes."""
    d = deliveries[deliveries["delivered_day"].notna()]
    weight = {k: v.weight_t for k, v in scenario.items.items()}
    _, modes = _route_facts(scenario)
    tonnes = d["qty"].to_numpy(float) * d["item"].map(weight).astype(float).to_numpy()
    dates = pd.to_datetime(scenario.start) + pd.to_timedelta(d["delivered_day"].to_numpy(float), unit="D")
    return pd.DataFrame(
        {
            "rep": d["rep"].to_numpy(int),
            "item": d["item"].to_numpy(object),
            "qty": d["qty"].to_numpy(float),
            "route": d["route"].to_numpy(object),
            "tonnes": tonnes,
            "month": dates.strftime("%Y-%m"),
            "mode": d["route"].map(modes).fillna("land").to_numpy(object),  # `direct`: no leg, counted as land
        }
    )


def monthly_through(deliveries: pd.DataFrame, scenario, reps: int, node: str | None = None) -> pd.DataFrame:
    """Per month of arrival: mean tonnes a replication (t interval) through `node` (default: all delivered)."""
    rows = delivered_tonnes(deliveries, scenario)
    if node is not None:
        passes, _ = _route_facts(scenario)
        rows = rows[rows["route"].map(lambda r: node in passes.get(r, set()))]
    start = pd.Timestamp(scenario.start)
    end = start + pd.Timedelta(days=float(scenario.horizon_days))
    months = pd.period_range(start, end, freq="M").strftime("%Y-%m")
    grid = np.zeros((len(months), reps))
    index = {m: i for i, m in enumerate(months)}
    tracked = rows[rows["tonnes"].notna()]
    np.add.at(grid, (tracked["month"].map(index).to_numpy(int), tracked["rep"].to_numpy(int)), tracked["tonnes"])
    out = [(m, *t_interval(grid[i])) for i, m in enumerate(months)]
    table = pd.DataFrame(out, columns=["month", "tonnes", "tonnes_lo", "tonnes_hi"]).set_index("month")
    table.attrs["untracked_units"] = float(rows.loc[rows["tonnes"].isna(), "qty"].sum()) / reps
    return table


def mode_shares(deliveries: pd.DataFrame, scenario, reps: int) -> pd.DataFrame:
    """Per mode: mean tonnes delivered a replication and the share of tonnage, each with a t interval over replications."""
    rows = delivered_tonnes(deliveries, scenario)
    tracked = rows[rows["tonnes"].notna()]
    per = np.zeros((len(MODE_ORDER), reps))
    where = {m: i for i, m in enumerate(MODE_ORDER)}
    np.add.at(per, (tracked["mode"].map(where).to_numpy(int), tracked["rep"].to_numpy(int)), tracked["tonnes"])
    total = per.sum(axis=0)
    share = np.divide(per, total, out=np.full_like(per, np.nan), where=total > 0)
    out = []
    for i, mode in enumerate(MODE_ORDER):
        ok = share[i][~np.isnan(share[i])]
        s = t_interval(ok) if len(ok) else (np.nan, np.nan, np.nan)
        out.append((mode, *t_interval(per[i]), *s))
    cols = ["mode", "tonnes", "tonnes_lo", "tonnes_hi", "share", "share_lo", "share_hi"]
    table = pd.DataFrame(out, columns=cols).set_index("mode")
    table.attrs["untracked_units"] = float(rows.loc[rows["tonnes"].isna(), "qty"].sum()) / reps
    return table


def leg_flows(deliveries: pd.DataFrame, scenario, reps: int) -> pd.Series:
    """Per leg: mean tonnes a month that crossed it (delivered goods on every leg of their route; a month is 30.4 days of the horizon)."""
    rows = delivered_tonnes(deliveries, scenario)
    months = max(1.0, scenario.horizon_days / 30.4)
    per_route = rows.groupby("route")["tonnes"].sum() / reps / months
    t = scenario.transport
    flow = dict.fromkeys(t.legs, 0.0)
    for rid, tonnes in per_route.items():
        for lid in t.routes[rid].legs if rid in t.routes else []:
            flow[lid] += float(tonnes)
    return pd.Series(flow, name="tonnes_a_month", dtype=float)


TRANSIT_KINDS = ("port", "airfield", "hub")  # the node kinds goods pass through (not where they start or end)


def node_loads(deliveries: pd.DataFrame, scenario, reps: int, nodes=None) -> pd.DataFrame:
    """Per node goods pass through (default: the ports, airfields and hubs on a route): mean tonnes a month
    over the run (t interval over replications; a month is 30.4 days of the horizon) and the busiest
    calendar month's mean tonnes. Goods are counted at every node of their route, dated by arrival."""
    rows = delivered_tonnes(deliveries, scenario)
    tracked = rows[rows["tonnes"].notna()]
    passes, _ = _route_facts(scenario)
    if nodes is None:
        on_routes = set().union(*passes.values()) if passes else set()
        kinds = scenario.transport.nodes
        nodes = [n for n in kinds if n in on_routes and kinds[n].kind in TRANSIT_KINDS]
    months = max(1.0, scenario.horizon_days / 30.4)
    out = []
    for node in nodes:
        routes = [rid for rid, on in passes.items() if node in on]
        through = tracked[tracked["route"].isin(routes)]
        per_rep = np.bincount(through["rep"].to_numpy(int), weights=through["tonnes"], minlength=reps)[:reps]
        peak = monthly_through(deliveries, scenario, reps, node)["tonnes"].max()
        out.append((node, *t_interval(per_rep / months), float(peak)))
    cols = ["node", "tonnes_a_month", "tonnes_a_month_lo", "tonnes_a_month_hi", "busiest_month_tonnes"]
    return pd.DataFrame(out, columns=cols).set_index("node")
