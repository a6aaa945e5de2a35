"""The transport section of a scenario: nodes, legs (with departures and vehicles), routes and the
rules choosing them (specs; sim.model.transport, vehicles and nodes run them)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from .fields import MAX_ENTRIES, Frozen, Id, Moment, PositiveDuration, PositiveInt, Text
from .node_specs import Handling
from .vehicle_specs import Vehicles


class Node(Frozen):
    """A place goods pass: plant, depot, port, airfield, hub or destination."""

    kind: Literal["plant", "depot", "port", "airfield", "hub", "destination"] = "hub"
    country: Text = Field("", max_length=200)
    lat: float | None = Field(None, ge=-90, le=90, description="Latitude (degrees), for the route map.")
    lon: float | None = Field(None, ge=-180, le=180, description="Longitude (degrees), for the route map.")
    handling: Handling | None = Field(None, description="Throughput for goods between two legs (none: no limit).")


class Departures(Frozen):
    """Scheduled departures: a ship every N days from `first` (a lot waits for the next one)."""

    # At least 0.001 day (86 s): a smaller gap is no schedule, and (day - first) / every must stay finite.
    every_days: float = Field(ge=1e-3, le=1e5)
    first: Moment = 0.0


class Leg(Frozen):
    """A hop between two nodes by one mode.

    `capacity` is how many lots may be on the leg at once (unscheduled legs) or may board one
    departure (scheduled legs). With `vehicles`, goods leave on departures (daily unless
    `departures` says otherwise) in vehicles with a weight and a space limit, and a lot that does
    not fit is split across vehicles and departures. An `outage` of the leg stops departures for
    its window and lots already in transit arrive no earlier than the outage's end; a `pause` only
    stops departures.
    """

    from_: Id = Field(alias="from")
    to: Id
    mode: Literal["sea", "air", "rail", "road"]
    days: PositiveDuration
    capacity: PositiveInt | None = None
    departures: Departures | None = None
    vehicles: Vehicles | None = Field(
        None, description="Vehicles carrying the goods (weight and space per vehicle, vehicles per departure)."
    )


class Route(Frozen):
    """An ordered list of legs from an origin node to the destination."""

    legs: list[Id] = Field(min_length=1, max_length=100)


class RouteRule(Frozen):
    """Which route goods take from an origin node, for one item or (item omitted) any item."""

    origin: Id
    item: Id | None = None
    route: Id
    from_: Moment | None = Field(
        None,
        alias="from",
        description="The rule applies to goods leaving their origin on or after this moment (a hub that opens "
        "on a date); none: always.",
    )


class Transport(Frozen):
    """Nodes, legs, named routes and the rules choosing a route. Route `direct` means no transport."""

    destination: Id = "ukraine"
    nodes: dict[Id, Node] = Field(default_factory=dict, max_length=MAX_ENTRIES)
    legs: dict[Id, Leg] = Field(default_factory=dict, max_length=MAX_ENTRIES)
    routes: dict[Id, Route] = Field(default_factory=dict, max_length=MAX_ENTRIES)
    choose: list[RouteRule] = Field(default_factory=list, max_length=MAX_ENTRIES)

    @field_validator("routes")
    @classmethod
    def _direct_is_reserved(cls, v):
        if "direct" in v:
            raise ValueError("the route name 'direct' is reserved (it means no transport); choose another name")
        return v
