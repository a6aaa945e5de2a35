"""End-of-run checks: conservation per item and nothing below zero. A violation is a bug and raises."""
from __future__ import annotations

from ..errors import InvariantError


def check(model) -> None:
    """Raise InvariantError if the finished replication broke conservation or a floor."""
    rec = model.recorder
    held: dict[str, int] = {}
    for lot in rec.lots:
        held[lot.item] = held.get(lot.item, 0) + lot.qty
        if lot.qty <= 0:
            raise InvariantError(f"lot {lot.lot_id} has quantity {lot.qty}")
        if lot.delivered_day == lot.delivered_day and not (lot.shipped_day <= lot.delivered_day):
            raise InvariantError(f"lot {lot.lot_id} delivered before it shipped")
    for _, item, qty in rec.pending_lines:
        held[item] = held.get(item, 0) + qty
    requested = model.requests.requested
    if held != requested:
        raise InvariantError(f"conservation broken: requested {requested} but rows hold {held}")
    us = model.us_stock
    for item, n in us.on_hand.items():
        if n < 0:
            raise InvariantError(f"US stock of {item} negative: {n}")
    sold = {i: us_initial - us.on_hand[i] for i, us_initial in model.us_initial.items()}
    for item, n in sold.items():
        if n > 0 and us.on_hand[item] < us.floor[item]:
            raise InvariantError(f"US stock of {item} sold below its reserve floor")
    piles = model.stockpiles
    for key, n in piles.on_hand.items():
        if n < 0:
            raise InvariantError(f"stockpile {key} negative")
    if model.funding.account.balance < -1e-9:
        raise InvariantError("NATO account below zero")
    for line in model.lines.values():
        if not (0 <= line.pool.busy <= max(line.pool.capacity, line.pool.busy)) or line.pool.busy < 0:
            raise InvariantError(f"line {line.lid} busy count {line.pool.busy}")
    for leg in model.transport.legs.values():
        if leg.pool is not None and leg.pool.busy < 0:
            raise InvariantError(f"leg {leg.lid} busy count {leg.pool.busy}")
