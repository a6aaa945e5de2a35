"""Plots of the decision methods: sensitivity indices with their intervals (one figure, from the table)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure


def sensitivity_plot(table: pd.DataFrame, title: str | None = None) -> Figure:
    """Horizontal bars per input, largest first: Sobol S1 and ST with 95% intervals, or Morris mu* and sigma."""
    sobol = "ST" in table.columns
    rows = table.iloc[::-1]  # largest at the top
    labels = [f"{n} [{s}]" for n, s in zip(rows["input"], rows["source"])]
    fig = Figure(figsize=(8.0, 1.2 + 0.42 * len(rows)))
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
