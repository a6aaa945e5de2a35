"""The one Recorder every model part writes to: append-only rows, turned into columns once at the end.

Parts mark the moment a lot enters a phase with `lot.enter(CODE, env.now)` (the phases and their
codes: sim.phases, re-exported here, where the parts import them from); `tables()` turns the
marks into one column of days per phase (sim.phases.phase_days).
"""

from __future__ import annotations

import math
from array import array

import numpy as np

from .columns import EventLog, day_field, labels, raw_doubles, texts, whole_units
from .phases import (  # the phase vocabulary, re-exported (__all__): the parts import it from here
    APPROVAL,
    COORDINATION,
    DONOR_PREP,
    FUNDING,
    HELD,
    LINE_QUEUE,
    LONG_LEAD,
    MANUFACTURE,
    MARK_BITS,
    NODE_HANDLING,
    NODE_QUEUE,
    NOT_OFFERED,
    PHASE_AT_HORIZON,
    PHASE_COLUMNS,
    PHASES,
    TRANSIT,
    TRANSIT_MODES,
    UNSOURCED,
    US_HANDLING,
    WAITING_DEPARTURE,
    phase_days,
    rows_of,
)
from .vocabulary import LOST
from .vocabulary import NOT_OFFERED as NOT_OFFERED_SOURCE

NAN = math.nan
UNSET = (NAN, NAN, NAN)  # a new shipment's ready, shipped and delivered days

__all__ = [
    "BACKFILL_COLUMNS",
    "DELIVERY_COLUMNS",
    "EVENT_COLUMNS",
    "LEVEL_COLUMNS",
    "Lot",
    "Recorder",
    "APPROVAL",
    "COORDINATION",
    "DONOR_PREP",
    "FUNDING",
    "HELD",
    "LINE_QUEUE",
    "LONG_LEAD",
    "MANUFACTURE",
    "MARK_BITS",
    "NODE_HANDLING",
    "NODE_QUEUE",
    "NOT_OFFERED",
    "PHASE_AT_HORIZON",
    "PHASE_COLUMNS",
    "PHASES",
    "TRANSIT",
    "TRANSIT_MODES",
    "UNSOURCED",
    "US_HANDLING",
    "WAITING_DEPARTURE",
]

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
        "days",
        "marks",
    )

    def __init__(
        self, lot_id: int, request, item: str, qty: int, source: str, donor: str, origin: str, days: array, marks: array
    ):
        self.lot_id = lot_id
        self.shipment_id = lot_id
        self.request = request
        self.item = item
        self.qty = qty
        self.source = source
        self.donor = donor
        self.origin = origin
        self.route = ""
        # The recorder's days of every lot (Recorder.lot_days), three a shipment: a float object
        # per day would cost 32 bytes each (~100 MB at 10^6 lots).
        self.days = days
        # The recorder's one log of every lot's marks (Recorder.marks): an array per lot would cost
        # its header and spare room, ~200 bytes a lot more at 5 marks.
        self.marks = marks

    ready_day = day_field("shipment_id", 3, 0, "When the lot was ready at its source (NaN: not yet).")
    shipped_day = day_field("shipment_id", 3, 1, "When the lot left on its first leg (NaN: not yet).")
    delivered_day = day_field("shipment_id", 3, 2, "When the lot reached Ukraine (NaN: not yet).")

    def arrived_where_made(self, day: float) -> None:
        """Shipped and delivered at `day`, where it was made (no leg): one call, not two setters."""
        days, i = self.days, 3 * self.shipment_id
        days[i + 1] = days[i + 2] = day

    def enter(self, phase: int, day: float) -> None:
        """The lot enters `phase` (a code of PHASES) at `day`; it stays there until its next mark."""
        marks = self.marks
        marks.append((self.shipment_id << MARK_BITS) + phase)
        marks.append(day)


class Recorder:
    """Collects lots, events, levels and backfills of one replication; `tables()` makes columns."""

    def __init__(self, events: bool = True, horizon: float = NAN):
        self.horizon = horizon  # where the time of an undelivered lot ends
        self.lots: list[Lot] = []
        self._n_lots = 0  # lots sourced (shipments split off a lot keep its id)
        self.pending_lines: list[tuple] = []  # (request, item, qty) never sourced by the horizon
        self.backfills: list[list] = []
        # Every lot's phase marks in the order they were made, as raw doubles: (key, day) pairs,
        # the key a lot's shipment_id and phase code (Lot.enter). No float object per mark.
        self.marks = array("d")
        # (shipment, from shipment, marks made before): a shipment whose history up to then is
        # another's (a split, a lot sourced again after a loss); see `inherit`.
        self.inherits: list[tuple[int, int, int]] = []
        # Each shipment's ready, shipped and delivered days, at 3 * shipment_id (Lot.ready_day...).
        self.lot_days = array("d")
        # Each request's requested, approved, funded and coordinated days, at 4 * its seq (Request).
        self.request_days = array("d")
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
        lot = Lot(self._n_lots, request, item, qty, source, donor, origin, self.lot_days, self.marks)
        self.lot_days.extend(UNSET)
        sid = len(self.lots)
        lot.shipment_id = lot.lot_id if sid == lot.lot_id else sid  # one int object for both, most often
        self._n_lots += 1
        self.lots.append(lot)
        return lot

    def split(self, lot: Lot, qty: int) -> Lot:
        """A shipment of `qty` units split off `lot` now (the lot keeps the rest): a row of its own.

        It has been where the lot has been so far, so its phase marks so far are the lot's.
        """
        part = Lot(lot.lot_id, lot.request, lot.item, qty, lot.source, lot.donor, lot.origin, self.lot_days, self.marks)
        self.lot_days.extend(UNSET)
        part.shipment_id = len(self.lots)
        self.inherit(part, lot)
        lot.qty -= qty
        self.lots.append(part)
        return part

    def inherit(self, lot: Lot, source: Lot) -> None:
        """`lot` has been where `source` has been until now: its phase marks so far are the source's
        (any it made itself before now are replaced); its own marks from now on follow them."""
        self.inherits.append((lot.shipment_id, source.shipment_id, len(self.marks) // 2))

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
        self.marks, self.inherits, self.lot_days = array("d"), [], array("d")
        self.request_days = array("d")
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

    def tables(self, release_marks: bool = False) -> dict[str, dict]:
        """Columns of every table, built once: numbers as numpy arrays, delivery labels as
        Labels (factorized once, for the invariants and the DataFrame alike), other labels as lists.

        release_marks: free the marks log as soon as its days are columns, before the rest of the
        tables is built beside the records (a big replication: ~160 bytes a lot). Tables built
        again afterwards would find no marks, so only a caller that builds them once passes it.

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
        }
        # The rows' request days, taken by the request's seq (its place in request_days).
        seqs = ints((r.seq for r in reqs), [r.seq for r, _, _ in pending])
        days = raw_doubles(self.request_days).reshape(-1, 4)[seqs]
        for k, col in enumerate(("requested_day", "approved_day", "funded_day")):
            cols[col] = days[:, k].copy()
        # When each row's request was sourced (coordinated: after NSATU's step, or funded without one);
        # not a column of its own: the coordination phase is the gap between the two.
        coordinated = days[:, 3].copy()
        # The rows' days, taken by shipment id (the lots' own days, lost lots left out).
        days = raw_doubles(self.lot_days).reshape(-1, 3)[cols["shipment_id"][:n]]
        for k, col in enumerate(("ready_day", "shipped_day", "delivered_day")):
            cols[col] = np.concatenate([days[:, k], never]) if pending else days[:, k].copy()
        del days, seqs
        if n:
            # A line the availability check refused is never funded, though the rest of its request may be.
            refused = rows_of(cols["source"], NOT_OFFERED_SOURCE, n, n)
            if refused.any():
                cols["funded_day"][:n][refused] = NAN
                coordinated[:n][refused] = NAN
        cols.update(phase_days(self, cols, coordinated))
        if release_marks:
            del self.marks[:]  # the one log every lot shares (Lot.marks): emptied, its memory freed
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


def _columns(rows, names) -> dict[str, list]:
    """Row tuples to named column lists."""
    if not rows:
        return {c: [] for c in names}
    return dict(zip(names, map(list, zip(*rows))))
