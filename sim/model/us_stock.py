"""US stocks for sale: on-hand per item and a reserve floor that PURL sales never cross.

Sales are instant decisions, never waits, so a plain counter per item does what a SimPy
Container would, without its events.
"""

from __future__ import annotations

from ..errors import InvariantError
from ..recorder import US_HANDLING
from ..scenario.schema import Scenario

RELEASE_SCOPES = ("us_releases", "releases", "all")


class USStock:
    """On-hand and reserve floor per item at one node."""

    def __init__(self, env, scenario: Scenario, streams, recorder):
        self.env, self.rec = env, recorder
        self.node = scenario.us_stock.node
        self.on_hand = {k: v.on_hand for k, v in scenario.us_stock.items.items()}
        self.floor = {k: v.reserve_floor for k, v in scenario.us_stock.items.items()}
        self.handling = streams.sampler("us_stock.handling", scenario.us_stock.handling_days)
        for k, v in self.on_hand.items():
            recorder.level(env.now, f"us_stock:{k}", v)

    def available(self, item: str) -> int:
        """Units PURL may buy now without going below the floor."""
        return max(0, self.on_hand.get(item, 0) - self.floor.get(item, 0))

    def take(self, item: str, qty: int) -> None:
        """Sell `qty` units; it is a bug to cross the floor."""
        if qty > self.available(item):
            raise InvariantError(f"US stock of {item} would go below its reserve floor")
        self.on_hand[item] -= qty
        self.rec.level(self.env.now, f"us_stock:{item}", self.on_hand[item])

    def prepare(self, lot):
        """Process step: handling before a sold lot is ready to ship (the lot's `us_handling` phase)."""
        d = self.handling()
        if d > 0:
            lot.enter(US_HANDLING, self.env.now)
            yield self.env.delay(d)
