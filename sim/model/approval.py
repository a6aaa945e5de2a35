"""The availability check by the US/NATO command: a delay, then a wait while approvals are paused."""

from __future__ import annotations

from ..scenario.schema import Approval as ApprovalSpec
from .context import Context

SCOPES = ("approvals", "all")


class Approval:
    """Reviews each request for a drawn delay; holds it while the `approvals` scope is closed."""

    def __init__(self, ctx: Context, spec: ApprovalSpec):
        self.env, self.switch = ctx.env, ctx.switch
        self.enabled = spec.enabled
        self._delay = ctx.streams.sampler("approval.delay", spec.delay_days)
        self._wait = ctx.env.delay

    def needed(self, request) -> bool:
        """Does this request go through the check at all (skipping it avoids a generator per request)?"""
        return (self.enabled and not request.skip_approval) or bool(self.switch.any_closed)

    def review(self, request):
        """Process step: the request's approval."""
        if not self.enabled or request.skip_approval:
            return
        d = self._delay.draw()
        if d > 0:
            yield self._wait(d)
        if self.switch.any_closed:
            yield from self.switch.hold(SCOPES)
