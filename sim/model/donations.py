"""Donations, a source of lots: allies give from their stockpiles' surplus, by the policy's donor rule.

Only requests of the priorities in `policy.stockpile_priorities` may draw on stockpiles.
`policy.donors`, when given, is the list of allies that may donate and their order (default:
every ally, in the order of `stockpiles`). The donor choice (`policy.donor_choice`, a rule of
DONOR_CHOICE) orders the donors holding a surplus: `listed_order` as listed, `most_surplus` by
largest surplus, `fastest_route` by the shortest expected transit of their route (ties keep
the listed order). A package that names its `donor` draws on that donor alone, whatever its
priority and the donor choice (the sourcing policy then puts this source first).

Each donated lot opens a backfill row when it is made ready (the replacement is agreed with the
donation itself), and the row's `donated_day` is the hand-over, when the donor's preparation ends.
"""

from __future__ import annotations

from collections.abc import Callable

from ..scenario.schema import Policy
from ..vocabulary import STOCKPILE
from .backfill import Backfill
from .finished import Finished, fail
from .stockpiles import Stockpiles
from .transport import Transport

RELEASE_SCOPES: tuple[str, ...] = ("donations", "releases", "all")

# A donor rule: (donors holding a surplus of the item, in listed order, item, donations) -> preferred order.
DonorRule = Callable[[list[str], str, "Donations"], list[str]]
DONOR_CHOICE: dict[str, DonorRule] = {
    "listed_order": lambda donors, item, src: donors,
    # sorted() is stable: the listed order breaks ties
    "most_surplus": lambda donors, item, src: sorted(donors, key=lambda a: -src.piles.surplus(a, item)),
    "fastest_route": lambda donors, item, src: sorted(
        donors, key=lambda a: src.transport.mean_days(src.piles.node[a], item)
    ),
}


class Donations:
    """The `stockpile` source: allied stockpiles given by the policy's donor rule, each backfilled."""

    name = STOCKPILE
    release_scopes: tuple[str, ...] = RELEASE_SCOPES
    serves_named_donor = True  # a package naming its donor draws on it before any other source
    piles: Stockpiles
    transport: Transport

    def __init__(self, policy: Policy, stockpiles: Stockpiles, backfill: Backfill, transport: Transport):
        self.piles, self.backfill, self.transport = stockpiles, backfill, transport
        self.priorities = frozenset(policy.stockpile_priorities)
        # A donor listed twice is one donor: offering its surplus twice would give below min_keep.
        self.listed = list(dict.fromkeys(policy.donors)) if policy.donors is not None else list(stockpiles.order)
        self._rule = DONOR_CHOICE[policy.donor_choice]

    def donors_for(self, item: str) -> list[str]:
        """Donors holding a surplus of `item`, in the policy's order of preference."""
        return self._rule([a for a in self.listed if self.piles.surplus(a, item) > 0], item, self)

    def may_supply(self, item: str) -> bool:
        """Does any ally hold this item at all?"""
        return self.piles.holds(item)

    def offers(self, request, item: str, wanted: int) -> list[tuple[str, int]]:
        """(donor, surplus) in order of preference: the named donor alone, or allowed donors by the rule."""
        if request.donor is not None:
            return [(request.donor, self.piles.surplus(request.donor, item))]
        if request.priority not in self.priorities:
            return []
        return [(a, self.piles.surplus(a, item)) for a in self.donors_for(item)]

    def take(self, request, item: str, donor: str, qty: int) -> str:
        """Take the donation off the donor's books now; the lot leaves from the donor's node."""
        self.piles.give(donor, item, qty)
        return self.piles.node[donor]

    def ready_steps(self, lot, ship=None):
        """Process step: the replacement is agreed, the donor prepares the lot and hands it over."""
        row = self.backfill.order(lot)
        yield from self.piles.prepare(lot)
        self.backfill.handed_over(row)

    def check(self, finished: Finished) -> None:
        """End of run: every donation went to a request that named its donor, or that the policy allows."""
        listed = set(self.listed)
        for lot in finished.lots:
            if lot.source != STOCKPILE:
                continue
            req = lot.request
            if req.donor is not None:
                if lot.donor != req.donor:
                    fail(f"lot {lot.lot_id}: request {req.request_id} named donor {req.donor}, got {lot.donor}")
            elif req.priority not in self.priorities or lot.donor not in listed:
                fail(f"lot {lot.lot_id}: a {req.priority} request drew on {lot.donor}'s stockpile against the policy")
