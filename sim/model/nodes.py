"""Nodes with throughput: hubs and ports handling tonnes a day, airfields turning aircraft on the ground.

Where handling applies: at a node a lot passes between two legs of its route (it arrives there
on one leg and leaves on the next). A route's origin and the destination do not count: goods
are made ready at their origin by their source (US handling, a donor's preparation), and the
destination is where delivery is recorded (Ukraine's onward distribution is not modelled).
The scenario checks refuse handling at a node no route passes that way, and a tonnes-a-day
node passed by an item without `weight_t` (its tonnes would be unknown).

Two kinds (node_specs.Handling):
- `tonnes_per_day` (TonnesPerDay): capacity per calendar day (day k is [k, k+1) from the start,
  the scenario's dates). Goods arriving take today's capacity as they come, while it lasts. A
  lot larger than what is left is handled in parts: it takes today's remainder and waits for
  the next day's capacity for the rest, and leaves when its last tonne is handled (at the start
  of that day), so a lot bigger than a day's capacity takes several days. Goods that find the
  capacity used up wait, and each new day's capacity goes to the waiting goods in order of
  priority (urgent first), then request order, then lot; a lot partly handled keeps what was
  handled but does not keep its place ahead of a more urgent one. Goods arriving at one instant
  (the lots of one sailing) are handled together in that order too, once all of them are in (at
  the instant's end, `env.at_end`), not in the order their events happen to run; a lot alone at
  its instant that today's capacity covers passes at once. At a hub of 600 t/day, the 601st
  tonne of day 0 leaves at day 1.
- `on_ground` with `ground_hours` (Airfield): each lot passing is one aircraft turn: it holds
  one of `on_ground` places for a drawn `ground_hours` (stream `transport.nodes.ID.ground_hours`),
  then leaves; lots that find every place taken queue by priority, then request order.
Capacity changes on dates (`changes`): a day's tonnes are those of the change in force at the
day's start (a change dated within a day applies from the next); places on the ground change
at the moment given. A node at 0 holds its goods until a change opens it (LEN-R at Câmpia
Turzii from late January 2026); goods still waiting at the horizon stay undelivered rows.

Phases (recorder.PHASES): `node_queue` while a lot waits for the node's capacity (today's
tonnes, a place on the ground), `node_handling` during an aircraft's turn. The tonnes waiting at
each node are the level series `node_queue:ID` (at an airfield, items without a weight count 0 t).
"""

from __future__ import annotations

import heapq
import math

from ..recorder import NODE_HANDLING, NODE_QUEUE
from ..scenario.node_specs import Handling
from ..scenario.references import passed_nodes
from ..scenario.schema import Transport as TransportSpec
from ..vocabulary import node_queue_series
from .context import Context
from .finished import Finished, fail
from .queueing import ServerPool

TOL = 1e-9  # tonnes: a lot whose rest is below this (relative to what it just took) is handled


def _key(lot) -> tuple:
    """Order at a node: priority, then request order, then lot (and shipment)."""
    return (lot.request.rank, lot.request.seq, lot.lot_id, lot.shipment_id)


class TonnesPerDay:
    """A hub or port: tonnes a calendar day, handed out as goods arrive, the waiting ones first by priority."""

    def __init__(self, ctx: Context, nid: str, spec: Handling, weight: dict[str, float]):
        self.env, self.nid, self.weight = ctx.env, nid, weight
        # (first calendar day, tonnes a day), in date order; a change within a day applies from the next.
        self.plan = [(0, float(spec.tonnes_per_day or 0.0))]
        self.plan += [(math.ceil(ctx.day(c.from_)), float(c.tonnes_per_day or 0.0)) for c in spec.changes]
        self.day, self.left = -1, 0.0  # the calendar day being handled and its tonnes not yet used
        self._heap: list = []  # (key, [tonnes left], signal, lot)
        self._waking = False  # a wake-up at the next day with capacity is pending
        self._arrived: list = []  # entries arrived this instant, not yet served
        self.waiting_t = 0.0
        self.arrived_t = 0.0
        self.handled: dict[int, float] = {}  # tonnes handled per calendar day (for the check)
        series = node_queue_series(nid)
        self._write = ctx.recorder.level_writer(ctx.env, series)
        ctx.recorder.level(ctx.env.now, series, 0.0)

    def capacity(self, day: int) -> float:
        """Tonnes the node handles on calendar day `day`."""
        cap = 0.0
        for first, tonnes in self.plan:
            if first <= day:
                cap = tonnes
        return cap

    def handle(self, lot):
        """Process step: the lot's tonnes through the node; waits (node_queue) when the day's capacity is short.

        Goods arriving at one instant are handled together, by priority, then request order, once
        every arrival of that instant is in (a zero delay queued after them): the lots of one
        sailing or one truck convoy do not go in the order their events happen to run.
        """
        env = self.env
        tonnes = lot.qty * self.weight[lot.item]
        self.arrived_t += tonnes
        if not self._heap and not env.busy_now():
            # Alone at this instant (nothing else is due now, nothing waits): if today's capacity
            # covers it, it passes at once, with no event, as serving it at the instant's end would.
            day = math.floor(env.now)
            if day > self.day:
                self.day, self.left = day, self.capacity(day)
            if self.left > 0.0 and tonnes <= self.left * (1 + TOL):
                self._use(tonnes)
                return
        self.waiting_t += tonnes
        ev = env.signal()
        entry = (_key(lot), [tonnes], ev, lot)
        heapq.heappush(self._heap, entry)
        self._arrived.append(entry)
        if len(self._arrived) == 1:
            env.at_end(lambda: self._serve(math.floor(env.now)))
        yield ev

    def _use(self, tonnes: float) -> None:
        self.left = max(0.0, self.left - tonnes)
        self.handled[self.day] = self.handled.get(self.day, 0.0) + tonnes

    def _serve(self, day: int) -> None:
        """Hand out the capacity of the day (calendar day `day` begins now if it has not) to the
        goods waiting, in order; those just arrived that must wait enter `node_queue`."""
        if day > self.day:
            self.day, self.left = day, self.capacity(day)
        heap = self._heap
        # Nothing passes a day with no capacity left, not even goods of no weight (a closed node holds all).
        while heap and self.left > 0.0:
            entry = heap[0]
            rest = entry[1]
            take = min(self.left, rest[0])
            self._use(take)
            rest[0] -= take
            self.waiting_t -= take
            if rest[0] > TOL * max(1.0, take):
                break  # the day's capacity is used up
            rest[0] = 0.0
            heapq.heappop(heap)
            self.env.fire(entry[2])
        if not heap:
            self.waiting_t = 0.0  # no rounding residue left behind
        now = self.env.now
        for _, rest, _, lot in self._arrived:
            if rest[0] > 0.0:
                lot.enter(NODE_QUEUE, now)
        if self._arrived or self._waking:  # a point when goods came, or a new day's capacity went out
            self._write(self.waiting_t)
        self._arrived = []
        self._wake_later()

    def _open_from(self, day: int) -> int | None:
        """The first calendar day from `day` on with capacity above zero (None: never again)."""
        for d in [day] + [first for first, _ in self.plan if first > day]:
            if self.capacity(d) > 0.0:
                return d
        return None

    def _wake_later(self) -> None:
        """Wake at the next day with capacity while goods wait (one wake-up pending at a time)."""
        if self._waking or not self._heap:
            return
        day = self._open_from(self.day + 1)
        if day is None:
            return  # closed for good: the goods wait past the horizon (undelivered rows)
        self._waking = True
        # Served after every arrival due at that instant, like goods arriving together.
        self.env.late_delay(day - self.env.now).callbacks.append(lambda _event: self._woken(day))

    def _woken(self, day: int) -> None:
        self._serve(day)
        self._waking = False
        self._wake_later()

    def check(self) -> None:
        """End of run: no day handled more than its capacity; tonnes arrived = handled + waiting; no capacity
        left today while goods wait."""
        for day, tonnes in self.handled.items():
            cap = self.capacity(day)
            if tonnes > cap + TOL * max(1.0, cap) * (1 + len(self._heap)):
                fail(f"node {self.nid}: {tonnes} t handled on day {day}, capacity {cap} t")
        total = sum(self.handled.values()) + sum(rest[0] for _, rest, _, _ in self._heap)
        if abs(total - self.arrived_t) > 1e-6 * max(1.0, self.arrived_t):
            fail(f"node {self.nid}: {self.arrived_t} t arrived, {total} t handled or waiting")
        if self._heap and self.left > TOL * max(1.0, self.capacity(self.day)):
            fail(f"node {self.nid}: {self.left} t of day {self.day} unused while {len(self._heap)} lot(s) wait")


class Airfield:
    """An airfield: `on_ground` places; each lot passing is one aircraft turn of `ground_hours`."""

    def __init__(self, ctx: Context, nid: str, spec: Handling, weight: dict[str, float]):
        env = self.env = ctx.env
        self.nid, self.weight = nid, weight
        self.pool = ServerPool(env, spec.on_ground or 0, queue_phase=NODE_QUEUE)
        self.hours = ctx.streams.sampler(f"transport.nodes.{nid}.ground_hours", spec.ground_hours)
        self.waiting_t = 0.0
        series = node_queue_series(nid)
        self._write = ctx.recorder.level_writer(env, series)
        ctx.recorder.level(env.now, series, 0.0)
        for change in spec.changes:
            env.task(self._change(ctx.day(change.from_), change.on_ground or 0))

    def _change(self, day: float, places: int):
        if day > self.env.now:
            yield self.env.delay(day - self.env.now)
        self.pool.set_capacity(places)

    def handle(self, lot):
        """Process step: wait for a place on the ground (node_queue), then the turn (node_handling)."""
        env = self.env
        grant = self.pool.acquire(_key(lot), lot)  # the pool marks the lot node_queue when it waits
        if grant is not None:
            tonnes = lot.qty * self.weight[lot.item]
            self.waiting_t += tonnes
            self._write(self.waiting_t)
            yield grant
            self.waiting_t = max(0.0, self.waiting_t - tonnes) if self.pool.queue_length else 0.0
            self._write(self.waiting_t)
        days = self.hours.draw() / 24.0
        if days > 0.0:
            lot.enter(NODE_HANDLING, env.now)
            yield env.delay(days)
        self.pool.release()

    def check(self) -> None:
        """End of run: the pool of places is consistent."""
        self.pool.check(f"node {self.nid}")


class Nodes:
    """Every node with handling, and where each route passes one."""

    def __init__(self, ctx: Context, spec: TransportSpec, weight: dict[str, float]):
        self.spec = spec
        self.handlers = {
            nid: (TonnesPerDay if node.handling.per_day else Airfield)(ctx, nid, node.handling, weight)
            for nid, node in spec.nodes.items()
            if node.handling is not None
        }

    def stops(self, rid: str) -> list | None:
        """Per leg of route `rid`: the handler of the node the lot reaches at its end, if it leaves
        there on another leg and that node has handling; None when the route passes none."""
        handlers = [self.handlers.get(nid) for nid in passed_nodes(self.spec, rid)] + [None]
        return handlers if any(h is not None for h in handlers) else None

    def check(self, finished: Finished) -> None:
        """End of run: each node's own check."""
        for handler in self.handlers.values():
            handler.check()
