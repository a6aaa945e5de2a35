"""Plots of stocks: US stock and allied stockpiles against their floors, and the donors' backfill gaps."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .base import (
    BAND_LABEL,
    _band,
    _date_axis,
    _dates,
    _empty,
    _figure,
    _one_panel,
    _panel_title,
    _rep_curves,
    _results_list,
    _step_on_grid,
    _title,
    _units_over_dates,
    coincide_note,
    item_label,
    panels_legend,
    scenario_style,
    short_label,
    step_band,
    target_axes,
)

# --- stock levels ---------------------------------------------------------------------------


def stock_series(results) -> list[str]:
    """Level series of stock: 'us_stock:ITEM' then 'stockpile:ALLY:ITEM'."""
    names = sorted(str(s) for s in results.levels["series"].unique())
    return [s for s in names if s.startswith("us_stock:")] + [s for s in names if s.startswith("stockpile:")]


def _level_curves(lv: pd.DataFrame, reps: int, grid: np.ndarray) -> np.ndarray:
    """Per replication, the level (last value recorded at or before each grid day)."""
    return _rep_curves(
        lv["rep"].to_numpy(),
        lv["day"].to_numpy(dtype=float),
        lv["value"].to_numpy(dtype=float),
        reps,
        grid,
        cumulative=False,
        before=np.nan,
    )


def _stock_limit(scenario, name: str) -> tuple[str, int]:
    """(what, level) of the line a series must not go below: the US reserve floor or the ally's minimum."""
    parts = name.split(":")
    if parts[0] == "us_stock":
        level = scenario.us_stock.items.get(parts[1])
        return "reserve floor", level.reserve_floor if level is not None else 0
    pile = scenario.stockpiles.get(parts[1])
    return "minimum kept", pile.items[parts[2]].min_keep if pile is not None and parts[2] in pile.items else 0


def stock_levels(results, *more, series=None, ax=None) -> Figure:
    """US stock against its reserve floor and allied stockpiles against their minimum, with donations and backfill arrivals; one line per scenario.

    Donations and backfill arrivals are marked on the stock line at the day they happen (on the
    median line with many replications). Scenarios differ in colour and line style; a panel says
    so where two scenarios' lines coincide exactly. ax: one Axes per series (default: a new
    figure); returns the figure.
    """
    rl = _results_list([results, *more])
    multi = len(rl) > 1
    if series is not None:
        names = [series] if isinstance(series, str) else list(series)
    else:
        found = list(dict.fromkeys(s for r in rl for s in stock_series(r)))
        names = [s for s in found if s.startswith("us_stock:")] + [s for s in found if s.startswith("stockpile:")]
    fig, axes, ours = target_axes(
        ax, len(names), lambda: _figure(len(names), ncols=2 if len(names) > 1 else 1, sharex=False, right=2.9)
    )
    if ours:
        _title(fig, ", ".join(r.scenario.name for r in rl) + ": stock levels", rl)
    if not names:
        _empty(fig, axes[0], "no stock recorded in this scenario")
        axes[0].set_xlabel("date")
        axes[0].set_ylabel("on hand (units)")
        return fig
    start = min(_dates(r.scenario, [0.0])[0] for r in rl)
    end = max(_dates(r.scenario, [r.horizon_days])[0] for r in rl)
    wanted = set(names)
    by_series = [
        {str(k): g for k, g in r.levels[r.levels["series"].isin(wanted)].groupby("series", observed=True)} for r in rl
    ]
    for ax, name in zip(axes, names):
        parts = name.split(":")
        limits: dict[tuple[str, int], list[int]] = {}
        curves = []
        for k, r in enumerate(rl):
            lv = by_series[k].get(name)
            if lv is None or not len(lv):
                continue
            sc = r.scenario
            label = "on hand" + (f": {sc.name}" if multi else "") + (" (median)" if r.reps > 1 else "")
            if r.reps == 1:
                x = np.concatenate([lv["day"].to_numpy(dtype=float), [r.horizon_days]])
                y = lv["value"].to_numpy(dtype=float)
                y = np.concatenate([y, y[-1:]])
            else:
                x = np.arange(0.0, r.horizon_days + 1.0)
                y, lo, hi = _band(_level_curves(lv, r.reps, x))
                bx, blo, bhi = step_band(x, lo, hi)
                ax.fill_between(
                    _dates(sc, bx), blo, bhi, step="post", color=f"C{k}", alpha=0.2, linewidth=0, label=BAND_LABEL
                )
            ax.step(_dates(sc, x), y, where="post", label=label, **scenario_style(k))
            curves.append((sc.name, x, y))
            limits.setdefault(_stock_limit(sc, name), []).append(k)
            if parts[0] == "stockpile":
                b = r.backfills
                mine = b[(b["donor"] == parts[1]) & (b["item"] == parts[2])]
                alpha = max(0.15, 1.0 / math.sqrt(r.reps))
                for col, marker, what in (
                    ("donated_day", "v", "donation"),
                    ("backfilled_day", "^", "backfill arrival"),
                ):
                    days = np.sort(mine[col].dropna().to_numpy(dtype=float))
                    if len(days):
                        # on the line, where the level changed: a marker's height is the stock it left
                        ax.plot(
                            _dates(sc, days),
                            _step_on_grid(x, y, days, before=float(y[0])),
                            marker,
                            ls="none",
                            color=f"C{k}",
                            mec="black",
                            mew=0.5,
                            alpha=alpha,
                            label=f"{what}" + (f": {sc.name}" if multi else ""),
                        )
        coincide_note(ax, curves)
        for (what, level), ks in limits.items():
            colour = "tab:red" if len(limits) == 1 else f"C{ks[0]}"
            ax.axhline(
                level,
                color=colour,
                ls="--",
                lw=1.2,
                label=what if len(limits) == 1 else f"{what}: {', '.join(rl[k].scenario.name for k in ks)}",
            )
            ax.annotate(
                f"{what} {level:,}",
                (1.0, level),
                xycoords=("axes fraction", "data"),
                xytext=(-3, 3),
                textcoords="offset points",
                ha="right",
                va="bottom",
                fontsize="x-small",
                color=colour,
            )
        sc0 = rl[0].scenario
        item = parts[1] if parts[0] == "us_stock" else parts[2]
        title = (
            f"US stock: {item_label(sc0, item)}"
            if parts[0] == "us_stock"
            else f"{parts[1]} stockpile: {item_label(sc0, item)}"
        )
        if len(title) > 64 and item in sc0.items:
            title = title.replace(f" ({item})", "")
        _panel_title(ax, title, loc="left", fontsize="medium")
        ax.set_xlabel("date")
        _units_over_dates(ax, "on hand (units)", start, end)
        _date_axis(ax)
    panels_legend(fig, axes, ours)
    return fig


# --- backfill gap ---------------------------------------------------------------------------


def backfill_gap(results, *more, ax=None) -> Figure:
    """Backfill gap per donor and item, from the donation decision: Kaplan-Meier median (censored at the horizon), 95% interval, each donation a dot.

    A donation not replaced by the horizon is censored (drawn as an open marker at its gap so
    far); a median the curve does not reach is drawn hatched to its bound and labelled `> N d`
    (N: `gap_rmst_tau`, the shortest follow-up of the group, as in the backfill table). Counts
    of donations are totals over all replications, and say so. ax: the Axes to draw into
    (default: a new figure); returns the figure.
    """
    rl = _results_list([results, *more])
    rows = []  # (label, summary row, replaced gaps, open gaps so far, donations)
    for r in rl:
        b = r.backfills
        for (donor, item), s in r.backfill_summary().iterrows():
            g = b[(b["donor"].astype(str) == str(donor)) & (b["item"].astype(str) == str(item))]
            still = g[g["backfilled_day"].isna()]
            label = f"{donor}: {short_label(r.scenario, item)}" + (f"\n{r.scenario.name}" if len(rl) > 1 else "")
            rows.append(
                (
                    label,
                    s,
                    g["backfill_gap_days"].dropna().to_numpy(dtype=float),
                    (r.horizon_days - still["decided_day"]).to_numpy(dtype=float),
                    len(g),
                    r.reps,
                )
            )
    fig, (ax,), ours = target_axes(ax, 1, lambda: _one_panel(11, len(rows), 0.85, [row[0] for row in rows]))
    reps = sorted({r.reps for r in rl})
    note = f"{'/'.join(map(str, reps))} replication{'s' if reps[-1] > 1 else ''}" + (
        ": bar = median over replications, whisker = 95% bootstrap interval" if reps[-1] > 1 else ""
    )
    heading = f"Backfill gap per donor: days from the donation decision to the replacement\n({note})"
    if ours:
        fig.suptitle(heading, fontsize="medium", y=1 - 0.08 / fig.get_figheight(), va="top")
    else:
        ax.set_title(heading, fontsize="medium")
    y = np.arange(len(rows))[::-1]
    p50 = np.array([row[1]["gap_p50"] for row in rows], dtype=float)
    bound = np.array([row[1]["gap_rmst_tau"] for row in rows], dtype=float)
    reached = np.isfinite(p50) | np.isnan(p50)
    bars = ax.barh(
        y,
        np.nan_to_num(np.where(reached, p50, bound)),
        height=0.55,
        color="tab:orange",
        alpha=0.6,
        label="median gap from the donation decision (Kaplan-Meier)",
    )
    rng = np.random.default_rng(0)
    seen = set()

    def once(label):
        """The label the first time it is drawn, None after (one legend entry each)."""
        if label in seen:
            return None
        seen.add(label)
        return label

    for yi, row, patch, ok, n_bound in zip(y, rows, bars.patches, reached, bound):
        label, s, done, still, n, n_reps = row
        if not ok:
            patch.set_hatch("//")
            ax.annotate(
                f"median > {n_bound:,.0f} d (fewer than half replaced)",
                (n_bound, yi),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize="x-small",
            )
        lo, hi = s["gap_p50_lo"], s["gap_p50_hi"]
        if lo == lo and math.isfinite(lo):
            top = hi if math.isfinite(hi) else n_bound
            # Drawn about its own centre, so the whisker spans the interval as it is: a bootstrap
            # interval need not contain its estimate, and lengths either side of it would clip.
            ax.errorbar(
                [(lo + top) / 2],
                [yi],
                xerr=[[(top - lo) / 2], [(top - lo) / 2]],
                fmt="none",
                ecolor="black",
                capsize=4,
                lw=1.2,
                label=once("95% interval of the median"),
            )
        if len(done):
            ax.plot(
                done,
                yi + rng.uniform(-0.2, 0.2, len(done)),
                "o",
                ms=3,
                color="0.25",
                alpha=0.5,
                label=once("one replaced donation"),
            )
        if len(still):
            ax.plot(
                still,
                yi + rng.uniform(-0.2, 0.2, len(still)),
                ">",
                ms=4,
                mfc="none",
                color="tab:red",
                alpha=0.6,
                label=once("one donation open at the horizon (gap so far)"),
            )
            ax.annotate(
                f"{len(still)} of {n} donations (total over {n_reps} replication{'s' if n_reps > 1 else ''}) "
                f"not replaced by the horizon (open for at least {s['open_gap_min_days']:,.0f} d)",
                (0, yi + 0.31),
                xytext=(3, 0),
                textcoords="offset points",
                va="bottom",
                fontsize="x-small",
                color="tab:red",
            )
    if not rows:
        _empty(fig, ax, "no donations from allied stockpiles: no backfill gap")
    ax.set_yticks(y, [row[0] for row in rows])
    ax.set_xlabel(
        "days a donor is short of what it gave, from the donation decision to the replacement\n"
        "(donations still open are censored at the horizon)"
    )
    ax.set_ylabel("donor: item")
    ax.set_xlim(left=0)
    ax.set_ylim(-0.6, max(len(rows), 1) - 0.2)
    ax.grid(axis="x", alpha=0.3)
    if rows and ours:
        fig.legend(
            *ax.get_legend_handles_labels(),
            loc="lower center",
            bbox_to_anchor=(0.5, 0.02),
            ncols=3,
            fontsize="small",
            frameon=False,
        )
    elif rows:
        ax.legend(fontsize="x-small", loc="best")
    return fig
