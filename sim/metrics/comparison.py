"""Comparing scenarios or sweep points on the headline: each one's figures, paired differences, a verdict.

Every scenario runs replications 0..reps-1 with the same seed (common random numbers) and is
resampled by the same bootstrap rows (sim.metrics.headline.resamples), so the difference of a
figure, scenario minus the first, is taken resample by resample and its 95% interval is paired.
Verdicts read the restricted mean time to delivery (`rmst`, up to one tau for all): it is finite
whatever the censoring, and a unit that never arrives counts tau, so arriving late never looks
faster than arriving early. Censoring is called heavy when more than half the quantity of either
side is undelivered at the horizon: the RMST difference is then bounded by tau.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from . import delivered as dlv
from . import headline as hl
from .delivered import COLUMNS as DELIVERED_COLUMNS

HEAVY = 0.5  # undelivered share of quantity above which censoring is called heavy
SUMMARY_COLUMNS = [*hl.TABLE_COLUMNS, *DELIVERED_COLUMNS]
DIFF_COLUMNS = [c for n in hl.FIGURES for c in (f"diff_{n}", f"diff_{n}_lo", f"diff_{n}_hi")]
METHOD = (
    "Paired difference of each headline figure, scenario minus the first, under common random numbers "
    "(same seed, same replications, same bootstrap resamples of the replications); 95% percentile interval."
)


def unique_names(names: Sequence[str]) -> list[str]:
    """Names made unique by a `#k` suffix on repeats."""
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n}#{seen[n]}")
    return out


def item_label(item: str, scenarios: Sequence) -> str:
    """The catalogue name of an item (`All items` for the overall row)."""
    if item == hl.ALL:
        return "All items (by value)"
    for sc in scenarios:
        if item in sc.items:
            return sc.items[item].name
    return item


def days(*values: float) -> list[str]:
    """Days to one decimal, or to whole days when every value is 10 or more (one precision for all)."""
    digits = 0 if min(abs(v) for v in values) >= 10 else 1
    return [f"{v:,.{digits}f}" for v in values]


def difference_text(row, figure: str = hl.HEADLINE) -> str:
    """A comparison row's paired difference of one figure with its 95% CI ('-' for the reference row)."""
    d, lo, hi = row[f"diff_{figure}"], row[f"diff_{figure}_lo"], row[f"diff_{figure}_hi"]
    if d != d:
        return "-"
    if not math.isfinite(d):
        return "inf"
    share = figure in ("delivered_share",) or figure.startswith("share_")
    if share:
        text = f"{d * 100:+.1f} pt"
        return text + (f" ({lo * 100:+.1f} to {hi * 100:+.1f})" if lo == lo else "")
    digits = 0 if min(abs(v) for v in (d, lo, hi) if v == v) >= 10 else 1  # the interval rounded like its estimate
    text = f"{d:+,.{digits}f}"
    return text + (f" ({lo:+,.{digits}f} to {hi:+,.{digits}f})" if lo == lo else "")


def verdict(label: str, name: str, base: str, row: dict, base_row: dict, reps: int) -> tuple[str, str]:
    """(verdict, one plain sentence) for `name` against `base` on one item, from the RMST difference."""
    if not row["qty"]:
        return "not requested", f"{label}: not requested in {name}'s cohort."
    if not base_row["qty"]:
        return "not requested", f"{label}: not requested in {base}'s cohort."
    d, lo, hi = row["diff_rmst"], row["diff_rmst_lo"], row["diff_rmst_hi"]
    tau = f"{row['rmst_tau']:,.0f}"
    if reps < 2 or lo != lo:
        return "too few replications", (
            f"{label}: {name} minus {base} is {d:+.1f} days of mean time to delivery "
            f"(to {tau} d); too few replications for an interval ({reps})."
        )
    if hi < 0:
        gain, low, high = days(-d, -hi, -lo)
        out = (
            "faster",
            f"{label}: {name} is {gain} days faster than {base} "
            f"(mean time to delivery to {tau} d, 95% CI {low}-{high})",
        )
    elif lo > 0:
        loss, low, high = days(d, lo, hi)
        out = (
            "slower",
            f"{label}: {name} is {loss} days slower than {base} "
            f"(mean time to delivery to {tau} d, 95% CI {low}-{high})",
        )
    else:
        out = (
            "no significant difference",
            f"{label}: no significant difference between {name} and {base} "
            f"({name} minus {base}: {d:+.1f} days to {tau} d, 95% CI {lo:+.1f} to {hi:+.1f})",
        )
    text = out[1]
    heavy = [(n, r["delivered_share"]) for n, r in ((name, row), (base, base_row)) if 1 - r["delivered_share"] > HEAVY]
    if heavy:
        text += (
            "; censoring is heavy ("
            + ", ".join(f"{n} delivers {s:.0%}" for n, s in heavy)
            + f" of the quantity by the horizon), so the difference is bounded by {tau} d"
        )
        share, s_lo, s_hi = row["diff_delivered_share"], row["diff_delivered_share_lo"], row["diff_delivered_share_hi"]
        if share == share and s_lo == s_lo:
            text += (
                f"; by the horizon {name} delivers {row['delivered_share']:.0%} against {base_row['delivered_share']:.0%}"
                f" ({share * 100:+.0f} points, 95% CI {s_lo * 100:+.0f} to {s_hi * 100:+.0f})"
            )
    return out[0], text + "."


def table(
    estimates: Sequence[hl.Estimates],
    delivered: Sequence[pd.DataFrame],
    names: Sequence[str],
    scenarios: Sequence,
    head: Sequence[dict] | None = None,
) -> pd.DataFrame:
    """One row per item and scenario (or sweep point): its figures and its paired differences against the first.

    head: per scenario, columns put first (a sweep's point and parameters).
    """
    summaries = [hl.table(e).join(dv, how="left") for e, dv in zip(estimates, delivered)]
    items = sorted(set().union(*(set(s.index) for s in summaries)) - {hl.ALL}) + [hl.ALL]
    reps = estimates[0].reps
    rows = []
    for item in items:
        label = item_label(item, scenarios)
        figs = [s.loc[item].to_dict() if item in s.index else _empty(s) for s in summaries]
        for k, (name, fig) in enumerate(zip(names, figs)):
            row = {**(head[k] if head else {}), "item": item, "item_name": label, "scenario": name, **fig}
            for f in hl.FIGURES:
                d, lo, hi = (math.nan,) * 3 if k == 0 else hl.paired(estimates[0], estimates[k], item, f)
                row[f"diff_{f}"], row[f"diff_{f}_lo"], row[f"diff_{f}_hi"] = d, lo, hi
            row["verdict"], row["sentence"] = ("", "") if k == 0 else verdict(label, name, names[0], row, figs[0], reps)
            rows.append(row)
    lead = list(head[0]) if head else []
    df = pd.DataFrame(rows)[
        [*lead, "item", "item_name", "scenario", *SUMMARY_COLUMNS, *DIFF_COLUMNS, "verdict", "sentence"]
    ]
    df.attrs.update(
        reps=reps,
        tau=estimates[0].tau,
        cohort=estimates[0].window,
        method=METHOD,
        statistics=hl.__doc__.split("\n\n")[0],
    )
    return df


def comparison_table(
    obs: Sequence[dict],
    names: Sequence[str],
    reps: int,
    scenarios: Sequence,
    tau: float | None = None,
    cohort: tuple[float, float] | None = None,
    head: Sequence[dict] | None = None,
    results: Sequence | None = None,
) -> pd.DataFrame:
    """The comparison of scenarios (or sweep points) from their observations (sim.metrics.STATS).

    results: the Results the observations are of, whose kept estimates are then reused.
    """
    horizons = [sc.horizon_days for sc in scenarios]
    tau, window = hl.window_for(horizons, tau, cohort)
    if results is not None:  # each with `reps` replications, so on the same resamples: paired
        est = [r.estimates(tau, window) for r in results]
        delivered = [r.delivered_summary() for r in results]
    else:
        # One set of resamples for all, sized for the largest: the differences are then paired.
        counts = hl.resamples(reps)
        est = [hl.estimate(o["lots"], reps, tau, window, counts=counts) for o in obs]
        delivered = [dlv.summary(dlv.per_rep(o["lots"]), reps) for o in obs]
    return table(est, delivered, names, scenarios, head)


def of_results(results_list: Sequence) -> pd.DataFrame:
    """The comparison of already-run Results (same seed and replications), first against the rest, without running anything.

    Each Results brings its scenario, seed, reps and observations (`Results.observations()`).
    """
    rl = list(results_list)
    if not rl:
        raise ValueError("no results to compare")
    base = rl[0]
    for r in rl[1:]:
        if (r.seed, r.reps) != (base.seed, base.reps):
            raise ValueError(
                f"{r.scenario.name}: run with seed {r.seed} and {r.reps} replication(s), "
                f"{base.scenario.name} with seed {base.seed} and {base.reps}: not paired"
            )
    names = unique_names([r.scenario.name for r in rl])
    return comparison_table([r.observations() for r in rl], names, base.reps, [r.scenario for r in rl], results=rl)


def _empty(s: pd.DataFrame) -> dict:
    row = {c: math.nan for c in s.columns}
    row.update(lots=0.0, qty=0.0)
    return row
