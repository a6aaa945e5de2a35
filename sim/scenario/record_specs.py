"""The record a scenario is held to: observed figures of the history it replays (specs; sim.metrics.record scores them).

Each entry of `record:` names one figure, how to measure it in every replication, and what was
observed: a point (`observed`, with an optional `band` of what still counts as a match), a
bound (`at_least`, `at_most`), or both. `circular: true` says the scenario's own parameters were
set from the same reports, so a match checks that the pieces add up, not that the model predicts.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from .fields import Frozen, Id, Moment, Text

KINDS = ("first_arrival", "closed", "value_shipped", "value_delivered", "stockout_days")


class RecordTarget(Frozen):
    """One observed figure and how the model measures it in each replication."""

    kind: Literal["first_arrival", "closed", "value_shipped", "value_delivered", "stockout_days"] = Field(
        description="first_arrival: days from `from` to the first delivery of the requests' goods; closed: days from "
        "`from` to the last delivery of the requests' goods (NaN while open); value_shipped / value_delivered: $M of "
        "the requests' goods shipped / delivered by `by`; stockout_days: days with Ukraine's stock of `item` at zero "
        "in [from, by)."
    )
    requests: list[Id] = Field(
        default_factory=list, description="Package ids measured (default: every request, stream included)."
    )
    items: list[Id] = Field(default_factory=list, description="Items measured (default: every item).")
    from_: Moment | None = Field(None, alias="from", description="Start of the count: a date or days from start.")
    by: Moment | None = Field(None, description="End of the count (value and stockout kinds): a date or days.")
    observed: float | None = Field(None, description="The figure on record (days, $M), if it is a point.")
    band: tuple[float, float] | None = Field(None, description="[low, high]: model means in it match the record.")
    at_least: float | None = Field(None, description="The record says at least this much.")
    at_most: float | None = Field(None, description="The record says at most this much.")
    source: Literal["S", "1", "E", "?"] = Field(
        description="S: two outlets agree; 1: one source; E: estimate; ?: conflict."
    )
    circular: bool = Field(False, description="Were parameters of the scenario set from the same reports?")
    note: Text = Field("", max_length=2000, description="What the record says, and where.")

    @model_validator(mode="after")
    def _complete(self):
        if self.observed is None and self.at_least is None and self.at_most is None:
            raise ValueError("give what was observed: observed, at_least or at_most")
        if self.band is not None and not self.band[0] <= self.band[1]:
            raise ValueError(f"band [{self.band[0]}, {self.band[1]}] must have low <= high")
        if self.band is not None and self.observed is None:
            raise ValueError("a band is a tolerance around `observed`: give observed too")
        if self.at_least is not None and self.at_most is not None and self.at_least > self.at_most:
            raise ValueError(f"at_least ({self.at_least}) is above at_most ({self.at_most})")
        counts = self.kind in ("first_arrival", "closed")
        if counts and self.from_ is None:
            raise ValueError(f"a {self.kind} figure counts days from a moment: give `from`")
        if not counts and self.by is None:
            raise ValueError(f"a {self.kind} figure is measured by a moment: give `by`")
        if self.kind == "stockout_days":
            if self.from_ is None:
                raise ValueError("stockout_days counts days in [from, by): give `from`")
            if len(self.items) != 1:
                raise ValueError("stockout_days is about one item of Ukraine's stock: give items: [ITEM]")
        return self

    def references(self, path: str) -> list[tuple[str, str, str]]:
        """(kind, name, path) of the items this target names (request ids are checked by references.py)."""
        return [("item", name, f"{path}.items.{k}") for k, name in enumerate(self.items)]
