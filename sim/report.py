"""The HTML report: one self-contained file with the scenarios, their tables, the comparison and the plots.

Plots are PNG images embedded as base64 `data:` URIs and the style sheet is inline, so the file
opens from disk in any browser with no server and no network. It is written atomically (a
temporary sibling file renamed into place), so a killed run never leaves half a report.

Comparisons are paired: every scenario is run with the same seed and replications, so with
common random numbers the difference against the first scenario is taken replication by
replication and its 95% interval is the t-interval of those paired differences.
"""
from __future__ import annotations

import base64
import datetime as dt
import html
import math
import os
import tempfile
from pathlib import Path
from typing import Sequence

import pandas as pd

from . import plots
from .compare import difference_text


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


# --- HTML pieces ----------------------------------------------------------------------------

def _e(text) -> str:
    """HTML-escaped text."""
    return html.escape(str(text), quote=True)


def _num(v, digits: int = 1) -> str:
    """A number with thousands separators, '-' for missing."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-"
    return f"{v:,.{digits}f}"


def _ci(lo, hi) -> str:
    """A confidence interval as 'lo-hi', empty when there is none."""
    if lo is None or lo != lo:
        return ""
    return f"{lo:,.0f}-{hi:,.0f}"


def _table(header: list[str], rows: list[list[str]], text_cols: int = 1, caption: str = "",
           text_last: bool = False) -> str:
    """An HTML table from pre-formatted (unescaped) cells; the first `text_cols` columns (and the last) are text."""
    texts = set(range(text_cols)) | ({len(header) - 1} if text_last else set())
    head = "".join(f'<th class="text">{_e(h)}</th>' if i in texts else f"<th>{_e(h)}</th>"
                   for i, h in enumerate(header))
    body = []
    for row in rows:
        cells = []
        for i, c in enumerate(row):
            cls = ' class="text"' if i in texts else (' class="ci"' if header[i].endswith("CI") else "")
            cells.append(f"<td{cls}>{_e(c)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption class=\"note\">{_e(caption)}</caption>" if caption else ""
    return f"<div class=\"wide\"><table>{cap}<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"


def summary_table(results) -> str:
    """The latency summary of one Results as an HTML table."""
    s = results.summary()
    header = ["item", "lots / rep", "delivered", "undelivered lots", "mean d", "p50 d", "p90 d", "p95 d", "max d"]
    rows = []
    for item, r in s.iterrows():
        label = "all items" if item == "ALL" else plots.item_label(results.scenario, item)
        row = [label, _num(r["lots"]), f"{r['delivered_share']:.0%}" if r["delivered_share"] == r["delivered_share"] else "-",
               str(int(r["undelivered"]))]
        for c in ("mean", "p50", "p90", "p95"):
            ci = _ci(r[f"{c}_lo"], r[f"{c}_hi"])
            row.append(_num(r[c]) + (f" ({ci})" if ci else ""))
        row.append(_num(r["max"]))
        rows.append(row)
    note = " Brackets: 95% CI across replications." if results.reps > 1 else ""
    return _table(header, rows, caption=f"Latency in days over delivered lots, {results.reps} replication(s), "
                  f"seed {results.seed}; undelivered lots at the horizon are censored.{note}")


def backfill_table(results) -> str:
    """The backfill summary of one Results as an HTML table (empty string when nothing was donated)."""
    b = results.backfill_summary()
    if not len(b):
        return ""
    header = ["donor", "item", "donations / rep", "qty / rep", "replaced", "mean gap d", "gap 95% CI",
              "max gap d", "open at horizon", "open gap at least d"]
    rows = []
    for (donor, item), r in b.iterrows():
        rows.append([str(donor), plots.item_label(results.scenario, item), _num(r["donations"]), _num(r["qty"]),
                     f"{r['replaced_share']:.0%}", _num(r["gap_mean"]), _ci(r["gap_mean_lo"], r["gap_mean_hi"]),
                     _num(r["gap_max"]), str(int(r["open"])), _num(r["open_gap_min_days"], 0)])
    return _table(header, rows, text_cols=2, caption="Backfill gap: days from donation to replacement at the donor.")


def comparison_table(df: pd.DataFrame) -> str:
    """The `sim.compare` table as HTML: per item each scenario's figures and its paired difference against the first."""
    header = ["item", "scenario", "delivered", "undelivered / rep", "mean d", "p90 d", "mean minus first d",
              "verdict"]
    rows, last = [], None
    for _, r in df.iterrows():
        share = r["delivered_share"]
        diff = difference_text(r, _signed)
        label = r["item_name"]
        rows.append([label if r["item"] != last else "", r["scenario"], "-" if share != share else f"{share:.0%}",
                     _num(r["undelivered_per_rep"]), _stat(r, "mean"), _stat(r, "p90"), diff,
                     r["verdict"] or ("reference" if r["diff_reps"] == 0 and r["diff_mean"] != r["diff_mean"] else "")])
        last = r["item"]
    return _table(header, rows, text_cols=2, text_last=True, caption=(
        "Latency in days over delivered lots; brackets: 95% CI. The difference is taken per replication under "
        "common random numbers (scenario minus the first) and its bracket is the paired 95% CI."))


def _signed(v: float) -> str:
    """A signed number of days: whole days from 10 on, one decimal below."""
    return f"{v:+,.0f}" if abs(v) >= 10 else f"{v:+,.1f}"


def _stat(r, c: str) -> str:
    """A statistic with its 95% CI in brackets."""
    ci = _ci(r[f"{c}_lo"], r[f"{c}_hi"])
    return _num(r[c]) + (f" ({ci})" if ci else "")


def figure_html(fig, caption: str, alt: str) -> str:
    """A <figure> with the plot embedded as a base64 PNG data URI."""
    data = base64.b64encode(plots.png_bytes(fig, dpi=DPI)).decode("ascii")
    w, h = (int(round(v * DPI)) for v in fig.get_size_inches())
    return (f'<figure><img src="data:image/png;base64,{data}" width="{w}" height="{h}" alt="{_e(alt)}">'
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def _scenario_block(results, source: str | None) -> str:
    """A scenario's name, description, file and main settings."""
    sc = results.scenario
    end = sc.start + dt.timedelta(days=float(sc.horizon_days))
    pol = sc.policy
    facts = [f"runs {sc.start.isoformat()} to {end.isoformat()} ({sc.horizon_days:g} days)",
             f"sources in order: {', '.join(pol.sources)}",
             f"backfill: {pol.backfill}"]
    if sc.stockpiles:
        use = f"for {', '.join(pol.stockpile_priorities)} requests" if "stockpile" in pol.sources else "not a source"
        facts.append(f"allied stockpiles: {', '.join(sc.stockpiles)} ({use})")
    if sc.disruptions:
        facts.append(f"{len(sc.disruptions)} disruption(s): " + ", ".join(sorted({d.kind for d in sc.disruptions})))
    src = f"<p class=\"meta\">file <code>{_e(source)}</code></p>" if source else ""
    desc = _e(sc.description.strip()) if sc.description.strip() else "<em>no description</em>"
    return (f'<div class="scenario" id="scenario-{_e(plots._slug(sc.name))}"><h3>{_e(sc.name)}</h3>'
            f"<p>{desc}</p>{src}<p class=\"meta\">{_e('; '.join(facts))}.</p></div>")


def build_html(results_list: Sequence, sources: Sequence[str] | None = None, comparison: pd.DataFrame | None = None,
               title: str | None = None) -> str:
    """The whole report as one HTML string (images embedded); `comparison` defaults to the compare table of the results."""
    rl = list(results_list)
    sources = list(sources) if sources is not None else [None] * len(rl)
    if len(rl) > 1 and comparison is None:
        comparison = plots.comparison_frame(rl)
    names = ", ".join(r.scenario.name for r in rl)
    title = title or f"purlsim report: {names}"
    from . import __version__

    now = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    reps = sorted({r.reps for r in rl})
    seeds = sorted({r.seed for r in rl})
    parts = [f"<h1>{_e(title)}</h1>",
             f"<p class=\"meta\">{len(rl)} scenario(s); {'/'.join(map(str, reps))} replication(s) each; seed "
             f"{'/'.join(map(str, seeds))}; purlsim {_e(__version__)}; generated {now}.</p>"]
    toc = ['<li><a href="#scenarios">Scenarios</a></li>', '<li><a href="#summary">Latency summary</a></li>']
    if comparison is not None:
        toc.append('<li><a href="#comparison">Comparison</a></li>')
    toc.append('<li><a href="#plots">Plots</a></li><li><a href="#method">Method</a></li>')
    parts.append(f"<nav><ol>{''.join(toc)}</ol></nav>")

    parts.append('<h2 id="scenarios">Scenarios</h2>')
    parts += [_scenario_block(r, s) for r, s in zip(rl, sources)]

    parts.append('<h2 id="summary">Latency summary</h2>')
    for r in rl:
        parts.append(f"<h3>{_e(r.scenario.name)}</h3>" + summary_table(r) + backfill_table(r))

    if comparison is not None:
        said = [s for s in comparison["sentence"] if isinstance(s, str) and s]
        parts.append('<h2 id="comparison">Comparison</h2>')
        parts.append(f"<p>Each scenario against <strong>{_e(comparison['scenario'].iloc[0])}</strong>, with common "
                     "random numbers (the same seed and replications), paired by replication:</p>")
        parts.append('<ul class="sentences">' + "".join(f"<li>{_e(s)}</li>" for s in said) + "</ul>")
        parts.append(comparison_table(comparison))
        parts.append(figure_html(plots.comparison(comparison), "Paired differences in mean latency against the "
                                 "first scenario; whiskers are 95% confidence intervals.", "paired differences plot"))

    parts.append('<h2 id="plots">Plots</h2>')
    parts.append(figure_html(plots.latency_ecdf(rl), "Share of requested quantity delivered within a given "
                             "latency; lines end below 100% when lots are still undelivered at the horizon.",
                             "latency ECDF per item"))
    parts.append(figure_html(plots.time_breakdown(rl), "Mean days per phase over delivered lots; the bars add "
                             "up to the mean latency of the summary table.", "where the time goes"))
    if any(len(r.backfills) for r in rl):
        parts.append(figure_html(plots.backfill_gap(rl), "Days from a donation until the donor is backfilled.",
                                 "backfill gap per donor"))
    names = ", ".join(r.scenario.name for r in rl)
    parts.append(figure_html(plots.delivery_timeline(rl), "Cumulative quantity delivered per item, with package "
                             "pledges, contributions to the NATO account, pauses, outages and gates.",
                             f"delivery timeline of {names}"))
    if any(plots.stock_series(r) for r in rl):
        parts.append(figure_html(plots.stock_levels(rl), "Stock on hand against the US reserve floor and the "
                                 "allies' minimums, with donations and backfill arrivals.", f"stock levels of {names}"))

    parts.append('<h2 id="method">Method</h2><p class="note">Latency is the time from Ukraine\'s request to '
                 "delivery in Ukraine, over delivered lots. Lots not delivered by the horizon are censored: "
                 "counted as undelivered, never given a latency. Each statistic is computed within a replication; "
                 "the figure shown is its mean over replications and the interval a Student-t 95% interval across "
                 "them. Plot lines over many replications are medians; bands run from the 10th to the 90th "
                 "percentile across replications.</p>")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{_e(title)}</title><style>{CSS}</style></head><body><main>"
            + "\n".join(parts) + "</main></body></html>\n")


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


def write_report(results_list: Sequence, out, sources: Sequence[str] | None = None, **kw) -> Path:
    """Build the report of already-run Results and write it atomically to `out`."""
    return write_atomic(out, build_html(results_list, sources, **kw))


def report(scenarios: Sequence, out, reps: int = 20, seed: int | None = None, executor=None) -> Path:
    """Run scenarios (Scenario objects or paths) with common random numbers and write their report to `out`."""
    from .ensemble import run
    from .scenario import load_scenario

    loaded, sources = [], []
    for s in scenarios:
        if isinstance(s, (str, Path)):
            sources.append(str(s))
            s = load_scenario(s)
        else:
            sources.append(None)
        loaded.append(s)
    seed = loaded[0].seed if seed is None else seed
    results = [run(s, reps=reps, seed=seed, executor=executor) for s in loaded]
    return write_report(results, out, sources)
