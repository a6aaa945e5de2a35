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
`backfilled_day` (the line finishes the replacement; delivery back to the donor is not
modelled). The donor's readiness gap runs from the decision to the replacement,
backfilled_day - decided_day, censored at the horizon when not yet replaced; the gap from the
hand-over (backfilled_day - donated_day) is the second, labelled figure. An item no line makes is never replaced.
"""

from __future__ import annotations

import math

from ..scenario.schema import Scenario
from .production import RANK_BACKFILL_FIRST, RANK_NORMAL

DONATED, ORDERED, BACKFILLED, DECIDED = 6, 7, 8, 9  # row positions, as in recorder.BACKFILL_COLUMNS


class Backfill:
    """Places and tracks replacement orders for donors."""

    def __init__(self, env, scenario: Scenario, streams, recorder, lines_by_item, stockpiles):
        self.env, self.rec, self.stock = env, recorder, stockpiles
        self.discipline = scenario.policy.backfill
        self.rank = RANK_BACKFILL_FIRST if self.discipline == "donors_first" else RANK_NORMAL
        self.lines_by_item = lines_by_item
        self._delay = streams.sampler("backfill.order_delay", scenario.policy.backfill_order_delay_days)
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
            [
                lot.donor,
                lot.item,
                lot.qty,
                lot.request.request_id,
                lot.lot_id,
                self.payers(lot.donor),
                math.nan,
                math.nan,
                math.nan,
                self.env.now,
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
        self.rec.event(env.now, "backfill_ordered", lot.request.request_id, lot.lot_id, lot.item, lot.qty, lot.donor)
        line = self.lines_by_item.get(lot.item)
        if line is None:
            return  # no US line makes this item: the donor is never replaced (censored gap)
        # Tie-break (0, n): backfill orders keep the order of the donations among themselves.
        yield from line.make(lot.qty, self.rank, (0, n))
        row[BACKFILLED] = env.now
        self.stock.receive(lot.donor, lot.item, lot.qty)
        self.rec.event(env.now, "backfilled", lot.request.request_id, lot.lot_id, lot.item, lot.qty, lot.donor)
