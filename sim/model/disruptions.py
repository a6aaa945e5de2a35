"""Disruptions: pauses, outages, capacity changes and gates, and the switchboard that holds their state.

Every part that can be stopped asks the Switchboard whether its scopes are open before it
proceeds; work caught by a closed scope waits and resumes when it reopens, so nothing is lost.

Scopes and who waits on them:
- `approvals`: a request whose review ends in the window waits before it is approved;
- `us_releases` / `donations`: a lot ready at US stock or production / at a donor waits before it
  leaves (the flow logs `held` and `released` events for it); `releases` is both, `all` is
  everything below as well;
- `line:ID`: no new order starts on the line (work in progress finishes);
- `leg:ID`: no new departure on the leg (lots already travelling arrive as planned);
- `route:ID`: lots on the route do not start their next leg;
- outages (`leg:ID`, or `hub:NODE` for every leg from or to the node) close `outage:leg:ID`: no
  departures, and lots already travelling on the leg arrive no earlier than the outage's end.

A pause or outage covers [start, end): work that reaches it at `start` waits, work that reaches
it at `end` passes. State changes are scheduled as urgent events, so at the same instant a
disruption always acts before ordinary work; windows that start at or before day 0 are in force
from the first event. Overlapping windows nest (a scope reopens when the last one ends).

A capacity change sets a line's servers and/or rate, or a leg's capacity, from its date on. A
gate draws once, from its own stream: with probability `p_continue` nothing happens, otherwise
its scope closes for good (everything that reaches it afterwards stays undelivered, as rows).
"""

from __future__ import annotations

from collections import defaultdict

from ..scenario.schema import CapacityChange, Gate, Outage, Pause, Scenario


class Switchboard:
    """Which scopes are closed, and who waits for them to reopen."""

    def __init__(self, env):
        self.env = env
        self.closed: dict[str, int] = defaultdict(int)
        self.any_closed = 0
        self._waiters: dict[str, list] = defaultdict(list)  # kernel signals
        self._watchers: dict[str, list] = defaultdict(list)

    def is_open(self, scopes) -> bool:
        """True when none of `scopes` is closed."""
        return not self.any_closed or not any(self.closed.get(s) for s in scopes)

    def hold(self, scopes):
        """Process step: wait until every one of `scopes` is open."""
        while self.any_closed:
            shut = next((s for s in scopes if self.closed.get(s)), None)
            if shut is None:
                return
            ev = self.env.signal()
            self._waiters[shut].append(ev)
            yield ev

    def waiting(self) -> dict[str, int]:
        """Work waiting per scope (for checks that nothing is stranded on an open scope)."""
        return {s: len(w) for s, w in self._waiters.items() if w}

    def watch(self, scope: str, target) -> None:
        """Tell `target` (with close(scope)/open(scope)) whenever `scope` changes."""
        self._watchers[scope].append(target)
        if self.closed.get(scope):
            target.close(scope)

    def close(self, scope: str) -> None:
        """Close a scope (counted, so overlapping windows nest)."""
        self.closed[scope] += 1
        self.any_closed += 1
        if self.closed[scope] == 1:
            for t in self._watchers.get(scope, ()):
                t.close(scope)

    def open(self, scope: str) -> None:
        """Undo one close of a scope; when it is fully open, wake its waiters."""
        self.closed[scope] -= 1
        self.any_closed -= 1
        if self.closed[scope] == 0:
            for t in self._watchers.get(scope, ()):
                t.open(scope)
            waiters, self._waiters[scope] = self._waiters[scope], []
            for ev in waiters:
                self.env.fire(ev)


class Disruptions:
    """Schedules the scenario's disruptions against the switchboard, lines and legs."""

    def __init__(self, env, scenario: Scenario, switch: Switchboard, lines, legs, streams, recorder):
        self.env, self.s, self.switch = env, scenario, switch
        self.lines, self.legs, self.streams, self.rec = lines, legs, streams, recorder
        self.gates_closed = 0
        gate_names: dict[str, int] = defaultdict(int)
        for d in scenario.disruptions:
            if isinstance(d, (Pause, Outage)):
                start, end = scenario.day(d.start), scenario.day(d.end)
                if end <= max(start, 0.0):
                    continue  # empty, or over before the run starts
                scopes = self._scopes(d)
                if start <= env.now:
                    # In force from the first event: close now, before any process has run.
                    self._close(d, scopes)
                env.task(self._window(d, scopes, start, end))
            elif isinstance(d, CapacityChange):
                env.task(self._capacity(d))
            elif isinstance(d, Gate):
                # The stream is named by what the gate is, not by its place in the list, so adding
                # another disruption elsewhere does not change this gate's draw (common random numbers).
                name = f"disruptions.gate.{d.scope}.{scenario.day(d.at):g}"
                gate_names[name] += 1
                if gate_names[name] > 1:
                    name += f".{gate_names[name]}"
                u = float(streams.rng(name).random())
                env.task(self._gate(d, u))

    def _scopes(self, d) -> list[str]:
        if isinstance(d, Outage):
            kind, _, name = d.scope.partition(":")
            if kind == "hub":
                legs = self.s.transport.legs
                return [f"outage:leg:{lid}" for lid, leg in legs.items() if name in (leg.from_, leg.to)]
            return [f"outage:leg:{name}"]
        return [d.scope]

    def _close(self, d, scopes) -> None:
        for sc in scopes:
            self.switch.close(sc)
        self.rec.event(self.env.now, f"{d.kind}_start", where=d.scope)

    def _window(self, d, scopes, start: float, end: float):
        env = self.env
        if start > env.now:
            yield env.urgent_delay(start - env.now)
            self._close(d, scopes)
        yield env.urgent_delay(end - env.now)
        for sc in scopes:
            self.switch.open(sc)
        self.rec.event(env.now, f"{d.kind}_end", where=d.scope)

    def _capacity(self, d: CapacityChange):
        env = self.env
        yield env.urgent_delay(self.s.day(d.at) - env.now)
        kind, _, name = d.scope.partition(":")
        if kind == "line":
            self.lines[name].change(servers=d.servers, rate_per_month=d.rate_per_month)
        else:
            self.legs[name].set_capacity(d.capacity)
        self.rec.event(env.now, "capacity", where=d.scope, qty=d.capacity or d.servers or d.rate_per_month or 0)

    def _gate(self, d: Gate, u: float):
        env = self.env
        yield env.urgent_delay(self.s.day(d.at) - env.now)
        if u < d.p_continue:
            self.rec.event(env.now, "gate_passed", where=d.scope)
        else:
            self.gates_closed += 1
            self.switch.close(d.scope)
            self.rec.event(env.now, "gate_closed", where=d.scope)
