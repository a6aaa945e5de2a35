"""Legs whose goods leave on departures, loaded at each departure by priority: ships on a schedule,
and vehicles (aircraft, ships, wagons, trucks) with a weight and a space limit.

A departure loads once every lot arriving at its instant is there (the kernel's late delay), so
loading is by the lot's key (priority, then the time it reached the leg, then request order),
never by who came first at that instant, and an urgent lot that arrives after a routine one takes
the space the routine lot would have had.

- `scheduled` (a leg with `departures` and no `vehicles`): up to `capacity` whole lots per
  departure (no limit if none), as before, but loaded by priority at the departure.
- `vehicles`: `per_departure` vehicles leave at each departure (daily from the start unless
  `departures` says otherwise). Lots are loaded in key order, each into the first vehicle with
  room for at least one unit, unit by unit: a lot that does not fit is split into pieces across
  vehicles and departures, and it arrives when its last piece does. A smaller lot further down
  may fill the room left by a larger one. Goods must reach the leg `load_days` before a
  departure to make it (a ship's load time). With a `fleet`, a vehicle that leaves is away for
  `return_days` (its round trip and turn), so a departure has at most the fleet's vehicles at
  home (C-17s available to the route, each back two days after it flew).

Every departure draws one transit time, shared by all it carries. A lot is in transit from the
departure of its first piece to the arrival of its last. A departure that falls while the leg is
paused does not leave; lots waiting count as held from it, and go on the first departure after
the leg reopens. A unit of an item with `pieces_per_unit` > 1 loads as that many equal pieces
(a Patriot battery as ~18 C-17 loads). Each vehicle that leaves with goods writes a level point
of the tonnes it carries (`vehicle_t:<leg>`) and of the space it fills, in its first space unit
(`vehicle_space:<leg>`); what a lot puts in one vehicle is an event `loaded` (`where` the leg,
`qty` its pieces: its units unless the item ships in pieces).
"""

from __future__ import annotations

import heapq
import math

from ..recorder import HELD, WAITING_DEPARTURE

EPS = 1e-9  # room left below this counts as none (sums of float weights)


def vehicle_series(lid: str) -> tuple[str, str]:
    """Level series of tonnes and space per vehicle that left leg `lid`."""
    return f"vehicle_t:{lid}", f"vehicle_space:{lid}"


class _Waiting:
    """A lot waiting at the leg: what is left to load, and where its pieces went."""

    __slots__ = ("key", "lot", "left", "ready", "first", "last", "done", "held")

    def __init__(self, key, lot, ready: float, done):
        self.key, self.lot, self.ready, self.done = key, lot, ready, done
        self.left = lot.qty  # lots, units or pieces still to load, in what the leg counts
        self.first = math.nan  # departure of its first piece
        self.last = -math.inf  # arrival of its last piece so far
        self.held = False


class Departing:
    """Departures every `every` days from `first`, loaded by priority; see the module docstring."""

    def __init__(self, leg, spec, ctx, items=None):
        self.leg, self.env = leg, ctx.env
        dep, v = spec.departures, spec.vehicles
        self.first = ctx.day(dep.first) if dep is not None else 0.0
        self.every = dep.every_days if dep is not None else 1.0
        self.vehicles = v
        self.load_days = v.load_days if v is not None else 0.0
        self.per_departure = v.per_departure if v is not None else 1
        self.fleet = v.fleet if v is not None else None
        self.return_days = v.return_days if v is not None else None
        self._away: list[float] = []  # with a fleet: the days its vehicles now away come back (a heap)
        self.capacity = math.inf if v is not None or spec.capacity is None else spec.capacity
        self.mean_wait = self.every / 2 + self.load_days
        self._waiting: list[_Waiting] = []
        self._running = False  # a departure is scheduled (goods wait)
        self._day = math.nan  # the day of the scheduled departure
        self.recorder = ctx.recorder
        if v is not None:
            items = items or {}
            # Per piece (a unit ships as `pieces_per_unit` equal pieces): what loading counts in.
            self.pieces = {name: item.pieces_per_unit for name, item in items.items()}
            self.weight = {name: (item.weight_t or 0.0) / item.pieces_per_unit for name, item in items.items()}
            self.limits = v.limits()
            self.space = {
                name: [(getattr(item, f) or 0.0) / item.pieces_per_unit for f, _ in self.limits]
                for name, item in items.items()
            }
            self.series = vehicle_series(leg.lid)

    def with_capacity(self, capacity: int):
        """Vehicles per departure (a vehicle leg) or lots per departure (a scheduled leg) from now on."""
        if self.vehicles is not None:
            self.per_departure = capacity
        else:
            self.capacity = capacity
        return self

    def traverse(self, lot, key):
        """Process step: wait at the leg until the last piece has arrived (held by any outage)."""
        env = self.env
        done = env.signal()  # fired for the arrival of the last piece, when it leaves
        entry = _Waiting(key, lot, env.now, done)
        if self.vehicles is not None:
            entry.left = lot.qty * self.pieces[lot.item]
        self._waiting.append(entry)
        lot.enter(WAITING_DEPARTURE, env.now)
        if not self._running:  # nothing waited: no departure is scheduled yet
            self._running = True
            self._schedule(self._next_departure(env.now + self.load_days))
        yield done
        cargo = self.leg.cargo
        if cargo is not None and cargo.pop(lot, False) is False:
            yield env.signal()  # lost on the way (Leg.lose_cargo): this process goes no further
        yield from self.leg.arrive(lot)

    def _next_departure(self, after: float) -> float:
        """The first departure at or after `after`."""
        k = max(0, math.ceil((after - self.first) / self.every - 1e-12))
        return self.first + k * self.every

    def _schedule(self, day: float) -> None:
        """The next departure at `day`, after every lot arriving at its instant (a callback: no task)."""
        self._day = day
        self.env.late_delay(day - self.env.now).callbacks.append(self._depart)

    def _depart(self, _event) -> None:
        """A departure: load it, or hold what waits if the leg is paused; then the next, while goods wait."""
        day, waiting, leg = self._day, self._waiting, self.leg
        if not leg.switch.is_open(leg.depart_scopes):
            for w in waiting:  # this departure does not leave: what waits for it is held from it
                if not w.held and w.first != w.first and w.ready + self.load_days <= day + EPS:
                    w.held = True
                    w.lot.enter(HELD, day)
        else:
            self._load(day)
        if waiting:
            self._schedule(self._next_departure(max(day + self.every, min(w.ready for w in waiting) + self.load_days)))
        else:
            self._running = False

    def _load(self, day: float) -> None:
        """Load this departure by key; fire the lots whose last piece has left."""
        cutoff = day - self.load_days + EPS
        ready = sorted((w for w in self._waiting if w.ready <= cutoff), key=lambda w: w.key)
        if not ready:
            return
        if self.vehicles is None:
            loaded = ready if self.capacity == math.inf else ready[: int(self.capacity)]
            pieces = [(w, w.left) for w in loaded]
        else:
            pieces = self._fill(ready, day)
        if not pieces:
            return
        arrival = day + self.leg.transit.draw()
        transit = self.leg.transit_phase
        rec, lid = self.recorder, self.leg.lid
        for w, units in pieces:
            lot = w.lot
            if w.first != w.first:  # NaN: its first piece leaves now; it is in transit from here
                w.first = day
                w.held = False
                if lot.shipped_day != lot.shipped_day:  # NaN: its first departure on any leg
                    lot.shipped_day = day
                lot.enter(transit, day)
            w.last = max(w.last, arrival)
            w.left -= units
            if self.vehicles is not None:
                rec.event(day, "loaded", lot.request.request_id, lot.lot_id, lot.item, units, lid)
        for w in ready:
            if w.left == 0:
                self._waiting.remove(w)
                self.env.fire_at(w.done, w.last - day)
                if self.leg.cargo is not None:  # a leg that can lose its goods lists them once all left
                    self.leg.cargo[w.lot] = None

    def _fill(self, ready: list[_Waiting], day: float) -> list[tuple[_Waiting, int]]:
        """Pieces (lot, units) of this departure's vehicles, first fit in key order, unit by unit."""
        weight, space, limits = self.weight, self.space, [lim for _, lim in self.limits]
        left = {id(w): w.left for w in ready}
        pieces: list[tuple[_Waiting, int]] = []
        rec = self.recorder
        t_series, s_series = self.series
        away = self._away
        while away and away[0] <= day + EPS:
            heapq.heappop(away)
        count = self.per_departure if self.fleet is None else min(self.per_departure, self.fleet - len(away))
        for _ in range(count):
            room_t, room_s = self.vehicles.payload_t, list(limits)
            carried_t = carried_s = 0.0
            loaded = False
            for w in ready:
                n = left[id(w)]
                if not n:
                    continue
                wt, sp = weight[w.lot.item], space[w.lot.item]
                fit = n if wt <= 0 else min(n, math.floor((room_t + EPS) / wt))
                for need, room in zip(sp, room_s, strict=True):
                    if need > 0:
                        fit = min(fit, math.floor((room + EPS) / need))
                if fit <= 0:
                    continue
                loaded = True
                left[id(w)] = n - fit
                pieces.append((w, fit))
                room_t -= fit * wt
                carried_t += fit * wt
                room_s = [room - fit * need for need, room in zip(sp, room_s, strict=True)]
                carried_s += fit * sp[0] if sp else 0.0
            if not loaded:
                break  # every unit fits an empty vehicle (checked at load time): nothing is left
            rec.level(day, t_series, carried_t)
            rec.level(day, s_series, carried_s)
            if self.return_days is not None:
                heapq.heappush(away, day + self.return_days)
        return pieces
