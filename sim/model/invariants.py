"""End-of-run checks of one replication. A violation is always a bug and raises InvariantError.

`check(model)` runs after the environment stops at the horizon, on the finished tables
(finished.py). Each part checks its own invariants on its own state and those tables
(`part.check(finished)`, listed by `Model.parts()`):

- requests: every requested unit is in a delivery row (a lot, or a line not yet sourced); a lot
  lost in transit has none (its replacements hold its units), but the checks of US stock,
  stockpiles, backfills, lines and the account count it where it came from (Finished.lost);
- US stock: final on-hand = initial - units sold; never below zero, and no sale ever left it
  below the reserve floor (every point of its level series after the first);
- stockpiles: final on-hand = initial - donated + backfilled; the level series never below
  `min_keep`; a donation comes from an ally holding the item;
- donations: for a request that named that donor, or else of a priority the policy lets draw on
  stockpiles and from an allowed donor;
- sourcing: every lot comes from one of the policy's sources, or is unsourced;
- backfills: one row per donated lot, with its donor, item, qty and request; `donated_day` is
  the lot's ready day; ordered and backfilled days follow the donation decision, backfilled
  after ordered; nothing is ordered under `backfill: none`;
- production lines: the PURL units a line finished = its production lots made ready + its
  backfills; no server idle on an open line while work waits;
- account: never below zero, and initial + contributions arrived - withdrawals = balance;
- transport: a shipped lot took the route its origin and item choose; no slot idle on an open
  leg while work waits; at a node handling tonnes, no day handled more than its capacity, tonnes
  arrived = handled + waiting, no capacity left today while goods wait; at an airfield, no place
  idle while lots wait;
- coordination: no coordinator idle while requests wait; every sourced request was coordinated;
- switchboard: no work waiting on a scope that is open; no scope closed a negative number of times.

This module adds the checks of the flow as a whole, on the delivery columns:

- lots: quantity positive; a line not offered requested and checked, never funded nor moved; stage days in flow order (requested <= approved <= funded <= ready <=
  shipped <= delivered), a later stage never recorded without the earlier ones; an `unsourced`
  lot never moves;
- phases: for every delivery row, delivered or not, the phase columns are never negative and
  add up to its time in system (delivered_day, or the horizon, minus requested_day) within
  1e-9 * max(1, time); `phase_at_horizon` is empty exactly for delivered rows.

Day comparisons allow a relative 1e-9 (rounding of computed sailing days).
"""

from __future__ import annotations

import numpy as np

from ..recorder import PHASE_AT_HORIZON, PHASE_COLUMNS, PHASES
from ..vocabulary import NOT_OFFERED, UNSOURCED
from .finished import DAY_EPS, Finished, factorized, fail

STAGES = ("requested_day", "approved_day", "funded_day", "ready_day", "shipped_day", "delivered_day")


def check(model, deliveries: dict | None = None) -> None:
    """Raise InvariantError if the finished replication broke any invariant listed in the module doc.

    `deliveries` is the recorder's delivery columns when the caller has built them already.
    """
    d = model.recorder.tables()["deliveries"] if deliveries is None else deliveries
    finished = Finished(model.recorder, d, model.scenario.horizon_days)
    parts = model.parts()
    parts[0].check(finished)  # the requests: a unit lost anywhere shows first as broken conservation
    _lots(finished)
    for part in parts[1:]:
        part.check(finished)
    _phases(finished)


def _lots(finished: Finished) -> None:
    lots, deliveries = finished.lots, finished.deliveries
    if not lots:
        return
    # Columns of stage days, one row per lot (vectorised: this runs after every replication). The
    # delivery columns list the lots first, in order, then the lines never sourced.
    n = len(lots)
    # Column by column (at 10^6 lots a stacked copy and its temporaries were 100+ MB at the peak).
    days = [np.asarray(deliveries[c][:n], dtype=float) for c in STAGES]
    qty = np.asarray(deliveries["qty"][:n], dtype=float)
    missing = np.column_stack([np.isnan(col) for col in days])

    def first(bad, what: str):
        k = int(np.flatnonzero(bad)[0])
        lot = lots[k]
        fail(
            f"lot {lot.lot_id} ({lot.source}, request {lot.request.request_id}): {what}; "
            f"stage days {dict(zip(STAGES, [float(col[k]) for col in days]))}"
        )

    if (qty <= 0).any():
        first(qty <= 0, "quantity not positive")
    source = factorized(deliveries["source"])
    refused = np.asarray(source.uniques == NOT_OFFERED)[source.codes[:n]]
    if missing[:, :2].any() or (missing[:, 2] & ~refused).any():
        first(
            missing[:, :2].any(axis=1) | (missing[:, 2] & ~refused),
            "a lot of a request never requested, approved and funded",
        )
    if (refused & ~missing[:, 2:].all(axis=1)).any():
        first(refused & ~missing[:, 2:].all(axis=1), "a line not offered was funded or moved")
    skipped = missing[:, :-1] & ~missing[:, 1:]
    if skipped.any():
        first(skipped.any(axis=1), "a stage recorded without the stage before it")
    backwards = np.zeros(n, dtype=bool)  # any stage before the stage before it
    with np.errstate(invalid="ignore"):
        for earlier, later in zip(days[:-1], days[1:]):
            backwards |= later < earlier - DAY_EPS * np.maximum(1.0, np.abs(earlier))
    if backwards.any():
        first(backwards, "a stage before the stage before it")
    unsourced = np.asarray(source.uniques == UNSOURCED)[source.codes[:n]]
    moved = unsourced & ~(missing[:, 3] & missing[:, 4])
    if moved.any():
        first(moved, "an unsourced lot moved")


def _phases(finished: Finished) -> None:
    """Every row's phases add up to its time in system; an undelivered row names its phase."""
    d = finished.deliveries
    requested = np.asarray(d["requested_day"], dtype=float)
    if not requested.size:
        return
    delivered = np.asarray(d["delivered_day"], dtype=float)
    undelivered = np.isnan(delivered)
    t = np.where(undelivered, finished.horizon, delivered) - requested
    columns = [np.asarray(d[c], dtype=float) for c in PHASE_COLUMNS]
    tol = DAY_EPS * np.maximum(1.0, np.abs(t))

    def first(bad, what: str):
        k = int(np.flatnonzero(bad)[0])
        spent = {name: float(col[k]) for name, col in zip(PHASES, columns) if col[k]}
        fail(
            f"delivery row {k} (lot {d['lot_id'][k]}, request {d['request_id'][k]}): {what}; "
            f"time in system {t[k]}, phases {spent}"
        )

    # Column by column, not as a rows x phases matrix: at 10^6 rows a stacked copy was 140 MB.
    negative = np.zeros(len(t), dtype=bool)
    total = np.zeros(len(t))
    for col in columns:
        negative |= col < -tol
        total += col
    if negative.any():
        first(negative, "a phase of negative length")
    off = ~(np.abs(total - t) <= tol)  # NaN counts as off
    if off.any():
        first(off, "phases do not add up to the time in system")
    at = factorized(d[PHASE_AT_HORIZON])
    named = np.asarray(at.uniques != "", dtype=bool)[at.codes]
    if (named == ~undelivered).any():
        first(named == ~undelivered, "phase_at_horizon set on a delivered row, or empty on an undelivered one")
