"""The NATO PURL account: dated contributions in, request costs out, never below zero.

Requests that draw on the account wait in strict order (urgent before routine, then by arrival):
a later request never overtakes an earlier one of the same or higher priority, even if it is
cheaper. Packages pledged by named allies (`funded_by`) bring their own money and do not wait.
"""

from __future__ import annotations

import heapq

from ..errors import InvariantError
from ..scenario.schema import Funding as FundingSpec
from ..vocabulary import CONTRIBUTION, account_series
from .context import Context
from .finished import DAY_EPS, Finished, fail

EPS = 1e-9
ACCOUNT = "nato_purl"


class Account:
    """One money account with a queue of requests waiting to be covered."""

    def __init__(self, env, recorder, name: str, initial: float):
        self.env, self.rec, self.name = env, recorder, name
        self.series = account_series(name)
        self.balance = float(initial)
        self._waiting: list = []
        recorder.level(env.now, self.series, self.balance)

    def deposit(self, amount: float, by: str) -> None:
        """Money arrives; serve whoever it now covers."""
        self.balance += amount
        self.rec.event(self.env.now, CONTRIBUTION, where=by, qty=amount)
        self._serve()
        self.rec.level(self.env.now, self.series, self.balance)

    def withdraw(self, cost: float, key):
        """An event that fires once `cost` has been taken from the account, in key order."""
        ev = self.env.signal()
        heapq.heappush(self._waiting, (key, cost, ev))
        self._serve()
        self.rec.level(self.env.now, self.series, self.balance)
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

    def __init__(self, ctx: Context, spec: FundingSpec, unit_cost: dict[str, float]):
        self.env, self.rec, self.spec, self._day, self.horizon = ctx.env, ctx.recorder, spec, ctx.day, ctx.horizon
        self.unit_cost = unit_cost  # $M per unit of each item, for the end-of-run check
        self.enabled = spec.enabled
        self.account = Account(ctx.env, ctx.recorder, ACCOUNT, spec.initial_musd)
        if spec.enabled and spec.contributions:
            ctx.env.task(self._contributions())

    def _contributions(self):
        # Sorted by day, listing order breaking ties, so deposits never depend on process order.
        day_of = self._day
        order = sorted(enumerate(self.spec.contributions), key=lambda kc: (day_of(kc[1].at), kc[0]))
        for _, c in order:
            day = day_of(c.at)
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

    def check(self, finished: Finished) -> None:
        """End of run: never below zero, and initial + contributions arrived - withdrawals = balance.

        Withdrawals are the costs (recomputed here from unit costs) of the requests funded from the
        account; the contributions arrived are exactly the dated list up to the horizon. Money
        allows 1e-9 of the amounts involved plus 1e-9 per withdrawal (the account clamps rounding
        residue to zero).
        """
        f, balance = self.spec, self.account.balance
        if balance < -1e-9:
            fail(f"NATO account below zero: {balance}")
        if not f.enabled:
            if abs(balance - f.initial_musd) > 1e-9 * (1.0 + f.initial_musd):
                fail(f"funding disabled, yet the account moved: balance {balance}, initial {f.initial_musd}")
            return
        funded = {id(lot.request): lot.request for lot in finished.lots}  # every funded request has lots
        withdrawn, n_withdrawals = 0.0, 0
        for req in funded.values():
            cost = sum(self.unit_cost[item] * qty for item, qty in req.lines)
            if not req.funded_by and cost > 0:
                withdrawn += cost
                n_withdrawals += 1
        arrived = balance - f.initial_musd + withdrawn
        dated = sorted((self._day(c.at), k, c.amount_musd) for k, c in enumerate(f.contributions))
        total = f.initial_musd + withdrawn + sum(a for _, _, a in dated)
        tol = 1e-9 * (1.0 + total) + 1e-9 * n_withdrawals
        # Contributions arrive in date order; by the horizon exactly those dated before it have
        # arrived (one dated at the horizon itself may or may not have).
        h = self.horizon
        prefix = 0.0
        for k in range(len(dated) + 1):
            before_ok = all(d <= h + DAY_EPS * h for d, _, _ in dated[:k])
            after_ok = all(d >= h - DAY_EPS * h for d, _, _ in dated[k:])
            if before_ok and after_ok and abs(prefix - arrived) <= tol:
                return
            if k < len(dated):
                prefix += dated[k][2]
        fail(
            f"account does not balance: initial {f.initial_musd} + contributions arrived - "
            f"withdrawals {withdrawn} = {balance} implies {arrived} arrived, which is not the "
            f"contributions dated up to the horizon"
        )
