"""What a comparison says first: per item the fastest option and how sure, and its findings ordered by size of effect.

Both read a comparison table (sim.metrics.comparison.table): every figure and paired interval
is already there, taken against the first scenario (the reference), so nothing is re-estimated.
The fastest option of an item is the one with the lowest restricted mean time to delivery (the
headline verdicts read). Its lead is paired against the reference, or, when the reference is
itself the fastest, against the runner-up (whose row holds runner-up minus reference).
"""

from __future__ import annotations

import math

import pandas as pd

from .comparison import days

FASTEST_COLUMNS = [
    "item",
    "item_name",
    "fastest",
    "rmst",
    "ttd_p50",
    "followup_days",
    "rmst_tau",
    "against",
    "lead",
    "lead_lo",
    "lead_hi",
    "sure",
]
SIGNIFICANT = ("faster", "slower")


def _lead(row: pd.Series, sign: float) -> tuple[float, float, float]:
    """(lead, low, high) in days from a row's paired RMST difference, turned so that ahead is positive."""
    d, lo, hi = (float(row[f"diff_rmst{s}"]) for s in ("", "_lo", "_hi"))
    return (sign * d, sign * hi, sign * lo) if sign < 0 else (d, lo, hi)


def fastest(df: pd.DataFrame) -> pd.DataFrame:
    """Per item (table order): the scenario(s) with the lowest RMST, its lead in days over `against`, its paired 95% interval, and `sure`.

    `sure`: "significant" (the interval excludes zero), "no significant difference",
    "tied" (equal estimates), "too few replications" (no interval), or "only option"
    (one scenario requested the item). Scenarios whose cohort did not request the item are
    not candidates.
    """
    rows = []
    if not len(df):
        return pd.DataFrame(columns=FASTEST_COLUMNS)
    reference = str(df["scenario"].iloc[0])
    for _item, g in df.groupby("item", sort=False):
        g = g[(g["qty"] > 0) & g["rmst"].notna()]
        if not len(g):
            continue
        best = float(g["rmst"].min())
        tied = g[g["rmst"] == best]
        top = tied.iloc[0]
        out = {c: top[c] for c in ("item", "item_name", "rmst", "ttd_p50", "followup_days", "rmst_tau")}
        out["fastest"] = ", ".join(str(s) for s in tied["scenario"])
        others = g[g["rmst"] > best]
        if len(tied) > 1:
            out.update(against="", lead=0.0, lead_lo=math.nan, lead_hi=math.nan, sure="tied")
        elif not len(others):
            out.update(against="", lead=math.nan, lead_lo=math.nan, lead_hi=math.nan, sure="only option")
        else:
            if str(top["scenario"]) != reference:
                against, (lead, lo, hi) = reference, _lead(top, -1.0)
                if not (g["scenario"].astype(str) == reference).any():  # the reference is not a candidate
                    against, lead, lo, hi = "", math.nan, math.nan, math.nan
            else:
                runner = others.sort_values("rmst", kind="stable").iloc[0]
                against, (lead, lo, hi) = str(runner["scenario"]), _lead(runner, 1.0)
            if lo != lo or hi != hi:
                sure = "too few replications"
            else:
                sure = "significant" if lo > 0 else "no significant difference"
            out.update(against=against, lead=lead, lead_lo=lo, lead_hi=hi, sure=sure)
        rows.append(out)
    return pd.DataFrame(rows, columns=FASTEST_COLUMNS)


def _effect(row: pd.Series) -> float:
    """Size of a row's effect in days (0 where there is none to read)."""
    d = row["diff_rmst"]
    return abs(float(d)) if d == d and math.isfinite(d) else 0.0


def _short(row: pd.Series, reference: str) -> str:
    """One no-significant-difference row in a few words: item, which pair, the difference and its interval."""
    d, lo, hi = row["diff_rmst"], row["diff_rmst_lo"], row["diff_rmst_hi"]
    pair = f"{row['scenario']} minus {reference}"
    return f"{row['item_name']} ({pair} {d:+.1f} d, 95% CI {lo:+.1f} to {hi:+.1f})"


def findings(df: pd.DataFrame) -> list[str]:
    """The comparison's sentences, largest effect first; every "no significant difference" grouped in one sentence at the end.

    Significant differences (faster, slower) come first, ordered by the size of the paired RMST
    difference, then other verdicts (too few replications, not requested) in that order too.
    """
    if not len(df):
        return []
    reference = str(df["scenario"].iloc[0])
    said = df[df["sentence"].fillna("").astype(str) != ""]
    order = said.assign(_size=[_effect(r) for _, r in said.iterrows()]).sort_values(
        "_size", ascending=False, kind="stable"
    )
    first = [str(r["sentence"]) for _, r in order.iterrows() if r["verdict"] in SIGNIFICANT]
    rest = [
        str(r["sentence"])
        for _, r in order.iterrows()
        if r["verdict"] not in SIGNIFICANT and r["verdict"] != "no significant difference"
    ]
    same = [_short(r, reference) for _, r in order.iterrows() if r["verdict"] == "no significant difference"]
    tail = []
    if same:
        tau = days(float(df["rmst_tau"].dropna().iloc[0]))[0] if df["rmst_tau"].notna().any() else "tau"
        tail = [
            f"No significant difference in mean time to delivery (to {tau} d) for {len(same)} "
            f"comparison{'s' if len(same) > 1 else ''}: " + "; ".join(same) + "."
        ]
    return first + rest + tail
