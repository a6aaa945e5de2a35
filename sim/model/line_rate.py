"""A production line's speed over the run: days per PURL unit, piecewise constant in time.

Every change of a line's rate is known before the run (its ramps, capacity changes of its rate,
diversions of a share of its output over a window), so the plan is built once and work in
progress simply follows it: units not yet made go at the rate in force when they are made, and
nothing is rescheduled. The days per unit at time t are

    base(t) * stretch * factor(t)

where base is 30 / rate_per_month (or a fixed unit_days), stretch = 1 / (1 - other customers'
share), and factor = 1 / (1 - share) while a diversion takes that share of the output (1
otherwise). A line with a random unit time has no fixed base until a rate change gives it one;
its work draws unit times instead (production.py).
"""

from __future__ import annotations

import math
from bisect import bisect_right

EPS_UNITS = 1e-9  # a unit counts as made when at most this fraction of it is left (float rounding)


class RatePlan:
    """Days per unit over time (see the module doc); `finish` and `made` integrate it."""

    def __init__(self, base: float | None, stretch: float):
        self.stretch = stretch
        self._base: list[tuple[float, float | None]] = [(0.0, base)]  # (from day, days per unit or None: random)
        self._windows: list[tuple[float, float, float]] = []  # (start, end, share diverted)
        self._starts: list[float] = [0.0]  # compiled: segment start days
        self._unit: list[float | None] = [None if base is None else base * stretch]
        self._factor: list[float] = [1.0]  # 1 / (1 - share diverted), per segment

    def set_rate(self, day: float, base: float) -> None:
        """From `day` on, the base unit time is `base` days (a ramp or capacity change of the rate)."""
        self._base.append((max(0.0, day), base))
        self._compile()

    def divert(self, start: float, end: float, share: float) -> None:
        """Over [start, end), `share` of the line's output goes elsewhere."""
        if end > start and share > 0:
            self._windows.append((start, end, share))
            self._compile()

    def _compile(self) -> None:
        # Stable sort by day: of two changes on one day, the later listed wins.
        base = sorted(self._base, key=lambda db: db[0])
        cuts = sorted({d for d, _ in base} | {t for w in self._windows for t in w[:2]} | {0.0})
        starts, units, factors = [], [], []
        for t in cuts:
            if t < 0:
                continue
            b = None
            for d, v in base:
                if d <= t:
                    b = v
            keep = 1.0
            for s, e, share in self._windows:
                if s <= t < e:
                    keep *= 1.0 - share
            starts.append(t)
            units.append(None if b is None else b * self.stretch / keep)
            factors.append(1.0 / keep)
        self._starts, self._unit, self._factor = starts, units, factors

    @property
    def changes(self) -> bool:
        """Does the speed ever change (otherwise a job's time is units x one unit time)?"""
        return len(self._starts) > 1

    def unit_at(self, t: float) -> float | None:
        """Days per unit at time t (None: the line draws a random unit time then)."""
        return self._unit[bisect_right(self._starts, t) - 1]

    def factor_at(self, t: float) -> float:
        """1 / (1 - the share diverted) at time t: how much longer PURL work takes then."""
        return self._factor[bisect_right(self._starts, t) - 1]

    def finish(self, t: float, units: float) -> float:
        """When `units` started at t are made, following the plan (fixed unit times from t on)."""
        k = bisect_right(self._starts, t) - 1
        left = units
        while True:
            u = self._unit[k]
            if u is None:
                raise ValueError("finish() needs a fixed unit time")
            end = self._starts[k + 1] if k + 1 < len(self._starts) else math.inf
            if end == math.inf or left * u <= end - t:
                return t + left * u
            left -= (end - t) / u
            t, k = end, k + 1

    def made(self, t0: float, t1: float) -> float:
        """Units made (a fraction too) between t0 and t1 by one server working throughout."""
        k = bisect_right(self._starts, t0) - 1
        total, t = 0.0, t0
        while t < t1:
            u = self._unit[k]
            if u is None:
                raise ValueError("made() needs a fixed unit time")
            end = min(t1, self._starts[k + 1] if k + 1 < len(self._starts) else math.inf)
            total += (end - t) / u
            t, k = end, k + 1
        return total
