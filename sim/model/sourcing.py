"""Sourcing policy: split a funded request into lots from the policy's sources, in the policy's order.

Sources (sources.py) are asked in the order of `policy.sources`. With `split`, a line takes what
each source (and each donor of a source) can give and passes the rest on; without it, the whole
line goes to the first source, or donor, able to cover it alone (production always can). A
package that names its `donor` asks the source that serves named donors (donations) first, and
whatever that donor cannot cover goes to the policy's other sources in order (not to other
donors); a policy without donations makes none, which is how a factory-only counterfactual of
a named donation is run.

Stock is taken the moment a request is sourced, so two requests never count on the same units.
Whatever no source can supply becomes an `unsourced` lot that never ships, so it stays visible
as an undelivered row.
"""

from __future__ import annotations

from typing import Any

from ..scenario.schema import Policy
from ..vocabulary import NOT_OFFERED, UNSOURCED
from .context import Context
from .finished import Finished, fail


class Sourcing:
    """Allocates lots from the policy's sources and hands each lot to its source to make ready."""

    def __init__(self, ctx: Context, policy: Policy, sources: list):
        self.rec = ctx.recorder
        self.sources = sources
        self.split = policy.split
        self._by_name = {src.name: src for src in sources}
        named = [src for src in sources if src.serves_named_donor]
        self._named_order = named[:1] + [src for src in sources if src not in named] if named else None
        self._direct: dict[str, Any] = {}  # item -> the source that takes it whole, at once

    def _direct_source(self, item: str):
        """The source that gets every line of `item` (none before it could ever supply it, and it takes
        all that is wanted), or False: the common case of large stochastic streams skips the search."""
        src = self._direct.get(item)
        if src is None:
            first = next((s for s in self.sources if s.may_supply(item)), None)
            unlimited = getattr(first, "unlimited", None)
            src = self._direct[item] = first if unlimited is not None and unlimited(item) else False
        return src

    def allocate(self, req) -> list:
        """Decide the lots of a funded request and take the stock they use."""
        lots = []
        for item, qty in req.lines:
            direct: Any = self._direct_source(item) if req.donor is None else False
            if direct:
                lots.append(self.rec.new_lot(req, item, qty, direct.name, "", direct.take(req, item, "", qty)))
            else:
                lots.extend(self._allocate_line(req, item, qty))
        return lots

    def allocate_line(self, req, item: str, qty: int) -> list:
        """The lots of `qty` units of `item` for `req`, as `allocate` would make them (a lost lot's re-order)."""
        direct: Any = self._direct_source(item) if req.donor is None else False
        if direct:
            return [self.rec.new_lot(req, item, qty, direct.name, "", direct.take(req, item, "", qty))]
        return self._allocate_line(req, item, qty)

    def _allocate_line(self, req, item, qty):
        order = self._named_order if req.donor is not None and self._named_order else self.sources
        offers = []  # (source, donor, qty), decided before any is taken
        remaining = qty
        for src in order:
            if remaining <= 0:
                break
            for donor, avail in src.offers(req, item, remaining):
                take = min(avail, remaining) if self.split else (remaining if avail >= remaining else 0)
                if take > 0:
                    offers.append((src, donor, take))
                    remaining -= take
                if remaining <= 0:
                    break
        lots = [
            self.rec.new_lot(req, item, take, src.name, donor, src.take(req, item, donor, take))
            for src, donor, take in offers
        ]
        if remaining > 0:
            lots.append(self.rec.new_lot(req, item, remaining, UNSOURCED, "", ""))
        return lots

    def ready_steps(self, lot, ship):
        """The process steps that make a lot ready, from its source (`ship`: see Source.ready_steps)."""
        return self._by_name[lot.source].ready_steps(lot, ship)

    def release_scopes(self, lot) -> tuple[str, ...]:
        """The scopes that hold a ready lot of this source."""
        return self._by_name[lot.source].release_scopes

    def check(self, finished: Finished) -> None:
        """End of run: every lot comes from one of the policy's sources, or is unsourced."""
        allowed = set(self._by_name) | {UNSOURCED, NOT_OFFERED}
        for lot in finished.lots:
            if lot.source not in allowed:
                fail(f"lot {lot.lot_id} comes from '{lot.source}', which the policy does not use")
