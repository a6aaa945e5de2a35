"""The one Recorder every model part writes to: append-only rows, turned into columns once at the end."""
from __future__ import annotations

import math

NAN = math.nan

DELIVERY_COLUMNS = [
    "lot_id", "request_id", "item", "qty", "priority", "source", "donor", "route",
    "requested_day", "approved_day", "funded_day", "ready_day", "shipped_day", "delivered_day",
]
BACKFILL_COLUMNS = ["donor", "item", "qty", "request_id", "lot_id", "paid_by", "donated_day",
                    "ordered_day", "backfilled_day"]
EVENT_COLUMNS = ["day", "kind", "request_id", "lot_id", "item", "qty", "where"]
LEVEL_COLUMNS = ["day", "series", "value"]


class Lot:
    """Goods moving together: one piece of one request line, from one source."""

    __slots__ = ("lot_id", "request", "item", "qty", "source", "donor", "origin", "route",
                 "ready_day", "shipped_day", "delivered_day", "seq")

    def __init__(self, lot_id: int, request, item: str, qty: int, source: str, donor: str, origin: str):
        self.lot_id = lot_id
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


class Recorder:
    """Collects lots, events, levels and backfills of one replication; `tables()` makes columns."""

    def __init__(self, events: bool = True):
        self.lots: list[Lot] = []
        self.pending_lines: list[tuple] = []  # (request, item, qty) never sourced by the horizon
        self.backfills: list[list] = []
        self._events: list[tuple] | None = [] if events else None
        self._levels: list[tuple] = []

    def new_lot(self, request, item, qty, source, donor="", origin="") -> Lot:
        """Register a lot; it is a delivery row from now on, delivered or not."""
        lot = Lot(len(self.lots), request, item, qty, source, donor, origin)
        self.lots.append(lot)
        return lot

    def event(self, day, kind, request_id="", lot_id=-1, item="", qty=0, where=""):
        """Append one line to the event log."""
        if self._events is not None:
            self._events.append((day, kind, request_id, lot_id, item, qty, where))

    def level(self, day, series, value):
        """Append one point of a level series (stock, balance, queue length)."""
        self._levels.append((day, series, value))

    def backfill(self, row: list) -> list:
        """Register a backfill row (filled in as the replacement progresses); returns it."""
        self.backfills.append(row)
        return row

    def tables(self) -> dict[str, dict[str, list]]:
        """Column lists of every table, built once."""
        cols = {c: [] for c in DELIVERY_COLUMNS}
        for lot in self.lots:
            r = lot.request
            for c, v in zip(DELIVERY_COLUMNS, (
                lot.lot_id, r.request_id, lot.item, lot.qty, r.priority, lot.source, lot.donor,
                lot.route, r.requested_day, r.approved_day, r.funded_day, lot.ready_day,
                lot.shipped_day, lot.delivered_day,
            )):
                cols[c].append(v)
        for r, item, qty in self.pending_lines:
            for c, v in zip(DELIVERY_COLUMNS, (
                -1, r.request_id, item, qty, r.priority, "", "", "", r.requested_day,
                r.approved_day, r.funded_day, NAN, NAN, NAN,
            )):
                cols[c].append(v)
        events = list(zip(*self._events)) if self._events else [[] for _ in EVENT_COLUMNS]
        levels = list(zip(*self._levels)) if self._levels else [[] for _ in LEVEL_COLUMNS]
        backfills = list(zip(*self.backfills)) if self.backfills else [[] for _ in BACKFILL_COLUMNS]
        return {
            "deliveries": cols,
            "events": dict(zip(EVENT_COLUMNS, map(list, events))),
            "levels": dict(zip(LEVEL_COLUMNS, map(list, levels))),
            "backfills": dict(zip(BACKFILL_COLUMNS, map(list, backfills))),
        }
