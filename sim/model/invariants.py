"""End-of-run checks of one replication. A violation is always a bug and raises InvariantError.

`check(model)` runs after the environment stops at the horizon and before the tables are built.
What must hold, part by part:

- requests: every requested unit is in a delivery row (a lot, or a line not yet sourced);
- lots: quantity positive; stage days in flow order (requested <= approved <= funded <= ready <=
  shipped <= delivered), a later stage never recorded without the earlier ones; an `unsourced`
  lot never moves; a shipped lot took the route its origin and item choose;
- US stock: final on-hand = initial - units sold; never below zero, and no sale ever left it
  below the reserve floor (every point of its level series after the first);
- stockpiles: final on-hand = initial - donated + backfilled; the level series never below
  `min_keep`; a donation comes from an ally holding the item, for a request that named that
  donor, or else of a priority the policy lets draw on stockpiles and from an allowed donor;
- backfills: one row per donated lot, with its donor, item, qty and request; `donated_day` is
  the lot's ready day; ordered and backfilled days follow the donation decision, backfilled
  after ordered; nothing is ordered under `backfill: none`;
- production: the PURL units a line finished = its production lots made ready + its backfills;
- account: never below zero, and initial + contributions arrived - withdrawals = balance, where
  withdrawals are the costs of the requests funded from the account and the contributions
  arrived are exactly the dated list up to the horizon;
- queues and scopes: no server idle on an open pool while work waits; no work waiting on a
  scope that is open; no scope closed a negative number of times;
- phases: for every delivery row, delivered or not, the phase columns are never negative and
  add up to its time in system (delivered_day, or the horizon, minus requested_day) within
  1e-9 * max(1, time); `phase_at_horizon` is empty exactly for delivered rows.

Day comparisons allow a relative 1e-9 (rounding of computed sailing days); money allows 1e-9 of
the amounts involved plus 1e-9 per withdrawal (the account clamps rounding residue to zero).
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from ..errors import InvariantError
from ..recorder import PHASE_AT_HORIZON, PHASE_COLUMNS, PHASES, Labels, labels
from ..scenario.references import route_for

DAY_EPS = 1e-9
STAGES = ("requested_day", "approved_day", "funded_day", "ready_day", "shipped_day", "delivered_day")


def check(model, deliveries: dict | None = None) -> None:
    """Raise InvariantError if the finished replication broke any invariant listed in the module doc.

    `deliveries` is the recorder's delivery columns when the caller has built them already.
    """
    d = model.recorder.tables()["deliveries"] if deliveries is None else deliveries
    totals = _totals(d, len(model.recorder.lots))
    _conservation(model, d)
    _lots(model, d)
    _us_stock(model, totals)
    _stockpiles_and_backfills(model, totals)
    _production(model, totals)
    _account(model)
    _queues_and_scopes(model)
    _phases(model, d)


def _totals(d: dict, n_lots: int) -> dict[tuple[str, str, str], list[int]]:
    """[units, units made ready] per (source, donor, item) over the lots (the first n_lots rows)."""
    if not n_lots:
        return {}
    qty = np.asarray(d["qty"][:n_lots])
    ready = np.where(np.isnan(np.asarray(d["ready_day"][:n_lots], dtype=float)), 0, qty)
    labels = [_factorized(d[c]) for c in ("source", "donor", "item")]
    codes = _group_codes(labels, slice(0, n_lots))
    keys, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    units = np.bincount(inverse, weights=qty, minlength=len(keys))
    made = np.bincount(inverse, weights=ready, minlength=len(keys))
    return {
        tuple(lab.uniques[lab.codes[k]] for lab in labels): [_whole(u), _whole(m)]
        for k, u, m in zip(first, units, made)
    }


def _factorized(col) -> Labels:
    """A label column as Labels: the recorder's own, or factorized now."""
    return col if isinstance(col, Labels) else labels(col)


def _group_codes(columns: list, rows=slice(None)) -> np.ndarray:
    """One int64 code per row (of `rows`), equal exactly when the rows are equal in every column."""
    code = None
    for col in columns:
        lab = _factorized(col)
        c = np.asarray(lab.codes, dtype=np.int64)[rows]
        code = c if code is None else code * max(1, len(lab.uniques)) + c
    return code


def _whole(x: float):
    """A sum of whole units back as int (a fractional one, itself a bug, stays visible as float)."""
    return int(x) if float(x).is_integer() else float(x)


def _fail(message: str):
    raise InvariantError(message)


def _nan(x) -> bool:
    return x != x


def _conservation(model, d: dict) -> None:
    held: dict[str, int] = {}
    qty = np.asarray(d["qty"])
    if qty.size:
        lab = _factorized(d["item"])
        codes, items = lab.codes, lab.uniques
        held = {item: _whole(u) for item, u in zip(items, np.bincount(codes, weights=qty, minlength=len(items)))}
    requested = model.requests.requested
    if held != requested:
        _fail(f"conservation broken: requested {requested} but rows hold {held}")


def _lots(model, deliveries: dict) -> None:
    lots = model.recorder.lots
    if not lots:
        return
    # Columns of stage days, one row per lot (vectorised: this runs after every replication). The
    # delivery columns list the lots first, in order, then the lines never sourced.
    n = len(lots)
    days = np.column_stack([np.asarray(deliveries[c][:n], dtype=float) for c in STAGES])
    qty = np.asarray(deliveries["qty"][:n], dtype=float)
    missing = np.isnan(days)

    def first(bad, what: str):
        k = int(np.flatnonzero(bad)[0])
        lot = lots[k]
        _fail(
            f"lot {lot.lot_id} ({lot.source}, request {lot.request.request_id}): {what}; "
            f"stage days {dict(zip(STAGES, days[k].tolist()))}"
        )

    if (qty <= 0).any():
        first(qty <= 0, "quantity not positive")
    if missing[:, :3].any():
        first(missing[:, :3].any(axis=1), "a lot of a request never requested, approved and funded")
    skipped = missing[:, :-1] & ~missing[:, 1:]
    if skipped.any():
        first(skipped.any(axis=1), "a stage recorded without the stage before it")
    earlier, later = days[:, :-1], days[:, 1:]
    with np.errstate(invalid="ignore"):
        backwards = later < earlier - DAY_EPS * np.maximum(1.0, np.abs(earlier))
    if backwards.any():
        first(backwards.any(axis=1), "a stage before the stage before it")
    source = _factorized(deliveries["source"])
    unsourced = np.asarray(source.uniques == "unsourced")[source.codes[:n]]
    moved = unsourced & ~(missing[:, 3] & missing[:, 4])
    if moved.any():
        first(moved, "an unsourced lot moved")
    # The route a shipped lot took, checked on one lot of each (source, donor, item, route): the
    # origin is a function of source, donor and item (a line's, the US depot's or the donor's node).
    shipped = np.flatnonzero(~missing[:, 4] & ~unsourced)
    if shipped.size:
        _, firsts = np.unique(
            _group_codes([deliveries[c] for c in ("source", "donor", "item", "route")], shipped), return_index=True
        )
        s = model.scenario
        for k in shipped[firsts].tolist():
            lot = lots[k]
            route = route_for(s, lot.origin, lot.item) or "direct"
            if lot.route != route:
                _fail(f"lot {lot.lot_id} from {lot.origin} took route '{lot.route}', not '{route}'")


def _level_points(model, prefix: str) -> dict[str, list[float]]:
    """Values of every level series starting with `prefix`, in recording order."""
    rec = model.recorder
    wanted = {name for name in set(rec.level_series) if name.startswith(prefix)}
    out: dict[str, list[float]] = defaultdict(list)
    if wanted:  # most points are queue lengths: skip the pass when no series is asked for
        for series, value in zip(rec.level_series, rec.level_values):
            if series in wanted:
                out[series].append(value)
    return out


def _lot_totals(totals: dict, source: str) -> dict[tuple[str, str], int]:
    """Units per (donor, item) of the lots from one source ('' as donor for the US)."""
    out: dict[tuple[str, str], int] = defaultdict(int)
    for (src, donor, item), (units, _) in totals.items():
        if src == source:
            out[(donor, item)] += units
    return out


def _us_stock(model, totals: dict) -> None:
    us = model.us_stock
    sold = _lot_totals(totals, "us_stock")
    for (_, item), qty in sold.items():
        if item not in us.on_hand:
            _fail(f"{qty} units of {item} sold from US stock that holds none")
    for item, initial in model.us_initial.items():
        n = us.on_hand[item]
        if n < 0:
            _fail(f"US stock of {item} negative: {n}")
        if n != initial - sold.get(("", item), 0):
            _fail(f"US stock of {item}: {initial} - {sold.get(('', item), 0)} sold != {n} on hand")
    if not us.on_hand:
        return
    for series, values in _level_points(model, "us_stock:").items():
        item = series.split(":", 1)[1]
        if any(v < us.floor.get(item, 0) for v in values[1:]):
            _fail(f"US stock of {item} sold below its reserve floor ({us.floor.get(item, 0)})")


def _stockpiles_and_backfills(model, totals: dict) -> None:
    s, piles, rec = model.scenario, model.stockpiles, model.recorder
    pol = s.policy
    listed = set(pol.donors) if pol.donors else set(s.stockpiles)
    donated_lots = {}
    for lot in rec.lots:
        if lot.source != "stockpile":
            continue
        donated_lots[lot.lot_id] = lot
        held = s.stockpiles.get(lot.donor)
        if held is None or lot.item not in held.items:
            _fail(f"lot {lot.lot_id}: donor '{lot.donor}' holds no {lot.item}")
        req = lot.request
        if req.donor is not None:
            if lot.donor != req.donor:
                _fail(f"lot {lot.lot_id}: request {req.request_id} named donor {req.donor}, got {lot.donor}")
        elif req.priority not in pol.stockpile_priorities or lot.donor not in listed or "stockpile" not in pol.sources:
            _fail(f"lot {lot.lot_id}: a {req.priority} request drew on {lot.donor}'s stockpile against the policy")

    # Backfill rows: one per donated lot (when any is kept), matching the lot.
    rows_by_lot: dict[int, list] = {}
    for row in rec.backfills:
        donor, item, qty, request_id, lot_id = row[:5]
        donated, ordered, backfilled = row[6], row[7], row[8]
        lot = donated_lots.get(lot_id)
        if lot is None:
            _fail(f"backfill row for lot {lot_id}, which is not a donated lot")
        if lot_id in rows_by_lot:
            _fail(f"two backfill rows for lot {lot_id}")
        rows_by_lot[lot_id] = row
        if (donor, item, qty, request_id) != (lot.donor, lot.item, lot.qty, lot.request.request_id):
            _fail(f"backfill row {row[:5]} does not match lot {lot_id}")
        decided = lot.request.funded_day
        if not _nan(donated) and donated != lot.ready_day:
            _fail(f"backfill row of lot {lot_id}: donated_day {donated} is not the lot's ready day {lot.ready_day}")
        if _nan(donated) and not _nan(lot.ready_day):
            _fail(f"lot {lot_id} was handed over but its backfill row has no donated_day")
        if not _nan(ordered) and ordered < decided - DAY_EPS * max(1.0, decided):
            _fail(f"backfill of lot {lot_id} ordered ({ordered}) before the donation was decided ({decided})")
        if not _nan(backfilled) and (_nan(ordered) or backfilled < ordered):
            _fail(f"backfill of lot {lot_id} done ({backfilled}) before it was ordered ({ordered})")
        if pol.backfill == "none" and not (_nan(ordered) and _nan(backfilled)):
            _fail(f"backfill of lot {lot_id} ordered under policy backfill: none")
    if pol.backfill != "none":
        missing = set(donated_lots) - set(rows_by_lot)
        if missing:
            _fail(f"donated lots without a backfill row: {sorted(missing)[:5]}")

    # Stock: initial - donated + backfilled, and never below min_keep.
    donated = _lot_totals(totals, "stockpile")
    returned: dict[tuple[str, str], int] = defaultdict(int)
    for row in rec.backfills:
        if not _nan(row[8]):
            returned[(row[0], row[1])] += row[2]
    for ally, pile in s.stockpiles.items():
        for item, st in pile.items.items():
            key = (ally, item)
            n = piles.on_hand[key]
            expect = st.on_hand - donated.get(key, 0) + returned.get(key, 0)
            if n != expect:
                _fail(
                    f"stockpile {ally}/{item}: {st.on_hand} - {donated.get(key, 0)} donated + "
                    f"{returned.get(key, 0)} backfilled = {expect}, but {n} on hand"
                )
            if n < st.min_keep:
                _fail(f"stockpile {ally}/{item} at {n}, below its min_keep {st.min_keep}")
    if piles.on_hand:
        for series, values in _level_points(model, "stockpile:").items():
            _, ally, item = series.split(":", 2)
            keep = piles.min_keep.get((ally, item), 0)
            if any(v < keep for v in values):
                _fail(f"stockpile {ally}/{item} went below its min_keep ({keep}): {min(values)}")


def _production(model, totals: dict) -> None:
    made: dict[str, int] = defaultdict(int)
    for line in model.lines.values():
        if line.made < 0:
            _fail(f"line {line.lid} made {line.made} units")
        made[line.item] += line.made
    expect: dict[str, int] = defaultdict(int)
    for (source, _, item), (_, ready) in totals.items():
        if source == "production":
            expect[item] += ready
    for row in model.recorder.backfills:
        if not _nan(row[8]):
            expect[row[1]] += row[2]
    for item in set(made) | set(expect):
        if made.get(item, 0) != expect.get(item, 0):
            _fail(
                f"production of {item}: lines finished {made.get(item, 0)} PURL units, "
                f"but ready lots and backfills account for {expect.get(item, 0)}"
            )


def _account(model) -> None:
    s = model.scenario
    account = model.funding.account
    balance = account.balance
    if balance < -1e-9:
        _fail(f"NATO account below zero: {balance}")
    f = s.funding
    if not f.enabled:
        if abs(balance - f.initial_musd) > 1e-9 * (1.0 + f.initial_musd):
            _fail(f"funding disabled, yet the account moved: balance {balance}, initial {f.initial_musd}")
        return
    unit_cost = {k: v.unit_cost_musd for k, v in s.items.items()}
    funded = {id(lot.request): lot.request for lot in model.recorder.lots}  # every funded request has lots
    withdrawn, n_withdrawals = 0.0, 0
    for req in funded.values():
        cost = sum(unit_cost[item] * qty for item, qty in req.lines)
        if not req.funded_by and cost > 0:
            withdrawn += cost
            n_withdrawals += 1
    arrived = balance - f.initial_musd + withdrawn
    dated = sorted(((s.day(c.at), k, c.amount_musd) for k, c in enumerate(f.contributions)))
    total = f.initial_musd + withdrawn + sum(a for _, _, a in dated)
    tol = 1e-9 * (1.0 + total) + 1e-9 * n_withdrawals
    # Contributions arrive in date order; by the horizon exactly those dated before it have arrived
    # (one dated at the horizon itself may or may not have).
    h = s.horizon_days
    prefix, ok = 0.0, False
    for k in range(len(dated) + 1):
        before_ok = all(d <= h + DAY_EPS * h for d, _, _ in dated[:k])
        after_ok = all(d >= h - DAY_EPS * h for d, _, _ in dated[k:])
        if before_ok and after_ok and abs(prefix - arrived) <= tol:
            ok = True
            break
        if k < len(dated):
            prefix += dated[k][2]
    if not ok:
        _fail(
            f"account does not balance: initial {f.initial_musd} + contributions arrived - "
            f"withdrawals {withdrawn} = {balance} implies {arrived} arrived, which is not the "
            f"contributions dated up to the horizon"
        )


def _queues_and_scopes(model) -> None:
    pools = [(f"line {line.lid}", line.pool) for line in model.lines.values()]
    pools += [(f"leg {leg.lid}", leg.pool) for leg in model.transport.legs.values() if leg.pool is not None]
    for name, pool in pools:
        if pool.busy < 0:
            _fail(f"{name}: busy count {pool.busy}")
        if not pool._closed and pool.busy < pool.capacity and pool.queue_length:
            _fail(f"{name}: {pool.capacity - pool.busy} server(s) idle while {pool.queue_length} job(s) wait")
    switch = model.switch
    for scope, n in switch.closed.items():
        if n < 0:
            _fail(f"scope {scope} opened more often than closed")
    waiting = switch.waiting() if hasattr(switch, "waiting") else {}
    for scope, n in waiting.items():
        if not switch.closed.get(scope):
            _fail(f"{n} process(es) wait on scope {scope}, which is open")


def _phases(model, d: dict) -> None:
    """Every row's phases add up to its time in system; an undelivered row names its phase."""
    requested = np.asarray(d["requested_day"], dtype=float)
    if not requested.size:
        return
    delivered = np.asarray(d["delivered_day"], dtype=float)
    undelivered = np.isnan(delivered)
    t = np.where(undelivered, model.scenario.horizon_days, delivered) - requested
    phases = np.column_stack([np.asarray(d[c], dtype=float) for c in PHASE_COLUMNS])
    tol = DAY_EPS * np.maximum(1.0, np.abs(t))

    def first(bad, what: str):
        k = int(np.flatnonzero(bad)[0])
        spent = {name: v for name, v in zip(PHASES, phases[k].tolist()) if v}
        _fail(
            f"delivery row {k} (lot {d['lot_id'][k]}, request {d['request_id'][k]}): {what}; "
            f"time in system {t[k]}, phases {spent}"
        )

    negative = (phases < -tol[:, None]).any(axis=1)
    if negative.any():
        first(negative, "a phase of negative length")
    off = ~(np.abs(phases.sum(axis=1) - t) <= tol)  # NaN counts as off
    if off.any():
        first(off, "phases do not add up to the time in system")
    at = _factorized(d[PHASE_AT_HORIZON])
    named = np.asarray(at.uniques != "", dtype=bool)[at.codes]
    if (named == ~undelivered).any():
        first(named == ~undelivered, "phase_at_horizon set on a delivered row, or empty on an undelivered one")
