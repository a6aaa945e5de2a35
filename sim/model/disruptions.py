"""Disruptions: pauses, outages, capacity changes and gates, and the switchboard that holds their state.

Every part that can be stopped asks the Switchboard whether its scopes are open before it
proceeds; work caught by a closed scope waits and resumes when it reopens, so nothing is lost.

Scopes: `approvals`, `us_releases`, `donations`, `releases` (both kinds of release), `all`,
`line:ID`, `leg:ID`, `route:ID`; outages close `outage:leg:ID` for a leg or for every leg that
touches a hub. A pause stops new starts or departures; an outage also holds lots already in
transit on the leg until it ends (they arrive no earlier than the outage's end). A gate that
fails closes its scope for good.
"""
from __future__ import annotations

from collections import defaultdict

import simpy

from ..scenario.schema import CapacityChange, Gate, Outage, Pause, Scenario


class Switchboard:
    """Which scopes are closed, and who waits for them to reopen."""

    def __init__(self, env: simpy.Environment):
        self.env = env
        self.closed: dict[str, int] = defaultdict(int)
        self.any_closed = 0
        self._waiters: dict[str, list[simpy.Event]] = defaultdict(list)
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
            ev = self.env.event()
            self._waiters[shut].append(ev)
            yield ev

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
                ev.succeed()


class Disruptions:
    """Schedules the scenario's disruptions against the switchboard, lines and legs."""

    def __init__(self, env, scenario: Scenario, switch: Switchboard, lines, legs, streams, recorder):
        self.env, self.s, self.switch = env, scenario, switch
        self.lines, self.legs, self.streams, self.rec = lines, legs, streams, recorder
        self.gates_closed = 0
        for k, d in enumerate(scenario.disruptions):
            env.process(self._run(k, d))

    def _scopes(self, d) -> list[str]:
        if isinstance(d, Outage):
            kind, _, name = d.scope.partition(":")
            if kind == "hub":
                legs = self.s.transport.legs
                return [f"outage:leg:{lid}" for lid, leg in legs.items() if name in (leg.from_, leg.to)]
            return [f"outage:leg:{name}"]
        if isinstance(d, Gate) and d.scope == "releases":
            return ["releases"]
        return [d.scope]

    def _run(self, k: int, d):
        env, s = self.env, self.s
        if isinstance(d, (Pause, Outage)):
            start, end = s.day(d.start), s.day(d.end)
            if end <= start:
                return
            yield env.timeout(max(0.0, start - env.now))
            scopes = self._scopes(d)
            for sc in scopes:
                self.switch.close(sc)
            self.rec.event(env.now, f"{d.kind}_start", where=d.scope)
            yield env.timeout(end - env.now)
            for sc in scopes:
                self.switch.open(sc)
            self.rec.event(env.now, f"{d.kind}_end", where=d.scope)
        elif isinstance(d, CapacityChange):
            yield env.timeout(max(0.0, s.day(d.at) - env.now))
            kind, _, name = d.scope.partition(":")
            if kind == "line":
                self.lines[name].change(servers=d.servers, rate_per_month=d.rate_per_month)
            else:
                self.legs[name].set_capacity(d.capacity)
            self.rec.event(env.now, "capacity", where=d.scope)
        elif isinstance(d, Gate):
            u = float(self.streams.rng(f"disruptions.{k}.gate").random())
            yield env.timeout(max(0.0, s.day(d.at) - env.now))
            if u < d.p_continue:
                self.rec.event(env.now, "gate_passed", where=d.scope)
            else:
                self.gates_closed += 1
                self.switch.close(d.scope)
                self.rec.event(env.now, "gate_closed", where=d.scope)
