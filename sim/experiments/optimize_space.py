"""The search space of `purlsim optimize`: knobs, the objective, constraints and a second objective, read and checked.

```yaml
knobs:
  floor: {path: us_stock.items.pac3_mse.reserve_floor, range: {low: 0, high: 48, step: 12}}
  backfill: {path: policy.backfill, values: [donors_first, fifo]}
objective: {metric: rmst, item: pac3_mse}          # a decision figure (sim.metrics.decision), ALL or an item
constraints:
  - {metric: donor_gap, at_most: 365}              # days, mean over replications
  - {metric: spent_musd, at_most: 5000}
second_objective: {metric: donor_gap}              # optional: a Pareto front
```

Every problem is `SPACEFILE: path.to.field: message` (a ScenarioError, exit 2 on the command
line): unknown keys, a path the scenario does not have, a value with which it does not validate.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import Field, ValidationError, model_validator

from ..errors import Problem, ScenarioError
from ..metrics import decision, headline
from ..scenario.fields import Frozen, Id

EXTRA = ("donor_gap", "spent_musd")  # per-replication figures of an optimisation besides the decision ones
MAX_GRID = 100_000


class Range(Frozen):
    """Numbers from low to high (inclusive) by step; integers when all three are."""

    low: float
    high: float
    step: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self):
        if self.high < self.low:
            raise ValueError(f"high ({self.high:g}) is below low ({self.low:g})")
        if (self.high - self.low) / self.step > MAX_GRID:
            raise ValueError(f"more than {MAX_GRID:,} values")
        return self


class Knob(Frozen):
    """One knob: a dotted path of the scenario and the values it may take."""

    path: str = Field(min_length=1, max_length=500)
    values: list[Any] | None = Field(None, min_length=1, max_length=MAX_GRID)
    range: Range | None = None

    @model_validator(mode="after")
    def _one(self):
        if (self.values is None) == (self.range is None):
            raise ValueError("give either values or range")
        return self

    def choices(self) -> list[Any]:
        """Every value of the knob, in order."""
        if self.values is not None:
            return list(self.values)
        r = self.range
        assert r is not None
        n = int(np.floor((r.high - r.low) / r.step + 1e-9)) + 1
        out = [r.low + k * r.step for k in range(n)]
        whole = all(float(x).is_integer() for x in (r.low, r.high, r.step))
        return [int(round(x)) for x in out] if whole else out


class Goal(Frozen):
    """What to optimise: a figure of one item (or ALL)."""

    metric: str = "rmst"
    item: Id = headline.ALL

    @model_validator(mode="after")
    def _known(self):
        known = (*decision.FINITE, *EXTRA)
        if self.metric not in known:
            raise ValueError(f"unknown metric '{self.metric}' (expected one of {', '.join(known)})")
        return self


class Constraint(Frozen):
    """A limit on the mean of a figure over replications."""

    metric: str
    at_most: float | None = None
    at_least: float | None = None

    @model_validator(mode="after")
    def _bound(self):
        if self.at_most is None and self.at_least is None:
            raise ValueError("give at_most or at_least")
        return self

    def holds(self, mean: float) -> bool:
        """Does a mean satisfy the limit? (NaN never does.)"""
        if mean != mean:
            return False
        return (self.at_most is None or mean <= self.at_most) and (self.at_least is None or mean >= self.at_least)

    def text(self) -> str:
        """The constraint as a phrase."""
        parts = [f"<= {self.at_most:g}"] if self.at_most is not None else []
        parts += [f">= {self.at_least:g}"] if self.at_least is not None else []
        return f"mean {self.metric} {' and '.join(parts)}"


class Space(Frozen):
    """A whole space file."""

    knobs: dict[Id, Knob] = Field(min_length=1, max_length=50)
    objective: Goal = Goal()
    constraints: list[Constraint] = Field(default_factory=list, max_length=50)
    second_objective: Goal | None = None

    @property
    def second(self) -> Goal | None:
        """The second objective, if any (for the Pareto front)."""
        return self.second_objective

    @model_validator(mode="after")
    def _figures(self):
        allowed = {self.objective.metric, *EXTRA}
        for c in self.constraints:
            if c.metric not in allowed:
                raise ValueError(f"constraint on '{c.metric}': expected one of {', '.join(sorted(allowed))}")
        if self.second_objective is not None and self.second_objective.metric not in allowed:
            raise ValueError(f"second_objective: expected one of {', '.join(sorted(allowed))}")
        return self


def read_space(space: str | Path | Mapping, variants) -> Space:
    """The space of a file (or a mapping), checked against the scenario of `variants`; ScenarioError with every problem."""
    shown = "<space>" if isinstance(space, Mapping) else str(space)
    data: Any
    if isinstance(space, Mapping):
        data = dict(space)
    else:
        try:
            data = yaml.safe_load(Path(space).read_text(encoding="utf-8"))
        except OSError as exc:
            raise ScenarioError([Problem(shown, "", f"cannot read: {exc.strerror or exc}")]) from None
        except yaml.YAMLError as exc:
            raise ScenarioError([Problem(shown, "", f"not YAML: {str(exc).splitlines()[0]}")]) from None
    if not isinstance(data, dict):
        raise ScenarioError([Problem(shown, "", "must be a mapping with knobs, objective, constraints")])
    try:
        spec = Space.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(
            [Problem(shown, ".".join(map(str, e["loc"])), e["msg"].removeprefix("Value error, ")) for e in exc.errors()]
        ) from None
    problems = []
    for name, knob in spec.knobs.items():
        for value in knob.choices():
            try:
                variants.scenario({knob.path: value})
            except ScenarioError as exc:
                problems += [
                    Problem(shown, f"knobs.{name}", f"{knob.path}={value!r}: {p.path}: {p.message}")
                    for p in exc.problems
                ]
                break
    if problems:
        raise ScenarioError(problems)
    return spec
