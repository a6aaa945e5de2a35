"""Plots of deliveries: the Kaplan-Meier share of units delivered, where the time goes, the delivery timeline."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..metrics.survival import EPS, kaplan_meier
from ..recorder import PHASE_COLUMNS
from ..stats import t_interval
from .base import (
    _band, _date_axis, _dates, _empty, _figure, _items, _one_axes, _panel_title, _rep_curves,
    _results_list, _step_on_grid, _title, _units_over_dates, BAND, BAND_LABEL, figure_legend,
    item_label, PHASE_COLOURS, PHASES, short_label, WINDOW_COLOURS)

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
