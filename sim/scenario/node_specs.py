"""Specs of node handling (hubs, ports, airfields) and NSATU's coordination step; sim.model.nodes and
sim.model.coordination run them.

A node's `handling` is one of two kinds of capacity:
- `tonnes_per_day`: tonnes handled per calendar day (a hub or port);
- `on_ground` and `ground_hours`: aircraft (loads) on the ground at once, and the hours each turn takes.
Either may change on dates (`changes`, in date order; the order is checked with the scenario's
start in references.py, where dates become days).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from .fields import MAX_ENTRIES, Delay, Frozen, Moment, PositiveDuration, PositiveInt

Tonnes = Annotated[float, Field(ge=0, le=1e9)]
Aircraft = Annotated[int, Field(ge=0, le=100_000)]


class HandlingChange(Frozen):
    """A node's capacity from a date on (0 closes it until a later change)."""

    from_: Moment = Field(alias="from")
    tonnes_per_day: Tonnes | None = None
    on_ground: Aircraft | None = None

    @model_validator(mode="after")
    def _one(self):
        if (self.tonnes_per_day is None) == (self.on_ground is None):
            raise ValueError("a change gives one of tonnes_per_day or on_ground")
        return self


class Handling(Frozen):
    """What a node can handle of the goods passing it between two legs of a route (see sim.model.nodes)."""

    tonnes_per_day: Tonnes | None = Field(
        None, description="Tonnes handled per calendar day (a hub or port); 0: closed until a change opens it."
    )
    on_ground: Aircraft | None = Field(
        None, description="Aircraft on the ground at once (an airfield); each lot passing is one turn."
    )
    ground_hours: Delay | None = Field(None, description="Hours one turn takes on the ground (with on_ground).")
    changes: list[HandlingChange] = Field(
        default_factory=list, max_length=MAX_ENTRIES, description="Capacity from dates on, in date order."
    )

    @model_validator(mode="after")
    def _one_kind(self):
        if (self.tonnes_per_day is None) == (self.on_ground is None):
            raise ValueError("give tonnes_per_day (a hub or port) or on_ground with ground_hours (an airfield)")
        if self.on_ground is not None and self.ground_hours is None:
            raise ValueError("on_ground needs ground_hours (the hours one turn takes)")
        if self.tonnes_per_day is not None and self.ground_hours is not None:
            raise ValueError("ground_hours goes with on_ground, not with tonnes_per_day")
        kind = "tonnes_per_day" if self.tonnes_per_day is not None else "on_ground"
        for change in self.changes:
            if getattr(change, kind) is None:
                raise ValueError(f"every change gives {kind}, the capacity this node has")
        return self

    @property
    def per_day(self) -> bool:
        """True for a capacity in tonnes per day, False for aircraft on the ground."""
        return self.tonnes_per_day is not None


class Coordination(Frozen):
    """NSATU's step between funding and sourcing: matching a funded request to donors and routes."""

    days: PositiveDuration = Field(description="Time one coordinator takes to match one request.")
    servers: PositiveInt = Field(1, description="Requests matched at once (priority, then request order).")
