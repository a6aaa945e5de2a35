"""Vehicles on a leg (aircraft, ships, trains, trucks): their weight and space limits, and the check
that every item routed over such a leg can be loaded at all (specs; sim.model.vehicles runs them).

Space is counted in the unit the vehicle states: 463L pallet positions (`positions`, air) or
square metres of deck (`deck_m2`, sea and rail). An item's space per unit is in the same units
(`Item.positions`, `Item.deck_m2`); a vehicle with a space limit needs that figure for every item
it may carry, because a missing figure would silently load an item as if it took no room.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .fields import Frozen, PositiveInt, Text

CargoClass = Literal["bulk", "oversize", "outsize"]
CARGO_CLASSES: tuple[CargoClass, ...] = ("bulk", "oversize", "outsize")


class Vehicles(Frozen):
    """What carries goods on a leg: `per_departure` vehicles leave at each departure, each with limits."""

    name: Text = Field("", max_length=200, description="What the vehicle is (shown only): C-17, LMSR, flatcar, truck.")
    payload_t: float = Field(gt=0, le=1e6, description="Tonnes one vehicle carries at most.")
    positions: float | None = Field(
        None, gt=0, le=1e6, description="463L pallet positions per vehicle (none: no limit by positions)."
    )
    deck_m2: float | None = Field(
        None, gt=0, le=1e7, description="Square metres of deck per vehicle (none: no limit by deck)."
    )
    per_departure: PositiveInt = Field(
        1,
        description="Vehicles leaving at each departure: trucks or sorties a day with daily departures, "
        "wagons of the trains of one departure.",
    )
    takes: list[CargoClass] = Field(
        default_factory=lambda: list(CARGO_CLASSES),
        min_length=1,
        max_length=3,
        description="Cargo classes it loads (outsize only on the largest aircraft, a ro-ro ship, a flatcar).",
    )
    load_days: float = Field(
        0.0,
        ge=0,
        le=365,
        description="Days before a departure by which goods must be at the leg to make it (a ship's load time).",
    )
    fleet: PositiveInt | None = Field(
        None,
        le=100_000,
        description="Vehicles available to the leg in all (none: as many as per_departure at every departure); "
        "one that leaves is back for another departure `return_days` later.",
    )
    return_days: float | None = Field(
        None, gt=0, le=365, description="Days from a vehicle's departure until it can leave again (with fleet)."
    )

    @model_validator(mode="after")
    def _fleet_returns(self):
        if (self.fleet is None) != (self.return_days is None):
            raise ValueError("fleet and return_days go together (vehicles that leave come back after return_days)")
        return self

    def limits(self) -> tuple[tuple[str, float], ...]:
        """(item field, limit per vehicle) for each space limit this vehicle has."""
        return tuple((f, v) for f in ("positions", "deck_m2") if (v := getattr(self, f)) is not None)


def check_cargo(s, problem, origins, routes_for) -> None:
    """Every item that may travel a leg with vehicles has the figures its loading needs and fits one vehicle.

    `problem(path, message)` records a problem; `origins`: the (node, item) pairs goods may leave
    from; `routes_for(transport, node, item)`: the routes they may take. An item may travel a leg
    when a route it may take from one of its origins contains the leg.
    """
    t = s.transport
    for lid, leg in t.legs.items():
        v = leg.vehicles
        if v is None:
            continue
        p = f"transport.legs.{lid}.vehicles"
        if leg.capacity is not None:
            problem(
                f"transport.legs.{lid}.capacity", "a leg with vehicles is limited by them: set vehicles.per_departure"
            )
        for name in sorted(_items_on(s, lid, origins, routes_for)):
            item = s.items[name]
            if item.weight_t is None:
                problem(
                    f"items.{name}.weight_t", f"needed: the item may travel leg '{lid}', whose vehicles carry tonnes"
                )
                continue
            piece = "one unit" if item.pieces_per_unit == 1 else f"one of the {item.pieces_per_unit} pieces of a unit"
            if item.weight_t / item.pieces_per_unit > v.payload_t:
                problem(
                    f"{p}.payload_t", f"{piece} of '{name}' ({item.weight_t / item.pieces_per_unit:g} t) exceeds it"
                )
            for field, limit in v.limits():
                need = getattr(item, field)
                if need is None:
                    problem(
                        f"items.{name}.{field}",
                        f"needed: the item may travel leg '{lid}', whose vehicles limit {field}",
                    )
                elif need / item.pieces_per_unit > limit:
                    problem(f"{p}.{field}", f"{piece} of '{name}' ({need / item.pieces_per_unit:g}) exceeds {limit:g}")
            cargo = item.cargo or "bulk"
            if cargo not in v.takes:
                problem(f"{p}.takes", f"'{name}' is {cargo} cargo, which these vehicles do not take")


def _items_on(s, lid: str, origins, routes_for) -> set[str]:
    """Items a route from one of their origins may carry over leg `lid`."""
    out: set[str] = set()
    for node, item in origins:
        for rid in routes_for(s.transport, node, item):
            route = s.transport.routes.get(rid)
            if route is not None and lid in route.legs:
                out.add(item)
    return out & set(s.items)
