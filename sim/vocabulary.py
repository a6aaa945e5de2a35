"""The names the model's tables share with everything above them: sources, event kinds, level series.

One place for every string contract: the parts write these names, and the tables, metrics,
plots and invariants read them, so a name changes here or nowhere. The phases of a lot's time
in system are the recorder's (sim.recorder.PHASES), because the delivery columns are named after
them; the stage events derived from the delivery columns are listed in sim.tables.STAGES.
"""

from __future__ import annotations

# --- `deliveries.source`: where a lot comes from --------------------------------------------
US_STOCK = "us_stock"  # sold from US stock above the reserve floor
STOCKPILE = "stockpile"  # donated from an ally's stockpile (its `donor` column names the ally)
PRODUCTION = "production"  # made to order on a US production line
UNSOURCED = "unsourced"  # no source could supply it: it never ships, and stays a censored row
NOT_OFFERED = "not_offered"  # the availability check refused the line: never funded, a censored row

# --- `events.kind`: what the parts log (stage events are derived, see sim.tables.STAGES) ---------
HELD = "held"  # a ready lot is held by a closed release scope
REFUSED = "not_offered"  # the availability check refused a request line (`where`: the reason)
DEFERRED = "deferred"  # the availability check deferred a request (`where`: the reason)
RELEASED = "released"  # ... and goes on when the scope reopens
RAMP = "ramp"  # a line's scheduled ramp takes effect (`where`: line:ID)
CAPACITY = "capacity"  # a capacity-change disruption takes effect (`where`: its scope)
GATE_PASSED = "gate_passed"  # a gate's draw let deliveries go on
GATE_CLOSED = "gate_closed"  # a gate's draw closed its scope for good
CONTRIBUTION = "contribution"  # money arrives in the NATO account (`where`: who paid, `qty`: $M)
WITHDRAWAL = "withdrawal"  # the account pays for a request (`request_id`, `qty`: $M)
DONATED_VALUE = "donated_value"  # goods donated instead of bought: their value back (`where`: the donor)
ROUNDING = "rounding"  # a rounding residue below zero cleared (ledger only)
BACKFILL_ORDERED = "backfill_ordered"  # a donor's replacement is ordered at US production
BACKFILLED = "backfilled"  # ... and finished
WINDOW_SUFFIXES = ("_start", "_end")  # a pause or outage logs KIND_start and KIND_end
LOST = (
    "lost"  # a lot is lost in transit by an outage with `on_transit: lost` (`where`: leg:ID); its units are re-ordered
)
DIVERSION = "diversion"  # units leave US stock for another theatre (`item`, `qty` taken, `where`: us_stock:ITEM)


def window_start(kind: str) -> str:
    """Event kind logged when a pause or outage of `kind` begins."""
    return kind + WINDOW_SUFFIXES[0]


def window_end(kind: str) -> str:
    """Event kind logged when a pause or outage of `kind` ends."""
    return kind + WINDOW_SUFFIXES[1]


# --- `levels.series`: what the parts sample over time ----------------------------------------
US_STOCK_SERIES = "us_stock:"  # + ITEM: US on-hand units
STOCKPILE_SERIES = "stockpile:"  # + ALLY:ITEM: an ally's on-hand units
LINE_QUEUE_SERIES = "queue:line:"  # + LINE: orders waiting at a production line
ACCOUNT_SERIES = "account:"  # + NAME: balance in $M
COORDINATION_QUEUE_SERIES = "queue:coordination"  # funded requests waiting for an NSATU coordinator
NODE_QUEUE_SERIES = "node_queue:"  # + NODE: tonnes waiting at a node for its handling capacity


UKRAINE_SERIES = "ukraine:"  # + ITEM: Ukraine's on-hand units
UKRAINE_UNMET_SERIES = "ukraine_unmet:"  # + ITEM: Ukraine's use not met so far (units)


def ukraine_series(item: str) -> str:
    """Level series of Ukraine's on-hand units of `item`."""
    return UKRAINE_SERIES + item


def ukraine_unmet_series(item: str) -> str:
    """Level series of Ukraine's use of `item` not met so far (cumulative units)."""
    return UKRAINE_UNMET_SERIES + item


def us_stock_series(item: str) -> str:
    """Level series of US on-hand units of `item`."""
    return US_STOCK_SERIES + item


def stockpile_series(ally: str, item: str) -> str:
    """Level series of `ally`'s on-hand units of `item`."""
    return f"{STOCKPILE_SERIES}{ally}:{item}"


def line_queue_series(line: str) -> str:
    """Level series of orders queued at production line `line`."""
    return LINE_QUEUE_SERIES + line


def account_series(name: str) -> str:
    """Level series of the balance of account `name` ($M)."""
    return ACCOUNT_SERIES + name


def node_queue_series(node: str) -> str:
    """Level series of tonnes waiting at `node` for its handling (today's tonnes, or a ground slot)."""
    return NODE_QUEUE_SERIES + node
