"""Uncertain inputs: scenario parameters, by dotted path, whose value is only known to lie in a range.

The `uncertain:` section names each input, its dotted path (the same paths as `--set` and sweeps),
its range (`low`, `high`, and a `mode` for a triangular distribution; uniform without one) and the
source tag of the figure ([S] two outlets agree, [1] one source, [E] an estimate). Sensitivity
studies, second-order runs and optimisation draw from these ranges; the run itself ignores the
section. Loading checks that every path exists in the scenario and that the scenario still
validates with the input at each end of its range (and at its mode).
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping
from typing import Any, Literal

import numpy as np
from pydantic import Field, model_validator

from ..errors import Problem, ScenarioError
from .fields import Frozen, Text

SECTION = "uncertain"


class UncertainInput(Frozen):
    """One uncertain parameter: where it is, the range of its value, and how well it is sourced."""

    path: str = Field(min_length=1, max_length=500, description="Dotted path of the parameter, as for --set.")
    low: float = Field(description="Lowest value it may take.")
    high: float = Field(description="Highest value it may take.")
    mode: float | None = Field(None, description="Most likely value: a triangular distribution (uniform without).")
    integer: bool = Field(False, description="Round drawn values to whole numbers (counts, units).")
    source: Literal["S", "1", "E"] = Field(description="S: two or more outlets agree; 1: one source; E: an estimate.")
    note: Text = Field("", max_length=2000, description="Where the range comes from.")

    @model_validator(mode="after")
    def _ordered(self):
        if not self.low < self.high:
            raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        if self.mode is not None and not self.low <= self.mode <= self.high:
            raise ValueError(f"mode ({self.mode:g}) must lie between low and high")
        if self.integer and math.floor(self.high) < math.ceil(self.low):
            raise ValueError("an integer input needs a whole number between low and high")
        return self

    def value(self, u: float) -> float | int:
        """The input's value at quantile `u` in [0, 1] (inverse CDF of its distribution)."""
        u = min(max(float(u), 0.0), 1.0)
        a, b = self.low, self.high
        if self.mode is None:
            x = a + u * (b - a)
        else:
            c = self.mode
            cut = (c - a) / (b - a)
            x = a + math.sqrt(u * (b - a) * (c - a)) if u < cut else b - math.sqrt((1 - u) * (b - a) * (b - c))
        if self.integer:
            return int(min(max(round(x), math.ceil(a)), math.floor(b)))
        return x

    def ends(self) -> list[float | int]:
        """The values loading checks: both ends of the range, and the mode if any."""
        return [self.value(0.0), self.value(1.0)] + (
            [self.value((self.mode - self.low) / (self.high - self.low))] if self.mode is not None else []
        )


def points(inputs: Mapping[str, UncertainInput], unit: np.ndarray) -> list[dict[str, Any]]:
    """Overrides (path -> value) of each row of `unit` (rows of quantiles in [0, 1], one column per input)."""
    names = list(inputs)
    return [{inputs[n].path: inputs[n].value(u) for n, u in zip(names, row)} for row in np.atleast_2d(unit)]


def without(data: dict, overrides: Mapping[str, Any]) -> dict:
    """`data` without the uncertain inputs an override sets (its path, a part of it, or a section holding it)."""
    section = data.get(SECTION)
    if not isinstance(section, Mapping):
        return data

    def fixed(spec) -> bool:
        path = spec.get("path") if isinstance(spec, Mapping) else None
        return isinstance(path, str) and any(
            isinstance(k, str) and (k == path or path.startswith(k + ".") or k.startswith(path + "."))
            for k in overrides
        )

    return {**data, SECTION: {name: spec for name, spec in section.items() if not fixed(spec)}}


def check(
    data: Mapping,
    shown: str,
    apply: Callable[[dict, Mapping[str, Any], str], tuple[dict, set[str]]],
    validate: Callable[[dict, str], Any],
) -> list[Problem]:
    """Problems of the `uncertain:` section of a merged mapping whose shapes are valid: paths and ranges.

    apply, validate: the loader's override and validation steps (passed in: the loader imports this).
    """
    section = data.get(SECTION) or {}
    base = {k: v for k, v in data.items() if k != SECTION}
    problems = []
    for name, spec in section.items():
        where = f"{SECTION}.{name}"
        inp = UncertainInput.model_validate(spec)
        try:
            _, created = apply(base, {inp.path: 0}, shown)
        except ScenarioError as exc:
            problems += [Problem(shown, f"{where}.path", f"{inp.path}: {p.message}") for p in exc.problems]
            continue
        if created:
            problems.append(
                Problem(
                    shown, f"{where}.path", f"{inp.path}: no such value in the scenario (write it in the file first)"
                )
            )
            continue
        current = _get(base, inp.path)
        if isinstance(current, bool) or not isinstance(current, (int, float)):
            problems.append(
                Problem(shown, f"{where}.path", f"{inp.path}: not a number in the scenario (it is {_kind(current)})")
            )
            continue
        for value in inp.ends():
            try:
                validate(apply(copy.deepcopy(base), {inp.path: value}, shown)[0], shown)
            except ScenarioError as exc:
                field = "low" if value == inp.value(0.0) else "high" if value == inp.value(1.0) else "mode"
                problems += [
                    Problem(
                        shown,
                        f"{where}.{field}",
                        f"{inp.path}={value:g} is not legal: " + _where(p.path, inp.path) + p.message,
                    )
                    for p in exc.problems
                ]
                break
    return problems


def _where(found: str, path: str) -> str:
    return "" if found == path else f"{found}: "


def _get(data: Mapping, dotted: str) -> Any:
    node: Any = data
    for part in dotted.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def _kind(value: Any) -> str:
    return "a mapping" if isinstance(value, Mapping) else "a list" if isinstance(value, list) else f"{value!r}"
