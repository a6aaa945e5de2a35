"""The disruptions section of a scenario: pauses, outages, capacity changes and gates (specs; sim.model.disruptions runs them).

Each kind checks its own references (`problems(s, scope)`, on the whole scenario `s`):
`scope(scope, kinds, plain)` reports a scope that is not one of `plain` or KIND:ID for a known
ID of one of `kinds` (line, leg, route, hub). Adding a kind: its class here, in `Disruption`, and
its entry in sim.model.disruptions.KINDS (docs/extending.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal, get_args

from pydantic import Field, field_validator

from .fields import Frozen, Moment, PositiveInt, RatePerMonth

GLOBAL_SCOPES = ("approvals", "us_releases", "donations", "releases", "all")
GATE_SCOPES = ("us_releases", "donations", "releases", "all")
Problems = list[tuple[str, str]]  # (field of the disruption, message)
ScopeCheck = Callable[[str, tuple, tuple], None]


def _window_problems(d, s, scope: ScopeCheck, kinds: tuple, plain: tuple) -> Problems:
    scope(d.scope, kinds, plain)
    return [("end", "ends before it starts")] if s.day(d.end) < s.day(d.start) else []


class Pause(Frozen):
    """A pause on a scope over a window: work caught by it waits and then resumes."""

    kind: Literal["pause"]
    scope: str
    start: Moment
    end: Moment

    def problems(self, s, scope: ScopeCheck) -> Problems:
        """A pause ends after it starts, on a line, leg, route or a global scope."""
        return _window_problems(self, s, scope, ("line", "leg", "route"), GLOBAL_SCOPES)


class Outage(Frozen):
    """A leg or hub out of action over a window (a strike on a rail hub); `on_transit` says what happens to goods on it."""

    kind: Literal["outage"]
    scope: str
    start: Moment
    end: Moment
    on_transit: Literal["wait", "arrive", "lost"] = Field(
        "wait",
        description="Goods already on the leg when the outage starts: `wait` (they arrive no earlier than its "
        "end), `arrive` (they arrive as scheduled) or `lost` (destroyed at its start and ordered again "
        "through sourcing; each loss is an event row of kind `lost`).",
    )

    def problems(self, s, scope: ScopeCheck) -> Problems:
        """An outage ends after it starts, on a leg or a hub."""
        return _window_problems(self, s, scope, ("leg", "hub"), ())


class CapacityChange(Frozen):
    """A line's or leg's capacity changes on a date (a ramp, a second hub opening)."""

    kind: Literal["capacity"]
    scope: str
    at: Moment
    servers: PositiveInt | None = None
    rate_per_month: RatePerMonth | None = None
    capacity: PositiveInt | None = None

    def problems(self, s, scope: ScopeCheck) -> Problems:
        """A line change sets servers or a rate, a leg change a capacity."""
        scope(self.scope, ("line", "leg"), ())
        kind = self.scope.split(":", 1)[0]
        if kind == "line" and self.servers is None and self.rate_per_month is None:
            return [("", "a line capacity change needs servers and/or rate_per_month")]
        if kind == "leg" and self.capacity is None:
            return [("capacity", "a leg capacity change needs capacity")]
        return []


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

    def problems(self, s, scope: ScopeCheck) -> Problems:
        """A gate closes a release scope."""
        return [] if self.scope in GATE_SCOPES else [("scope", f"a gate closes one of {', '.join(GATE_SCOPES)}")]


class Diversion(Frozen):
    """On a date, units of an item leave US stock for another theatre (June 2025: 20,000 APKWS to US forces)."""

    kind: Literal["diversion"] = Field(description="A diversion of US stock to another theatre.")
    item: str = Field(description="The item taken from US stock.")
    at: Moment = Field(description="When the units leave (a date, or days from start).")
    units: PositiveInt = Field(
        description="Units taken (at most what is on hand; the reserve floor does not limit it)."
    )

    @property
    def scope(self) -> str:
        """Where its event is logged: us_stock:ITEM."""
        return f"us_stock:{self.item}"

    def problems(self, s, scope: ScopeCheck) -> Problems:
        """The item is one US stock holds."""
        if self.item in s.us_stock.items:
            return []
        return [("item", f"US stock holds no '{self.item}' (it holds: {', '.join(s.us_stock.items) or 'nothing'})")]


class LineDiversion(Frozen):
    """Over a window, a share of a line's output goes to another theatre (PURL-bought interceptors, Mar 2026)."""

    kind: Literal["line_diversion"] = Field(description="A share of a line's output diverted over a window.")
    scope: str = Field(description="The line: line:ID.")
    start: Moment = Field(description="Start of the window: a date or days from start.")
    end: Moment = Field(description="End of the window: a date or days from start.")
    share: float = Field(gt=0, lt=1, description="Share of the line's output taken, in (0, 1).")

    def problems(self, s, scope: ScopeCheck) -> Problems:
        """A line diversion ends after it starts, on a line."""
        return _window_problems(self, s, scope, ("line",), ())


Disruption = Annotated[Pause | Outage | CapacityChange | Gate | Diversion | LineDiversion, Field(discriminator="kind")]
# The `kind` of every disruption class, as written in a scenario file.
KIND_NAMES: tuple[str, ...] = tuple(
    get_args(c.model_fields["kind"].annotation)[0] for c in get_args(get_args(Disruption)[0])
)
