"""The production section of a scenario: US lines, their ramps and how they ship (specs; sim.model.production runs them)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, model_validator

from .fields import MAX_ENTRIES, MAX_MOMENT_DAYS, Delay, Frozen, Id, Moment, PositiveDuration, PositiveInt, RatePerMonth


class Shipments(Frozen):
    """How a line ships an order as its units are made: every N days (default 30), every N units, or whole."""

    every_days: Annotated[float, Field(gt=0, le=MAX_MOMENT_DAYS)] | None = Field(
        None, description="Ship what has been made every N days of an order's making (default 30: monthly)."
    )
    every_units: PositiveInt | None = Field(None, description="Ship every N units made.")
    whole_order: bool = Field(False, description="Ship an order only when its last unit is made.")

    @model_validator(mode="after")
    def _one_rule(self):
        if sum([self.every_days is not None, self.every_units is not None, self.whole_order]) > 1:
            raise ValueError("give at most one of every_days, every_units and whole_order")
        return self


class Ramp(Frozen):
    """A change of a line's capacity on a date."""

    at: Moment
    servers: PositiveInt | None = None
    rate_per_month: RatePerMonth | None = None

    @model_validator(mode="after")
    def _something(self):
        if self.servers is None and self.rate_per_month is None:
            raise ValueError("a ramp needs servers and/or rate_per_month")
        return self


class Line(Frozen):
    """US make-to-order production of one item: parallel servers, each making one order at a time."""

    item: Id
    node: Id
    servers: PositiveInt = 1
    unit_days: PositiveDuration | None = Field(
        None, description="Time for one server to make one unit (give this or rate_per_month)."
    )
    rate_per_month: RatePerMonth | None = Field(
        None, description="Units per 30-day month per server (fixed unit time 30/rate)."
    )
    long_lead_days: Delay = Field(0.0, description="Delay after an order before it may start.")
    other_customers_share: float = Field(
        0.0, ge=0, lt=1, description="Share of output going to other customers: PURL work runs at 1-share of the rate."
    )
    other_backlog_units: Annotated[int, Field(ge=0, le=10**9)] = Field(
        0, description="Units already ordered by other customers, queued at day 0 ahead of PURL orders."
    )
    ramps: list[Ramp] = Field(default_factory=list, max_length=MAX_ENTRIES)
    shipments: Shipments = Field(
        default_factory=Shipments, description="When made units ship: monthly unless every_units or whole_order."
    )

    def references(self, path: str) -> list[tuple[str, str, str]]:
        """(kind, name, path) of the item and node this line names."""
        return [("item", self.item, f"{path}.item"), ("node", self.node, f"{path}.node")]

    def origins(self, path: str) -> list[tuple[str, str, str]]:
        """The line's node, for its item."""
        return [(self.node, self.item, path)]

    @model_validator(mode="after")
    def _one_speed(self):
        if (self.unit_days is None) == (self.rate_per_month is None):
            raise ValueError("give exactly one of unit_days and rate_per_month")
        return self
