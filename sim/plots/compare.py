"""Plots of comparisons and sweeps: paired differences, a figure against a parameter, a tornado.

These read `sim.compare` / `sim.sweep` tables (sim.metrics.comparison), whose figures are the
headline's: the restricted mean time to delivery up to one tau for all (`rmst`, what verdicts
read), the median and p90 time to delivery, the shares delivered. They never run a simulation:
`comparison` of already-run Results computes the same table from their observations.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from ..metrics.comparison import of_results
from .base import MARKERS, _constrained, _empty, _results_list, scenario_style, target_axes

HEADLINE_LABELS = {  # figure -> (axis label, unit); a `{tau}` is filled in from the table's `rmst_tau`
    "rmst": ("restricted mean time to delivery to {tau} d", "days"),
    "ttd_p50": ("median time to delivery", "days"),
    "ttd_p90": ("90th percentile time to delivery", "days"),
    "delivered_share": ("share of requested units delivered by the horizon", "share"),
    "share_30d": ("share of requested units delivered within 30 days", "share"),
    "share_90d": ("share of requested units delivered within 90 days", "share"),
    "share_180d": ("share of requested units delivered within 180 days", "share"),
    "delivered_mean": ("mean latency among delivered lots", "days"),
    "delivered_p50": ("median latency among delivered lots", "days"),
    "delivered_p90": ("90th percentile latency among delivered lots", "days"),
    "delivered_p95": ("95th percentile latency among delivered lots", "days"),
}


def _tau(df: pd.DataFrame) -> float:
    """The table's one tau (days), NaN if it has none."""
    tau = df.attrs.get("tau")
    if tau is None and "rmst_tau" in df.columns and len(df):
        tau = df["rmst_tau"].dropna().iloc[0] if df["rmst_tau"].notna().any() else math.nan
    return float(tau) if tau is not None else math.nan


# A parameter's unit, read off the last part of its dotted path: the scenario format names its
# fields by unit (`_days`, `_per_month`, `_musd`; see sim.scenario.descriptions).
PARAM_UNITS = [
    (("rate_per_month",), "units per 30-day month per server"),
    (("_days", ".days"), "days"),
    (("_musd",), "M$"),
    (("servers",), "servers"),
    (("_share",), "share"),
    (("p_continue",), "probability"),
    (("qty", "on_hand", "min_keep", "reserve_floor", "_units"), "units"),
    (("capacity",), "lots"),
    (("weight",), "relative weight"),
]


def param_unit(param: str) -> str:
    """The unit of a swept scenario field from its name ('' when the name does not say)."""
    name = str(param)
    for endings, unit in PARAM_UNITS:
        if name.endswith(endings):
            return unit
    return ""


def param_label(param: str, unit: str | None = None) -> str:
    """An axis label for a swept parameter: its dotted name and its unit."""
    unit = param_unit(param) if unit is None else unit
    return f"{param} ({unit})" if unit else str(param)


def metric_label(metric: str, tau: float = math.nan) -> tuple[str, str]:
    """(what the metric is, its unit) for axis labels."""
    what, unit = HEADLINE_LABELS.get(metric, (metric, ""))
    return what.replace("{tau}", f"{tau:,.0f}" if tau == tau else "tau"), unit


# --- comparison -----------------------------------------------------------------------------


def _row_note(rows: pd.DataFrame, base: str) -> str:
    """What a y label must add about an item: the scenarios that did not request it, or delivered none of it."""
    notes = []
    missing = [str(s) for s in rows.loc[rows["qty"].fillna(0) <= 0, "scenario"]] if "qty" in rows else []
    if missing:
        notes.append(f"not requested in {', '.join(missing)}")
    if "delivered_share" in rows:
        none = [
            str(s) for s, q, d in zip(rows["scenario"], rows.get("qty", 1), rows["delivered_share"]) if q and d == 0
        ]
        if none:
            notes.append(f"none delivered in {', '.join(none)}")
    return "; ".join(notes)


def comparison(data, *more, ax=None) -> Figure:
    """Paired differences in restricted mean time to delivery (to tau) against the first scenario, per item, with 95% intervals.

    `data` is a `sim.compare` DataFrame, or several Results run with the same seed and
    replications (compared by sim.metrics.comparison.of_results). The difference is `diff_rmst`,
    scenario minus the first, its whisker the paired bootstrap interval (`diff_rmst_lo`/`_hi`).
    Every item of the table has a row: one a scenario did not request, or delivered none of,
    says so in its label (and where there is no difference to draw, on the plot). Each
    scenario has its own marker. ax: the Axes to draw into (default: a new figure); returns the figure.
    """
    df = data if isinstance(data, pd.DataFrame) else of_results(_results_list([data, *more]))
    base = str(df["scenario"].iloc[0]) if len(df) else "the first scenario"
    tau = _tau(df)
    tau_text = f"{tau:,.0f}" if tau == tau else "tau"
    label_col = "item_name" if "item_name" in df.columns else "item"
    others = df[df["scenario"].astype(str) != base] if len(df) else df
    scen = [str(s) for s in dict.fromkeys(others["scenario"].astype(str))]
    keys = [str(i) for i in dict.fromkeys(df[label_col].astype(str))] if len(df) else []
    notes = {k: _row_note(df[df[label_col].astype(str) == k], base) for k in keys}
    labels = [k + (f"\n({notes[k]})" if notes[k] else "") for k in keys]
    rows_n = max(len(keys) * max(len(scen), 1), 1)
    fig, (ax,), ours = target_axes(ax, 1, lambda: _constrained(10, 1.9 + 0.45 * rows_n))
    heading = (
        f"Paired differences in restricted mean time to delivery (to {tau_text} d) against {base}\n"
        "(every requested unit counted, censored at the horizon; 95% bootstrap interval over "
        "replications, common random numbers)"
    )
    if ours:
        fig.suptitle(heading, fontsize="medium")
    else:
        ax.set_title(heading, fontsize="small")
    step = 0.6 / max(len(scen), 1)
    drawn = 0
    for k, s in enumerate(scen):
        sub = others[others["scenario"].astype(str) == s]
        offset = ((len(scen) - 1) / 2 - k) * step
        ys = np.array([len(keys) - 1 - keys.index(str(i)) + offset for i in sub[label_col].astype(str)])
        x = sub["diff_rmst"].to_numpy(dtype=float)
        lo = sub["diff_rmst_lo"].to_numpy(dtype=float)
        hi = sub["diff_rmst_hi"].to_numpy(dtype=float)
        has = np.isfinite(x)
        # The interval drawn as it is: a bootstrap percentile interval need not contain its
        # estimate, which errorbar (lengths either side of the point) cannot show.
        (dots,) = ax.plot(
            x[has], ys[has], MARKERS[k % len(MARKERS)], color=f"C{k}", ls="none", label=f"{s} minus {base}"
        )
        ok = has & ~(np.isnan(lo) | np.isnan(hi))
        ax.hlines(ys[ok], lo[ok], hi[ok], color=dots.get_color())
        ax.plot(np.r_[lo[ok], hi[ok]], np.r_[ys[ok], ys[ok]], "|", color=dots.get_color(), markersize=8)
        for yi in ys[~has]:
            ax.annotate(
                f"{s}: no difference to draw",
                (0, yi),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize="x-small",
                color=dots.get_color(),
            )
        drawn += int(has.sum())
    ax.axvline(0, color="black", lw=1)
    ax.set_yticks(np.arange(len(keys))[::-1], labels)
    ax.set_ylim(-0.7, max(len(keys), 1) - 0.3)
    ax.set_xlabel(
        f"difference in restricted mean time to delivery to {tau_text} d (days; negative = faster than {base})"
    )
    ax.set_ylabel("item")
    ax.grid(axis="x", alpha=0.3)
    if scen:
        ax.legend(loc="best", fontsize="small")
    if not drawn:
        _empty(fig, ax, "no item requested in both scenarios: nothing to compare")
    return fig


# --- sweep ----------------------------------------------------------------------------------


def sweep(
    df: pd.DataFrame, param: str | None = None, metric: str = "rmst", items=None, unit: str | None = None, ax=None
) -> Figure:
    """A headline figure against a swept parameter with its 95% interval band: one line per item, or per value of a second parameter.

    `df` is a `sim.sweep` DataFrame: a column per parameter (listed in `df.attrs["params"]`, else
    the dotted column names), `item`, and `metric` with `metric_lo`/`metric_hi` (default `rmst`,
    the restricted mean time to delivery to the table's tau). A quantile the curve does not
    reach (`inf`) is left out of its line, and the title says so. The x axis reads the
    parameter's name and unit (`unit`, default from the field's name, see `param_unit`); each
    line has its own style and marker. ax: the Axes to draw into (default: a new figure).
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
    fig, (ax,), _ = target_axes(ax, 1, lambda: _constrained(8.5, 4.8))
    groups = data.groupby(keys, sort=False, observed=True) if keys else [((), data)]
    finite = lambda v: np.where(np.isfinite(v), v, np.nan)  # noqa: E731 - a level not reached is not drawn
    unreached = 0
    for k, (key, g) in enumerate(groups):
        key = key if isinstance(key, tuple) else (key,)
        if numeric:
            g = g.assign(_x=pd.to_numeric(g[param])).sort_values("_x")
            x = g["_x"].to_numpy(dtype=float)
        else:
            x = np.array([categories.index(v) for v in g[param].astype(str)], dtype=float)
        label = ", ".join(f"{k} = {v}" if k != "item" else str(v) for k, v in zip(keys, key)) or metric
        y = g[metric].to_numpy(dtype=float)
        unreached += int(np.isinf(y).sum())
        (line,) = ax.plot(x, finite(y), marker=MARKERS[k % len(MARKERS)], label=label, **scenario_style(k))
        if lo_col in g.columns and hi_col in g.columns:
            ax.fill_between(
                x,
                finite(g[lo_col].to_numpy(dtype=float)),
                finite(g[hi_col].to_numpy(dtype=float)),
                color=line.get_color(),
                alpha=0.2,
                linewidth=0,
            )
    if not numeric:
        ax.set_xticks(range(len(categories)), categories, rotation=20, ha="right", fontsize="small")
    what, y_unit = metric_label(metric, _tau(df))
    note = "band: 95% interval across replications" + (
        f"; {unreached} point(s) not reached before the curve ends are left out" if unreached else ""
    )
    ax.set_title(f"{what} against {param}\n({note})", fontsize="medium")
    ax.set_xlabel(param_label(param, unit))
    ax.set_ylabel(f"{what} ({y_unit})" if y_unit else what)
    if y_unit == "share":
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0%}"))
    ax.grid(alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return fig


# --- tornado --------------------------------------------------------------------------------


def tornado(
    effects: pd.DataFrame,
    base: float | None = None,
    metric: str = "restricted mean time to delivery",
    title: str | None = None,
    unit: str = "days",
    ax=None,
) -> Figure:
    """Tornado chart: for each parameter (index), the metric at its low and high setting, widest swing on top.

    `effects` has columns `low` and `high` (the metric at each setting, or its paired difference
    against the base with `base=0`) and optionally `low_setting`/`high_setting` (the parameter
    values, shown in the labels). Bars start at the base. The axis starts where a reader
    expects: at zero for a metric of non-negative values (so bar lengths compare honestly with
    the whole), centred on zero for differences (`base=0`). The x label carries `unit` (left
    off when `metric` already ends in a bracketed unit). ax: the Axes to draw into (default:
    a new figure); returns the figure.
    """
    e = effects.copy()
    e["swing"] = (e["high"] - e["low"]).abs()
    e = e.sort_values("swing", ascending=True)
    values = np.r_[e["low"].to_numpy(float), e["high"].to_numpy(float)]
    if base is None:
        base = float(np.nanmedian(values))
    fig, (ax,), _ = target_axes(ax, 1, lambda: _constrained(9.5, 1.8 + 0.65 * max(len(e), 1)))
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
    finite = values[np.isfinite(values)]
    top = float(np.max(np.abs(np.r_[finite, base]))) * 1.08 if len(finite) else 1.0
    if base == 0:
        ax.set_xlim(-top, top)  # differences: zero (no change) in the middle
    elif len(finite) and finite.min() >= 0 and base > 0:
        ax.set_xlim(0, top)  # a time or a share: from zero, so a bar's length is its share of the whole
    labelled = metric.rstrip().endswith(")") or not unit
    ax.set_xlabel(metric if labelled else f"{metric} ({unit})")
    ax.set_ylabel("parameter")
    what = metric.split("\n")[0]
    ax.set_title(title or f"What moves {what} most", fontsize="medium")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    return fig
