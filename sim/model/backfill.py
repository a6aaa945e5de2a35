"""Backfill: every donation becomes a replacement order for the donor at US production.

Disciplines (`policy.backfill`):
- `donors_first`: the order takes rank 0 in the queue of the line making the item, ahead of PURL
  orders and of other customers' order book (the US put Germany ahead of Switzerland in 2025);
  it never interrupts work in progress, and it still waits the line's long lead;
- `fifo`: the order queues at the same rank as everyone else, by the time it joins the queue;
- `none`: nothing is ordered; the donation is still recorded, with its gap open for good.

One row per donated lot: donor, item, qty, the request and lot it served, who pays (`paid_by`:
the donor's share and its co-funders' from `stockpiles.ALLY.backfill_paid_by`, e.g.
"germany:0.50;norway:0.50"), `decided_day` (the donation decision: the units leave the donor's
books), `donated_day` (the hand-over, when the donor's preparation ends),
`ordered_day` (the donation decision plus `policy.backfill_order_delay_days`), and
`backfilled_day` (the line finishes the replacement, which joins the line's queue at its order
or at the ally item's `backfill_from` slot, whichever is later; delivery back to the donor is
not modelled). The donor's readiness gap runs from the decision to the replacement,
backfilled_day - decided_day, censored at the horizon when not yet replaced; the gap from the
hand-over (backfilled_day - donated_day) is the second, labelled figure. An item no line makes is never replaced.
"""

from __future__ import annotations

import math

from ..scenario.schema import Policy
from ..vocabulary import BACKFILL_ORDERED, BACKFILLED, STOCKPILE
from .context import Context
from .finished import BACKFILL_AT, DAY_EPS, Finished, fail, nan
from .production import CLASS_PURL, RANK_BACKFILL_FIRST, RANK_NORMAL

DONATED, ORDERED, DONE = BACKFILL_AT["donated_day"], BACKFILL_AT["ordered_day"], BACKFILL_AT["backfilled_day"]


class Backfill:
    """Places and tracks replacement orders for donors."""

    def __init__(self, ctx: Context, policy: Policy, lines_by_item, stockpiles, unit_cost: dict[str, float]):
        self.env, self.rec, self.stock = ctx.env, ctx.recorder, stockpiles
        self.discipline = policy.backfill
        self.rank = RANK_BACKFILL_FIRST if self.discipline == "donors_first" else RANK_NORMAL
        self.lines_by_item = lines_by_item
        self.unit_cost = unit_cost  # $M a unit: a replacement costs what the goods given cost
        self._delay = ctx.streams.sampler("backfill.order_delay", policy.backfill_order_delay_days)
        self._n = 0

    def payers(self, donor: str) -> str:
        """Who pays the donor's replacements and in what shares, as 'ally:share;...'."""
        shares = self.stock.paid_by.get(donor, {})
        rest = 1.0 - sum(shares.values())
        parts = ([f"{donor}:{rest:.2f}"] if rest > 1e-9 else []) + [f"{k}:{v:.2f}" for k, v in shares.items()]
        return ";".join(parts)

    def order(self, lot) -> list:
        """Open the backfill row of a donated lot and, unless the policy is `none`, start its order."""
        row = self.rec.backfill(
            [  # in the order of recorder.BACKFILL_COLUMNS
                lot.donor,
                lot.item,
                lot.qty,
                lot.request.request_id,
                lot.lot_id,
                self.payers(lot.donor),
                math.nan,  # donated_day
                math.nan,  # ordered_day
                math.nan,  # backfilled_day
                self.env.now,  # decided_day
                self.unit_cost.get(lot.item, 0.0) * lot.qty,  # cost_musd: the donor and co-funders pay it
            ]
        )
        if self.discipline != "none":
            self._n += 1
            self.env.task(self._replace(lot, row, self._n))
        return row

    def handed_over(self, row: list) -> None:
        """The donor has handed the lot over: its readiness gap starts now."""
        row[DONATED] = self.env.now

    def _replace(self, lot, row, n):
        env = self.env
        d = self._delay()
        if d > 0:
            yield env.delay(d)
        row[ORDERED] = env.now
        self.rec.event(env.now, BACKFILL_ORDERED, lot.request.request_id, lot.lot_id, lot.item, lot.qty, lot.donor)
        line = self.lines_by_item.get(lot.item)
        if line is None:
            return  # no US line makes this item: the donor is never replaced (censored gap)
        slot = self.stock.slot.get((lot.donor, lot.item), 0.0)
        if slot > env.now:  # the replacement waits for its contracted production slot
            yield env.delay(slot - env.now)
        # Tie-break (0, n): backfill orders keep the order of the donations among themselves.
        yield from line.make(lot.qty, self.rank, CLASS_PURL, (0, n))
        row[DONE] = env.now
        self.stock.receive(lot.donor, lot.item, lot.qty)
        self.rec.event(env.now, BACKFILLED, lot.request.request_id, lot.lot_id, lot.item, lot.qty, lot.donor)

    def check(self, finished: Finished) -> None:
        """End of run: one row per donated lot, matching it, with its days in order (none under `none`)."""
        donated_lots = {lot.lot_id: lot for lot in finished.every_lot() if lot.source == STOCKPILE}
        rows_by_lot: dict[int, list] = {}
        for row in finished.backfills:
            donor, item, qty, request_id, lot_id = row[:5]
            donated, ordered, backfilled = row[DONATED], row[ORDERED], row[DONE]
            lot = donated_lots.get(lot_id)
            if lot is None:
                fail(f"backfill row for lot {lot_id}, which is not a donated lot")
            if lot_id in rows_by_lot:
                fail(f"two backfill rows for lot {lot_id}")
            rows_by_lot[lot_id] = row
            if (donor, item, qty, request_id) != (lot.donor, lot.item, lot.qty, lot.request.request_id):
                fail(f"backfill row {row[:5]} does not match lot {lot_id}")
            decided = lot.request.funded_day
            if not nan(donated) and donated != lot.ready_day:
                fail(f"backfill row of lot {lot_id}: donated_day {donated} is not the lot's ready day {lot.ready_day}")
            if nan(donated) and not nan(lot.ready_day):
                fail(f"lot {lot_id} was handed over but its backfill row has no donated_day")
            if not nan(ordered) and ordered < decided - DAY_EPS * max(1.0, decided):
                fail(f"backfill of lot {lot_id} ordered ({ordered}) before the donation was decided ({decided})")
            if not nan(backfilled) and (nan(ordered) or backfilled < ordered):
                fail(f"backfill of lot {lot_id} done ({backfilled}) before it was ordered ({ordered})")
            if self.discipline == "none" and not (nan(ordered) and nan(backfilled)):
                fail(f"backfill of lot {lot_id} ordered under policy backfill: none")
        if self.discipline != "none":
            missing = set(donated_lots) - set(rows_by_lot)
            if missing:
                fail(f"donated lots without a backfill row: {sorted(missing)[:5]}")
