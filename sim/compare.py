"""Comparing scenarios with common random numbers: each scenario's figures and paired differences.

Every scenario runs replications 0..reps-1 with the same seed, so replication r of each draws
the same random numbers in every part they share; the difference in mean latency is taken per
replication (scenario minus the first) and its 95% CI is the t-interval of those differences.
Only replications where both scenarios delivered some of the item enter the pair.
"""
from __future__ import annotations

import math
from concurrent.futures import Executor
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from .ensemble import run_stats
from .results import ALL, CENSORING_NOTE, STAT_COLUMNS, SUMMARY_METHOD, summarize_latency
from .scenario.loader import load_scenario
from .scenario.schema import Scenario
from .stats import paired_difference

DIFF_METHOD = ("Paired difference of the mean latency, scenario minus the first, per replication under "
               "common random numbers (same seed, same replication numbers); 95% Student-t interval "
               "across the replications where both delivered the item.")
SHARE_WARNING = 0.05  # delivered shares this far apart are pointed out: latency counts delivered lots only
COLUMNS = ["item", "item_name", "scenario", "lots", "delivered_share", "undelivered_per_rep",
           *[c for s in STAT_COLUMNS for c in (s, f"{s}_lo", f"{s}_hi")],
           "diff_mean", "diff_lo", "diff_hi", "diff_reps", "verdict", "sentence"]


def unique_names(names: Sequence[str]) -> list[str]:
    """Names made unique by a `#k` suffix on repeats."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}#{seen[n]}")
    return out


def _days(*values: float) -> list[str]:
    """Days to one decimal, or to whole days when every value is 10 or more (one precision for all)."""
    digits = 0 if min(abs(v) for v in values) >= 10 else 1
    return [f"{v:,.{digits}f}" for v in values]


def difference_text(row, bound: Callable[[float], str] = lambda v: f"{v:+,.0f}") -> str:
    """A comparison row's paired mean difference with its 95% CI ('-' for the reference row)."""
    if row["diff_mean"] != row["diff_mean"]:
        return "-"
    text = f"{row['diff_mean']:+,.1f}"
    if row["diff_lo"] == row["diff_lo"]:
        text += f" ({bound(row['diff_lo'])} to {bound(row['diff_hi'])})"
    return text


def item_label(item: str, scenarios: Sequence[Scenario]) -> str:
    """The catalogue name of an item (`All items` for the overall row)."""
    if item == ALL:
        return "All items"
    for sc in scenarios:
        if item in sc.items:
            return sc.items[item].name
    return item


def verdict_sentence(label: str, name: str, base: str, row: dict, base_row: dict) -> tuple[str, str]:
    """(verdict, one plain sentence) for `name` against `base` on one item."""
    if not row["lots"]:
        return "not requested", f"{label}: not requested in {name} within the horizon."
    if not base_row["lots"]:
        return "not requested", f"{label}: not requested in {base} within the horizon."
    got, base_got = row["reps_with_deliveries"] > 0, base_row["reps_with_deliveries"] > 0
    if not got and not base_got:
        return "none delivered", f"{label}: neither {name} nor {base} delivers any within the horizon."
    if not got:
        return "none delivered", (f"{label}: {name} delivers none within the horizon "
                                  f"({base}: mean {_days(base_row['mean'])[0]} days over delivered lots).")
    if not base_got:
        return "only delivered here", (f"{label}: {base} delivers none within the horizon; {name} delivers "
                                       f"{row['delivered_share']:.0%} (mean {_days(row['mean'])[0]} days).")
    d, lo, hi, n = row["diff_mean"], row["diff_lo"], row["diff_hi"], row["diff_reps"]
    if n < 2 or math.isnan(lo):
        return "too few replications", (f"{label}: too few replications with deliveries in both {name} and {base} "
                                        f"for a confidence interval ({n}).")
    if hi < 0:
        gain, low, high = _days(-d, -hi, -lo)
        verdict, text = "faster", f"{label}: {name} is {gain} days faster than {base} (95% CI {low}-{high})"
    elif lo > 0:
        loss, low, high = _days(d, lo, hi)
        verdict, text = "slower", f"{label}: {name} is {loss} days slower than {base} (95% CI {low}-{high})"
    else:
        verdict, text = "no significant difference", (
            f"{label}: no significant difference between {name} and {base} "
            f"({name} minus {base}: {d:+.1f} days, 95% CI {lo:+.1f} to {hi:+.1f})")
    share, base_share = row["delivered_share"], base_row["delivered_share"]
    if abs(share - base_share) >= SHARE_WARNING:
        text += f"; delivered share {share:.0%} vs {base_share:.0%}, and latency counts delivered lots only"
    return verdict, text + "."


def comparison_table(per_rep: Sequence[pd.DataFrame], names: Sequence[str], reps: int,
                     scenarios: Sequence[Scenario]) -> pd.DataFrame:
    """The comparison (see `compare`) from each scenario's per-replication latency figures."""
    summaries = [summarize_latency(p, reps) for p in per_rep]
    means = [p.pivot(index="rep", columns="item", values="mean").reindex(range(reps)) if len(p) else
             pd.DataFrame(index=range(reps)) for p in per_rep]
    items = sorted(set().union(*(set(s.index) for s in summaries)) - {ALL}) + [ALL]
    empty = {"lots": 0.0, "qty": 0.0, "delivered_share": math.nan, "undelivered_per_rep": 0.0,
             "reps_with_deliveries": 0, **{c: math.nan for s in STAT_COLUMNS for c in (s, f"{s}_lo", f"{s}_hi")}}
    rows = []
    for item in items:
        label = item_label(item, scenarios)
        figures = [s.loc[item].to_dict() if item in s.index else dict(empty) for s in summaries]
        base_mean = means[0][item] if item in means[0] else pd.Series(np.nan, index=range(reps))
        for k, (name, fig) in enumerate(zip(names, figures)):
            row = {"item": item, "item_name": label, "scenario": name, **fig}
            if k == 0:
                row.update(diff_mean=math.nan, diff_lo=math.nan, diff_hi=math.nan, diff_reps=0, verdict="", sentence="")
            else:
                other = means[k][item] if item in means[k] else pd.Series(np.nan, index=range(reps))
                d, lo, hi, n = paired_difference(base_mean.to_numpy(), other.to_numpy())
                row.update(diff_mean=d, diff_lo=lo, diff_hi=hi, diff_reps=n)
                row["verdict"], row["sentence"] = verdict_sentence(label, name, names[0], row, figures[0])
            rows.append(row)
    df = pd.DataFrame(rows)[COLUMNS]
    df.attrs.update(reps=reps, method=DIFF_METHOD, statistics=SUMMARY_METHOD, censoring=CENSORING_NOTE)
    return df


def compare(scenarios: Sequence[Scenario | str | Path], reps: int = 20, seed: int | None = None,
            executor: Executor | None = None, names: Sequence[str] | None = None, chunk_size: int | None = None,
            progress: Callable[[int], None] | None = None) -> pd.DataFrame:
    """Run scenarios with common random numbers; per item and scenario the figures and the paired difference against the first.

    scenarios: Scenario objects or file paths; seed: the same for all (default: the first
    scenario's). One row per item (plus `ALL`) and scenario: lots, delivered share,
    undelivered per replication, mean/p50/p90/p95 with 95% CIs, and for every scenario after
    the first `diff_mean`/`diff_lo`/`diff_hi` (scenario minus first, days; paired t-interval
    over `diff_reps` replications), a `verdict` and a plain `sentence`.
    """
    loaded = [sc if isinstance(sc, Scenario) else load_scenario(sc) for sc in scenarios]
    if len(loaded) < 2:
        raise ValueError("compare needs at least two scenarios")
    seed = loaded[0].seed if seed is None else int(seed)
    names = unique_names(list(names) if names is not None else [sc.name for sc in loaded])
    if len(names) != len(loaded):
        raise ValueError("give one name per scenario")
    stats = run_stats(loaded, reps, [seed] * len(loaded), executor, chunk_size, progress)
    df = comparison_table([s["latency"] for s in stats], names, reps, loaded)
    df.attrs["seed"] = seed
    return df
