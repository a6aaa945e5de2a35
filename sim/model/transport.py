"""Transport: legs between nodes, named routes of legs, and the rules that choose a route.

An unscheduled leg with a capacity is a ServerPool: a lot holds a slot for its transit. A
scheduled leg (a ship every N days) takes up to `capacity` lots per departure; a lot ready at
day 3 on a 10-day schedule from day 0 sails at day 10. All lots on one departure share its drawn
transit time. A pause on a leg stops departures; an outage also holds lots in transit until it
ends. The route `direct` has no legs (goods are delivered where they are made).

Phases of a lot (recorder.PHASES): `waiting_departure` while it waits for a slot or a sailing,
`transit_<mode>` from its departure on a leg to its arrival, `held` while a pause of its route
or leg keeps it from leaving, or an outage keeps it from arriving. A lot on a sailing leg that
is paused waits for its sailing as usual and counts as held from the sailing it missed.
"""

from __future__ import annotations

import math

from ..recorder import HELD, TRANSIT, WAITING_DEPARTURE
from ..scenario.references import route_for
from ..scenario.schema import Leg as LegSpec
from ..scenario.schema import Scenario
from .queueing import ServerPool


class Leg:
    """One leg: its transit-time sampler and either a slot pool or a departure schedule."""

    def __init__(self, env, lid: str, spec: LegSpec, scenario: Scenario, streams, recorder, switch):
        self.env, self.lid, self.rec, self.switch = env, lid, recorder, switch
        self.transit = streams.sampler(f"transport.legs.{lid}.days", spec.days)
        self._delay = env.delay
        self.depart_scopes = (f"leg:{lid}", f"outage:leg:{lid}", "all")
        self.outage_scopes = (f"outage:leg:{lid}",)
        self.capacity = spec.capacity
        self.transit_phase = TRANSIT[spec.mode]
        self.schedule = None
        self.pool = None
        if spec.departures is not None:
            self.schedule = (scenario.day(spec.departures.first), spec.departures.every_days)
            self._booked: dict[int, int] = {}
            self._sailing_days: dict[int, float] = {}
        elif spec.capacity is not None:
            self.pool = ServerPool(env, spec.capacity, queue_phase=WAITING_DEPARTURE)
            for scope in self.depart_scopes:
                switch.watch(scope, self.pool)
        mean_wait = spec.departures.every_days / 2 if spec.departures is not None else 0.0
        from ..scenario.distributions import as_dist

        self.mean_days = as_dist(spec.days).mean() + mean_wait

    def set_capacity(self, capacity: int) -> None:
        """New capacity from now on (lots per departure, or lots at once).

        A leg that had no limit gets a slot pool now; lots already on it hold no slot and count
        against nothing.
        """
        self.capacity = capacity
        if self.schedule is not None:
            return
        if self.pool is None:
            self.pool = ServerPool(self.env, capacity, queue_phase=WAITING_DEPARTURE)
            for scope in self.depart_scopes:
                self.switch.watch(scope, self.pool)
        else:
            self.pool.set_capacity(capacity)

    def traverse(self, lot, key):
        """Process step: wait for a slot or a sailing, travel, and arrive (held by any outage)."""
        env = self.env
        slot = None  # the pool this lot holds a slot of (a pool may appear mid-run, see set_capacity)
        if self.schedule is not None:
            departed, transit = yield from self._sail(lot)
        else:
            if self.pool is not None:
                slot = self.pool
                grant = slot.acquire(key, lot)  # the pool marks the lot waiting or held
                if grant is not None:
                    yield grant
            elif self.switch.any_closed and not self.switch.is_open(self.depart_scopes):
                lot.enter(HELD, env.now)
                yield from self.switch.hold(self.depart_scopes)
            departed, transit = env.now, self.transit.draw()
        if lot.shipped_day != lot.shipped_day:  # NaN: first departure of this lot
            lot.shipped_day = departed
        lot.enter(self.transit_phase, env.now)
        yield self._delay(departed + transit - env.now)
        if self.switch.any_closed and not self.switch.is_open(self.outage_scopes):
            lot.enter(HELD, env.now)  # arrived, but an outage holds it until it ends
            yield from self.switch.hold(self.outage_scopes)
        if slot is not None:
            slot.release()

    def _sail(self, lot):
        env = self.env
        first, every = self.schedule
        k = max(0, math.ceil((env.now - first) / every - 1e-12))
        while True:
            day = first + k * every
            if self._booked.get(k, 0) >= (self.capacity or math.inf):
                k += 1
                continue
            if day > env.now:
                lot.enter(WAITING_DEPARTURE, env.now)
                yield env.delay(day - env.now)
            if not self.switch.is_open(self.depart_scopes):
                # Missed this sailing; wait for the leg to open, then take the next one.
                lot.enter(HELD, env.now)
                yield from self.switch.hold(self.depart_scopes)
                k = max(k + 1, math.ceil((env.now - first) / every - 1e-12))
                continue
            if self._booked.get(k, 0) >= (self.capacity or math.inf):
                k += 1
                continue
            self._booked[k] = self._booked.get(k, 0) + 1
            if k not in self._sailing_days:
                self._sailing_days[k] = self.transit.draw()
            return day, self._sailing_days[k]


class Transport:
    """Carries lots along the route chosen for their origin and item."""

    def __init__(self, env, scenario: Scenario, streams, recorder, switch):
        self.env, self.s, self.rec, self.switch = env, scenario, recorder, switch
        t = scenario.transport
        self.legs = {lid: Leg(env, lid, spec, scenario, streams, recorder, switch) for lid, spec in t.legs.items()}
        self.routes = {rid: [self.legs[l] for l in r.legs] for rid, r in t.routes.items()}
        self.routes["direct"] = []
        self._choice: dict[tuple[str, str], str] = {}

    def route_of(self, origin: str, item: str) -> str:
        """Route name for goods of `item` leaving `origin` (checked to exist at load time)."""
        key = (origin, item)
        rid = self._choice.get(key)
        if rid is None:
            rid = route_for(self.s, origin, item) or "direct"
            self._choice[key] = rid
        return rid

    def mean_days(self, origin: str, item: str) -> float:
        """Expected transit along the chosen route, for choosing the fastest donor."""
        return sum(leg.mean_days for leg in self.routes[self.route_of(origin, item)])

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
        for leg in legs:
            if self.switch.any_closed and not self.switch.is_open(scope):
                lot.enter(HELD, self.env.now)
                yield from self.switch.hold(scope)
            yield from leg.traverse(lot, key)
            key = (lot.request.rank, self.env.now, lot.request.seq, lot.lot_id)
