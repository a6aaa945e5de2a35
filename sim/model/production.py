"""US make-to-order production: lines of parallel servers, each making one order at a time.

An order of q units occupies one server until its last unit is made, and ships as its units
come off the line: in batches (`shipments` per line: every N days, default a month; every N
units; or the whole order at once), each batch its own shipment row that goes on at once, the
last one when the order is done. The line's speed follows its rate plan (line_rate.py): ramps,
capacity changes of the rate and diversions of a share of its output act on work in progress
from their date on. A line waits its long-lead delay before an order may join the queue.
Other customers take `other_customers_share` of the output, so PURL work runs at (1 - share) of
the line's rate; `other_backlog_units` is their order book, ordered before day 0 (no long lead)
and queued at day 0 ahead of PURL: a standing claim in the queue (queueing.py), worked as up to
1,000 orders, that takes every server it wins, with any number of servers, while a
`donors_first` backfill can still get ahead of what has not started (the US put Germany ahead of
Switzerland in 2025).

The queue is ordered by (rank, class, order time, tie-break): rank 0 is backfill under
`donors_first`, everything else rank 1; class -1 is other customers' book, 0 every PURL order
under the line priority `fifo`, and under `urgent_first` the request's priority (0 urgent, 1
routine), so an urgent order passes a routine one still waiting (as the US re-prioritised
Patriot deliveries on 16-17 July 2025).
"""

from __future__ import annotations

import math

import numpy as np

from ..recorder import LINE_QUEUE, LONG_LEAD, MANUFACTURE
from ..scenario.schema import DAYS_PER_MONTH, Line
from ..vocabulary import PRODUCTION, RAMP, line_queue_series
from .context import Context
from .finished import Finished, fail
from .line_rate import EPS_UNITS, RatePlan
from .queueing import ServerPool

RANK_BACKFILL_FIRST, RANK_NORMAL = 0, 1
CLASS_BOOK, CLASS_PURL = -1, 0
BACKLOG_ORDERS = 1000  # the most separate orders other customers' book is split into
BACKLOG_KEY = (RANK_NORMAL, CLASS_BOOK, 0.0, (-1,))  # their book was ordered before day 0
DEFAULT_EVERY_DAYS = float(DAYS_PER_MONTH)  # a monthly shipment


class ProductionLine:
    """One line: a ServerPool, its rate plan (or a random unit time), a long-lead sampler, its ramps."""

    def __init__(self, ctx: Context, lid: str, spec: Line):
        env, streams, recorder, switch = ctx.env, ctx.streams, ctx.recorder, ctx.switch
        self.env, self.lid, self.rec, self.item = env, lid, recorder, spec.item
        self._delay = env.delay
        self.node = spec.node
        self.takes_orders = False  # set for the first line listed for its item: it makes PURL orders and backfills
        queue = line_queue_series(lid)
        self.pool = ServerPool(env, spec.servers, on_queue=recorder.level_writer(env, queue), queue_phase=LINE_QUEUE)
        rate = spec.rate_per_month
        self.unit = streams.sampler(f"production.{lid}.unit", spec.unit_days if rate is None else 0.0)
        base = DAYS_PER_MONTH / rate if rate is not None else self.unit.fixed  # None: a random unit time
        self.stretch = 1.0 / (1.0 - spec.other_customers_share)
        self.plan = RatePlan(base, self.stretch)
        self.long_lead = streams.sampler(f"production.{lid}.long_lead", spec.long_lead_days)
        ship = spec.shipments
        self.every_units = ship.every_units
        self.every_days = None if ship.whole_order or ship.every_units else ship.every_days or DEFAULT_EVERY_DAYS
        self.made = 0
        self.queued = 0  # units of PURL orders and backfills waiting for a server (for the availability check)
        self.servers = spec.servers
        for scope in (f"line:{lid}", "all"):
            switch.watch(scope, self.pool)
        recorder.level(env.now, queue, 0)
        for ramp in spec.ramps:
            if ramp.rate_per_month is not None:
                self.plan.set_rate(ctx.day(ramp.at), DAYS_PER_MONTH / ramp.rate_per_month)
            env.task(self._ramp(ctx.day(ramp.at), ramp.servers))
        self._backlog_left = spec.other_backlog_units
        self._backlog_chunk = max(1, math.ceil(spec.other_backlog_units / BACKLOG_ORDERS))
        if spec.other_backlog_units:
            self.pool.stand(BACKLOG_KEY, self._backlog_order)

    def plan_rate(self, day: float, rate_per_month: float) -> None:
        """A rate change known before the run (a capacity-change disruption): work in progress follows it."""
        self.plan.set_rate(day, DAYS_PER_MONTH / rate_per_month)

    def change(self, servers=None) -> None:
        """A new server count from now on (a ramp or capacity change; rates are in the plan already)."""
        if servers is not None:
            self.servers = servers
            self.pool.set_capacity(servers)

    def _ramp(self, day, servers):
        if day > self.env.now:
            yield self.env.delay(day - self.env.now)
        self.change(servers)
        self.rec.event(self.env.now, RAMP, where=f"line:{self.lid}")

    def _backlog_order(self) -> bool:
        """Start the next order of other customers' book on the server the book just won; more left?"""
        qty = min(self._backlog_chunk, self._backlog_left)
        self._backlog_left -= qty
        # The order's end is scheduled now, with no task around it: one event per order.
        self.env.after(self.job_days(qty), self._book_done)
        return self._backlog_left > 0

    def _book_done(self, _event) -> None:
        """An order of the book is made: its server goes to the queue (maybe to the book again)."""
        self.pool.release()

    def job_days(self, qty: int) -> float:
        """Days one server takes to make `qty` units from now, as the plan (or the random unit time) says."""
        plan = self.plan
        if not plan.changes:  # one speed all run (the common case): no search of the plan
            unit = plan.first_unit
            if unit is None:
                return (self.unit.draw() if qty == 1 else self.unit.total(qty)) * self.stretch
            return qty * unit
        now = self.env.now
        if plan.unit_at(now) is None:  # a random unit time: drawn per unit
            return (self.unit.draw() if qty == 1 else self.unit.total(qty)) * self.stretch * self.plan.factor_at(now)
        return self.plan.finish(now, qty) - now

    def estimate_days(self, qty: int) -> float:
        """Days until `qty` units ordered now would be made, as the command estimates it: the mean long
        lead, then what waits ahead (other customers' book left, queued orders) and the order itself,
        shared by the servers at today's unit time (work in progress left out)."""
        now = self.env.now
        unit = self.plan.unit_at(now)
        if unit is None:
            unit = self.unit.mean() * self.stretch * self.plan.factor_at(now)
        ahead = self._backlog_left + self.queued
        return self.long_lead.mean() + (ahead + qty) * unit / max(1, self.servers)

    def make(self, qty: int, rank: int, klass: int, tiebreak, purl: bool = True, lot=None, ship=None):
        """Process step: long lead, queue, then make `qty` units on one server.

        A `lot` (a PURL delivery, not a backfill) is marked as it enters each phase it waits in:
        long_lead, line_queue (marked by the pool, as is `held` while the line is paused) and
        manufacture; with `ship` (the flow's), each batch but the last is split off the lot and
        sent on as its own shipment as soon as it is made. The lot itself is the last batch.
        """
        env = self.env
        if self.long_lead.fixed != 0:  # a lead of exactly zero draws nothing: skip it
            lead = self.long_lead.draw()
            if lead > 0:
                if lot is not None:
                    lot.enter(LONG_LEAD, env.now)
                yield self._delay(lead)
        grant = self.pool.acquire((rank, klass, env.now, tiebreak), lot)
        if grant is not None:
            self.queued += qty
            yield grant
            self.queued -= qty
        if lot is not None:
            lot.enter(MANUFACTURE, env.now)
        if ship is None or qty == 1 or (self.every_days is None and not self.every_units):
            yield self._delay(self.job_days(qty))
        else:
            yield from self._in_batches(qty, lot, ship)
        self.pool.release()
        if purl:
            self.made += qty if ship is None else lot.qty

    def _in_batches(self, qty: int, lot, ship):
        """Make `qty` units, shipping each batch but the last (`lot` keeps it) as soon as it is made."""
        env, done = self.env, 0
        if self.every_units:
            size = self.every_units
            while qty - done > size:
                yield self._delay(self.job_days(size))
                done += size
                self._ship(lot, size, ship)
            yield self._delay(self.job_days(qty - done))
            return
        plan, start = self.plan, env.now
        every = self.every_days if self.every_days is not None else DEFAULT_EVERY_DAYS
        if plan.unit_at(start) is None:
            # A random unit time: each unit's end, drawn now (no event per unit).
            ends = start + np.cumsum(self.unit.draws(qty)) * (self.stretch * plan.factor_at(start))
            end = float(ends[-1])

            def made_by(t: float) -> int:
                return int(np.searchsorted(ends, t * (1 + 1e-12), side="right"))
        else:
            end = plan.finish(start, qty)

            def made_by(t: float) -> int:
                return math.floor(plan.made(start, t) + EPS_UNITS)

        k = 1
        while start + k * every < end:
            yield self._delay(start + k * every - env.now)
            made = min(made_by(env.now), qty - 1)  # the last unit is the lot's own, made at `end`
            if made > done:
                self._ship(lot, made - done, ship)
                done = made
            k += 1
        yield self._delay(end - env.now)

    def _ship(self, lot, units: int, ship) -> None:
        if units > 0:
            self.made += units
            ship(lot, units)

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

    def __init__(self, lines_by_item: dict[str, ProductionLine], line_priority: str = "fifo"):
        self.lines = lines_by_item
        self.urgent_first = line_priority == "urgent_first"

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

    def ready_steps(self, lot, ship=None):
        """The line's own steps for the lot (handed back as they are: one less generator level per resume)."""
        req = lot.request
        klass = req.rank if self.urgent_first else CLASS_PURL
        return self.lines[lot.item].make(
            lot.qty, RANK_NORMAL, klass, (1, req.rank, req.seq, lot.lot_id), lot=lot, ship=ship
        )
