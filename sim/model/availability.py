"""The availability check of the US/NATO command: offer a request line only if the US can supply it in time.

With `approval.availability`, each line of a request is checked after its review and before it
reaches the funders: it is offered if US stock above the reserve floor covers it now, or covers
part of it and the first US line making the item is estimated to make the rest within
`window_days` (ProductionLine.estimate_days: mean long lead, then the work queued ahead and the
line itself, at today's rate). Otherwise, by `otherwise`:

- `not_offered`: the line becomes a censored row of source `not_offered` (its phase from the
  check on is `not_offered`, an event `not_offered` gives the reason) and the rest of the
  request goes on, costing only what is offered;
- `defer`: the whole request waits `recheck_days` and is checked again (an event `deferred` each
  time), staying in its approval phase, until every line passes.

Donations are not counted: the check is of what the US can sell.
"""

from __future__ import annotations

from ..scenario.schema import Availability
from ..vocabulary import DEFERRED, NOT_OFFERED, REFUSED
from .context import Context


class AvailabilityCheck:
    """Decides which lines of a request the US can supply within the window."""

    def __init__(self, ctx: Context, spec: Availability | None, us_stock, lines_by_item, unit_cost):
        self.env, self.rec, self.spec = ctx.env, ctx.recorder, spec
        self.enabled = spec is not None
        self.us, self.lines, self.unit_cost = us_stock, lines_by_item, unit_cost

    def why_not(self, item: str, qty: int) -> str | None:
        """None when the US can supply `qty` of `item` within the window; otherwise the reason."""
        assert self.spec is not None
        rest = qty - min(qty, self.us.available(item))
        if rest == 0:
            return None
        line = self.lines.get(item)
        if line is None:
            return f"US stock above the floor covers {qty - rest} of {qty}, and no US line makes it"
        days = line.estimate_days(rest)
        if days <= self.spec.window_days:
            return None
        return f"a US line would take about {days:.0f} d for {rest} units (window {self.spec.window_days:g} d)"

    def check(self, req):
        """Process step: offer what can be supplied, refuse or defer the rest (see the module doc)."""
        assert self.spec is not None
        env = self.env
        while True:
            refused = [(item, qty, why) for item, qty in req.lines if (why := self.why_not(item, qty)) is not None]
            if not refused:
                return
            if self.spec.otherwise == "not_offered":
                break
            for item, qty, why in refused:
                self.rec.event(env.now, DEFERRED, req.request_id, item=item, qty=qty, where=why)
            yield env.delay(self.spec.recheck_days)
        req.approved_day = env.now  # the check's day: a refused row's `not_offered` phase starts here
        for item, qty, why in refused:
            self.rec.event(env.now, REFUSED, req.request_id, item=item, qty=qty, where=why)
            self.rec.new_lot(req, item, qty, NOT_OFFERED, "", "")
        gone = {(item, qty) for item, qty, _ in refused}
        req.lines = tuple(line for line in req.lines if line not in gone)
        req.cost = sum(self.unit_cost[item] * qty for item, qty in req.lines)
