"""Where lots come from: the source protocol, and the registry the sourcing policy builds its sources from.

A source is anything that can supply an item to a funded request. US stock (us_stock.py),
allied donations (donations.py) and US production (production.py) are the three shipped; the
sourcing policy (sourcing.py) asks the policy's sources in order and knows nothing else of them.
Adding a source is: a module with a class following `Source`, one entry in SOURCES, and its
section and name in the scenario schema (docs/extending.md walks through it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol

from ..vocabulary import PRODUCTION, STOCKPILE, US_STOCK
from .donations import Donations
from .production import Production


class Source(Protocol):
    """What the sourcing policy needs of a source."""

    name: str  # the `deliveries.source` label of its lots (and its name in `policy.sources`)
    release_scopes: tuple[str, ...]  # a ready lot waits while any of these scopes is closed
    serves_named_donor: bool  # a package naming a `donor` asks this source first (and only it of its kind)

    def may_supply(self, item: str) -> bool:
        """Could it ever give `item` (False lets the policy skip it for good)?"""
        ...

    def offers(self, request, item: str, wanted: int) -> Iterable[tuple[str, int]]:
        """What it can give now, as (donor or '', units), best first; `wanted` is what is still needed."""
        ...

    def take(self, request, item: str, donor: str, qty: int) -> str:
        """Commit `qty` units of an offer (stock leaves the books now); returns the lot's origin node."""
        ...

    def ready_steps(self, lot, ship) -> Any:
        """The process steps that make the lot ready to ship (a generator, or None for none).

        `ship(lot, units)` splits `units` off the lot and sends them on at once, as their own
        shipment (a line ships in batches as it makes them); the lot keeps the rest."""
        ...


# name -> builder; a builder takes the model (sim.model.Model) and picks the parts it needs.
SOURCES: dict[str, Callable[[Any], Source]] = {
    US_STOCK: lambda model: model.us_stock,
    STOCKPILE: lambda model: Donations(model.scenario.policy, model.stockpiles, model.backfill, model.transport),
    PRODUCTION: lambda model: Production(model.lines_by_item, model.scenario.policy.line_priority),
}


def build(names: Iterable[str], model) -> list[Source]:
    """The sources named by the policy, in its order."""
    return [SOURCES[name](model) for name in names]
