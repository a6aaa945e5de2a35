"""The CLI's tables of the headline: headers that state weighting and bound, cells rounded like their intervals.

Every cell is an estimate with its 95% interval in brackets, both rounded to the same digits; a
quantile the curve does not reach is printed `> N d` (N: where the curve ends), never a number
the data do not support. Item labels are the catalogue names, wrapped (never cut) by the table,
so two items never look the same at 80 columns.
"""

from __future__ import annotations

import math

from rich.table import Table

DASH = "-"


def days(v, digits: int = 0) -> str:
    """Days as text: '-' for missing, '> N' never here (see `estimate`)."""
    if v is None or v != v:
        return DASH
    if v == math.inf:
        return "inf"
    return f"{v:,.{digits}f}"


def share(v) -> str:
    """A share as a whole percentage."""
    return DASH if v is None or v != v else f"{v:.0%}"


def estimate(row, name: str, kind: str = "days", bound: float | None = None, sep: str = " ") -> str:
    """An estimate and its bracketed interval, rounded alike; `>N` for a level not reached before `bound`."""

    def one(v, percent_sign=True):
        if v == math.inf:
            return f">{days(bound)}" if bound is not None and bound == bound else "not reached"
        if kind == "share":
            return share(v) if percent_sign else (DASH if v != v else f"{v * 100:.0f}")
        return days(v)

    v, lo, hi = row.get(name), row.get(f"{name}_lo"), row.get(f"{name}_hi")
    text = one(v)
    if lo is not None and lo == lo:
        ends = one(lo, False), one(hi, False)
        if lo == math.inf:
            text += f"{sep}({ends[0]})"
        else:
            text += f"{sep}({ends[0]} to {ends[1]})" if hi == math.inf else f"{sep}({ends[0]}-{ends[1]})"
    return text


def cohort_text(row, start) -> str:
    """Which requests are counted: made from ... to ... (dates)."""
    import datetime as dt

    a, b = row["cohort_from_day"], row["cohort_to_day"]
    to = (start + dt.timedelta(days=int(b // 1))).isoformat() if b == b else "?"
    return f"requests made by {to}" if a <= 0 else f"requests made {start + dt.timedelta(days=int(a))} to {to}"


def label(item: str, scenario) -> str:
    """An item's catalogue name (with its id when the name is not unique), or 'All items (by value)'."""
    if item == "ALL":
        return "All items (by value)"
    if scenario is None or item not in scenario.items:
        return item
    name = scenario.items[item].name
    same = [k for k, it in scenario.items.items() if it.name == name]
    return name if len(same) == 1 else f"{name} [{item}]"


NARROW = 100  # columns below which tables drop their least needed figures and put intervals on a line of their own


def headline_table(summary, title: str, scenario=None, width: int | None = None) -> Table:
    """The headline per item: units, delivered share, median, p90, RMST and share within 90 days.

    Below NARROW columns (an 80-column terminal) it keeps units, delivered share, median and
    RMST, each interval on the line under its estimate, so nothing is cut or folded mid-number.
    """
    tau = summary["rmst_tau"].iloc[0] if len(summary) else math.nan
    narrow = width is not None and width < NARROW
    sep = "\n" if narrow else " "
    cols = [
        ("units/rep", lambda r: days(r["qty"])),
        ("delivered by horizon", lambda r: estimate(r, "delivered_share", "share", sep=sep)),
        ("median d", lambda r: estimate(r, "ttd_p50", bound=r.get("followup_days"), sep=sep)),
        ("p90 d", lambda r: estimate(r, "ttd_p90", bound=r.get("followup_days"), sep=sep)),
        (f"mean to {days(tau)} d", lambda r: estimate(r, "rmst", sep=sep)),
        ("within 90 d", lambda r: estimate(r, "share_90d", "share", sep=sep)),
    ]
    if narrow:
        cols = [c for c in cols if c[0] not in ("p90 d", "within 90 d")]
    table = Table(title=title, title_justify="left")
    table.add_column("item", justify="left", overflow="fold", min_width=12 if narrow else None)
    for name, _ in cols:
        # narrow: headers broken by hand, cells never (a number folded in two reads as two)
        head = (
            name.replace(" by ", "\nby ").replace("mean to ", "mean to\n").replace("units/", "units\n/")
            if narrow
            else name
        )
        table.add_column(head, justify="right", no_wrap=narrow)
    for item, row in summary.iterrows():
        r = row.to_dict()
        table.add_row(label(str(item), scenario), *[fn(r) for _, fn in cols])
    return table


def headline_note(summary, reps: int, scenario=None) -> str:
    """What the headline table counts and how its intervals are made."""
    tau = summary["rmst_tau"].iloc[0] if len(summary) else math.nan
    head = (
        f"Time to delivery from request, every requested unit counted (delivered or censored at the horizon; "
        f"Kaplan-Meier, weighted by units; All items by value), over "
        f"{cohort_text(summary.iloc[0], scenario.start) if scenario is not None and len(summary) else 'the cohort'}"
        f" (at least {days(tau)} d before the horizon). 'mean to {days(tau)} d': restricted mean (a unit later "
        f"or never delivered counts {days(tau)} d); '> N': the curve ends at N d before reaching that level."
    )
    if reps > 1:
        return head + " Brackets: 95% bootstrap interval over replications."
    return head + " One replication: no interval."


def closure_table(closure, title: str, scenario=None) -> Table:
    """Time to close each request, and each group of items that work together (each request counted once)."""
    table = Table(title=title, title_justify="left")
    for col in ("what", "requests/rep", "closed by horizon", "median d", "p90 d", "within 90 d"):
        table.add_column(col, justify="left" if col == "what" else "right", overflow="fold")
    for what, row in closure.iterrows():
        r = row.to_dict()
        name = "whole requests" if what == "request" else f"{what} (group)"
        table.add_row(
            name,
            days(r["requests"], 1),
            estimate(r, "delivered_share", "share"),
            estimate(r, "ttd_p50", bound=r.get("followup_days")),
            estimate(r, "ttd_p90", bound=r.get("followup_days")),
            estimate(r, "share_90d", "share"),
        )
    return table


def delivered_table(summary, title: str, scenario=None) -> Table:
    """The secondary view: latency among delivered lots only (one count per lot, all requests)."""
    table = Table(title=title, title_justify="left")
    for col in ("item", "delivered lots/rep", "undelivered lots/rep", "mean d", "p90 d"):
        table.add_column(col, justify="left" if col == "item" else "right", overflow="fold")
    for item, row in summary.iterrows():
        r = row.to_dict()
        table.add_row(
            label(str(item), scenario),
            days(r["delivered_lots"], 1),
            days(r["undelivered_lots"], 1),
            estimate(r, "delivered_mean"),
            estimate(r, "delivered_p90"),
        )
    return table


def backfill_table(bf) -> Table:
    """The donor's readiness gap per donor and item: from the decision, censored, and from the hand-over."""
    table = Table(
        title="Backfill: donor's readiness gap in days, from the donation decision (censored at the horizon)",
        title_justify="left",
    )
    for col in (
        "donor",
        "item",
        "donations/rep",
        "replaced",
        "median gap",
        "mean gap (replaced)",
        "from hand-over (replaced)",
        "open at horizon/rep",
    ):
        table.add_column(col, justify="left" if col in ("donor", "item") else "right", overflow="fold")
    for (donor, item), row in bf.iterrows():
        r = row.to_dict()
        table.add_row(
            str(donor),
            str(item),
            days(r["donations"], 1),
            share(r["replaced_share"]),
            estimate(r, "gap_p50", bound=r.get("gap_rmst_tau")),
            estimate(r, "replaced_gap_mean"),
            estimate(r, "handover_gap_mean"),
            days(r["open_per_rep"], 1),
        )
    return table


def difference(row, figure: str = "rmst") -> str:
    """A row's paired difference against the first, with its interval ('-' for the first)."""
    from .metrics.comparison import difference_text

    return difference_text(row, figure)


def comparison_table(df, title: str, lead: list[str] | None = None, width: int | None = None) -> Table:
    """Per item, each scenario's (or sweep point's) headline and its paired difference against the first.

    Below NARROW columns the median is left out and intervals go on the line under their estimate.
    """
    lead = lead or []
    narrow = width is not None and width < NARROW
    sep = "\n" if narrow else " "
    table = Table(title=title, title_justify="left")
    first = ["item"] + (lead or ["scenario"])
    tau = df["rmst_tau"].iloc[0] if len(df) else math.nan
    cols = [
        ("delivered by horizon", lambda r: estimate(r, "delivered_share", "share", sep=sep)),
        ("median d", lambda r: estimate(r, "ttd_p50", bound=r.get("followup_days"), sep=sep)),
        (f"mean to {days(tau)} d", lambda r: estimate(r, "rmst", sep=sep)),
        ("vs first d", lambda r: difference(r).replace(" (", sep + "(", 1)),
    ]
    if narrow:
        cols = [c for c in cols if c[0] != "median d"]
    for col in first:
        table.add_column(col, justify="left", overflow="fold")
    for name, _ in cols:
        head = name.replace(" by ", "\nby ").replace("mean to ", "mean to\n") if narrow else name
        table.add_column(head, justify="right", no_wrap=narrow)
    last = None
    for _, row in df.iterrows():
        r = row.to_dict()
        key = r["item_name"] if "item_name" in r else r["item"]
        table.add_row(
            key if key != last else "", *[str(r[c]) for c in (lead or ["scenario"])], *[fn(r) for _, fn in cols]
        )
        last = key
    return table
