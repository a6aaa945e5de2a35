"""The disruptions section of a scenario: pauses, outages, capacity changes and gates (specs; sim.model.disruptions runs them)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from .fields import Frozen, Moment, PositiveInt, RatePerMonth


class Pause(Frozen):
    """A pause on a scope over a window: work caught by it waits and then resumes."""

    kind: Literal["pause"]
    scope: str
    start: Moment
    end: Moment


class Outage(Frozen):
    """A leg or hub out of action over a window (a strike on a rail hub)."""

    kind: Literal["outage"]
    scope: str
    start: Moment
    end: Moment


class CapacityChange(Frozen):
    """A line's or leg's capacity changes on a date (a ramp, a second hub opening)."""

    kind: Literal["capacity"]
    scope: str
    at: Moment
    servers: PositiveInt | None = None
    rate_per_month: RatePerMonth | None = None
    capacity: PositiveInt | None = None


class Gate(Frozen):
    """On a date, deliveries go on with probability `p_continue`; otherwise new releases stop for good."""

    kind: Literal["gate"]
    at: Moment
    p_continue: float = Field(description="Probability within [0, 1] that deliveries go on.")
    scope: str = "releases"

    @field_validator("p_continue")
    @classmethod
    def _probability(cls, v: float) -> float:
        if not 0.0 <= v <= 1.0:
            raise ValueError("probability must be within [0, 1]")
        return v


Disruption = Annotated[Pause | Outage | CapacityChange | Gate, Field(discriminator="kind")]
