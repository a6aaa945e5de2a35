"""The building blocks of the scenario schema: the frozen base model and the field types, each with its range."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal, Union

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from .distributions import DistSpec, bool_is_not_a_number

DAYS_PER_MONTH = 30.0
DAYS_PER_YEAR = 365.0
PRIORITIES = ("urgent", "routine")
SOURCES = ("us_stock", "stockpile", "production")
Priority = Literal["urgent", "routine"]
SourceName = Literal["us_stock", "stockpile", "production"]

MAX_MOMENT_DAYS = 1e6
# Counts of things the run loops over (ramps, nodes, legs, lines, allies): far above any real scenario.
MAX_ENTRIES = 10_000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _no_control(text: str) -> str:
    # Names are printed in tables and messages: an ESC or C1 character there would drive the terminal.
    if _CONTROL.search(text):
        raise ValueError("must not contain control characters")
    return text


Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_\-]*$", max_length=64)]
Text = Annotated[str, AfterValidator(_no_control)]
PositiveInt = Annotated[int, Field(gt=0, le=100_000)]
# A number of days from start (never before it: a date before start is refused by the reference checks).
Moment = Union[dt.date, Annotated[float, Field(ge=0, le=MAX_MOMENT_DAYS)]]
Weight = Annotated[float, Field(gt=0, le=1e9)]
# At least 0.001 unit a month per server: slower is a line that makes nothing, and 30/rate must stay finite.
RatePerMonth = Annotated[float, Field(ge=1e-3, le=1e8)]
# A duration that must be strictly positive when fixed (a rate, a transit, a unit time).
PositiveDuration = Union[Annotated[float, Field(gt=0, le=1e6)], DistSpec]
# A delay that may be zero (none) but never negative.
Delay = Union[Annotated[float, Field(ge=0, le=1e6)], DistSpec]
Quantity = Union[Annotated[float, Field(gt=0, le=1e9)], DistSpec]


MAX_HORIZON_DAYS = 365 * 200


class Frozen(BaseModel):
    """Base of every section: immutable, unknown keys refused, NaN and infinity refused."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _bool_is_not_a_number(cls, data):
        return bool_is_not_a_number(cls, data)


def to_day(moment: Moment, start: dt.date) -> float:
    """Days from `start` for a date or a number of days."""
    if isinstance(moment, dt.date):
        return float((moment - start).days)
    return float(moment)
