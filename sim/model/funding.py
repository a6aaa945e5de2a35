"""The NATO PURL account: dated contributions in, request costs out, never below zero.

Requests that draw on the account wait in strict order (urgent before routine, then by arrival):
a later request never overtakes an earlier one of the same or higher priority, even if it is
cheaper. Packages pledged by named allies (`funded_by`) bring their own money and do not wait.
"""

from __future__ import annotations

import heapq
from array import array
from itertools import chain

import numpy as np

from ..errors import InvariantError
from ..scenario.schema import Funding as FundingSpec
from ..vocabulary import CONTRIBUTION, DONATED_VALUE, ROUNDING, STOCKPILE, WITHDRAWAL, account_series
from .context import Context
from .finished import DAY_EPS, Finished, fail

EPS = 1e-9
ACCOUNT = "nato_purl"


class Account:
    """One money account with a queue of requests waiting to be covered, and its ledger.

    Every change of the balance is a ledger entry (day, amount: + in, - out, who, why, request,
    balance after), written as it happens, so the balance series is the ledger summed in order,
    exactly (the end-of-run check replays it). A rounding residue below zero is cleared by an
    entry of its own.
    """

    def __init__(self, env, recorder, name: str, initial: float):
        self.env, self.rec, self.name = env, recorder, name
        self.series = account_series(name)
        self.initial = self.balance = float(initial)
        self._waiting: list = []
        self.ledger = Ledger()
        self._level_marks = array("q")  # ledger entries made when each level point was written
        self._level()

    def _level(self) -> None:
        self._level_marks.append(len(self.ledger))
        self.rec.level(self.env.now, self.series, self.balance)

    def _enter(self, amount: float, who: str, why: str, request_id: str = "") -> None:
        self.balance += amount
        self.ledger.append(self.env.now, amount, who, why, request_id, self.balance)

    def deposit(self, amount: float, by: str, why: str = CONTRIBUTION, request_id: str = "") -> None:
        """Money arrives (a contribution, or the value of goods donated instead of bought); serve whoever it now covers."""
        self._enter(amount, by, why, request_id)
        self.rec.event(self.env.now, why, request_id=request_id, where=by, qty=amount)
        self._serve()
        self._level()

    def withdraw(self, cost: float, key, request_id: str = ""):
        """An event that fires once `cost` has been taken from the account, in key order."""
        ev = self.env.signal()
        heapq.heappush(self._waiting, (key, cost, ev, request_id))
        self._serve()
        self._level()
        return ev

    @property
    def waiting(self) -> int:
        return len(self._waiting)

    def _serve(self) -> None:
        while self._waiting and self._waiting[0][1] <= self.balance + EPS:
            _, cost, ev, request_id = heapq.heappop(self._waiting)
            self._enter(-cost, "purl", WITHDRAWAL, request_id)
            self.rec.event(self.env.now, WITHDRAWAL, request_id=request_id, where=self.name, qty=cost)
            if self.balance < -EPS:
                raise InvariantError(f"account {self.name} below zero: {self.balance}")
            if self.balance < 0.0:
                self._enter(-self.balance, "purl", ROUNDING, request_id)
            self.env.fire(ev)

    def check(self) -> None:
        """End of run: the ledger summed in order is the balance after each entry and at each level point, exactly."""
        running = self.initial
        for day, amount, _, why, request_id, after in self.ledger:
            running += amount
            if running != after:
                fail(
                    f"account {self.name}: ledger sums to {running} at day {day} ({why} {request_id}), balance {after}"
                )
        if running != self.balance:
            fail(f"account {self.name}: ledger sums to {running}, balance {self.balance}")

    def level_balances(self) -> np.ndarray:
        """The balance the ledger gives at each level point, in order (for the check against the series)."""
        balances = np.empty(len(self.ledger) + 1)  # before any entry, then after each
        balances[0] = self.initial
        balances[1:] = self.ledger.after
        return balances[np.asarray(self._level_marks, dtype=np.int64)]


class Ledger:
    """An account's entries, (day, amount, who, why, request_id, balance after) each, kept as columns:
    numbers as raw doubles, so an entry costs no tuple and no float object (at 10^6 requests, 150 MB)."""

    __slots__ = ("day", "amount", "who", "why", "request_id", "after")

    def __init__(self):
        self.day, self.amount, self.after = array("d"), array("d"), array("d")
        self.who: list[str] = []
        self.why: list[str] = []
        self.request_id: list[str] = []

    def append(self, day: float, amount: float, who: str, why: str, request_id: str, after: float) -> None:
        """One entry."""
        self.day.append(day)
        self.amount.append(amount)
        self.who.append(who)
        self.why.append(why)
        self.request_id.append(request_id)
        self.after.append(after)

    def __len__(self) -> int:
        return len(self.day)

    def __iter__(self):
        """The entries in order, as (day, amount, who, why, request_id, balance after) tuples."""
        return zip(self.day, self.amount, self.who, self.why, self.request_id, self.after)


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
        yield self.account.withdraw(request.cost, (request.rank, request.seq), request.request_id)

    def credit_donations(self, request, lots) -> None:
        """Goods an ally donates are not bought: their value goes back to the account, the moment the
        request is sourced (the donor and its co-funders pay the replacement, see backfill.py)."""
        if not self.needed(request):
            return
        for lot in lots:
            if lot.source == STOCKPILE:
                value = self.unit_cost[lot.item] * lot.qty
                if value > 0:
                    self.account.deposit(value, lot.donor, DONATED_VALUE, request.request_id)

    def check(self, finished: Finished) -> None:
        """End of run: the ledger is the balance, never below zero; its entries are what the run says.

        - the ledger summed in order is the balance after every entry and at every level point of
          the account's series, exactly;
        - withdrawals are the costs, recomputed here from unit costs, of the requests funded from
          the account, and credits the value of what was donated to them (1e-9 relative);
        - the contributions arrived are exactly the dated list up to the horizon (one dated at the
          horizon itself may or may not have arrived).
        """
        acc, f = self.account, self.spec
        if acc.balance < -1e-9:
            fail(f"NATO account below zero: {acc.balance}")
        acc.check()
        # As arrays: at 10^6 requests lists of the points were 130 MB, at the run's peak.
        if not np.array_equal(finished.level_values(acc.series), acc.level_balances()):
            fail(f"account {acc.name}: its balance series does not match its ledger")
        if not f.enabled:
            if acc.ledger:
                fail(f"funding disabled, yet the account moved: {len(acc.ledger)} ledger entries")
            return
        total = {CONTRIBUTION: 0.0, WITHDRAWAL: 0.0, DONATED_VALUE: 0.0}
        for _, amount, _, why, _, _ in acc.ledger:
            if why in total:
                total[why] += abs(amount)
        # A funded request has lots (a request with a line not offered has one before it is funded),
        # or, still in NSATU's coordination at the horizon, lines never sourced. Each counted once,
        # in the order of its first lot; a byte per request number (`seq`, 0, 1, ... as emitted)
        # marks the ones seen (a set of 10^6 requests would sit at the run's peak).
        waiting = [req for req, _, _ in finished.pending_lines]
        top = max(chain((lot.request.seq for lot in finished.lots), (r.seq for r in waiting)), default=0)
        seen = bytearray(1 + top)
        bought = donated = 0.0
        for req in chain((lot.request for lot in finished.lots), waiting):
            if req.funded_day == req.funded_day and not seen[req.seq]:
                seen[req.seq] = 1
                if self.needed(req):
                    bought += sum(self.unit_cost[item] * qty for item, qty in req.lines)
        for lot in finished.every_lot():
            if lot.source == STOCKPILE and self.needed(lot.request):
                donated += self.unit_cost[lot.item] * lot.qty
        for what, expect in ((WITHDRAWAL, bought), (DONATED_VALUE, donated)):
            if abs(total[what] - expect) > 1e-9 * (1.0 + expect):
                fail(f"account {acc.name}: {what} entries add up to {total[what]}, the run to {expect}")
        dated = sorted((self._day(c.at), k, c.amount_musd) for k, c in enumerate(f.contributions))
        h, prefix = self.horizon, 0.0
        for k in range(len(dated) + 1):
            before_ok = all(d <= h + DAY_EPS * h for d, _, _ in dated[:k])
            after_ok = all(d >= h - DAY_EPS * h for d, _, _ in dated[k:])
            if before_ok and after_ok and abs(prefix - total[CONTRIBUTION]) <= 1e-9 * (1.0 + prefix):
                return
            if k < len(dated):
                prefix += dated[k][2]
        fail(f"account {acc.name}: contributions of {total[CONTRIBUTION]} arrived, not those dated up to the horizon")
