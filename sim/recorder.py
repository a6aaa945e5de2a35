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
        """Column lists of every table, built once (one pass per column, no per-row dicts)."""
        lots = self.lots
        reqs = [lot.request for lot in lots]
        cols = {
            "lot_id": [lot.lot_id for lot in lots],
            "request_id": [r.request_id for r in reqs],
            "item": [lot.item for lot in lots],
            "qty": [lot.qty for lot in lots],
            "priority": [r.priority for r in reqs],
            "source": [lot.source for lot in lots],
            "donor": [lot.donor for lot in lots],
            "route": [lot.route for lot in lots],
            "requested_day": [r.requested_day for r in reqs],
            "approved_day": [r.approved_day for r in reqs],
            "funded_day": [r.funded_day for r in reqs],
            "ready_day": [lot.ready_day for lot in lots],
            "shipped_day": [lot.shipped_day for lot in lots],
            "delivered_day": [lot.delivered_day for lot in lots],
        }
        for r, item, qty in self.pending_lines:
            for c, v in zip(DELIVERY_COLUMNS, (
                -1, r.request_id, item, qty, r.priority, "", "", "", r.requested_day,
                r.approved_day, r.funded_day, NAN, NAN, NAN,
            )):
                cols[c].append(v)
        return {
            "deliveries": cols,
            "events": _columns(self._events or [], EVENT_COLUMNS),
            "levels": _columns(self._levels, LEVEL_COLUMNS),
            "backfills": _columns(self.backfills, BACKFILL_COLUMNS),
        }


def _columns(rows, names) -> dict[str, list]:
    """Row tuples to named column lists."""
    if not rows:
        return {c: [] for c in names}
    return dict(zip(names, map(list, zip(*rows))))
