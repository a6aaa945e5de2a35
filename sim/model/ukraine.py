"""Ukraine's side: its stock of each item, fed by deliveries and drawn down by its use.

Use is a fluid: a base rate a day plus surges over windows (ukraine_specs.py), so the stock
between two deliveries falls in straight lines and nothing needs an event of its own. When the
stock reaches zero, use goes unmet until the next delivery. The part writes, per item, the level
series `ukraine:ITEM` (a point at the start, at every moment the stock runs out, before and after
every delivery, and at the horizon) and `ukraine_unmet:ITEM` (units of use not met so far, at the
same moments), from which the metric layer derives stockout spells and the share of use met.
"""

from __future__ import annotations

from ..scenario.ukraine_specs import Ukraine
from ..vocabulary import ukraine_series, ukraine_unmet_series
from .context import Context
from .finished import Finished, fail


class UkraineStock:
    """Per item: on hand, use so far, unmet use so far, and the piecewise rate of use."""

    def __init__(self, ctx: Context, spec: Ukraine):
        self.env, self.rec, self.horizon = ctx.env, ctx.recorder, ctx.horizon
        self.items = set(spec.items)
        self.level = {i: float(u.on_hand) for i, u in spec.items.items()}
        self.initial = dict(self.level)
        self.used = dict.fromkeys(self.items, 0.0)
        self.unmet = dict.fromkeys(self.items, 0.0)
        self.received = dict.fromkeys(self.items, 0)
        self._t = dict.fromkeys(self.items, 0.0)
        self._rates = {i: self._schedule(ctx, u) for i, u in spec.items.items()}
        for item in sorted(self.items):
            self._point(item, 0.0)

    @staticmethod
    def _schedule(ctx: Context, use) -> list[tuple[float, float]]:
        """(from day, units a day) in day order: the base rate plus every surge in force."""
        windows = [(max(0.0, ctx.day(s.start)), ctx.day(s.end), s.per_day) for s in use.surges]
        cuts = sorted({0.0} | {t for a, b, _ in windows for t in (a, b) if b > a})
        return [(t, use.per_day + sum(r for a, b, r in windows if a <= t < b)) for t in cuts]

    def _point(self, item: str, day: float) -> None:
        self.rec.level(day, ukraine_series(item), self.level[item])
        self.rec.level(day, ukraine_unmet_series(item), self.unmet[item])

    def _advance(self, item: str, t: float) -> None:
        """Use from the last update to `t`; a point where the stock runs out on the way."""
        rates, now = self._rates[item], self._t[item]
        for k, (start, rate) in enumerate(rates):
            end = rates[k + 1][0] if k + 1 < len(rates) else float("inf")
            a, b = max(start, now), min(end, t)
            if b <= a or rate <= 0:
                continue
            want = rate * (b - a)
            have = self.level[item]
            if have >= want:
                self.level[item] = have - want
                self.used[item] += want
                if have > 0 and self.level[item] <= 0 and b < t:
                    self._point(item, b)  # it ran out exactly at the end of this rate's stretch
            else:
                if have > 0:
                    self.level[item] = 0.0
                    self.used[item] += have
                    self._point(item, a + have / rate)  # the moment it ran out
                self.unmet[item] += want - have
        self._t[item] = t

    def receive(self, item: str, qty: int) -> None:
        """A delivery arrives in Ukraine now."""
        if item not in self.items:
            return
        now = self.env.now
        self._advance(item, now)
        self._point(item, now)
        self.level[item] += qty
        self.received[item] += qty
        self._point(item, now)

    def finish(self) -> None:
        """At the horizon: use up to it, and the series' last points."""
        for item in sorted(self.items):
            self._advance(item, self.horizon)
            self._point(item, self.horizon)

    def check(self, finished: Finished) -> None:
        """End of run: never negative; initial + received - used = on hand; received = delivered units."""
        delivered: dict[str, int] = {}
        for lot in finished.lots:
            if lot.item in self.items and lot.delivered_day == lot.delivered_day:
                delivered[lot.item] = delivered.get(lot.item, 0) + lot.qty
        for item in self.items:
            if self.level[item] < -1e-9:
                fail(f"Ukraine's stock of {item} negative: {self.level[item]}")
            if self.received[item] != delivered.get(item, 0):
                fail(f"Ukraine received {self.received[item]} {item}, deliveries say {delivered.get(item, 0)}")
            expect = self.initial[item] + self.received[item] - self.used[item]
            if abs(expect - self.level[item]) > 1e-6 * (1.0 + self.initial[item] + self.received[item]):
                fail(f"Ukraine's stock of {item}: {expect} expected, {self.level[item]} on hand")
