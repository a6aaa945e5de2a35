"""The flow of one request, as in DESIGN.md: approval, funding, coordination, sourcing, then each lot to Ukraine.

A lot's stage times are written on the lot itself (they become columns of `deliveries`); the
matching stage events of `Results.events` are derived from those columns in bulk, so the hot
path appends nothing per stage. The flow marks a lot `held` while a release pause holds it;
the parts mark the other phases (see recorder.PHASES).
"""

from __future__ import annotations

from typing import Any

from .. import vocabulary as names
from ..recorder import HELD
from .context import Context


class Flow:
    """Moves each request through the parts it was wired to; one task per request, one per extra lot."""

    def __init__(
        self, ctx: Context, approval, funding, sourcing, transport, availability=None, ukraine=None, coordination=None
    ):
        self.env, self.rec, self.switch = ctx.env, ctx.recorder, ctx.switch
        self.coordination = coordination  # NSATU's step between funding and sourcing (None: no step)
        self.approval, self.funding, self.sourcing, self.transport = approval, funding, sourcing, transport
        self.availability = availability if availability is not None and availability.enabled else None
        self.ukraine = ukraine if ukraine is not None and ukraine.items else None
        # Donated goods are credited back to the account only where both can happen (hot path).
        self._credits = funding.enabled and any(src.name == names.STOCKPILE for src in sourcing.sources)
        self.waiting: dict[int, Any] = {}  # requests not yet sourced, by seq
        # No stage can apply to any request while no scope is closed (approval and funding off, no
        # availability check, no coordination): _begin then skips the per-request stage tests.
        self._no_stages = not approval.enabled and not funding.enabled and self.availability is None
        self._no_stages = self._no_stages and coordination is None

    def submit(self, request) -> None:
        """Take a new request from the requests part."""
        self.waiting[request.seq] = request
        self.env.call(self._begin, request)

    def _begin(self, req):
        """The request's first step: its stages, or, when none applies, its lots at once."""
        # Stages that do nothing for this request are skipped without building a generator:
        # this is the per-request hot path of large ensembles.
        if self._no_stages and not self.switch.any_closed:
            req.cleared(self.env.now)
            return self._source(req)
        if (
            self.approval.needed(req)
            or self.funding.needed(req)
            or self.availability is not None
            or self.coordination is not None
        ):
            return self._stages(req)
        req.cleared(self.env.now)
        return self._source(req)

    def _stages(self, req):
        env = self.env
        if self.approval.needed(req):
            yield from self.approval.review(req)
        if self.availability is not None and not req.skip_approval:
            yield from self.availability.check(req)
        req.approved_day = env.now
        if self.funding.needed(req):
            yield from self.funding.fund(req)
        req.funded_day = env.now
        if self.coordination is not None:
            yield from self.coordination.coordinate(req)
        req.coordinated_day = env.now
        return self._source(req)

    def _source(self, req):
        """Allocate the funded request's lots and start them; returns the last lot's steps (run in this task)."""
        del self.waiting[req.seq]
        lots = self.sourcing.allocate(req)
        if self._credits:
            self.funding.credit_donations(req, lots)
        for lot in lots[:-1]:
            self.env.task(self._lot(lot))
        if lots:
            # The last lot goes on in this task, at once (a tail call, see kernel).
            return self._lot(lots[-1])
        return None

    def reorder(self, lost) -> None:
        """Source the units of a lot lost in transit again, for the same request, and start the new lots now.

        The request is not charged again (its withdrawal was for its lines, once); a donation among
        the new lots is credited back as any donation is. A new lot has been where the lost one
        has been (its phase marks), then `held` from the loss until its source marks its own phase;
        an `unsourced` one is in `unsourced` from the funded day, as every unsourced lot is.
        """
        env, req = self.env, lost.request
        lots = self.sourcing.allocate_line(req, lost.item, lost.qty)
        if self._credits:
            self.funding.credit_donations(req, lots)
        for lot in lots:
            if lot.source != names.UNSOURCED:
                self.rec.inherit(lot, lost)
                lot.enter(HELD, env.now)
            env.task(self._lot(lot))

    def ship(self, lot, units: int) -> None:
        """Split `units` (made now) off `lot` as a shipment of their own and send it on at once."""
        part = self.rec.split(lot, units)
        part.ready_day = self.env.now
        self.env.task(self._lot(part, made=True))

    def _lot(self, lot, made: bool = False):
        """A lot made ready by its source (or, `made`, a shipment ready now), held while its release
        scopes are closed, then carried to Ukraine. One generator for all of it: this is the hot path."""
        env, rec = self.env, self.rec
        if not made:
            if lot.source == names.UNSOURCED:
                return
            steps = self.sourcing.ready_steps(lot, self.ship)
            if steps is not None:
                yield from steps
        lot.ready_day = env.now
        if self.switch.any_closed:
            scopes = self.sourcing.release_scopes(lot)
            if not self.switch.is_open(scopes):
                rec.event(env.now, names.HELD, lot.request.request_id, lot.lot_id, lot.item, lot.qty)
                lot.enter(HELD, env.now)
                yield from self.switch.hold(scopes)
                rec.event(env.now, names.RELEASED, lot.request.request_id, lot.lot_id, lot.item, lot.qty)
        if self.transport.has_legs(lot):
            yield from self.transport.carry(lot)
            lot.delivered_day = env.now
        else:
            lot.arrived_where_made(env.now)
        if self.ukraine is not None:
            self.ukraine.receive(lot.item, lot.qty)
