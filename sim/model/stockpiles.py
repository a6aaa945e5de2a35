"""Allied stockpiles: what each ally holds of each item, the minimum it keeps, and hand-over time.

Per (ally, item): `on_hand`, and `min_keep`, the minimum the ally keeps for itself. A donation
may take only the surplus above `min_keep` (`give` raises InvariantError otherwise: a sourcing
bug, never a user error). The units leave the ally's books the moment the donation is decided;
the donor then prepares the lot for `prep_days` (Germany: launchers first, other components 2-3
months later) and hands it over, and it travels on the route chosen for the ally's node (e.g.
Germany: road to Rzeszow). A backfill adds the replacement back to `on_hand` when US production
finishes it. Every change is a point of the level series `stockpile:ALLY:ITEM`.
"""

from __future__ import annotations

from ..errors import InvariantError
from ..recorder import DONOR_PREP
from ..scenario.schema import Scenario

RELEASE_SCOPES = ("donations", "releases", "all")


class Stockpiles:
    """On-hand and min_keep per (ally, item); donations take only the surplus above min_keep."""

    def __init__(self, env, scenario: Scenario, streams, recorder):
        self.env, self.rec = env, recorder
        self.order = list(scenario.stockpiles)
        self.node = {a: p.node for a, p in scenario.stockpiles.items()}
        self.on_hand = {(a, i): st.on_hand for a, p in scenario.stockpiles.items() for i, st in p.items.items()}
        self.min_keep = {(a, i): st.min_keep for a, p in scenario.stockpiles.items() for i, st in p.items.items()}
        self.paid_by = {a: dict(p.backfill_paid_by) for a, p in scenario.stockpiles.items()}
        self._prep = {
            (a, i): streams.sampler(f"stockpiles.{a}.{i}.prep", st.prep_days)
            for a, p in scenario.stockpiles.items()
            for i, st in p.items.items()
        }
        for (a, i), v in self.on_hand.items():
            recorder.level(env.now, f"stockpile:{a}:{i}", v)

    def surplus(self, ally: str, item: str) -> int:
        """Units the ally may give now."""
        key = (ally, item)
        return max(0, self.on_hand.get(key, 0) - self.min_keep.get(key, 0))

    def give(self, ally: str, item: str, qty: int) -> None:
        """Take a donation out of the ally's stock; never below min_keep."""
        if qty > self.surplus(ally, item):
            raise InvariantError(f"{ally} would give {item} below its min_keep")
        self.on_hand[(ally, item)] -= qty
        self.rec.level(self.env.now, f"stockpile:{ally}:{item}", self.on_hand[(ally, item)])

    def receive(self, ally: str, item: str, qty: int) -> None:
        """A backfill arrives at the ally."""
        key = (ally, item)
        self.on_hand[key] = self.on_hand.get(key, 0) + qty
        self.rec.level(self.env.now, f"stockpile:{ally}:{item}", self.on_hand[key])

    def prepare(self, lot):
        """Process step: the donor readies the lot for hand-over (the lot's `donor_prep` phase)."""
        d = self._prep[(lot.donor, lot.item)]()
        if d > 0:
            lot.enter(DONOR_PREP, self.env.now)
            yield self.env.delay(d)
