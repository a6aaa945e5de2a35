"""Transport: legs between nodes, named routes of legs, and the rules that choose a route.

How a leg takes lots is its behaviour (LEG_BEHAVIOURS): `unscheduled` (a lot leaves as soon
as it arrives), `capacity_limited` (a ServerPool: a lot holds a slot for its transit),
`scheduled` (a ship every N days takes up to `capacity` lots per departure, loaded by priority;
a lot ready at day 3 on a 10-day schedule from day 0 sails at day 10, and all lots on one
departure share its drawn transit time) or `vehicles` (departures of vehicles with weight and
space limits, a lot split into pieces across them); the last two are sim.model.vehicles. A pause on a leg stops departures; an outage also holds lots in transit until it
ends. The route `direct` has no legs (goods are delivered where they are made).

Lots in transit and outages (`on_transit`, disruptions.py): `wait` (the default) holds lots in
transit until the outage ends, `arrive` lets them arrive, `lost` loses them: only legs that
have such an outage keep a list of the lots on them (the others pay nothing). At its start
every lot on the leg is lost: it frees its slot, the recorder logs it (an event row of kind
`lost`, and the lot leaves `deliveries`), its process never goes on, and `Transport.reorder`
(the flow's) sources its units again for the same request. On a leg with departures, a lot is
on the leg once its last piece has left (pieces still at the port are not lost).

Phases of a lot (recorder.PHASES): `waiting_departure` while it waits for a slot or a sailing,
`transit_<mode>` from its departure on a leg to its arrival, `held` while a pause of its route
or leg keeps it from leaving, or an outage keeps it from arriving. A lot on a sailing leg that
is paused waits for its sailing as usual and counts as held from the sailing it missed.
Between two legs, a node with handling (nodes.py) may hold it: `node_queue`, `node_handling`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..recorder import HELD, TRANSIT, WAITING_DEPARTURE
from ..scenario.distributions import as_dist
from ..scenario.references import route_for, routes_for
from ..scenario.schema import Leg as LegSpec
from ..scenario.schema import Transport as TransportSpec
from ..vocabulary import UNSOURCED
from .context import Context
from .finished import Finished, factorized, fail, group_codes
from .queueing import ServerPool
from .vehicles import Departing


class Leg:
    """One leg: its transit-time sampler, its scopes, and its behaviour (how lots depart)."""

    def __init__(self, ctx: Context, lid: str, spec: LegSpec, items=None):
        self.env, self.lid, self.switch, self.rec = ctx.env, lid, ctx.switch, ctx.recorder
        self.cargo: dict | None = None  # lot -> its slot, for the lots on the leg (only if it can lose them)
        self.ends = (spec.from_, spec.to)
        self.transit = ctx.streams.sampler(f"transport.legs.{lid}.days", spec.days)
        self._delay = ctx.env.delay
        self.depart_scopes = (f"leg:{lid}", f"outage:leg:{lid}", "all")
        self.outage_scopes = (f"outage:leg:{lid}",)
        self.transit_phase = TRANSIT[spec.mode]
        way = LEG_BEHAVIOURS[behaviour_of(spec)]
        self.way = way(self, spec, ctx, items) if way is Departing else way(self, spec, ctx)
        self.traverse = self.way.traverse  # process step: wait to depart, travel, arrive (held by any outage)
        self.mean_days = as_dist(spec.days).mean() + self.way.mean_wait

    def set_capacity(self, capacity: int) -> None:
        """New capacity from now on (lots per departure, or lots at once); lots on their way keep theirs."""
        way = self.way.with_capacity(capacity)
        if way is not self.way:
            self.way, self.traverse = way, way.traverse

    def travel(self, lot, departed: float, transit: float, slot):
        """Process step: from departure to arrival; an outage holds the lot until it ends; then free the slot."""
        env = self.env
        if lot.shipped_day != lot.shipped_day:  # NaN: first departure of this lot
            lot.shipped_day = departed
        lot.enter(self.transit_phase, env.now)
        cargo = self.cargo
        if cargo is None:
            yield self._delay(departed + transit - env.now)
        else:
            cargo[lot] = slot
            yield self._delay(departed + transit - env.now)
            if cargo.pop(lot, False) is False:
                # Lost on the way (lose_cargo): its slot is free and its units are ordered again.
                # This process goes no further: it waits on a signal nobody fires, dropped with the run.
                yield env.signal()
        yield from self.arrive(lot)
        if slot is not None:
            slot.release()

    def arrive(self, lot):
        """Process step: the lot has arrived at the leg's end; an outage holds it there until it ends."""
        switch = self.switch
        if switch.any_closed and not switch.is_open(self.outage_scopes):
            lot.enter(HELD, self.env.now)  # arrived, but an outage holds it until it ends
            yield from switch.hold(self.outage_scopes)

    def track_cargo(self) -> None:
        """Keep a list of the lots on the leg from now on (an outage that loses them is scheduled)."""
        if self.cargo is None:
            self.cargo = {}

    def lose_cargo(self) -> list:
        """Every lot on the leg is lost now (in the order they departed): each frees its slot and is logged."""
        cargo = self.cargo
        if cargo is None:
            return []
        lost = list(cargo.items())
        cargo.clear()  # emptied in place: each lot's process finds itself gone from this very dict
        for lot, slot in lost:
            self.rec.lose(lot, self.env.now, f"leg:{self.lid}")
            if slot is not None:
                slot.release()
        return [lot for lot, _ in lost]

    def check(self) -> None:
        """End of run: the leg's slot pool, if any, is consistent."""
        pool = getattr(self.way, "pool", None)
        if pool is not None:
            pool.check(f"leg {self.lid}")


class Unscheduled:
    """A lot leaves as soon as it arrives at the leg, unless a pause holds its departure."""

    mean_wait = 0.0

    def __init__(self, leg: Leg, spec: LegSpec | None, ctx: Context):
        self.leg, self.ctx = leg, ctx

    def with_capacity(self, capacity: int):
        """A leg that had no limit gets a slot pool now; lots already on it hold no slot."""
        return CapacityLimited(self.leg, None, self.ctx, capacity)

    def traverse(self, lot, key):
        leg = self.leg
        switch = leg.switch
        if switch.any_closed and not switch.is_open(leg.depart_scopes):
            lot.enter(HELD, leg.env.now)
            yield from switch.hold(leg.depart_scopes)
        yield from leg.travel(lot, leg.env.now, leg.transit.draw(), None)


class CapacityLimited:
    """`capacity` lots at once: a lot holds a slot for its transit, queued by (rank, time, tie-break)."""

    mean_wait = 0.0

    def __init__(self, leg: Leg, spec: LegSpec | None, ctx: Context, capacity: int | None = None):
        """`capacity`: when a capacity change makes an unscheduled leg limited (then `spec` is None)."""
        self.leg = leg
        limit = capacity if capacity is not None else spec.capacity if spec is not None else None
        assert limit is not None, "a capacity-limited leg needs a capacity"
        self.pool = ServerPool(ctx.env, limit, queue_phase=WAITING_DEPARTURE)
        for scope in leg.depart_scopes:
            ctx.switch.watch(scope, self.pool)

    def with_capacity(self, capacity: int):
        self.pool.set_capacity(capacity)
        return self

    def traverse(self, lot, key):
        slot = self.pool
        grant = slot.acquire(key, lot)  # the pool marks the lot waiting or held
        if grant is not None:
            yield grant
        leg = self.leg
        yield from leg.travel(lot, leg.env.now, leg.transit.draw(), slot)


# How a leg takes lots, by name; `behaviour_of` picks one from the leg's spec.
LEG_BEHAVIOURS = {
    "unscheduled": Unscheduled,
    "capacity_limited": CapacityLimited,
    "scheduled": Departing,
    "vehicles": Departing,
}


def behaviour_of(spec: LegSpec) -> str:
    """The behaviour a leg's spec asks for: vehicles, departures (scheduled), a capacity, or none."""
    if spec.vehicles is not None:
        return "vehicles"
    if spec.departures is not None:
        return "scheduled"
    return "capacity_limited" if spec.capacity is not None else "unscheduled"


class Transport:
    """Carries lots along the route chosen for their origin and item."""

    def __init__(self, ctx: Context, spec: TransportSpec, nodes=None, items=None):
        """`nodes`: the nodes with handling (nodes.Nodes), if any; a route passing one stops there between legs.
        `items`: the catalogue, for the weight and space of goods on legs with vehicles."""
        self.env, self.spec, self.switch = ctx.env, spec, ctx.switch
        self.legs = {lid: Leg(ctx, lid, leg, items) for lid, leg in spec.legs.items()}
        self.routes = {rid: [self.legs[lid] for lid in r.legs] for rid, r in spec.routes.items()}
        self.routes["direct"] = []
        self.nodes = nodes
        self._stops = {rid: nodes.stops(rid) for rid in spec.routes} if nodes is not None else {}
        self._choice: dict[tuple[str, str], tuple[str, list]] = {}  # (undated route, [(day, dated route)])
        self._day = ctx.day
        # reorder(lot): source a lost lot's units again (the flow's, wired by the model).
        self.reorder: Callable[[Any], None] | None = None

    def lose_cargo(self, lid: str) -> None:
        """An outage that loses goods starts on leg `lid`: its lots are lost and ordered again."""
        reorder = self.reorder
        assert reorder is not None, "the model wires Transport.reorder before the run"
        for lot in self.legs[lid].lose_cargo():
            reorder(lot)

    def route_of(self, origin: str, item: str) -> str:
        """Route name for goods of `item` leaving `origin` now (checked to exist at load time)."""
        key = (origin, item)
        choice = self._choice.get(key)
        if choice is None:
            # The dated rules matching before the first undated one, their days worked out once.
            dated = [
                (self._day(r.from_), r.route)
                for r in self.spec.choose[: self._first_undated(origin, item)]
                if r.from_ is not None and r.origin == origin and r.item in (None, item)
            ]
            choice = self._choice[key] = (route_for(self.spec, origin, item) or "direct", dated)
        rid, dated = choice
        now = self.env.now
        for day, route in dated:  # empty unless the scenario dates a rule for these goods
            if day <= now:
                return route
        return rid

    def _first_undated(self, origin: str, item: str) -> int:
        """Index of the first undated rule matching goods of `item` from `origin` (all rules if none)."""
        rules = self.spec.choose
        return next(
            (k for k, r in enumerate(rules) if r.from_ is None and r.origin == origin and r.item in (None, item)),
            len(rules),
        )

    def mean_days(self, origin: str, item: str) -> float:
        """Expected transit along the chosen route, for choosing the fastest donor."""
        return sum(leg.mean_days for leg in self.routes[self.route_of(origin, item)])

    def legs_at(self, node: str) -> list[str]:
        """Legs from or to `node` (what a hub outage closes)."""
        return [lid for lid, leg in self.legs.items() if node in leg.ends]

    def has_legs(self, lot) -> bool:
        """Choose the lot's route; False when it is `direct` (delivered where it is, no process step)."""
        rid = self.route_of(lot.origin, lot.item)
        lot.route = rid
        return bool(self.routes[rid])

    def carry(self, lot):
        """Process step: from the lot's origin to the destination."""
        rid = self.route_of(lot.origin, lot.item)
        lot.route = rid
        legs = self.routes[rid]
        if not legs:
            lot.shipped_day = self.env.now
            return
        scope = (f"route:{rid}",)
        key = (lot.request.rank, self.env.now, lot.request.seq, lot.lot_id)
        stops = self._stops.get(rid)  # per leg, the handled node at its end (None: the route passes none)
        for k, leg in enumerate(legs):
            if self.switch.any_closed and not self.switch.is_open(scope):
                lot.enter(HELD, self.env.now)
                yield from self.switch.hold(scope)
            yield from leg.traverse(lot, key)
            if stops is not None and stops[k] is not None:
                yield from stops[k].handle(lot)
            key = (lot.request.rank, self.env.now, lot.request.seq, lot.lot_id)

    def check(self, finished: Finished) -> None:
        """End of run: slot pools are consistent, and a shipped lot took the route its origin and item choose.

        The route is checked on one lot of each (source, donor, item, route): the origin is a
        function of source, donor and item (a line's, the US depot's or the donor's node).
        """
        for leg in self.legs.values():
            leg.check()
        if self.nodes is not None:
            self.nodes.check(finished)
        lots, d = finished.lots, finished.deliveries
        n = len(lots)
        if not n:
            return
        source = factorized(d["source"])
        unsourced = np.asarray(source.uniques == UNSOURCED)[source.codes[:n]]
        shipped = np.flatnonzero(~np.isnan(np.asarray(d["shipped_day"][:n], dtype=float)) & ~unsourced)
        if not shipped.size:
            return
        _, firsts = np.unique(
            group_codes([d[c] for c in ("source", "donor", "item", "route")], shipped), return_index=True
        )
        for k in shipped[firsts].tolist():
            lot = lots[k]
            routes = routes_for(self.spec, lot.origin, lot.item) or ["direct"]
            if lot.route not in routes:
                fail(f"lot {lot.lot_id} from {lot.origin} took route '{lot.route}', not one of {routes}")
