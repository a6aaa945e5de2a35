"""US make-to-order production: lines of parallel servers, each making one order at a time.

An order of q units occupies one server for the sum of q unit times. A line waits its long-lead
delay before an order may join the queue. Other customers take `other_customers_share` of the
output, so every job runs at (1 - share) of the line's rate; `other_backlog_units` is their order
book, ordered before day 0 (no long lead) and queued at day 0 ahead of PURL. The book is worked
as separate small orders (one unit each, for books up to 1,000 units) so that a `donors_first`
backfill can get ahead of the rest of it, as the US put Germany ahead of Switzerland in 2025.
The queue is ordered by (rank, order time, tie-break): rank 0 is backfill under `donors_first`,
everything else rank 1.
"""

from __future__ import annotations

import math

from ..recorder import LINE_QUEUE, LONG_LEAD, MANUFACTURE
from ..scenario.distributions import Fixed
from ..scenario.schema import DAYS_PER_MONTH, Line
from ..vocabulary import PRODUCTION, RAMP, line_queue_series
from .context import Context
from .finished import Finished, fail
from .queueing import ServerPool

RANK_BACKFILL_FIRST, RANK_NORMAL = 0, 1
BACKLOG_ORDERS = 1000  # the most separate orders other customers' book is split into
BACKLOG_KEY = (RANK_NORMAL, 0.0, (-1,))  # their book was ordered before day 0


class ProductionLine:
    """One line: a ServerPool, a unit-time sampler, a long-lead sampler and its ramps."""

    def __init__(self, ctx: Context, lid: str, spec: Line):
        env, streams, recorder, switch = ctx.env, ctx.streams, ctx.recorder, ctx.switch
        self.env, self.lid, self.rec, self.item = env, lid, recorder, spec.item
        self._delay = env.delay
        self.node = spec.node
        self._streams = streams
        self.takes_orders = False  # set for the first line listed for its item: it makes PURL orders and backfills
        queue = line_queue_series(lid)
        self.pool = ServerPool(env, spec.servers, on_queue=recorder.level_writer(env, queue), queue_phase=LINE_QUEUE)
        self.unit = streams.sampler(f"production.{lid}.unit", self._unit_spec(spec.unit_days, spec.rate_per_month))
        self.long_lead = streams.sampler(f"production.{lid}.long_lead", spec.long_lead_days)
        self.stretch = 1.0 / (1.0 - spec.other_customers_share)
        self.made = 0
        for scope in (f"line:{lid}", "all"):
            switch.watch(scope, self.pool)
        recorder.level(env.now, queue, 0)
        self._backlog_left = spec.other_backlog_units
        self._backlog_chunk = max(1, math.ceil(spec.other_backlog_units / BACKLOG_ORDERS))
        if spec.other_backlog_units:
            env.task(self._backlog_order())
        for ramp in spec.ramps:
            env.task(self._ramp(ctx.day(ramp.at), ramp.servers, ramp.rate_per_month))

    @staticmethod
    def _unit_spec(unit_days, rate_per_month):
        if rate_per_month is not None:
            return Fixed(value=DAYS_PER_MONTH / rate_per_month)
        return unit_days

    def change(self, servers=None, rate_per_month=None) -> None:
        """Ramp: new server count and/or rate, for orders starting from now on."""
        if rate_per_month is not None:
            # Same stream name: a fixed unit time draws nothing, so common random numbers hold.
            self.unit = self._streams.sampler(
                f"production.{self.lid}.unit", Fixed(value=DAYS_PER_MONTH / rate_per_month)
            )
        if servers is not None:
            self.pool.set_capacity(servers)

    def _ramp(self, day, servers, rate):
        if day > self.env.now:
            yield self.env.delay(day - self.env.now)
        self.change(servers, rate)
        self.rec.event(self.env.now, RAMP, where=f"line:{self.lid}")

    def _backlog_order(self):
        """One order of other customers' book; once it has a server, the next one queues behind it.

        Only one backlog order waits at a time, keyed at day 0, so the book keeps its place ahead
        of PURL orders while a rank-0 backfill can still overtake what has not started.
        """
        yield self.pool.request(BACKLOG_KEY)
        qty = min(self._backlog_chunk, self._backlog_left)
        self._backlog_left -= qty
        if self._backlog_left > 0:
            self.env.task(self._backlog_order())
        yield self.env.delay(self.unit.total(qty) * self.stretch)
        self.pool.release()

    def make(self, qty: int, rank: int, tiebreak, purl: bool = True, lot=None):
        """Process step: long lead, queue, then make `qty` units on one server.

        A `lot` (a PURL delivery, not a backfill) is marked as it enters each phase it waits in:
        long_lead, line_queue (marked by the pool, as is `held` while the line is paused) and
        manufacture.
        """
        if self.long_lead.fixed != 0:  # a lead of exactly zero draws nothing: skip it
            lead = self.long_lead.draw()
            if lead > 0:
                if lot is not None:
                    lot.enter(LONG_LEAD, self.env.now)
                yield self._delay(lead)
        grant = self.pool.acquire((rank, self.env.now, tiebreak), lot)
        if grant is not None:
            yield grant
        if lot is not None:
            lot.enter(MANUFACTURE, self.env.now)
        yield self._delay((self.unit.draw() if qty == 1 else self.unit.total(qty)) * self.stretch)
        self.pool.release()
        if purl:
            self.made += qty

    def check(self, finished: Finished, source: str = PRODUCTION, backfills: bool = True) -> None:
        """End of run: PURL units finished = the ready lots of `source` it made + its backfills done.

        `source` and `backfills` are for a line that another source runs (its own label, no backfills).
        """
        self.pool.check(f"line {self.lid}")
        if self.made < 0:
            fail(f"line {self.lid} made {self.made} units")
        expect = 0
        if self.takes_orders:
            expect = finished.units_ready(source).get(self.item, 0)
            if backfills:
                expect += sum(q for (_, item), q in finished.backfilled().items() if item == self.item)
        if self.made != expect:
            fail(
                f"production of {self.item} on line {self.lid}: finished {self.made} PURL units, "
                f"but its ready lots and backfills account for {expect}"
            )


class Production:
    """The `production` source: US lines make what is ordered, so it can always supply an item a line makes."""

    name = PRODUCTION
    release_scopes: tuple[str, ...] = ("us_releases", "releases", "all")
    serves_named_donor = False

    def __init__(self, lines_by_item: dict[str, ProductionLine]):
        self.lines = lines_by_item

    def may_supply(self, item: str) -> bool:
        """Does a line make this item?"""
        return item in self.lines

    def unlimited(self, item: str) -> bool:
        """A line takes any order of an item it makes: an offer of all that is wanted."""
        return item in self.lines

    def offers(self, request, item: str, wanted: int) -> list[tuple[str, int]]:
        """All that is wanted, if a line makes the item."""
        return [("", wanted)] if item in self.lines else []

    def take(self, request, item: str, donor: str, qty: int) -> str:
        """An order: nothing is taken now; the lot leaves from the line's node."""
        return self.lines[item].node

    def ready_steps(self, lot):
        """The line's own steps for the lot (handed back as they are: one less generator level per resume)."""
        return self.lines[lot.item].make(
            lot.qty, RANK_NORMAL, (1, lot.request.rank, lot.request.seq, lot.lot_id), lot=lot
        )
