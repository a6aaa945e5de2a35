"""How much work a scenario asks for, estimated before anything runs, and the bounds it must stay within.

A replication costs about 20-30 microseconds of one core per lot (a request line going through
approval, funding, sourcing and transport). A scenario whose expected lots per replication exceed
MAX_LOTS_PER_REP, or a run whose replications times lots exceed MAX_LOT_REPS, is refused with the
estimate before the first event, instead of running for days or filling the memory.
"""

from __future__ import annotations

import math

from .distributions import as_dist
from .schema import Scenario

MAX_LOTS_PER_REP = 2_000_000
# Replications when none are asked for, the same for every command and API function (run, compare,
# sweep, report, a new baseline): enough for intervals that mean something, a few seconds per scenario.
DEFAULT_REPS = 20
MAX_REPS = 1_000_000
MAX_LOT_REPS = 1_000_000_000
MAX_SEED = 2**63 - 1
SECONDS_PER_LOT = 25e-6


def expected_lots(s: Scenario) -> float:
    """Expected lots of one replication: every package line, plus the stream's expected requests (one line each)."""
    lots = float(sum(len(p.lines) for p in s.requests.packages))
    stream = s.requests.stream
    if stream is not None:
        start = s.day(stream.start)
        end = s.horizon_days if stream.end is None else min(s.day(stream.end), s.horizon_days)
        window = max(0.0, end - start)
        mean_gap = as_dist(stream.interarrival_days).mean()
        expected = window / mean_gap if mean_gap > 0 else math.inf
        if stream.max_requests is not None:
            expected = min(expected, stream.max_requests)
        lots += expected
    return lots


def describe(lots: float) -> str:
    """A lot count as people read it: 2,500,000 or 1e+305."""
    return f"{lots:,.0f}" if lots < 1e15 else f"{lots:.3g}"


def hours(lot_reps: float) -> str:
    """Rough single-core time for that many lot-replications: '40 minutes', '3 hours', '2,000 years'."""
    s = lot_reps * SECONDS_PER_LOT
    for unit, size in (("years", 365 * 86400), ("days", 86400), ("hours", 3600), ("minutes", 60)):
        if s >= 2 * size:
            n = s / size
            return f"{n:,.0f} {unit}" if n < 1e15 else f"{n:.1e} {unit}"
    return f"{s:.0f} seconds"


def lots_problem(s: Scenario) -> str | None:
    """Why one replication is too big to run (None when it is not)."""
    lots = expected_lots(s)
    if lots > MAX_LOTS_PER_REP:
        return (
            f"about {describe(lots)} lots per replication expected (package lines plus the stream's "
            f"expected requests); at most {MAX_LOTS_PER_REP:,} (about {hours(lots)} of one core per replication)"
        )
    return None


def run_problem(s: Scenario, reps: int) -> str | None:
    """Why `reps` replications of `s` are too much work (None when they are not)."""
    if reps > MAX_REPS:
        return f"at most {MAX_REPS:,} replications (got {describe(reps)})"
    total = expected_lots(s) * reps
    if total > MAX_LOT_REPS:
        return (
            f"about {describe(total)} lots in all ({reps:,} replications of about {describe(expected_lots(s))}); "
            f"at most {MAX_LOT_REPS:,} per run (about {hours(total)} of one core)"
        )
    return None
