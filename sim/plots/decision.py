"""Plots of the decision methods: sensitivity indices with their intervals (one figure, from the table)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from .base import PlotFigure


def sensitivity_plot(table: pd.DataFrame, title: str | None = None) -> Figure:
    """Horizontal bars per input, largest first: Sobol S1 and ST with 95% intervals, or Morris mu* and sigma."""
    sobol = "ST" in table.columns
    rows = table.iloc[::-1]  # largest at the top
    labels = [f"{n} [{s}]" for n, s in zip(rows["input"], rows["source"])]
    fig = PlotFigure(figsize=(8.0, 1.2 + 0.42 * len(rows)))
    ax = fig.add_subplot(1, 1, 1)
    y = np.arange(len(rows))
    if sobol:
        for col, off, colour, name in (("S1", -0.18, "#4c72b0", "first order S1"), ("ST", 0.18, "#dd8452", "total ST")):
            v = rows[col].to_numpy()
            err = np.vstack([v - rows[f"{col}_lo"].to_numpy(), rows[f"{col}_hi"].to_numpy() - v]).clip(min=0)
            ax.barh(y + off, v, height=0.34, color=colour, xerr=err, capsize=2, label=name)
        ax.set_xlabel("share of the output's variance (95% bootstrap intervals)")
        ax.axvline(0, color="0.3", lw=0.8)
    else:
        v = rows["mu_star"].to_numpy()
        err = np.vstack([v - rows["mu_star_lo"].to_numpy(), rows["mu_star_hi"].to_numpy() - v]).clip(min=0)
        ax.barh(y - 0.18, v, height=0.34, color="#4c72b0", xerr=err, capsize=2, label="mu* (mean |effect|)")
        ax.barh(y + 0.18, rows["sigma"].to_numpy(), height=0.34, color="#8c8c8c", label="sigma (interactions)")
        ax.set_xlabel("elementary effect over the whole range of the input (output units)")
    ax.set_yticks(y, labels)
    ax.legend(loc="lower right", fontsize=8)
    attrs = table.attrs
    what = f"{attrs.get('figure', '')} of {attrs.get('group', '')}" if attrs else ""
    fig.suptitle(title or f"Sensitivity ({attrs.get('method', '')}) of {what}", fontsize=11)
    fig.tight_layout()
    return fig


def uncertainty_plot(result, title: str | None = None) -> Figure:
    """A second-order run: the histogram of outer-point means, the spread of the run within a point beside it."""
    means = result.points["mean"].to_numpy(dtype=float)
    fig = PlotFigure(figsize=(8.0, 4.2))
    ax = fig.add_subplot(1, 1, 1)
    ax.hist(means[np.isfinite(means)], bins=max(5, min(30, len(means) // 3)), color="#4c72b0", alpha=0.8,
            label=f"mean at each of {len(means)} outer points")  # fmt: skip
    top = ax.get_ylim()[1]
    m, sd_in, sd_run = result.mean, np.sqrt(result.var_inputs), np.sqrt(result.var_run)
    ax.axvline(m, color="0.2", lw=1.0)
    ax.errorbar([m], [0.92 * top], xerr=[[sd_run], [sd_run]], fmt="o", color="#dd8452", capsize=4,
                label="± 1 sd of one replication at a point (the run's randomness)")  # fmt: skip
    ax.errorbar([m], [0.84 * top], xerr=[[sd_in], [sd_in]], fmt="o", color="#4c72b0", capsize=4,
                label="± 1 sd from the inputs")  # fmt: skip
    a = result.attrs
    ax.set_xlabel(f"{a.get('figure', '')} of {a.get('group', '')}")
    ax.set_ylabel("outer points")
    ax.legend(loc="upper left", fontsize=8)
    fig.suptitle(
        title
        or f"Inputs' share of the variance {result.share_inputs:.0%} "
        f"(95% CI {result.share_lo:.0%}-{result.share_hi:.0%}); {a.get('inner', '')} replications a point",
        fontsize=11,
    )
    fig.tight_layout()
    return fig
