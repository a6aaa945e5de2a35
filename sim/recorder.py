"""The one Recorder every model part writes to: append-only rows, turned into columns once at the end.

It also owns the vocabulary of the phases a lot's time in system is split into (PHASES; see
docs/phases.md). Parts mark the moment a lot enters a phase with `lot.enter(CODE, env.now)`, and
only when the lot really waits there; `tables()` turns the marks into one column of days per
phase. The marks are kept here, not in sim/model/, because the delivery columns are named after
them and the model imports the recorder (never the other way round).
"""

from __future__ import annotations

import math
from array import array
from typing import get_args

import numpy as np

from .columns import EventLog, Labels, labels, raw_doubles, texts, whole_units
from .scenario.schema import Leg as LegSpec
from .vocabulary import LOST
from .vocabulary import NOT_OFFERED as NOT_OFFERED_SOURCE
from .vocabulary import UNSOURCED as UNSOURCED_SOURCE

NAN = math.nan

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

DELIVERY_COLUMNS = [
    "lot_id",
    "shipment_id",
    "request_id",
    "item",
    "qty",
    "priority",
    "source",
    "donor",
    "route",
    "requested_day",
    "approved_day",
    "funded_day",
    "ready_day",
    "shipped_day",
    "delivered_day",
    *PHASE_COLUMNS,
    PHASE_AT_HORIZON,
]
BACKFILL_COLUMNS = [
    "donor",
    "item",
    "qty",
    "request_id",
    "lot_id",
    "paid_by",
    "donated_day",
    "ordered_day",
    "backfilled_day",
    "decided_day",
    "cost_musd",
]
EVENT_COLUMNS = ["day", "kind", "request_id", "lot_id", "item", "qty", "where"]
LEVEL_COLUMNS = ["day", "series", "value"]


class Lot:
    """Goods moving together: one piece of one request line, from one source (one delivery row).

    A lot a line makes in batches is split into shipments (`Recorder.split`): each is a Lot of its
    own (its own row and `shipment_id`) that keeps the `lot_id` of the lot it came from.
    """

    __slots__ = (
        "lot_id",
        "shipment_id",
        "request",
        "item",
        "qty",
        "source",
        "donor",
        "origin",
        "route",
        "ready_day",
        "shipped_day",
        "delivered_day",
        "seq",
        "marks",
    )

    def __init__(self, lot_id: int, request, item: str, qty: int, source: str, donor: str, origin: str):
        self.lot_id = lot_id
        self.shipment_id = lot_id
        self.request = request
        self.item = item
        self.qty = qty
        self.source = source
        self.donor = donor
        self.origin = origin
        self.route = ""
        self.ready_day = NAN
        self.shipped_day = NAN
        self.delivered_day = NAN
        # phase code, day, phase code, day, ...: where the lot's time went, as raw doubles (a list
        # would keep a float object per day, 30-70 bytes a lot more)
        self.marks = array("d")

    def enter(self, phase: int, day: float) -> None:
        """The lot enters `phase` (a code of PHASES) at `day`; it stays there until its next mark."""
        marks = self.marks
        marks.append(phase)
        marks.append(day)


class Recorder:
    """Collects lots, events, levels and backfills of one replication; `tables()` makes columns."""

    def __init__(self, events: bool = True, horizon: float = NAN):
        self.horizon = horizon  # where the time of an undelivered lot ends
        self.lots: list[Lot] = []
        self._n_lots = 0  # lots sourced (shipments split off a lot keep its id)
        self.pending_lines: list[tuple] = []  # (request, item, qty) never sourced by the horizon
        self.backfills: list[list] = []
        self.lost: list[Lot] = []  # lots lost in transit (Recorder.lose): event rows, never delivery rows
        self._events: EventLog | None = EventLog() if events else None
        self._loss_rows = EventLog()  # the loss events when the event log is off (a loss is always logged)
        # Level points as three columns: days and values as raw doubles (no float object per
        # point to chase at the end), series names as the interned strings the parts pass.
        self.level_days = array("d")
        self.level_series: list[str] = []
        self.level_values = array("d")

    def new_lot(self, request, item, qty, source, donor="", origin="") -> Lot:
        """Register a lot; it is a delivery row from now on, delivered or not."""
        lot = Lot(self._n_lots, request, item, qty, source, donor, origin)
        lot.shipment_id = len(self.lots)
        self._n_lots += 1
        self.lots.append(lot)
        return lot

    def split(self, lot: Lot, qty: int) -> Lot:
        """A shipment of `qty` units split off `lot` now (the lot keeps the rest): a row of its own.

        It has been where the lot has been so far, so it starts with a copy of the lot's phase marks.
        """
        part = Lot(lot.lot_id, lot.request, lot.item, qty, lot.source, lot.donor, lot.origin)
        part.shipment_id = len(self.lots)
        part.marks = lot.marks[:]
        lot.qty -= qty
        self.lots.append(part)
        return part

    def lose(self, lot: Lot, day: float, where: str) -> None:
        """`lot` is lost in transit at `day` on `where` (leg:ID): an event row of kind `lost`, and no delivery row.

        Its units are sourced again as new lots of the same request (sim.model.flow), so a request's
        units are counted once, in the rows of its replacements; the lost lot stays in `lost` for
        the end-of-run checks of the stock it came from.
        """
        self.lost.append(lot)
        log = self._events if self._events is not None else self._loss_rows
        log.append(day, LOST, lot.request.request_id, lot.lot_id, lot.item, lot.qty, where)

    def clear(self) -> None:
        """Let go of every record (the tables already built keep what they use)."""
        self.lots, self.backfills, self.pending_lines, self.lost = [], [], [], []
        self._loss_rows = EventLog()
        self._n_lots = 0
        self.level_days, self.level_series, self.level_values = array("d"), [], array("d")
        if self._events is not None:
            self._events = EventLog()

    def event(self, day, kind, request_id="", lot_id=-1, item="", qty=0, where=""):
        """Append one line to the event log."""
        if self._events is not None:
            self._events.append(day, kind, request_id, lot_id, item, qty, where)

    def level(self, day, series, value):
        """Append one point of a level series (stock, balance, queue length)."""
        self.level_days.append(day)
        self.level_series.append(series)
        self.level_values.append(value)

    def level_writer(self, env, series: str):
        """`write(value)`: append a point of `series` at the current time (for series written per event)."""
        days, names, values = self.level_days, self.level_series, self.level_values

        def write(value):
            days.append(env.now)
            names.append(series)
            values.append(value)

        return write

    def backfill(self, row: list) -> list:
        """Register a backfill row (filled in as the replacement progresses); returns it."""
        self.backfills.append(row)
        return row

    def tables(self) -> dict[str, dict]:
        """Columns of every table, built once: numbers as numpy arrays, delivery labels as
        Labels (factorized once, for the invariants and the DataFrame alike), other labels as lists.

        Each numeric column is filled in one pass over the records (np.fromiter): the records were
        made over the whole run and lie scattered in memory, so every extra pass costs cache misses.
        """
        if self.lost:
            # Lost lots leave the delivery rows (their replacements carry the units); `lots` stays
            # the delivery rows in order, as the end-of-run checks read it.
            gone = {id(lot) for lot in self.lost}
            self.lots = [lot for lot in self.lots if id(lot) not in gone]
        lots = self.lots
        n = len(lots)
        reqs = [lot.request for lot in lots]
        pending = self.pending_lines

        def floats(values, extra=()):
            arr = np.fromiter(values, dtype=np.float64, count=n)
            return np.concatenate([arr, np.asarray(extra, dtype=np.float64)]) if pending else arr

        def ints(values, extra=()):
            arr = np.fromiter(values, dtype=np.int64, count=n)
            return np.concatenate([arr, np.asarray(extra, dtype=np.int64)]) if pending else arr

        never = [NAN] * len(pending)
        cols = {
            "lot_id": ints((lot.lot_id for lot in lots), [-1] * len(pending)),
            "shipment_id": ints((lot.shipment_id for lot in lots), [-1] * len(pending)),
            "request_id": texts([r.request_id for r in reqs] + [r.request_id for r, _, _ in pending]),
            "item": labels([lot.item for lot in lots] + [item for _, item, _ in pending]),
            "qty": whole_units([lot.qty for lot in lots] + [qty for _, _, qty in pending]),
            "priority": labels([r.priority for r in reqs] + [r.priority for r, _, _ in pending]),
            "source": labels([lot.source for lot in lots] + [""] * len(pending)),
            "donor": labels([lot.donor for lot in lots] + [""] * len(pending)),
            "route": labels([lot.route for lot in lots] + [""] * len(pending)),
            "requested_day": floats((r.requested_day for r in reqs), [r.requested_day for r, _, _ in pending]),
            "approved_day": floats((r.approved_day for r in reqs), [r.approved_day for r, _, _ in pending]),
            "funded_day": floats((r.funded_day for r in reqs), [r.funded_day for r, _, _ in pending]),
            "ready_day": floats((lot.ready_day for lot in lots), never),
            "shipped_day": floats((lot.shipped_day for lot in lots), never),
            "delivered_day": floats((lot.delivered_day for lot in lots), never),
        }
        # When each row's request was sourced (coordinated: after NSATU's step, or funded without one);
        # not a column of its own: the coordination phase is the gap between the two.
        coordinated = floats((r.coordinated_day for r in reqs), [r.coordinated_day for r, _, _ in pending])
        if n:
            # A line the availability check refused is never funded, though the rest of its request may be.
            refused = _rows_of(cols["source"], NOT_OFFERED_SOURCE, n, n)
            if refused.any():
                cols["funded_day"][:n][refused] = NAN
                coordinated[:n][refused] = NAN
        cols.update(self._phase_columns(cols, coordinated))
        return {
            "deliveries": cols,
            "events": (self._events if self._events is not None else self._loss_rows).columns(),
            "levels": {
                "day": raw_doubles(self.level_days),
                "series": self.level_series,
                "value": raw_doubles(self.level_values),
            },
            "backfills": _columns(self.backfills, BACKFILL_COLUMNS),
        }

    def _phase_columns(self, cols: dict, coordinated: np.ndarray) -> dict:
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
        lots = self.lots
        n, n_phases = len(lots), len(PHASES)
        requested, approved, funded, delivered = (
            cols[c] for c in ("requested_day", "approved_day", "funded_day", "delivered_day")
        )
        rows = len(requested)
        undelivered = np.isnan(delivered)
        end = np.where(undelivered, self.horizon, delivered)
        at = np.full(rows, -1, dtype=np.int64)  # phase code at the horizon; -1: delivered
        days: np.ndarray  # one contiguous row of days per phase
        if n:
            pairs = np.fromiter((len(lot.marks) for lot in lots), dtype=np.int64, count=n) // 2
            flat = np.frombuffer(b"".join(lot.marks for lot in lots), dtype=np.float64)  # every lot's, in order
            code, start = flat[0::2].astype(np.int64), flat[1::2]
            spent = np.empty_like(start)  # a mark lasts until the next one; each lot's last, until its end
            spent[:-1] = start[1:]
            marked = pairs > 0
            last = np.cumsum(pairs)[marked] - 1
            spent[last] = end[:n][marked]
            spent -= start
            at[:n][marked] = code[last]
            del flat, start, last  # large temporaries (several per mark): free them before the next
            code *= n
            code += np.repeat(np.arange(n, dtype=np.int64), pairs)  # flat index: phase * n + lot
            # The lots' days per phase are the table's own rows of days (no second matrix of them).
            counted = np.bincount(code, weights=spent, minlength=n_phases * n).reshape(n_phases, n)
            lot_days: np.ndarray = counted.astype(np.float64, copy=False)  # no marks at all: numpy counts in ints
            del counted
            del code, spent
            if rows == n:
                days = lot_days
            else:
                days = np.zeros((n_phases, rows))
                days[:, :n] = lot_days
            del lot_days
        else:
            days = np.zeros((n_phases, rows))
        # Added to what the marks gave (nothing, for these three phases): a + b, as b + a, exactly.
        approved_at = np.where(np.isnan(approved), end, approved)
        funded_at = np.where(np.isnan(funded), end, funded)
        coordinated_at = np.where(np.isnan(coordinated), end, coordinated)
        days[APPROVAL] += approved_at - requested
        days[FUNDING] += funded_at - approved_at
        days[COORDINATION] += coordinated_at - funded_at
        if n:
            unsourced = _rows_of(cols["source"], UNSOURCED_SOURCE, n, rows)
            days[UNSOURCED, unsourced] = end[unsourced] - coordinated_at[unsourced]
            at[unsourced] = UNSOURCED
            # A line not offered is never funded: from its check (approved_day) on it is `not_offered`.
            refused = _rows_of(cols["source"], NOT_OFFERED_SOURCE, n, rows)
            days[NOT_OFFERED, refused] = days[FUNDING, refused]
            days[FUNDING, refused] = 0.0
            at[refused] = NOT_OFFERED
        # Lines never sourced: still in approval, funding or coordination at the horizon.
        at[n:] = np.where(np.isnan(approved[n:]), APPROVAL, np.where(np.isnan(funded[n:]), FUNDING, COORDINATION))
        at[~undelivered] = -1
        names = np.array([*PHASES, ""], dtype=object)  # code -1 picks ""
        out = {col: days[k] for k, col in enumerate(PHASE_COLUMNS)}
        out[PHASE_AT_HORIZON] = labels(names[at])
        return out


def _rows_of(source: Labels, label: str, n: int, rows: int) -> np.ndarray:
    """A mask of `rows` delivery rows: True where one of the first n (the lots) has `source` == label."""
    mask = np.zeros(rows, dtype=bool)
    mask[:n] = np.asarray(source.uniques == label, dtype=bool)[source.codes[:n]]
    return mask


def _columns(rows, names) -> dict[str, list]:
    """Row tuples to named column lists."""
    if not rows:
        return {c: [] for c in names}
    return dict(zip(names, map(list, zip(*rows))))
