"""Allied stockpiles: what each ally holds of each item, the minimum it keeps, and hand-over time.

Per (ally, item): `on_hand`, and `min_keep`, the minimum the ally keeps for itself. A donation
may take only the surplus above `min_keep` (`give` raises InvariantError otherwise: a sourcing
bug, never a user error). The units leave the ally's books the moment the donation is decided;
the donor then prepares the lot for `prep_days` (Germany: launchers first, other components 2-3
months later) and hands it over, and it travels on the route chosen for the ally's node (e.g.
Germany: road to Rzeszow). A backfill adds the replacement back to `on_hand` when US production
finishes it, which starts no earlier than the item's `backfill_from` (its production slot). Every change is a point of the level series `stockpile:ALLY:ITEM`. Which donor
gives what is the donation source's rule (donations.py).
"""

from __future__ import annotations

from ..recorder import DONOR_PREP
from ..scenario.schema import Stockpile
from ..vocabulary import STOCKPILE, STOCKPILE_SERIES, stockpile_series
from .context import Context
from .finished import Finished, fail


class Stockpiles:
    """On-hand and min_keep per (ally, item); donations take only the surplus above min_keep."""

    def __init__(self, ctx: Context, spec: dict[str, Stockpile]):
        self.env, self.rec = ctx.env, ctx.recorder
        self.order = list(spec)
        self.node = {a: p.node for a, p in spec.items()}
        self.on_hand = {(a, i): st.on_hand for a, p in spec.items() for i, st in p.items.items()}
        self.initial = dict(self.on_hand)
        self.min_keep = {(a, i): st.min_keep for a, p in spec.items() for i, st in p.items.items()}
        self.paid_by = {a: dict(p.backfill_paid_by) for a, p in spec.items()}
        # The day a replacement of (ally, item) may start on its line: its contracted production slot.
        self.slot = {
            (a, i): ctx.day(st.backfill_from)
            for a, p in spec.items()
            for i, st in p.items.items()
            if st.backfill_from is not None
        }
        self._prep = {
            (a, i): ctx.streams.sampler(f"stockpiles.{a}.{i}.prep", st.prep_days)
            for a, p in spec.items()
            for i, st in p.items.items()
        }
        for (a, i), v in self.on_hand.items():
            self.rec.level(self.env.now, stockpile_series(a, i), v)

    def holds(self, item: str) -> bool:
        """Does any ally hold this item at all?"""
        return any(i == item for (_, i) in self.on_hand)

    def surplus(self, ally: str, item: str) -> int:
        """Units the ally may give now."""
        key = (ally, item)
        return max(0, self.on_hand.get(key, 0) - self.min_keep.get(key, 0))

    def give(self, ally: str, item: str, qty: int) -> None:
        """Take a donation out of the ally's stock; never below min_keep."""
        if qty > self.surplus(ally, item):
            fail(f"{ally} would give {item} below its min_keep")
        self.on_hand[(ally, item)] -= qty
        self.rec.level(self.env.now, stockpile_series(ally, item), self.on_hand[(ally, item)])

    def receive(self, ally: str, item: str, qty: int) -> None:
        """A backfill arrives at the ally."""
        key = (ally, item)
        self.on_hand[key] = self.on_hand.get(key, 0) + qty
        self.rec.level(self.env.now, stockpile_series(ally, item), self.on_hand[key])

    def prepare(self, lot):
        """Process step: the donor readies the lot for hand-over (the lot's `donor_prep` phase)."""
        d = self._prep[(lot.donor, lot.item)]()
        if d > 0:
            lot.enter(DONOR_PREP, self.env.now)
            yield self.env.delay(d)

    def check(self, finished: Finished) -> None:
        """End of run: on hand = initial - donated + backfilled, never below min_keep, donors hold the item."""
        for lot in finished.lots:
            if lot.source == STOCKPILE and (lot.donor, lot.item) not in self.initial:
                fail(f"lot {lot.lot_id}: donor '{lot.donor}' holds no {lot.item}")
        donated, returned = finished.units(STOCKPILE), finished.backfilled()
        for key, initial in self.initial.items():
            n = self.on_hand[key]
            expect = initial - donated.get(key, 0) + returned.get(key, 0)
            ally, item = key
            if n != expect:
                fail(
                    f"stockpile {ally}/{item}: {initial} - {donated.get(key, 0)} donated + "
                    f"{returned.get(key, 0)} backfilled = {expect}, but {n} on hand"
                )
            if n < self.min_keep[key]:
                fail(f"stockpile {ally}/{item} at {n}, below its min_keep {self.min_keep[key]}")
        if self.on_hand:
            for series, values in finished.level_points(STOCKPILE_SERIES).items():
                ally, item = series[len(STOCKPILE_SERIES) :].split(":", 1)
                keep = self.min_keep.get((ally, item), 0)
                if any(v < keep for v in values):
                    fail(f"stockpile {ally}/{item} went below its min_keep ({keep}): {min(values)}")
