"""Ukraine's requirement list: explicit packages on dates and a stochastic stream of requests."""

from __future__ import annotations

import math

import numpy as np

from ..columns import day_field
from ..scenario.schema import Requests as RequestsSpec
from ..streams import Choice
from .context import Context
from .finished import factorized, fail, whole

RANK = {"urgent": 0, "routine": 1}
# A drawn quantity is capped like a written one (RequestLine.qty): a long-tailed draw must not make a
# lot too big for a float to count exactly.
MAX_QTY = 10**9


class Request:
    """One request: lines of (item, qty), a priority, and the days it passed each stage."""

    __slots__ = (
        "seq",
        "request_id",
        "priority",
        "rank",
        "lines",
        "cost",
        "days",
        "funded_by",
        "skip_approval",
        "donor",
    )

    # Its days in the recorder's request_days (four a request, at 4 * seq): no float object per day.
    requested_day = day_field("seq", 4, 0, "When the request was made.")
    approved_day = day_field("seq", 4, 1, "When it was approved (NaN: not yet).")
    funded_day = day_field("seq", 4, 2, "When it was funded (NaN: not yet).")
    coordinated_day = day_field(
        "seq", 4, 3, "When it was sourced: after NSATU's coordination, or when funded without one."
    )

    def cleared(self, day: float) -> None:
        """Approved, funded and coordinated at `day` at once (no stage held it): one call, not three setters."""
        days, i = self.days, 4 * self.seq
        days[i + 1] = days[i + 2] = days[i + 3] = day

    def __init__(
        self, seq, request_id, priority, lines, cost, day, days, funded_by=(), skip_approval=False, donor=None
    ):
        self.seq = seq
        self.request_id = request_id
        self.priority = priority
        self.rank = RANK[priority]
        self.lines = lines  # a tuple of (item, qty): a list would cost 16 bytes more a request
        self.cost = cost
        if len(days) != 4 * seq:
            raise ValueError(f"request {request_id}: seq {seq} is not the next place in request_days")
        self.days = days
        days.extend((day, math.nan, math.nan, math.nan))
        self.funded_by = tuple(funded_by)
        self.skip_approval = skip_approval
        self.donor = donor


class Requests:
    """Emits requests at their times and hands each to `downstream(request)`."""

    def __init__(self, ctx: Context, spec: RequestsSpec, unit_cost: dict[str, float], downstream):
        env, streams = ctx.env, ctx.streams
        self.env, self.spec, self.downstream = env, spec, downstream
        self._day, self.horizon = ctx.day, ctx.horizon
        self.requested: dict[str, int] = {}  # qty per item, for the conservation check
        self._seq = 0
        self._cost = unit_cost  # $M per unit of each item
        self._days = ctx.recorder.request_days
        if spec.packages:
            env.task(self._packages())
        stream = spec.stream
        if stream is not None:
            self._gap = streams.sampler("requests.stream.interarrival", stream.interarrival_days)
            names = list(stream.items)
            self._item = Choice(names, [stream.items[n].weight for n in names], streams.maker("requests.stream.item"))
            self._qty = {n: streams.sampler(f"requests.stream.qty.{n}", stream.items[n].qty) for n in names}
            pr = [p for p, w in stream.priority.items() if w > 0]
            self._priority = Choice(pr, [stream.priority[p] for p in pr], streams.maker("requests.stream.priority"))
            env.task(self._stream(stream))

    def _emit(self, request_id, priority, lines, funded_by=(), skip_approval=False, donor=None):
        cost, requested = 0.0, self.requested
        for item, qty in lines:
            cost += self._cost[item] * qty
            requested[item] = requested.get(item, 0) + qty
        req = Request(
            self._seq, request_id, priority, lines, cost, self.env.now, self._days, funded_by, skip_approval, donor
        )
        self._seq += 1
        self.downstream(req)

    def _packages(self):
        env, day_of = self.env, self._day
        # Packages on the same day go out in the order they are listed: an explicit tie-break.
        order = sorted(enumerate(self.spec.packages), key=lambda kp: (day_of(kp[1].at), kp[0]))
        for _, pkg in order:
            day = day_of(pkg.at)
            if day > env.now:
                yield env.delay(day - env.now)
            self._emit(
                pkg.id,
                pkg.priority,
                tuple((ln.item, ln.qty) for ln in pkg.lines),
                pkg.funded_by,
                pkg.skip_approval,
                pkg.donor,
            )

    def _stream(self, stream):
        env = self.env
        start = self._day(stream.start)
        end = self.horizon if stream.end is None else min(self._day(stream.end), self.horizon)
        limit = stream.max_requests or math.inf
        t, n = start, 0
        # Hot loop: draws are C-level iterator steps; a fixed quantity is rounded once, here.
        gap, pick_item, pick_priority, delay = self._gap.draw, self._item.draw, self._priority.draw, env.delay
        fixed_qty = {i: max(1, int(round(q.fixed))) for i, q in self._qty.items() if q.fixed is not None}
        qty_of = {i: q.draw for i, q in self._qty.items()}
        # One line per request: _emit's work inlined (this loop runs once per request of the stream).
        requested, unit_cost, downstream, days = self.requested, self._cost, self.downstream, self._days
        while n < limit:
            t += gap()
            if t > end:
                return
            yield delay(t - env.now)
            item = pick_item()
            qty = fixed_qty.get(item) or max(1, int(round(min(qty_of[item](), MAX_QTY))))
            n += 1
            requested[item] = requested.get(item, 0) + qty
            req = Request(
                self._seq, f"R{n:07d}", pick_priority(), ((item, qty),), 0.0 + unit_cost[item] * qty, env.now, days
            )
            self._seq += 1
            downstream(req)

    def check(self, finished) -> None:
        """End of run: every requested unit is in a delivery row (a lot, or a line not yet sourced)."""
        held: dict[str, int] = {}
        d = finished.deliveries
        qty = np.asarray(d["qty"])
        if qty.size:
            lab = factorized(d["item"])
            codes, items = lab.codes, lab.uniques
            held = {item: whole(u) for item, u in zip(items, np.bincount(codes, weights=qty, minlength=len(items)))}
        if held != self.requested:
            fail(f"conservation broken: requested {self.requested} but rows hold {held}")
