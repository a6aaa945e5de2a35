"""Disruptions: pauses, outages, capacity changes and gates, acting on the switchboard, lines and legs.

Every part that can be stopped asks the switchboard (switchboard.py) whether its scopes are open
before it proceeds; work caught by a closed scope waits and resumes when it reopens, so nothing
is lost. Each kind of disruption is scheduled by its entry in KINDS (its spec class, from
sim/scenario/disruption_specs.py, to the function that starts its processes).

Scopes and who waits on them:
- `approvals`: a request whose review ends in the window waits before it is approved;
- `us_releases` / `donations`: a lot ready at US stock or production / at a donor waits before it
  leaves (the flow logs `held` and `released` events for it); `releases` is both, `all` is
  everything below as well;
- `line:ID`: no new order starts on the line (work in progress finishes);
- `leg:ID`: no new departure on the leg (lots already travelling arrive as planned);
- `route:ID`: lots on the route do not start their next leg;
- outages (`leg:ID`, or `hub:NODE` for every leg from or to the node) stop departures on the
  leg; what happens to lots already travelling on it is the outage's `on_transit`: `wait` (the
  default) closes `outage:leg:ID`, so they arrive no earlier than the outage's end; `arrive`
  closes `leg:ID`, as a pause does, so they arrive as planned; `lost` closes `outage:leg:ID` and,
  at its start, the leg loses every lot on it (Leg.lose_cargo: an event row of kind `lost` each,
  and the units are sourced again for the same request).

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
from collections.abc import Callable
from typing import Any

from ..scenario.disruption_specs import CapacityChange, Diversion, Gate, LineDiversion, Outage, Pause
from ..vocabulary import CAPACITY, GATE_CLOSED, GATE_PASSED, window_end, window_start
from .context import Context


class Disruptions:
    """Schedules the scenario's disruptions against the switchboard, lines and legs."""

    def __init__(self, ctx: Context, disruptions: list, kit):
        """`kit`: the model (sim.model.Model), whose parts a disruption acts on (its lines, legs, stocks)."""
        self.env, self.switch, self.rec, self.streams, self.day = (
            ctx.env,
            ctx.switch,
            ctx.recorder,
            ctx.streams,
            ctx.day,
        )
        self.kit = kit
        self.lines, self.transport = kit.lines, kit.transport
        self.gates_closed = 0
        self.gate_names: dict[str, int] = defaultdict(int)
        for d in disruptions:
            KINDS[type(d)](self, d)

    def close_window(self, d, scopes) -> None:
        for sc in scopes:
            self.switch.close(sc)
        self.rec.event(self.env.now, window_start(d.kind), where=d.scope)

    def window(self, d, scopes, start: float, end: float):
        """Process: close the scopes at `start` (unless already closed) and reopen them at `end`."""
        env = self.env
        if start > env.now:
            yield env.urgent_delay(start - env.now)
            self.close_window(d, scopes)
            if isinstance(d, Outage) and d.on_transit == "lost":
                for lid in outage_legs(self, d):
                    self.transport.lose_cargo(lid)
        yield env.urgent_delay(end - env.now)
        for sc in scopes:
            self.switch.open(sc)
        self.rec.event(env.now, window_end(d.kind), where=d.scope)

    def capacity_change(self, d: CapacityChange):
        """Process: on its date, set a line's servers or rate, or a leg's capacity."""
        env = self.env
        yield env.urgent_delay(self.day(d.at) - env.now)
        kind, _, name = d.scope.partition(":")
        if kind == "line":
            self.lines[name].change(servers=d.servers)  # its rate is in the line's plan since the start
        else:
            self.transport.legs[name].set_capacity(d.capacity)
        self.rec.event(env.now, CAPACITY, where=d.scope, qty=d.capacity or d.servers or d.rate_per_month or 0)

    def gate(self, d: Gate, u: float):
        """Process: on its date, pass (u < p_continue) or close the scope for good."""
        env = self.env
        yield env.urgent_delay(self.day(d.at) - env.now)
        if u < d.p_continue:
            self.rec.event(env.now, GATE_PASSED, where=d.scope)
        else:
            self.gates_closed += 1
            self.switch.close(d.scope)
            self.rec.event(env.now, GATE_CLOSED, where=d.scope)


def outage_legs(parts: Disruptions, d: Outage) -> list[str]:
    """The legs an outage puts out of action: its leg, or every leg from or to its hub."""
    kind, _, name = d.scope.partition(":")
    return parts.transport.legs_at(name) if kind == "hub" else [name]


def window_scopes(parts: Disruptions, d) -> list[str]:
    """The switchboard scopes a pause or outage closes (an outage's depend on its `on_transit`)."""
    if isinstance(d, Outage):
        # `arrive` only stops departures, as a pause does; `wait` and `lost` also hold arrivals
        # (under `lost` nothing is left on the leg to hold, but a lot is never let through early).
        prefix = "leg:" if d.on_transit == "arrive" else "outage:leg:"
        return [prefix + lid for lid in outage_legs(parts, d)]
    return [d.scope]


def schedule_window(parts: Disruptions, d) -> None:
    """A pause or outage: close its scopes over [start, end)."""
    start, end = parts.day(d.start), parts.day(d.end)
    if end <= max(start, 0.0):
        return  # empty, or over before the run starts
    scopes = window_scopes(parts, d)
    if isinstance(d, Outage) and d.on_transit == "lost":
        for lid in outage_legs(parts, d):
            parts.transport.legs[lid].track_cargo()  # only such legs keep a list of the lots on them
    if start <= parts.env.now:
        # In force from the first event: close now, before any process has run.
        parts.close_window(d, scopes)
    parts.env.task(parts.window(d, scopes, start, end))


def schedule_capacity(parts: Disruptions, d: CapacityChange) -> None:
    """A capacity change: a line's servers or rate, or a leg's capacity, from its date on.

    A new rate goes into the line's plan now, so work in progress on the date follows it."""
    kind, _, name = d.scope.partition(":")
    if kind == "line" and d.rate_per_month is not None:
        parts.lines[name].plan_rate(parts.day(d.at), d.rate_per_month)
    parts.env.task(parts.capacity_change(d))


def schedule_gate(parts: Disruptions, d: Gate) -> None:
    """A gate: one draw decides whether its scope closes for good on its date."""
    # The stream is named by what the gate is, not by its place in the list, so adding another
    # disruption elsewhere does not change this gate's draw (common random numbers).
    name = f"disruptions.gate.{d.scope}.{parts.day(d.at):g}"
    parts.gate_names[name] += 1
    if parts.gate_names[name] > 1:
        name += f".{parts.gate_names[name]}"
    u = float(parts.streams.rng(name).random())
    parts.env.task(parts.gate(d, u))


def schedule_diversion(parts: Disruptions, d: Diversion) -> None:
    """A diversion: on its date, US stock gives up to `units` of the item to another theatre."""

    def divert():
        env = parts.env
        yield env.urgent_delay(parts.day(d.at) - env.now)
        taken = parts.kit.us_stock.divert(d.item, d.units)
        parts.rec.event(env.now, d.kind, item=d.item, qty=taken, where=d.scope)

    parts.env.task(divert())


def schedule_line_diversion(parts: Disruptions, d: LineDiversion) -> None:
    """A line diversion: its share of the output goes into the line's plan now (work in progress follows it)."""
    start, end = parts.day(d.start), parts.day(d.end)
    parts.lines[d.scope.partition(":")[2]].plan.divert(max(start, 0.0), end, d.share)

    def log():
        env = parts.env
        if start > env.now:
            yield env.urgent_delay(start - env.now)
        parts.rec.event(env.now, window_start(d.kind), where=d.scope, qty=d.share)
        yield env.urgent_delay(max(0.0, end - env.now))
        parts.rec.event(env.now, window_end(d.kind), where=d.scope, qty=d.share)

    if end > max(start, 0.0):
        parts.env.task(log())


# Each disruption kind's spec class -> the function that schedules one of them.
KINDS: dict[type, Callable[[Disruptions, Any], None]] = {
    Pause: schedule_window,
    Outage: schedule_window,
    CapacityChange: schedule_capacity,
    Gate: schedule_gate,
    Diversion: schedule_diversion,
    LineDiversion: schedule_line_diversion,
}
