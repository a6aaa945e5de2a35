"""NSATU's coordination in Wiesbaden: matching a funded request to donors and routes, with a capacity.

Between funding and sourcing (DESIGN.md's flow), each funded request takes one of `servers`
coordinators for a drawn `days` (stream `coordination.days`); requests that find every
coordinator busy queue in order of priority (urgent first), then request order, in a
ServerPool. Nothing is sourced before its request is coordinated, so stock is taken at the end
of the step, not at funding. A scenario without `coordination:` has no step at all (nothing is
built, nothing drawn). The whole step, queue and work, is the request's `coordination` phase
(the request's funded day to its sourcing, taken from the request's days like approval and
funding); the queue length is the level series `queue:coordination`.
"""

from __future__ import annotations

from ..scenario.node_specs import Coordination as CoordinationSpec
from ..vocabulary import COORDINATION_QUEUE_SERIES
from .context import Context
from .finished import Finished, fail
from .queueing import ServerPool


class Coordination:
    """The coordinators: a server pool and the time one request takes."""

    def __init__(self, ctx: Context, spec: CoordinationSpec):
        env, rec = ctx.env, ctx.recorder
        self.env = env
        self.pool = ServerPool(env, spec.servers, on_queue=rec.level_writer(env, COORDINATION_QUEUE_SERIES))
        self.days = ctx.streams.sampler("coordination.days", spec.days)
        self.done = 0  # requests coordinated, for the end-of-run check
        rec.level(env.now, COORDINATION_QUEUE_SERIES, 0)

    def coordinate(self, req):
        """Process step: wait for a coordinator (priority, then request order), then the drawn time."""
        grant = self.pool.acquire((req.rank, req.seq))
        if grant is not None:
            yield grant
        yield self.env.delay(self.days.draw())
        self.pool.release()
        self.done += 1

    def check(self, finished: Finished) -> None:
        """End of run: the pool is consistent; every coordinated request with lots was counted."""
        self.pool.check("coordination")
        # A byte per request number (`seq`) marks the ones sourced: a set of 10^6 request ids would
        # cost ~80 MB at the run's peak, where the records and the tables are held together.
        lots = finished.lots
        seen = bytearray(1 + max((lot.request.seq for lot in lots), default=0))
        for lot in lots:
            req = lot.request
            if req.coordinated_day == req.coordinated_day:  # not NaN: it went through coordination
                seen[req.seq] = 1
        sourced = seen.count(1)
        if sourced > self.done:
            fail(f"coordination: {sourced} requests sourced, only {self.done} coordinated")
