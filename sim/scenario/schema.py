"""The scenario format, v1: typed, validated, immutable.

A scenario is data. Every section is a frozen pydantic model with unknown keys forbidden, so a
typo is caught with its path. Cross-references (an item, node, leg, route or ally named
somewhere but defined nowhere) are checked by `references.check`, after the shapes are valid.

Conventions:
- time is in days from `start`; a field that takes a moment (`at`, `start`, `end`) takes either a
  date (YYYY-MM-DD) or a number of days;
- a month is 30 days and a year 365 days (`rate_per_month: 10` makes 30 units in 90 days);
- money is in millions of US dollars (`_musd`);
- any duration or quantity that varies takes a distribution (see `distributions.py`).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, field_validator, model_validator

from .disruption_specs import CapacityChange, Disruption, Gate, Outage, Pause  # noqa: F401 (re-exported)
from .fields import (  # noqa: F401
    DAYS_PER_MONTH,
    DAYS_PER_YEAR,
    MAX_ENTRIES,
    MAX_HORIZON_DAYS,
    MAX_MOMENT_DAYS,
    PRIORITIES,
    SOURCES,
    Delay,
    Frozen,
    Id,
    Moment,
    PositiveDuration,
    PositiveInt,
    Priority,
    Quantity,
    RatePerMonth,
    SourceName,
    Text,
    Weight,
    _no_control,
    to_day,
)
from .node_specs import Coordination
from .production_specs import Line, Ramp, Shipments  # noqa: F401 (re-exported)
from .record_specs import RecordTarget
from .transport_specs import Departures, Leg, Node, Route, RouteRule, Transport  # noqa: F401 (re-exported)
from .ukraine_specs import Ukraine
from .uncertain import UncertainInput


class Item(Frozen):
    """A catalogue entry: what it is and what one unit costs."""

    name: Text = Field(min_length=1, max_length=200)
    unit_cost_musd: float = Field(ge=0, le=1e5)
    weight_t: float | None = Field(None, ge=0, le=1e5, description="Tonnes per unit as shipped (packed).")
    cargo: Literal["bulk", "oversize", "outsize"] | None = Field(
        None,
        description="How it loads: bulk (palletised, weight-bound), oversize (vehicles, floor-bound), outsize "
        "(only the largest aircraft).",
    )
    positions: float | None = Field(
        None, ge=0, le=1e5, description="463L pallet positions one unit fills on an aircraft (may be a fraction)."
    )
    deck_m2: float | None = Field(
        None, ge=0, le=1e6, description="Square metres of deck one unit fills (ship, flatcar)."
    )
    pieces_per_unit: PositiveInt = Field(
        1,
        le=10_000,
        description="Equal pieces one unit ships as, each a share of its weight and space (a Patriot battery as "
        "~18 C-17 loads); the unit arrives with its last piece.",
    )


class RequestLine(Frozen):
    """One item and how many of it."""

    item: Id
    qty: Annotated[int, Field(gt=0, le=10**9)]


class Package(Frozen):
    """An explicit request from Ukraine's list, on a date, optionally pre-funded by named allies."""

    id: Id
    at: Moment
    priority: Priority = "routine"
    lines: list[RequestLine] = Field(min_length=1, max_length=1000)
    funded_by: list[Id] = Field(
        default_factory=list,
        description="Allies that pledged this package: it is funded as soon as it is approved, "
        "without drawing on the common account.",
    )
    skip_approval: bool = Field(False, description="Already agreed outside the PURL check (e.g. a bilateral donation).")
    donor: Id | None = Field(
        None, description="A named ally gives this package from its stockpile (e.g. Germany's Patriots)."
    )
    required_by: Moment | None = Field(None, description="Date the whole package is needed by (P(closed by it)).")


class StreamItem(Frozen):
    """One item of the stochastic stream: its share of requests and its quantity per request."""

    weight: Weight
    qty: Quantity = 1


class RequestStream(Frozen):
    """A stochastic stream of single-line requests."""

    interarrival_days: PositiveDuration
    items: dict[Id, StreamItem] = Field(min_length=1, max_length=MAX_ENTRIES)
    # The factories name their element types: mypy cannot infer a Literal from a lambda's bare result.
    priority: dict[Priority, Annotated[float, Field(ge=0, le=1e9)]] = Field(
        default_factory=lambda: dict[Priority, float]({"routine": 1.0})
    )
    start: Moment = 0.0
    end: Moment | None = None
    max_requests: Annotated[int, Field(gt=0, le=10**8)] | None = None

    @field_validator("interarrival_days")
    @classmethod
    def _time_passes(cls, v):
        # A mean gap of zero would emit requests at one instant without end: the run never finishes.
        if not isinstance(v, float) and v.mean() <= 0:
            raise ValueError("mean inter-arrival time must be above zero")
        return v

    @model_validator(mode="after")
    def _some_priority(self):
        if sum(self.priority.values()) <= 0:
            raise ValueError("priority weights must not all be zero")
        return self


class Requests(Frozen):
    """Ukraine's requirement list: explicit packages and/or a stochastic stream."""

    packages: list[Package] = Field(default_factory=list, max_length=100_000)
    stream: RequestStream | None = None


class Availability(Frozen):
    """What the US can supply: a line is offered only if US stock above the floor, or a line within the window, covers it."""

    window_days: Annotated[float, Field(gt=0, le=MAX_MOMENT_DAYS)] = Field(
        description="Days within which the US must be able to supply a line (stock now, or a line's estimated make time)."
    )
    otherwise: Literal["not_offered", "defer"] = Field(
        "not_offered", description="A line the US cannot supply: refused (a censored row), or the request deferred."
    )
    recheck_days: Annotated[float, Field(gt=0, le=MAX_MOMENT_DAYS)] = Field(
        30.0, description="Days between checks of a deferred request."
    )


class Approval(Frozen):
    """The availability check by the US/NATO command before the list goes to allies."""

    enabled: bool = True
    delay_days: Delay = 0.0
    availability: Availability | None = Field(
        None, description="Offer only what the US can supply within a window (none: every line is offered)."
    )


class Contribution(Frozen):
    """Money paid into the NATO account on a date."""

    by: Id
    amount_musd: float = Field(gt=0, le=1e7)
    at: Moment


class Funding(Frozen):
    """The NATO PURL account. Disabled means no money limit at all."""

    enabled: bool = True
    initial_musd: float = Field(0.0, ge=0, le=1e7)
    contributions: list[Contribution] = Field(default_factory=list, max_length=100_000)


class StockLevel(Frozen):
    """US on-hand stock of one item and the reserve floor PURL sales never go below."""

    on_hand: Annotated[int, Field(ge=0, le=10**9)]
    reserve_floor: Annotated[int, Field(ge=0, le=10**9)] = 0


class USStock(Frozen):
    """US stocks available for sale, held at one node."""

    node: Id = "us_depot"
    handling_days: Delay = 0.0
    items: dict[Id, StockLevel] = Field(default_factory=dict)

    def references(self, path: str) -> list[tuple[str, str, str]]:
        """(kind, name, path) of every item and node this section names (checked in references.py)."""
        out = [("item", name, f"{path}.items.{name}") for name in self.items]
        return out + ([("node", self.node, f"{path}.node")] if self.items else [])

    def origins(self, path: str) -> list[tuple[str, str, str]]:
        """(node, item, path) of every place goods of an item can leave from (each needs a route)."""
        return [(self.node, name, f"{path}.items.{name}") for name in self.items]


class AllyStock(Frozen):
    """An ally's holding of one item, the minimum it keeps, and how long a hand-over takes to prepare."""

    on_hand: Annotated[int, Field(ge=0, le=10**9)]
    min_keep: Annotated[int, Field(ge=0, le=10**9)] = 0
    prep_days: Delay = 0.0
    backfill_from: Moment | None = Field(
        None,
        description="The replacement's production slot: the backfill order joins the line no earlier than this "
        "(e.g. RTX schedules Germany's new Patriot systems for 2027-29); default: when it is ordered.",
    )

    @model_validator(mode="after")
    def _keep(self):
        if self.min_keep > self.on_hand:
            raise ValueError(f"min_keep ({self.min_keep}) is above on_hand ({self.on_hand})")
        return self


class Stockpile(Frozen):
    """One ally's stocks that may be donated, at one node."""

    node: Id
    items: dict[Id, AllyStock] = Field(default_factory=dict)
    backfill_paid_by: dict[Id, Annotated[float, Field(gt=0, le=1)]] = Field(
        default_factory=dict,
        description="Co-funders of this ally's backfill and their shares; the ally pays the rest.",
    )

    def references(self, path: str) -> list[tuple[str, str, str]]:
        """(kind, name, path) of the node and items this stockpile names."""
        return [("node", self.node, f"{path}.node")] + [("item", name, f"{path}.items.{name}") for name in self.items]

    def origins(self, path: str) -> list[tuple[str, str, str]]:
        """The ally's node, for every item it holds."""
        return [(self.node, name, f"{path}.items.{name}") for name in self.items]

    @model_validator(mode="after")
    def _shares(self):
        if sum(self.backfill_paid_by.values()) > 1 + 1e-9:
            raise ValueError("backfill_paid_by shares add up to more than 1")
        return self


class Policy(Frozen):
    """How a funded request is sourced and how donors are replaced."""

    sources: list[SourceName] = Field(
        default_factory=lambda: list[SourceName](["us_stock", "production"]), min_length=1
    )
    stockpile_priorities: list[Priority] = Field(default_factory=lambda: list[Priority](["urgent"]))
    donor_choice: Literal["listed_order", "most_surplus", "fastest_route"] = "listed_order"
    donors: list[Id] | None = Field(
        None,
        description="Allies that may donate unasked, in order for listed_order (default: every ally, in stockpiles "
        "order; [] : none, only packages naming their donor draw on stockpiles).",
    )
    split: bool = Field(True, description="May one request line be split across sources and donors?")
    backfill: Literal["donors_first", "fifo", "none"] = "donors_first"
    line_priority: Literal["fifo", "urgent_first"] = Field(
        "fifo", description="Order of PURL orders at a line's queue: by order time, or urgent before routine."
    )
    backfill_order_delay_days: Delay = Field(0.0, description="Contracting time from donation to backfill order.")

    @field_validator("sources")
    @classmethod
    def _unique(cls, sources):
        repeated = sorted({s for s in sources if sources.count(s) > 1})
        if repeated:
            raise ValueError(f"sources must not repeat ({', '.join(repeated)} listed twice)")
        return sources


class Scenario(Frozen):
    """A whole scenario: what is asked, who pays, where goods come from, how they travel, what goes wrong."""

    name: Text = Field("scenario", max_length=200)
    description: Annotated[str, AfterValidator(_no_control)] = Field("", max_length=100_000)
    start: dt.date
    horizon_days: float = Field(gt=0, description=f"Days simulated from start (at most {MAX_HORIZON_DAYS}).")
    seed: Annotated[int, Field(ge=0, le=2**63 - 1)] = 0
    items: dict[Id, Item] = Field(min_length=1, max_length=10_000)
    groups: dict[Id, Annotated[list[Id], Field(min_length=2, max_length=100)]] = Field(
        default_factory=dict,
        max_length=1000,
        description="Items that only work together, e.g. patriot_system: [patriot_launcher, patriot_components]: "
        "within a request the group is delivered when the lots of all its items have arrived.",
    )
    requests: Requests
    approval: Approval = Approval()
    funding: Funding = Funding()
    us_stock: USStock = USStock()
    production: dict[Id, Line] = Field(default_factory=dict, max_length=MAX_ENTRIES)
    transport: Transport = Transport()
    policy: Policy = Policy()
    coordination: Coordination | None = Field(None, description="NSATU's matching step after funding (none: no step).")
    stockpiles: dict[Id, Stockpile] = Field(default_factory=dict, max_length=MAX_ENTRIES)
    ukraine: Ukraine = Field(default_factory=Ukraine, description="Ukraine's stock and use of the items it receives.")
    disruptions: list[Disruption] = Field(default_factory=list, max_length=10_000)
    uncertain: dict[Id, UncertainInput] = Field(default_factory=dict, max_length=1000)
    record: dict[Id, RecordTarget] = Field(
        default_factory=dict,
        max_length=1000,
        description="Observed figures of the history the scenario replays, scored by Results.record() (sim.metrics.record).",
    )

    @field_validator("start", mode="before")
    @classmethod
    def _a_calendar_date(cls, v):
        # Pydantic would read a number as seconds since 1970 (0 is 1970-01-01): start is a calendar date.
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            raise ValueError("must be a date (YYYY-MM-DD), not a number")
        if isinstance(v, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", v.strip()):
            raise ValueError("must be a date (YYYY-MM-DD)")
        return v

    @field_validator("horizon_days")
    @classmethod
    def _horizon(cls, v: float) -> float:
        if v > MAX_HORIZON_DAYS:
            raise ValueError(
                f"must be at most {MAX_HORIZON_DAYS} days (200 years); this is {v / DAYS_PER_YEAR:,.0f} years"
            )
        return v

    def day(self, moment: Moment) -> float:
        """Days from the scenario's start for a date or a number of days."""
        return to_day(moment, self.start)

    def date(self, day: float) -> dt.date:
        """Calendar date of a simulation day."""
        return self.start + dt.timedelta(days=int(day // 1))
