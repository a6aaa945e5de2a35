"""The tables of the HTML report: the headline, the view among delivered lots, the backfill gap, the comparison.

Cells are pre-formatted text (sim.console_tables rounds them as the console does), escaped here.
Headers say what a count is per: "/ rep" is the mean per replication; a total over all
replications says so. Headers and cells wrap (the style sheet of sim.report), so a table fits a
1,000 px window without a horizontal scroll bar.
"""

from __future__ import annotations

import base64
import html

import pandas as pd

from . import console_tables as ct
from .metrics.comparison import difference_text

# Figures are SVG: crisp on any screen, and quicker to write than PNGs. Their width and height
# in CSS pixels are their size in inches at PX_PER_INCH; the style sheet scales them down to
# the page.
PX_PER_INCH = 80

# --- HTML pieces ----------------------------------------------------------------------------


def _e(text) -> str:
    """HTML-escaped text."""
    return html.escape(str(text), quote=True)


def figure_html(fig, caption: str, alt: str) -> str:
    """A <figure> with the plot embedded as a base64 SVG data URI (an <img>: its ids cannot clash with another's)."""
    from .plots.base import svg_bytes

    data = base64.b64encode(svg_bytes(fig)).decode("ascii")
    w, h = (int(round(v * PX_PER_INCH)) for v in fig.get_size_inches())
    return (
        f'<figure><img src="data:image/svg+xml;base64,{data}" width="{w}" height="{h}" alt="{_e(alt)}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _number(text) -> str:
    """A numeric cell as HTML: it may wrap between an estimate and its bracketed interval, and at an interval's " to ", nowhere else."""
    est, sep, rest = str(text).partition(" (")
    if not sep:
        return f'<span class="n">{_e(text)}</span>'
    bounds = " ".join(f'<span class="n">{_e(b)}</span>' for b in f"({rest}".replace(" to ", " to\0").split("\0"))
    return f'<span class="n">{_e(est)}</span> <span class="iv">{bounds}</span>'


def _table(
    header: list[str], rows: list[list[str]], text_cols: int = 1, caption: str = "", text_last: bool = False
) -> str:
    """An HTML table from pre-formatted (unescaped) cells; the first `text_cols` columns (and the last) are text."""
    texts = set(range(text_cols)) | ({len(header) - 1} if text_last else set())
    head = "".join(
        f'<th class="text">{_e(h)}</th>' if i in texts else f"<th>{_e(h)}</th>" for i, h in enumerate(header)
    )
    body = []
    for row in rows:
        cells = []
        for i, c in enumerate(row):
            cls = ' class="text"' if i in texts else (' class="ci"' if header[i].endswith("CI") else "")
            cells.append(f"<td{cls}>{_e(c) if i in texts else _number(c)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f'<caption class="note">{_e(caption)}</caption>' if caption else ""
    return f'<div class="wide"><table>{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>'


def _cell(r, name: str, kind: str = "days", bound: float | None = None) -> str:
    """An estimate with its bracketed 95% interval, rounded alike; `>N` for a level not reached before `bound`."""
    return ct.estimate(r.to_dict() if hasattr(r, "to_dict") else r, name, kind, bound)


def summary_table(results) -> str:
    """The headline of one Results as an HTML table: time to delivery counting every requested unit."""
    s = results.summary()
    tau = ct.days(s["rmst_tau"].iloc[0]) if len(s) else "tau"
    header = [
        "item",
        "units / rep",
        "delivered by horizon",
        "median d",
        "p90 d",
        f"mean to {tau} d",
        "within 30 d",
        "within 90 d",
        "within 180 d",
    ]
    rows = []
    for item, r in s.iterrows():
        bound = r["followup_days"]
        rows.append(
            [
                ct.label(str(item), results.scenario),
                ct.days(r["qty"]),
                _cell(r, "delivered_share", "share"),
                _cell(r, "ttd_p50", bound=bound),
                _cell(r, "ttd_p90", bound=bound),
                _cell(r, "rmst"),
                *[_cell(r, f"share_{d}d", "share") for d in (30, 90, 180)],
            ]
        )
    return _table(
        header,
        rows,
        caption=f"{ct.headline_note(s, results.reps, results.scenario)} "
        f"{results.reps} replication(s), seed {results.seed}.",
    )


def delivered_table(results) -> str:
    """The secondary view of one Results as an HTML table: latency among delivered lots only."""
    s = results.summary()
    header = ["item", "delivered lots / rep", "undelivered lots / rep", "mean d", "p50 d", "p90 d", "p95 d", "max d"]
    rows = [
        [
            ct.label(str(item), results.scenario),
            ct.days(r["delivered_lots"], 1),
            ct.days(r["undelivered_lots"], 1),
            *[_cell(r, f"delivered_{c}") for c in ("mean", "p50", "p90", "p95")],
            ct.days(r["delivered_max"]),
        ]
        for item, r in s.iterrows()
    ]
    note = " Brackets: 95% t-interval across replications." if results.reps > 1 else ""
    return _table(
        header,
        rows,
        caption="Among delivered lots (a secondary view): latency in days of the lots "
        "delivered by the horizon, one count per lot, all requests, computed within each replication and "
        "averaged. Lots still on their way are left out, so where many are undelivered these figures "
        f"understate the delay; the table above counts them.{note}",
    )


def backfill_table(results) -> str:
    """The donor's readiness gap of one Results as an HTML table (empty string when nothing was donated)."""
    b = results.backfill_summary()
    if not len(b):
        return ""
    header = [
        "donor",
        "item",
        "donations / rep",
        "units / rep",
        "replaced",
        "median gap d",
        "mean gap, replaced d",
        "from hand-over, replaced d",
        "open at horizon / rep",
        "open gap at least d",
    ]
    rows = []
    for (donor, item), r in b.iterrows():
        rows.append(
            [
                str(donor),
                ct.label(str(item), results.scenario),
                ct.days(r["donations"], 1),
                ct.days(r["qty"], 1),
                ct.share(r["replaced_share"]),
                _cell(r, "gap_p50", bound=r["gap_rmst_tau"]),
                _cell(r, "replaced_gap_mean"),
                _cell(r, "handover_gap_mean"),
                ct.days(r["open_per_rep"], 1),
                ct.days(r["open_gap_min_days"]),
            ]
        )
    return _table(
        header,
        rows,
        text_cols=2,
        caption=(
            "Backfill: the donor's readiness gap in days, from the donation decision (the units leave its books) to "
            "the replacement entering its stock. Median: Kaplan-Meier over replications, weighted by units, donations "
            "not replaced by the horizon censored there ('> N': fewer than half replaced within N d, the shortest "
            "follow-up). Means over replaced donations only, from the decision and from the hand-over."
        ),
    )


def losses_table(results) -> str:
    """Goods lost in transit per leg (outages with `on_transit: lost`) as an HTML table ("" when none was lost)."""
    lost = results.losses
    if not len(lost):
        return ""
    reps = results.reps
    rows = []
    for leg, g in lost.groupby("leg", sort=True):
        tonnes = g["tonnes"].sum(min_count=1)
        rows.append(
            [
                str(leg),
                ct.days(len(g) / reps, 1),
                ct.days(g["qty"].sum() / reps, 1),
                "-" if tonnes != tonnes else ct.days(tonnes / reps, 1),
                ct.days(g["value_musd"].sum() / reps, 1),
            ]
        )
    return _table(
        ["leg", "lots lost / rep", "units lost / rep", "tonnes lost / rep", "value lost $M / rep"],
        rows,
        caption="Lost in transit: goods on a leg when an outage that loses them started (Results.losses), mean "
        "a replication. Their units were ordered again at once through the sourcing policy: the headline "
        "counts each unit once, delivered when its replacement arrived.",
    )


def record_table(results) -> str:
    """The scenario against its `record:` targets as an HTML table (empty string when it has none)."""
    rec = results.record()
    if not len(rec):
        return ""
    header = ["target", "on record", "model mean (95% CI)", "p10-p90", "consistent reps", "met", "source", "fitted"]
    rows = []
    for name, r in rec.iterrows():
        digits = 0 if r["unit"] == "$M" else 1
        mean = ct.days(r["model_mean"], digits)
        lower = ">= " if r["censored_reps"] else ""
        rows.append(
            [
                str(name),
                str(r["record"]),
                f"{lower}{mean} ({ct.days(r['model_lo'], digits)}-{ct.days(r['model_hi'], digits)})",
                f"{ct.days(r['model_p10'], digits)}-{ct.days(r['model_p90'], digits)}",
                ct.share(r["share_consistent"]),
                "yes" if r["met"] else "no",
                str(r["source"]),
                "yes: circular" if r["circular"] else "no",
            ]
        )
    return _table(
        header,
        rows,
        text_cols=2,
        text_last=True,
        caption=(
            "Against the record: each target measured in every replication (days, or $M), the mean with its "
            "Student-t 95% interval and the 10th-90th percentiles over replications (the record is one history, "
            "one draw). Met: the mean inside the band or on the right side of the bound. Fitted 'yes': the "
            "scenario's parameters were set from the same reports, so a match checks that the pieces add up, not "
            "a prediction. '>=': some replications had not reached the event by the horizon (counted there)."
        ),
    )


def comparison_table(df: pd.DataFrame) -> str:
    """The `sim.compare` table as HTML: per item each scenario's headline and its paired difference against the first."""
    tau = ct.days(df["rmst_tau"].iloc[0]) if len(df) else "tau"
    first = str(df["scenario"].iloc[0]) if len(df) else ""
    header = [
        "item",
        "scenario",
        "delivered by horizon",
        "median d",
        "p90 d",
        f"mean to {tau} d",
        f"mean to {tau} d minus first",
        "delivered share minus first",
        "verdict",
    ]
    rows, last = [], None
    for _, r in df.iterrows():
        bound = r["followup_days"]
        verdict = r["verdict"] or ("reference" if str(r["scenario"]) == first else "")
        rows.append(
            [
                r["item_name"] if r["item"] != last else "",
                str(r["scenario"]),
                _cell(r, "delivered_share", "share"),
                _cell(r, "ttd_p50", bound=bound),
                _cell(r, "ttd_p90", bound=bound),
                _cell(r, "rmst"),
                difference_text(r, "rmst"),
                difference_text(r, "delivered_share"),
                verdict,
            ]
        )
        last = r["item"]
    return _table(
        header,
        rows,
        text_cols=2,
        text_last=True,
        caption=(
            f"Time to delivery from request, every requested unit counted (Kaplan-Meier, censored at the horizon; "
            f"'mean to {tau} d': restricted mean, a unit later or never delivered counts {tau} d). Differences: "
            "scenario minus the first, paired under common random numbers (same seed, replications and bootstrap "
            "resamples); brackets: 95% interval. Verdicts read the restricted mean."
        ),
    )
