"""The HTML report: one self-contained file with the scenarios, their tables, the comparison and the plots.

Plots are PNG images embedded as base64 `data:` URIs and the style sheet is inline, so the file
opens from disk in any browser with no server and no network. It is written atomically (a
temporary sibling file renamed into place), so a killed run never leaves half a report.

Every figure comes from the metric layer (sim.metrics): the headline counts every requested unit,
delivered or censored at the horizon (Kaplan-Meier; `> N d` where a level is not reached), and
the latency of delivered lots is a secondary view labelled "among delivered lots". Comparisons
are paired: every scenario is run with the same seed and replications and resampled by the same
bootstrap rows, so the difference against the first scenario and its 95% interval are paired.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from . import console_tables as ct
from . import plots
from .metrics.comparison import difference_text

DPI = 80  # the widest plots then come out at about the page's width (1,136 px): no pixels drawn to be scaled away
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#1d232a;background:#fff}
main{max-width:1200px;margin:0 auto;padding:1.5rem 2rem 4rem}
h1{font-size:1.7rem;margin:.2rem 0 .3rem}h2{font-size:1.3rem;margin-top:2.4rem;border-bottom:2px solid #dfe3e8;padding-bottom:.25rem}
h3{font-size:1.08rem;margin:1.4rem 0 .4rem}
.meta{color:#56606b;font-size:.9rem}.note{color:#56606b;font-size:.85rem;max-width:60rem}
nav ol{columns:2;font-size:.92rem;padding-left:1.2rem}
.wide{overflow-x:auto}table{border-collapse:collapse;font-size:.86rem;margin:.5rem 0 1rem;font-variant-numeric:tabular-nums}
th,td{border-bottom:1px solid #e3e6ea;padding:.28rem .6rem;text-align:right;white-space:nowrap}
th{background:#f3f5f7;font-weight:600}caption{caption-side:bottom;text-align:left;padding-top:.3rem}th:first-child,td:first-child,td.text,th.text{text-align:left}
td.text{white-space:normal;min-width:7rem}td.ci{color:#6a737d;font-size:.8rem}
.scenario{border-left:4px solid #4c78a8;padding:.2rem 0 .2rem 1rem;margin:1rem 0}
.scenario p{margin:.3rem 0}
ul.sentences li{margin:.25rem 0}
figure{margin:1.2rem 0 2rem}figure img{max-width:100%;height:auto;border:1px solid #eef0f2}
figcaption{font-size:.85rem;color:#56606b;margin-top:.3rem}
code{background:#f3f5f7;padding:0 .25rem;border-radius:3px}
"""

METHOD = (
    "Time to delivery runs from Ukraine's request to delivery in Ukraine. Every requested unit is one "
    "observation: delivered, or still on its way at the horizon and right-censored there, never dropped. "
    "The headline figures are Kaplan-Meier estimates pooled over replications, weighted by units (across "
    "items by value), over the requests made at least tau days before the horizon: the median and 90th "
    "percentile time to delivery ('> N' when the curve ends at N days before reaching that level), the "
    "restricted mean time to delivery up to tau days (a unit later or never delivered counts tau) and the "
    "shares delivered within 30, 90 and 180 days. Their intervals are 95% percentile intervals of a "
    "bootstrap over replications, the independent unit. Comparisons are paired under common random "
    "numbers (the same seed, replications and bootstrap resamples) and their verdicts read the restricted "
    "mean. The tables 'among delivered lots' are a secondary view: each statistic over delivered lots "
    "within a replication, its mean over replications and a Student-t 95% interval across them; they "
    "leave out what is still on its way. The backfill gap runs from the donation decision to the "
    "replacement, censored the same way. Plot bands run from the 10th to the 90th percentile across "
    "replications."
)


# --- HTML pieces ----------------------------------------------------------------------------


def _e(text) -> str:
    """HTML-escaped text."""
    return html.escape(str(text), quote=True)


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
            cells.append(f"<td{cls}>{_e(c)}</td>")
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


def figure_html(fig, caption: str, alt: str) -> str:
    """A <figure> with the plot embedded as a base64 PNG data URI."""
    data = base64.b64encode(plots.png_bytes(fig, dpi=DPI)).decode("ascii")
    w, h = (int(round(v * DPI)) for v in fig.get_size_inches())
    return (
        f'<figure><img src="data:image/png;base64,{data}" width="{w}" height="{h}" alt="{_e(alt)}">'
        f"<figcaption>{_e(caption)}</figcaption></figure>"
    )


def _scenario_block(results, source: str | None) -> str:
    """A scenario's name, description, file and main settings."""
    sc = results.scenario
    end = sc.start + dt.timedelta(days=float(sc.horizon_days))
    pol = sc.policy
    facts = [
        f"runs {sc.start.isoformat()} to {end.isoformat()} ({sc.horizon_days:g} days)",
        f"sources in order: {', '.join(pol.sources)}",
        f"backfill: {pol.backfill}",
    ]
    if sc.stockpiles:
        use = f"for {', '.join(pol.stockpile_priorities)} requests" if "stockpile" in pol.sources else "not a source"
        facts.append(f"allied stockpiles: {', '.join(sc.stockpiles)} ({use})")
    if sc.disruptions:
        facts.append(f"{len(sc.disruptions)} disruption(s): " + ", ".join(sorted({d.kind for d in sc.disruptions})))
    src = f'<p class="meta">file <code>{_e(source)}</code></p>' if source else ""
    desc = _e(sc.description.strip()) if sc.description.strip() else "<em>no description</em>"
    return (
        f'<div class="scenario" id="scenario-{_e(plots._slug(sc.name))}"><h3>{_e(sc.name)}</h3>'
        f'<p>{desc}</p>{src}<p class="meta">{_e("; ".join(facts))}.</p></div>'
    )


def build_html(
    results_list: Sequence,
    sources: Sequence[str | None] | None = None,
    comparison: pd.DataFrame | None = None,
    title: str | None = None,
) -> str:
    """The whole report as one HTML string (images embedded); `comparison` defaults to the compare table of the results."""
    rl = list(results_list)
    sources = list(sources) if sources is not None else [None] * len(rl)
    if len(rl) > 1 and comparison is None:
        comparison = plots.comparison_frame(rl)
    names = ", ".join(r.scenario.name for r in rl)
    title = title or f"purlsim report: {names}"
    from . import __version__

    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    reps = sorted({r.reps for r in rl})
    seeds = sorted({r.seed for r in rl})
    parts = [
        f"<h1>{_e(title)}</h1>",
        f'<p class="meta">{len(rl)} scenario(s); {"/".join(map(str, reps))} replication(s) each; seed '
        f"{'/'.join(map(str, seeds))}; purlsim {_e(__version__)}; generated {now}.</p>",
    ]
    toc = ['<li><a href="#scenarios">Scenarios</a></li>', '<li><a href="#summary">Time to delivery</a></li>']
    if comparison is not None:
        toc.append('<li><a href="#comparison">Comparison</a></li>')
    toc.append('<li><a href="#plots">Plots</a></li><li><a href="#method">Method</a></li>')
    parts.append(f"<nav><ol>{''.join(toc)}</ol></nav>")

    parts.append('<h2 id="scenarios">Scenarios</h2>')
    parts += [_scenario_block(r, s) for r, s in zip(rl, sources)]

    parts.append('<h2 id="summary">Time to delivery</h2>')
    for r in rl:
        parts.append(
            f"<h3>{_e(r.scenario.name)}</h3>"
            + summary_table(r)
            + "<h4>Among delivered lots</h4>"
            + delivered_table(r)
            + backfill_table(r)
        )

    if comparison is not None:
        said = [s for s in comparison["sentence"] if isinstance(s, str) and s]
        parts.append('<h2 id="comparison">Comparison</h2>')
        parts.append(
            f"<p>Each scenario against <strong>{_e(comparison['scenario'].iloc[0])}</strong>, with common "
            "random numbers (the same seed and replications) and the same bootstrap resamples of the "
            "replications, so every difference is paired; verdicts read the restricted mean time to "
            "delivery:</p>"
        )
        parts.append('<ul class="sentences">' + "".join(f"<li>{_e(s)}</li>" for s in said) + "</ul>")
        parts.append(comparison_table(comparison))
        tau = ct.days(comparison["rmst_tau"].iloc[0]) if len(comparison) else "tau"
        caption = plots.BY_NAME["comparison"].caption.replace("time to delivery", f"time to delivery to {tau} d", 1)
        parts.append(figure_html(plots.comparison(comparison), caption, "paired differences plot"))

    parts.append('<h2 id="plots">Plots</h2>')
    names = ", ".join(r.scenario.name for r in rl)
    for std in plots.STANDARD:  # the one list of standard plots; the comparison has its section above
        if std.name != "comparison" and std.applies(rl):
            parts.append(figure_html(std.draw(rl), std.caption, f"{std.name.replace('_', ' ')} of {names}"))

    parts.append('<h2 id="method">Method</h2><p class="note">' + _e(METHOD) + "</p>")
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{CSS}</style></head><body><main>"
        + "\n".join(parts)
        + "</main></body></html>\n"
    )


def write_atomic(path, text: str) -> Path:
    """Write text to `path` through a temporary sibling file renamed into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; a report is for reading
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_report(results_list: Sequence, out, sources: Sequence[str | None] | None = None, **kw) -> Path:
    """Build the report of already-run Results and write it atomically to `out`."""
    return write_atomic(out, build_html(results_list, sources, **kw))
