"""US stocks for sale, a source of lots: on-hand per item and a reserve floor that PURL sales never cross.

Sales are instant decisions, never waits, so a plain counter per item does what a SimPy
Container would, without its events. A sold lot is handled (`handling_days`) before it is ready,
and waits on the US release scopes. A diversion (a disruption) takes units for another theatre
whatever the floor: only sales respect it.
"""

from __future__ import annotations

from ..recorder import US_HANDLING
from ..scenario.schema import USStock as USStockSpec
from ..vocabulary import US_STOCK, US_STOCK_SERIES, us_stock_series
from .context import Context
from .finished import Finished, fail

RELEASE_SCOPES: tuple[str, ...] = ("us_releases", "releases", "all")


class USStock:
    """On-hand and reserve floor per item at one node; the `us_stock` source."""

    name = US_STOCK
    release_scopes: tuple[str, ...] = RELEASE_SCOPES
    serves_named_donor = False

    def __init__(self, ctx: Context, spec: USStockSpec):
        self.env, self.rec = ctx.env, ctx.recorder
        self.node = spec.node
        self.on_hand = {k: v.on_hand for k, v in spec.items.items()}
        self.initial = dict(self.on_hand)
        self.floor = {k: v.reserve_floor for k, v in spec.items.items()}
        self.diverted = dict.fromkeys(self.on_hand, 0)
        self._points = dict.fromkeys(self.on_hand, 1)  # level points written per item, the first at day 0
        self._diversion_points: set[tuple[str, int]] = set()  # (item, point number) written by a diversion
        self.handling = ctx.streams.sampler("us_stock.handling", spec.handling_days)
        for k, v in self.on_hand.items():
            self.rec.level(self.env.now, us_stock_series(k), v)

    def available(self, item: str) -> int:
        """Units PURL may buy now without going below the floor."""
        return max(0, self.on_hand.get(item, 0) - self.floor.get(item, 0))

    # --- the source protocol (sources.py) ---
    def may_supply(self, item: str) -> bool:
        """Does the US hold this item at all?"""
        return item in self.on_hand

    def offers(self, request, item: str, wanted: int) -> list[tuple[str, int]]:
        """What US stock can sell of `item` now, as one offer with no donor."""
        return [("", self.available(item))]

    def take(self, request, item: str, donor: str, qty: int) -> str:
        """Sell `qty` units (it is a bug to cross the floor); the lot leaves from the US depot."""
        if qty > self.available(item):
            fail(f"US stock of {item} would go below its reserve floor")
        self.on_hand[item] -= qty
        self._level(item)
        return self.node

    def divert(self, item: str, units: int) -> int:
        """Give up to `units` (what is on hand) to another theatre, floor or not; returns the units taken."""
        taken = min(units, self.on_hand.get(item, 0))
        self.on_hand[item] -= taken
        self.diverted[item] += taken
        self._diversion_points.add((item, self._points[item]))
        self._level(item)
        return taken

    def _level(self, item: str) -> None:
        self.rec.level(self.env.now, us_stock_series(item), self.on_hand[item])
        self._points[item] += 1

    def ready_steps(self, lot, ship=None):
        """Process step: handling before a sold lot is ready to ship (the lot's `us_handling` phase)."""
        d = self.handling()
        if d > 0:
            lot.enter(US_HANDLING, self.env.now)
            yield self.env.delay(d)

    def check(self, finished: Finished) -> None:
        """End of run: on hand = initial - sold - diverted, never below zero, and no sale below the floor."""
        sold = finished.units(US_STOCK)
        for (_, item), qty in sold.items():
            if item not in self.on_hand:
                fail(f"{qty} units of {item} sold from US stock that holds none")
        for item, initial in self.initial.items():
            n = self.on_hand[item]
            if n < 0:
                fail(f"US stock of {item} negative: {n}")
            if n != initial - sold.get(("", item), 0) - self.diverted[item]:
                fail(
                    f"US stock of {item}: {initial} - {sold.get(('', item), 0)} sold - "
                    f"{self.diverted[item]} diverted != {n} on hand"
                )
        if not self.on_hand:
            return
        for series, values in finished.level_points(US_STOCK_SERIES).items():
            item = series[len(US_STOCK_SERIES) :]
            floor = self.floor.get(item, 0)
            # Every point after the first is a sale, except those a diversion wrote.
            if any(v < floor for k, v in enumerate(values) if k and (item, k) not in self._diversion_points):
                fail(f"US stock of {item} sold below its reserve floor ({floor})")
