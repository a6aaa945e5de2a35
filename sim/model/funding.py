"""The NATO PURL account: dated contributions in, request costs out, never below zero.

Requests that draw on the account wait in strict order (urgent before routine, then by arrival):
a later request never overtakes an earlier one of the same or higher priority, even if it is
cheaper. Packages pledged by named allies (`funded_by`) bring their own money and do not wait.
"""

from __future__ import annotations

import heapq

from ..errors import InvariantError
from ..scenario.schema import Scenario

EPS = 1e-9


class Account:
    """One money account with a queue of requests waiting to be covered."""

    def __init__(self, env, recorder, name: str, initial: float):
        self.env, self.rec, self.name = env, recorder, name
        self.balance = float(initial)
        self._waiting: list = []
        rec = recorder
        rec.level(env.now, f"account:{name}", self.balance)

    def deposit(self, amount: float, by: str) -> None:
        """Money arrives; serve whoever it now covers."""
        self.balance += amount
        self.rec.event(self.env.now, "contribution", where=by, qty=amount)
        self._serve()
        self.rec.level(self.env.now, f"account:{self.name}", self.balance)

    def withdraw(self, cost: float, key):
        """An event that fires once `cost` has been taken from the account, in key order."""
        ev = self.env.signal()
        heapq.heappush(self._waiting, (key, cost, ev))
        self._serve()
        self.rec.level(self.env.now, f"account:{self.name}", self.balance)
        return ev

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def _serve(self) -> None:
        while self._waiting and self._waiting[0][1] <= self.balance + EPS:
            _, cost, ev = heapq.heappop(self._waiting)
            self.balance -= cost
            if self.balance < -EPS:
                raise InvariantError(f"account {self.name} below zero: {self.balance}")
            self.balance = max(self.balance, 0.0)
            self.env.fire(ev)


class Funding:
    """Decides when a request's cost is covered."""

    def __init__(self, env, scenario: Scenario, recorder):
        self.env, self.rec = env, recorder
        f = scenario.funding
        self.enabled = f.enabled
        self.account = Account(env, recorder, "nato_purl", f.initial_musd)
        if f.enabled and f.contributions:
            env.task(self._contributions(scenario))

    def _contributions(self, s: Scenario):
        # Sorted by day, listing order breaking ties, so deposits never depend on process order.
        order = sorted(enumerate(s.funding.contributions), key=lambda kc: (s.day(kc[1].at), kc[0]))
        for _, c in order:
            day = s.day(c.at)
            if day > self.env.now:
                yield self.env.delay(day - self.env.now)
            self.account.deposit(c.amount_musd, c.by)

    def needed(self, request) -> bool:
        """Does this request draw on the common account?"""
        return self.enabled and not request.funded_by and request.cost > 0

    def fund(self, request):
        """Process step: wait until the request's cost is covered."""
        if not self.enabled or request.funded_by or request.cost <= 0:
            return
        yield self.account.withdraw(request.cost, (request.rank, request.seq))
