"""The phases a lot's time in system is split into (PHASES; see docs/phases.md), and the days
each delivery row spent in each, from the lots' marks.

Parts mark the moment a lot enters a phase with `lot.enter(CODE, env.now)`, and only when the
lot really waits there; the recorder keeps the marks in one log, and `phase_days` turns them
into one column of days per phase. `sim.recorder` re-exports the names: the model imports the
recorder (never the other way round), and the delivery columns are named after the phases.
"""

from __future__ import annotations

from array import array
from typing import get_args

import numpy as np

from .columns import Labels, labels_of_codes
from .scenario.schema import Leg as LegSpec
from .vocabulary import NOT_OFFERED as NOT_OFFERED_SOURCE
from .vocabulary import UNSOURCED as UNSOURCED_SOURCE

# --- phases of a lot's time in system ---------------------------------------------------------
# Every mode a leg may have in the scenario schema gets its own transit phase.
TRANSIT_MODES: tuple[str, ...] = get_args(LegSpec.model_fields["mode"].annotation)
PHASES: tuple[str, ...] = (
    "approval",  # request: requested -> approved (the review, and any approvals pause)
    "funding",  # request: approved -> funded (waiting for money in the NATO account)
    "coordination",  # request: funded -> coordinated (NSATU matching it to donors and routes, queue included)
    "unsourced",  # no source could supply the lot: sourced (funded, or coordinated) -> horizon
    "not_offered",  # the availability check found the US could not supply it in its window: checked -> horizon
    "long_lead",  # production: the line's long-lead delay before the order may queue
    "line_queue",  # production: queued at the line, behind other customers' book and orders
    "manufacture",  # production: a server is making the lot
    "us_handling",  # US stock: handling before a sold lot is ready
    "donor_prep",  # stockpile: the donor prepares the lot for hand-over
    "held",  # a pause, outage or closed gate holds the lot
    "waiting_departure",  # waiting for a slot on a leg or for its next sailing
    "node_queue",  # at a node between two legs: waiting for the node's capacity (today's tonnes, a ground slot)
    "node_handling",  # at an airfield between two legs: the aircraft's turn on the ground
    *(f"transit_{mode}" for mode in TRANSIT_MODES),  # on a leg, by the leg's mode
)
(
    APPROVAL,
    FUNDING,
    COORDINATION,
    UNSOURCED,
    NOT_OFFERED,
    LONG_LEAD,
    LINE_QUEUE,
    MANUFACTURE,
    US_HANDLING,
    DONOR_PREP,
    HELD,
    WAITING_DEPARTURE,
    NODE_QUEUE,
    NODE_HANDLING,
) = range(14)
TRANSIT = {mode: PHASES.index(f"transit_{mode}") for mode in TRANSIT_MODES}  # phase code per leg mode
PHASE_COLUMNS = [f"phase_{name}_days" for name in PHASES]
PHASE_AT_HORIZON = "phase_at_horizon"
MARK_BITS = 6  # a mark's key is shipment_id << MARK_BITS | phase code (exact in a double below 2**53)
assert len(PHASES) < 1 << MARK_BITS


def phase_days(rec, cols: dict, coordinated: np.ndarray) -> dict:
    """Days in each phase per delivery row, and the phase an undelivered row is in at the horizon.

    A row's time in system runs from `requested_day` to `delivered_day`, or to the horizon when
    it is not delivered. Approval, funding and coordination come from the request's days (a row
    that never reached a stage stays in the one before it until its end; `coordinated` is when
    the request was sourced, its funded day when there is no coordination step). A lot's own
    time, from its sourcing on, is cut at its marks: each mark's phase lasts until the next
    mark, the last one until the row's end. An unsourced lot is in `unsourced` from its sourcing on.
    Nothing here fills a gap: a wait a part forgot to mark leaves the phases short of the time
    in system, which the invariants report.
    """
    n, n_phases = len(rec.lots), len(PHASES)
    requested, approved, funded, delivered = (
        cols[c] for c in ("requested_day", "approved_day", "funded_day", "delivered_day")
    )
    rows = len(requested)
    undelivered = np.isnan(delivered)
    end = np.where(undelivered, rec.horizon, delivered)
    at = np.full(rows, -1, dtype=np.int64)  # phase code at the horizon; -1: delivered
    days = np.zeros((n_phases, rows))  # one contiguous row of days per phase
    if n:
        lot_end = end[:n]
        # Block by block of lots: the temporaries (several arrays per mark) stay small, so a run
        # of a million lots needs no extra few hundred MB here, beside its records (#17 item 4).
        for lo, hi, code, start, pairs in marks_in_blocks(rec.marks, rec.inherits, cols["shipment_id"][:n]):
            m = hi - lo
            spent = np.empty_like(start)  # a mark lasts until the next one; each lot's last, until its end
            spent[:-1] = start[1:]
            marked = pairs > 0
            last = np.cumsum(pairs)[marked] - 1
            spent[last] = lot_end[lo:hi][marked]
            spent -= start
            at[lo:hi][marked] = code[last]
            del start, last
            code *= m
            code += np.repeat(np.arange(m, dtype=np.int64), pairs)  # flat index: phase * m + lot
            # The same sums, in the same order, as over all lots at once: one bin per (phase, lot).
            days[:, lo:hi] = np.bincount(code, weights=spent, minlength=n_phases * m).reshape(n_phases, m)
            del code, spent
    # Added to what the marks gave (nothing, for these three phases): a + b, as b + a, exactly.
    approved_at = np.where(np.isnan(approved), end, approved)
    funded_at = np.where(np.isnan(funded), end, funded)
    coordinated_at = np.where(np.isnan(coordinated), end, coordinated)
    days[APPROVAL] += approved_at - requested
    days[FUNDING] += funded_at - approved_at
    days[COORDINATION] += coordinated_at - funded_at
    if n:
        unsourced = rows_of(cols["source"], UNSOURCED_SOURCE, n, rows)
        days[UNSOURCED, unsourced] = end[unsourced] - coordinated_at[unsourced]
        at[unsourced] = UNSOURCED
        # A line not offered is never funded: from its check (approved_day) on it is `not_offered`.
        refused = rows_of(cols["source"], NOT_OFFERED_SOURCE, n, rows)
        days[NOT_OFFERED, refused] = days[FUNDING, refused]
        days[FUNDING, refused] = 0.0
        at[refused] = NOT_OFFERED
    # Lines never sourced: still in approval, funding or coordination at the horizon.
    at[n:] = np.where(np.isnan(approved[n:]), APPROVAL, np.where(np.isnan(funded[n:]), FUNDING, COORDINATION))
    at[~undelivered] = -1
    names = np.array([*PHASES, ""], dtype=object)  # code -1 picks ""
    out = {col: days[k] for k, col in enumerate(PHASE_COLUMNS)}
    out[PHASE_AT_HORIZON] = labels_of_codes(at, names)
    return out


BLOCK_LOTS = 1 << 16  # lots whose marks phase_days takes at once (~30 MB of temporaries at 10 marks a lot)


def marks_in_blocks(log: array, inherits: list, sids: np.ndarray, block: int | None = None):
    """(lo, hi, codes, start days, marks per row) of rows lo..hi, block after block: what
    `marks_by_row` gives for those rows. `sids`: the rows' shipment ids, in row order.

    Most runs (no split, no loss: a row is its shipment id) are cut into blocks of `block` rows
    (default BLOCK_LOTS), each picked out of the log by its keys; any other run is one block.
    """
    n, block = len(sids), block or BLOCK_LOTS
    raw = np.frombuffer(log, dtype=np.float64) if len(log) else np.empty(0)
    keys = raw[0::2]  # exact integers as doubles: shipment_id << MARK_BITS | phase
    top = int(keys.max()) >> MARK_BITS if keys.size else -1
    if inherits or top >= n or not bool((sids == np.arange(n)).all()):
        yield 0, n, *marks_by_row(log, inherits, sids)
        return
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        # positions of this block's marks, in the order made
        sel = np.flatnonzero((keys >= float(lo << MARK_BITS)) & (keys < float(hi << MARK_BITS)))
        key = keys[sel].astype(np.int64)
        owner = key >> MARK_BITS
        order = np.argsort(owner, kind="stable")  # each lot's marks together, in order made
        yield (
            lo,
            hi,
            (key & ((1 << MARK_BITS) - 1))[order],
            raw[1::2][sel[order]],
            np.bincount(owner - lo, minlength=hi - lo),
        )


def marks_by_row(log: array, inherits: list, sids: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Phase codes and start days of every delivery row's marks, row after row, each row's in the
    order made; and how many marks each row has. `sids`: the rows' shipment ids, in row order.

    A row's marks are its inherited ones (Recorder.inherit) and then its own from then on; a
    history is a set of positions in the log, all before the inheriting lot's own, so a row's
    marks in order are its positions sorted.
    """
    n = len(sids)
    raw = np.frombuffer(log, dtype=np.float64) if len(log) else np.empty(0)
    key = raw[0::2].astype(np.int64)
    owner = key >> MARK_BITS  # whose mark: a shipment id
    size = max(int(owner.max()) + 1 if owner.size else 0, int(sids.max()) + 1 if n else 0)
    row_of = np.full(size, -1, dtype=np.int64)  # a lost lot's marks belong to no row
    row_of[sids] = np.arange(n)
    pos = np.arange(len(owner))
    grouped = np.argsort(owner, kind="stable")  # each shipment's marks, in order made
    counts = np.bincount(owner, minlength=size)
    ends = np.cumsum(counts)
    starts = ends - counts
    since = np.zeros(size, dtype=np.int64)  # a shipment's own marks before this were replaced
    history: dict[int, np.ndarray] = {}
    for child, parent, made in inherits:
        own = grouped[starts[parent] : ends[parent]]
        seq = np.concatenate([history.get(parent, pos[:0]), own[own >= since[parent]]])
        history[child], since[child] = seq[seq < made], made
    kept = (row_of[owner] >= 0) & (pos >= since[owner])
    rows, at = [row_of[owner[kept]]], [pos[kept]]
    for child, seq in history.items():
        if row_of[child] >= 0:
            rows.append(np.full(len(seq), row_of[child], dtype=np.int64))
            at.append(seq)
    row, where = np.concatenate(rows), np.concatenate(at)
    sort = np.lexsort((where, row))
    order, pairs = where[sort], np.bincount(row, minlength=n)
    return (key & ((1 << MARK_BITS) - 1))[order], raw[1::2][order], pairs


def rows_of(source: Labels, label: str, n: int, rows: int) -> np.ndarray:
    """A mask of `rows` delivery rows: True where one of the first n (the lots) has `source` == label."""
    mask = np.zeros(rows, dtype=bool)
    mask[:n] = np.asarray(source.uniques == label, dtype=bool)[source.codes[:n]]
    return mask
