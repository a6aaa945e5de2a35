"""Sourcing policy: split a funded request into lots from US stock, allied stockpiles or production.

Sources are tried in the policy's order. With `split`, a line takes what each source can give
and passes the rest on; without it, the whole line goes to the first source able to cover it
(production always can). Stockpiles are used only for the priorities the policy allows, unless
a package names its donor. Whatever no source can supply becomes an `unsourced` lot that never
ships, so it stays visible as an undelivered row.
"""
from __future__ import annotations

from ..scenario.schema import Scenario


class Sourcing:
    """Allocates lots and makes them ready from their source."""

    def __init__(self, env, scenario: Scenario, recorder, us_stock, stockpiles, lines_by_item, backfill, transport):
        self.env, self.rec = env, recorder
        self.us, self.piles, self.lines, self.backfill, self.transport = (
            us_stock, stockpiles, lines_by_item, backfill, transport)
        pol = scenario.policy
        self.sources = list(pol.sources)
        self.stockpile_priorities = set(pol.stockpile_priorities)
        self.split = pol.split
        self.donor_choice = pol.donor_choice
        self.listed = list(pol.donors) if pol.donors else list(stockpiles.order)

    def donors_for(self, item: str) -> list[str]:
        """Donors holding a surplus of `item`, in the policy's order of preference."""
        cands = [a for a in self.listed if self.piles.surplus(a, item) > 0]
        if self.donor_choice == "most_surplus":
            cands.sort(key=lambda a: -self.piles.surplus(a, item))  # stable: listed order breaks ties
        elif self.donor_choice == "fastest_route":
            cands.sort(key=lambda a: self.transport.mean_days(self.piles.node[a], item))
        return cands

    def allocate(self, req) -> list:
        """Decide the lots of a funded request and take the stock they use."""
        lots = []
        for item, qty in req.lines:
            lots.extend(self._allocate_line(req, item, qty))
        return lots

    def _allocate_line(self, req, item, qty):
        order = self.sources
        if req.donor is not None:
            order = ["named_donor"] + [s for s in order if s != "stockpile"]
        offers = []  # (source, donor, qty available)
        remaining = qty
        for src in order:
            if remaining <= 0:
                break
            if src == "us_stock":
                cands = [("us_stock", "", self.us.available(item))]
            elif src == "named_donor":
                cands = [("stockpile", req.donor, self.piles.surplus(req.donor, item))]
            elif src == "stockpile":
                if req.priority not in self.stockpile_priorities:
                    continue
                cands = [("stockpile", a, self.piles.surplus(a, item)) for a in self.donors_for(item)]
            else:
                cands = [("production", "", remaining)] if item in self.lines else []
            for source, donor, avail in cands:
                take = min(avail, remaining) if self.split else (remaining if avail >= remaining else 0)
                if take > 0:
                    offers.append((source, donor, take))
                    remaining -= take
                if remaining <= 0:
                    break
        lots = []
        for source, donor, take in offers:
            if source == "us_stock":
                self.us.take(item, take)
                origin = self.us.node
            elif source == "stockpile":
                self.piles.give(donor, item, take)
                origin = self.piles.node[donor]
            else:
                origin = self.lines[item].node
            lots.append(self.rec.new_lot(req, item, take, source, donor, origin))
        if remaining > 0:
            lots.append(self.rec.new_lot(req, item, remaining, "unsourced", "", ""))
        return lots

    def make_ready(self, lot):
        """Process step: the lot's source gets it ready to ship."""
        if lot.source == "us_stock":
            yield from self.us.prepare(lot)
        elif lot.source == "production":
            yield from self.lines[lot.item].make(lot.qty, 1, (1, lot.request.rank, lot.request.seq, lot.lot_id))
        elif lot.source == "stockpile":
            row = self.backfill.order(lot)
            yield from self.piles.prepare(lot)
            if row is not None:
                row[6] = self.env.now  # donated_day: the day the donor hands it over
