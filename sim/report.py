"""The HTML report: one self-contained file with the scenarios, their tables, the comparison and the plots.

It answers first: a summary block at the top gives the fastest option per item on the
headline, by how much and how sure (sim.metrics.findings), and the donors' gaps; the comparison's
sentences follow largest effect first. A scenario that differs from an earlier one only in its
transport network is set beside it (tonnage, hub loads, paired latency), and each distinct
network is drawn with its route map (sim.report_routes). Plots are SVG images (crisp on HiDPI screens) embedded as
base64 `data:` URIs and the style sheet is inline, so the file opens from disk in any browser with
no server and no network; tables wrap to fit a 1,000 px window. It is written atomically (a
temporary sibling file renamed into place), so a killed run never leaves half a report.

Every figure comes from the metric layer (sim.metrics): the headline counts every requested unit,
delivered or censored at the horizon (Kaplan-Meier; `> N d` where a level is not reached), and
the latency of delivered lots is a secondary view labelled "among delivered lots". Comparisons
are paired: every scenario is run with the same seed and replications and resampled by the same
bootstrap rows, so the difference against the first scenario and its 95% interval are paired.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from . import console_tables as ct
from . import plots
from .metrics import findings
from .metrics.comparison import days as round_days
from .metrics.comparison import of_results
from .report_routes import network_block, routes_block
from .report_tables import (
    PX_PER_INCH,
    _e,
    backfill_table,
    comparison_table,
    delivered_table,
    figure_html,
    losses_table,
    record_table,
    summary_table,
)

__all__ = ["PX_PER_INCH", "build_html", "figure_html", "write_atomic", "write_report"]

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,sans-serif;margin:0;color:#1d232a;background:#fff}
main{max-width:1200px;margin:0 auto;padding:1.5rem 2rem 4rem;box-sizing:border-box}
h1{font-size:1.7rem;margin:.2rem 0 .3rem}h2{font-size:1.3rem;margin-top:2.4rem;border-bottom:2px solid #dfe3e8;padding-bottom:.25rem}
h3{font-size:1.08rem;margin:1.4rem 0 .4rem}
.meta{color:#56606b;font-size:.9rem}.note{color:#56606b;font-size:.85rem;max-width:60rem}
nav ol{columns:2;font-size:.92rem;padding-left:1.2rem}
.answer{background:#f6f8fa;border:1px solid #dfe3e8;border-radius:6px;padding:.2rem 1.2rem .6rem;margin:1rem 0 1.4rem}
.answer h2{margin-top:.8rem;border:0;font-size:1.2rem}.answer ul{padding-left:1.2rem;margin:.4rem 0}.answer li{margin:.3rem 0}
.answer p{margin:.4rem 0}
.wide{overflow-x:auto}table{border-collapse:collapse;font-size:.84rem;margin:.5rem 0 1rem;font-variant-numeric:tabular-nums;max-width:100%}
th,td{border-bottom:1px solid #e3e6ea;padding:.28rem .5rem;text-align:right;white-space:normal;overflow-wrap:break-word}
th{background:#f3f5f7;font-weight:600;vertical-align:bottom;hyphens:auto}td{vertical-align:top}
caption{caption-side:bottom;text-align:left;padding-top:.3rem}th:first-child,td:first-child,td.text,th.text{text-align:left}
td.text{min-width:6rem}td.ci{color:#6a737d;font-size:.8rem}.n{white-space:nowrap}.iv{color:#56606b}
.scenario{border-left:4px solid #4c78a8;padding:.2rem 0 .2rem 1rem;margin:1rem 0}
.scenario p{margin:.3rem 0}
ul.sentences li{margin:.25rem 0}
figure{margin:1.2rem 0 2rem}figure img{max-width:100%;height:auto;border:1px solid #eef0f2}
figcaption{font-size:.85rem;color:#56606b;margin-top:.3rem}
code{background:#f3f5f7;padding:0 .25rem;border-radius:3px;overflow-wrap:anywhere}
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


# --- the summary at the top ---------------------------------------------------------------------


def _median(row) -> str:
    """A median in days, `> N` where the curve ends before half the units arrive."""
    v = row["ttd_p50"]
    return f"> {ct.days(row['followup_days'])}" if v == float("inf") else ct.days(v)


def _fastest_items(comparison: pd.DataFrame) -> list[str]:
    """The summary's lines on the comparison: per item the fastest option, by how much, how sure (HTML)."""
    best = findings.fastest(comparison)
    tau = ct.days(comparison["rmst_tau"].iloc[0])
    ranked = best.assign(_all=best["item"] != "ALL", _lead=-best["lead"].fillna(0.0))
    ranked = ranked.sort_values(["_all", "_lead"], kind="stable")
    lines, same, single = [], [], []
    for _, b in ranked.iterrows():
        name = _e(b["item_name"])
        figures = f"mean to {tau} d: {ct.days(b['rmst'])} d, median {_median(b)} d"
        if b["sure"] == "significant":
            lead, lo, hi = round_days(b["lead"], b["lead_lo"], b["lead_hi"])
            lines.append(
                f"<li><strong>{name}</strong>: <strong>{_e(b['fastest'])}</strong> is fastest, {lead} days "
                f"ahead of {_e(b['against'])} (paired 95% CI {lo} to {hi} days: significant); {figures}.</li>"
            )
        elif b["sure"] == "only option":
            single.append(f"{name} (only in {_e(b['fastest'])}; {figures})")
        elif b["sure"] == "tied":
            same.append(f"{name} ({_e(b['fastest'])} tie exactly)")
        elif b["sure"] == "too few replications":
            same.append(f"{name} ({_e(b['fastest'])} lowest; too few replications for an interval)")
        else:
            lead, lo, hi = round_days(b["lead"], b["lead_lo"], b["lead_hi"])
            same.append(f"{name} ({_e(b['fastest'])} lowest by {lead} d, 95% CI {lo} to {hi})")
    if same:
        lines.append("<li>No option significantly faster: " + "; ".join(same) + ".</li>")
    if single:
        lines.append("<li>Requested in one scenario only: " + "; ".join(single) + ".</li>")
    return lines


def _headline_items(results) -> list[str]:
    """The summary's lines for one scenario: each item's headline (HTML)."""
    s = results.summary()
    s = s.loc[[i for i in s.index if i == "ALL"] + [i for i in s.index if i != "ALL"]]
    tau = ct.days(s["rmst_tau"].iloc[0]) if len(s) else "tau"
    return [
        f"<li><strong>{_e(ct.label(str(item), results.scenario))}</strong>: median {_median(r)} d, mean to {tau} d: "
        f"{ct.days(r['rmst'])} d, {ct.share(r['delivered_share'])} delivered by the horizon.</li>"
        for item, r in s.iterrows()
    ]


def _donor_gaps(results_list) -> list[str]:
    """Per scenario with donations, each donor's median gap from the donation decision to the replacement (HTML)."""
    out = []
    for r in results_list:
        parts = []
        for (donor, item), g in r.backfill_summary().iterrows():
            p50, lo, hi = g["gap_p50"], g["gap_p50_lo"], g["gap_p50_hi"]
            median = f"> {ct.days(g['gap_rmst_tau'])}" if p50 == float("inf") else ct.days(p50)
            shown = lo == lo and hi == hi and hi != float("inf") and not ct.days(lo) == ct.days(hi) == median
            ci = f" (95% CI {ct.days(lo)} to {ct.days(hi)})" if shown else ""
            parts.append(
                f"{_e(donor)}, {_e(ct.label(str(item), r.scenario))}: median {median} d{ci}, "
                f"{ct.share(g['replaced_share'])} replaced by the horizon"
            )
        if parts:
            out.append(f"<li>{_e(r.scenario.name)}: " + "; ".join(parts) + ".</li>")
    return out


def _unsigned_zero(text: str) -> str:
    """'-0' and '-0.0' (a rounded difference of nothing) written without their sign."""
    return re.sub(r"-(0(?:\.0+)?)(?![\d.])", r"\1", text)


def summary_block(results_list: Sequence, comparison: pd.DataFrame | None) -> str:
    """The answer first: the fastest option per item and how sure (or one scenario's headline), and the donor gaps."""
    rl = list(results_list)
    reps = "/".join(str(x) for x in sorted({r.reps for r in rl}))
    if comparison is not None and len(comparison):
        tau = ct.days(comparison["rmst_tau"].iloc[0])
        lead = (
            f"Fastest option per item on the restricted mean time to delivery to {tau} d (a unit later or never "
            f"delivered counts {tau} d), paired against {_e(comparison['scenario'].iloc[0])} over {reps} "
            "replications with common random numbers:"
        )
        items = _fastest_items(comparison)
    else:
        lead = f"Time to delivery in {_e(rl[0].scenario.name)}, every requested unit counted, {reps} replication(s):"
        items = _headline_items(rl[0])
    gaps = _donor_gaps(rl)
    gap_text = (
        "<p><strong>Donor gaps</strong>, days from the donation decision to the replacement (Kaplan-Meier, "
        f"share of donated units replaced):</p><ul>{''.join(gaps)}</ul>"
        if gaps
        else "<p><strong>Donor gaps</strong>: no allied stockpile donated.</p>"
    )
    return (
        '<section class="answer" id="answer"><h2 id="summary-first">Summary</h2>'
        f"<p>{lead}</p><ul>{_unsigned_zero(''.join(items))}</ul>{gap_text}</section>"
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
    sensitivity: pd.DataFrame | None = None,
) -> str:
    """The whole report as one HTML string (images embedded); `comparison` defaults to the compare table of the results.

    sensitivity: a study's table (sim.sensitivity, or read back from `purlsim sensitivity --out`): a Sensitivity section.
    """
    rl = list(results_list)
    sources = list(sources) if sources is not None else [None] * len(rl)
    if len(rl) > 1 and comparison is None:
        comparison = of_results(rl)
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
    if any(r.scenario.record for r in rl[:1]) or any(
        r.scenario.record != rl[0].scenario.record for r in rl[1:] if r.scenario.record
    ):
        toc.append('<li><a href="#record">Against the record</a></li>')
    if comparison is not None:
        toc.append('<li><a href="#comparison">Comparison</a></li>')
    routes = routes_block(rl)
    if routes:
        toc.append('<li><a href="#routes">Routes side by side</a></li>')
    if sensitivity is not None:
        toc.append('<li><a href="#sensitivity">Sensitivity</a></li>')
    toc.append('<li><a href="#network">Network</a></li>')
    toc.append('<li><a href="#plots">Plots</a></li><li><a href="#method">Method</a></li>')
    parts.append(summary_block(rl, comparison))
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
            + losses_table(r)
        )
    # Variants inherit their reference's record (`extends`): shown once, unless one has its own.
    held = [
        (r, record_table(r))
        for k, r in enumerate(rl)
        if r.scenario.record and (k == 0 or r.scenario.record != rl[0].scenario.record)
    ]
    if held:
        parts.append('<h2 id="record">Against the record</h2>')
        parts += [f"<h3>{_e(r.scenario.name)}</h3>{table}" for r, table in held]

    if comparison is not None:
        said = findings.findings(comparison)  # largest effect first, no significant difference grouped
        parts.append('<h2 id="comparison">Comparison</h2>')
        parts.append(
            f"<p>Each scenario against <strong>{_e(comparison['scenario'].iloc[0])}</strong>, with common "
            "random numbers (the same seed and replications) and the same bootstrap resamples of the "
            "replications, so every difference is paired; verdicts read the restricted mean time to "
            "delivery. Largest difference first:</p>"
        )
        parts.append('<ul class="sentences">' + "".join(f"<li>{_e(s)}</li>" for s in said) + "</ul>")
        parts.append(comparison_table(comparison))
        tau = ct.days(comparison["rmst_tau"].iloc[0]) if len(comparison) else "tau"
        caption = plots.BY_NAME["comparison"].caption.replace("time to delivery", f"time to delivery to {tau} d", 1)
        parts.append(figure_html(plots.comparison(comparison), caption, "paired differences plot"))

    if routes:
        parts.append(routes)

    if sensitivity is not None:
        parts.append(sensitivity_block(sensitivity))

    parts.append(network_block(rl))

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


def sensitivity_block(df: pd.DataFrame) -> str:
    """The Sensitivity section: the three inputs that matter most, with their intervals, and the study's plot."""
    from .plots.decision import sensitivity_plot

    a = df.attrs
    sobol = "ST" in df.columns
    key = "ST" if sobol else "mu_star"
    top = df.sort_values(key, ascending=False).head(3)
    said = [
        f"{r.input} [{r.source}]: total index {r.ST:.2f} (95% CI {r.ST_lo:.2f}-{r.ST_hi:.2f}), "
        f"first order {r.S1:.2f} ({r.S1_lo:.2f}-{r.S1_hi:.2f})"
        if sobol
        else f"{r.input} [{r.source}]: mu* {r.mu_star:,.1f} (95% CI {r.mu_star_lo:,.1f}-{r.mu_star_hi:,.1f})"
        for r in top.itertuples()
    ]
    what = f"{a.get('figure', 'the figure')} of {a.get('group', 'ALL')}"
    size = f"{a.get('method', '')} study, {a.get('points', '?')} points x {a.get('reps', '?')} replications, seed {a.get('seed', '?')}"
    return (
        '<h2 id="sensitivity">Sensitivity</h2>'
        f"<p>Which uncertain inputs matter most for <strong>{_e(what)}</strong> ({_e(size)}; each input drawn "
        "from its declared range, every point on the same random numbers; see docs/decisions.md):</p>"
        '<ol class="sentences">'
        + "".join(f"<li>{_e(x)}</li>" for x in said)
        + "</ol>"
        + figure_html(sensitivity_plot(df), f"Sensitivity of {what}: 95% bootstrap intervals.", "sensitivity indices")
    )


def write_atomic(path, text: str | bytes) -> Path:
    """Write text (or bytes) to `path` through a temporary sibling file renamed into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8") if isinstance(text, str) else text)
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
