"""Sourcing policy: split a funded request into lots from US stock, allied stockpiles or production.

Sources are tried in the policy's order (`policy.sources`). With `split`, a line takes what each
source (and each donor) can give and passes the rest on; without it, the whole line goes to the
first source, or donor, able to cover it alone (production always can).

Stockpiles: a donor gives only its surplus above `min_keep`, and only to requests of the
priorities in `policy.stockpile_priorities`. `policy.donors`, when given, is the list of allies
that may donate and their order (default: every ally, in the order of `stockpiles`). Donors are
tried in that order for `listed_order`, by largest surplus for `most_surplus`, or by the
shortest expected transit of their route for `fastest_route` (ties keep the listed order). A
package that names its `donor` draws on that donor first, whatever its priority and the donor
choice, provided `stockpile` is among the policy's sources at all: a policy without it makes no
donations, which is how a factory-only counterfactual of a named donation is run. Whatever the
donor cannot cover goes to the policy's other sources in order (not to other donors).

Stock is taken the moment a request is sourced, so two requests never count on the same units.
Whatever no source can supply becomes an `unsourced` lot that never ships, so it stays visible
as an undelivered row. Each donated lot opens a backfill row (see `backfill.py`); its
`donated_day` is the hand-over, when the donor's preparation ends.
"""

from __future__ import annotations

from ..scenario.schema import Scenario


class Sourcing:
    """Allocates lots and makes them ready from their source."""

    def __init__(self, env, scenario: Scenario, recorder, us_stock, stockpiles, lines_by_item, backfill, transport):
        self.env, self.rec = env, recorder
        self.us, self.piles, self.lines, self.backfill, self.transport = (
            us_stock,
            stockpiles,
            lines_by_item,
            backfill,
            transport,
        )
        pol = scenario.policy
        self.sources = list(pol.sources)
        self.stockpile_priorities = set(pol.stockpile_priorities)
        self.split = pol.split
        self.donor_choice = pol.donor_choice
        # A donor listed twice is one donor: offering its surplus twice would give below min_keep.
        self.listed = list(dict.fromkeys(pol.donors)) if pol.donors else list(stockpiles.order)
        self.donations = "stockpile" in pol.sources
        # Items no US or allied stock holds and a line makes: the policy can only order them.
        held = set(us_stock.on_hand) | {i for (_, i) in stockpiles.on_hand}
        self._production_only = (
            frozenset(i for i in lines_by_item if i not in held) if "production" in self.sources else frozenset()
        )

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
            if item in self._production_only and req.donor is None:
                # Nobody holds this item in stock: the policy can only order it (the common case
                # of large stochastic streams), so skip the source-by-source search.
                lots.append(self.rec.new_lot(req, item, qty, "production", "", self.lines[item].node))
            else:
                lots.extend(self._allocate_line(req, item, qty))
        return lots

    def _allocate_line(self, req, item, qty):
        order = self.sources
        if req.donor is not None and self.donations:
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

    def ready_steps(self, lot):
        """The process steps that make a lot ready; a production lot gets its line's steps directly.

        Handing back the line's generator itself spares one level of generator delegation on
        every resume of the commonest kind of lot.
        """
        if lot.source == "production":
            return self.lines[lot.item].make(lot.qty, 1, (1, lot.request.rank, lot.request.seq, lot.lot_id), lot=lot)
        return self.make_ready(lot)

    def make_ready(self, lot):
        """Process step: the lot's source gets it ready to ship."""
        if lot.source == "us_stock":
            yield from self.us.prepare(lot)
        elif lot.source == "production":
            yield from self.lines[lot.item].make(
                lot.qty, 1, (1, lot.request.rank, lot.request.seq, lot.lot_id), lot=lot
            )
        elif lot.source == "stockpile":
            row = self.backfill.order(lot)  # the replacement is agreed with the donation itself
            yield from self.piles.prepare(lot)
            self.backfill.handed_over(row)
