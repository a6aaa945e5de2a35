"""Parameter sweeps: a grid of overrides of one scenario file, each point an ensemble with the same seeds.

A parameter is a dotted scenario path and its values: `40,60,80` (a list), `8:20:4` (from 8 to
20 inclusive in steps of 4) or a YAML list `[{dist: fixed, value: 3}, 5]`. Every point is loaded
through `load_scenario(path, overrides)`, so a path that does not exist or a value that does not
validate gives the usual ScenarioError, for all points before anything runs.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import Problem, ScenarioError
from ..scenario.loader import load_scenario, parse_override_value
from ..scenario.schema import Scenario
from ..scenario.workload import DEFAULT_REPS
from .compare import comparison_table
from .ensemble import run_stats

MAX_POINTS = 10_000


class SweepError(ValueError):
    """A --param that cannot be read (syntax, empty range, too many points)."""


def _number(text: str, spec: str) -> int | float:
    v = parse_override_value(text.strip())
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise SweepError(f"{spec!r}: {text.strip()!r} is not a number (a:b:c ranges take numbers)")
    return v


def _is_number(text: str) -> bool:
    v = parse_override_value(text.strip())
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def parse_values(spec: str) -> list[Any]:
    """Values of one parameter: `a,b,c`, `from:to:step` (inclusive) or a YAML list."""
    text = spec.strip()
    if not text:
        raise SweepError("no values given")
    if text.startswith("["):
        values = parse_override_value(text)
        if not isinstance(values, list) or not values:
            raise SweepError(f"{spec!r}: not a non-empty YAML list")
        return values
    parts = text.split(":")
    if len(parts) > 1 and "," not in text and all(_is_number(p) for p in parts):
        if len(parts) != 3:
            raise SweepError(f"{spec!r}: a range is from:to:step, e.g. 8:20:4")
        a, b, c = (_number(p, spec) for p in parts)
        if c <= 0:
            raise SweepError(f"{spec!r}: the step must be positive")
        if b < a:
            raise SweepError(f"{spec!r}: the end is below the start")
        n = int(math.floor((b - a) / c + 1e-9)) + 1
        if n > MAX_POINTS:
            raise SweepError(f"{spec!r}: {n} values, more than {MAX_POINTS}")
        if all(isinstance(x, int) for x in (a, b, c)):
            return [a + i * c for i in range(n)]
        return [round(a + i * c, 12) for i in range(n)]
    return [parse_override_value(v.strip()) for v in text.split(",") if v.strip()]


def parse_param(text: str) -> tuple[str, list[Any]]:
    """`path=values` into (path, values)."""
    path, eq, spec = text.partition("=")
    if not eq or not path.strip():
        raise SweepError(f"--param {text!r}: expected PATH=VALUES, e.g. production.pac3_line.rate_per_month=40,60,80")
    try:
        return path.strip(), parse_values(spec)
    except SweepError as exc:
        raise SweepError(f"--param {path.strip()}: {exc}") from None


def grid(params: Mapping[str, Sequence[Any]]) -> list[dict[str, Any]]:
    """Every combination of the parameters' values, the last parameter varying fastest."""
    if not params:
        raise SweepError("give at least one --param")
    n = math.prod(len(v) for v in params.values())
    if n > MAX_POINTS:
        raise SweepError(f"{n} sweep points, more than {MAX_POINTS}")
    keys = list(params)
    return [dict(zip(keys, combo)) for combo in itertools.product(*(params[k] for k in keys))]


def _point_text(point: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in point.items())


def load_points(path: str | Path, points: Sequence[Mapping[str, Any]]):
    """Each point's Scenario, or one ScenarioError listing every problem once, with the points it occurs at."""
    loaded: list[Scenario] = []
    found: dict[tuple[str, str, str, int | None, int | None], list[str]] = {}  # problem: the points it occurs at
    for point in points:
        try:
            loaded.append(load_scenario(path, dict(point)))
        except ScenarioError as exc:
            for p in exc.problems:
                found.setdefault((p.file, p.path, p.message, p.line, p.column), []).append(_point_text(point))
    if found:
        problems = []
        for (file, where, message, line, column), at in found.items():
            shown = "; ".join(at[:3]) + (f"; and {len(at) - 3} more" if len(at) > 3 else "")
            which = f"sweep point{'s' if len(at) > 1 else ''} {shown}"
            problems.append(Problem(file, where, f"{message} ({which})", line, column))
        raise ScenarioError(problems)
    return loaded


def sweep(
    scenario: str | Path,
    params: Mapping[str, Sequence[Any] | str],
    reps: int = DEFAULT_REPS,
    seed: int | None = None,
    executor: Executor | None = None,
    chunk_size: int | None = None,
    progress: Callable[[int], None] | None = None,
    tau: float | None = None,
    cohort: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Run the grid of `params` over the scenario file; one row per point and item (and `ALL`), as `compare` gives.

    params: dotted path -> list of values, or a value string as on the command line
    ("40,60,80", "8:20:4"). seed: for every point (default: the scenario's own, the same at
    every point unless the sweep varies `seed`), so points differ only by their parameters.
    Columns: `point`, one per parameter, then those of `sim.compare` (the headline figures with
    95% intervals and the paired differences against the first point, one tau for all points).
    """
    values = {k: parse_values(v) if isinstance(v, str) else list(v) for k, v in params.items()}
    points = grid(values)
    scenarios = load_points(scenario, points)
    seeds = [sc.seed if seed is None else int(seed) for sc in scenarios]
    obs = run_stats(scenarios, reps, seeds, executor, chunk_size, progress)
    return sweep_table(points, obs, reps, scenarios, tau, cohort)


def sweep_table(
    points: Sequence[Mapping[str, Any]],
    obs: Sequence[dict],
    reps: int,
    scenarios: Sequence,
    tau: float | None = None,
    cohort: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """The sweep's rows (see `sweep`) from each point's observations."""
    names = [_point_text(p) for p in points]
    head = [{"point": k, **p} for k, p in enumerate(points)]
    df = comparison_table(obs, names, reps, scenarios, tau, cohort, head)
    df = df.sort_values(
        ["point", "item"],
        key=lambda c: c.map(lambda v: (v == "ALL", v)) if c.name == "item" else c,
        kind="stable",
        ignore_index=True,
    )
    df.attrs.update(params=list(points[0]) if points else [])
    return df
