"""Backfill: every donation becomes a replacement order for the donor at US production.

Disciplines: `donors_first` puts backfill ahead of PURL orders and other customers in the line's
queue (never interrupting work in progress), `fifo` queues it like any order, `none` orders
nothing. A row per donation records donated, ordered and backfilled days; the donor's readiness
gap is backfilled_day - donated_day (censored at the horizon when not yet replaced).
"""
from __future__ import annotations

import math

from ..scenario.schema import Scenario
from .production import RANK_BACKFILL_FIRST, RANK_NORMAL


class Backfill:
    """Places and tracks replacement orders for donors."""

    def __init__(self, env, scenario: Scenario, streams, recorder, lines_by_item, stockpiles):
        self.env, self.rec, self.stock = env, recorder, stockpiles
        self.discipline = scenario.policy.backfill
        self.lines_by_item = lines_by_item
        self._delay = streams.sampler("backfill.order_delay", scenario.policy.backfill_order_delay_days)
        self._n = 0

    def order(self, lot) -> list | None:
        """Open the backfill row for a donated lot and start its replacement order; returns the row."""
        if self.discipline == "none":
            return None
        shares = self.stock.paid_by.get(lot.donor, {})
        rest = 1.0 - sum(shares.values())
        payers = ([f"{lot.donor}:{rest:.2f}"] if rest > 1e-9 else []) + [f"{k}:{v:.2f}" for k, v in shares.items()]
        row = self.rec.backfill([lot.donor, lot.item, lot.qty, lot.request.request_id, lot.lot_id,
                                 ";".join(payers), math.nan, math.nan, math.nan])
        self._n += 1
        self.env.process(self._replace(lot, row, self._n))
        return row

    def _replace(self, lot, row, n):
        env = self.env
        d = self._delay()
        if d > 0:
            yield env.timeout(d)
        row[7] = env.now  # ordered_day
        self.rec.event(env.now, "backfill_ordered", lot.request.request_id, lot.lot_id, lot.item, lot.qty, lot.donor)
        line = self.lines_by_item.get(lot.item)
        if line is None:
            return  # no US line makes this item: the donor is never replaced (censored gap)
        rank = RANK_BACKFILL_FIRST if self.discipline == "donors_first" else RANK_NORMAL
        yield from line.make(lot.qty, rank, (0, n))
        row[8] = env.now  # backfilled_day
        self.stock.receive(lot.donor, lot.item, lot.qty)
        self.rec.event(env.now, "backfilled", lot.request.request_id, lot.lot_id, lot.item, lot.qty, lot.donor)
