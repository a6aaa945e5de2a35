"""Random valid scenarios run without an exception and keep every invariant; the invariants can fail.

The invariants (sim/model/invariants.py) are checked at the end of every replication, inside
`sim.run`; an InvariantError fails the example. The second half of this file shows each
invariant family catches the breach it is about, by breaking one fact in a finished model.

Profiles: PURLSIM_HYPOTHESIS_PROFILE=fast (default, ~30 examples) or long (2000 examples).
"""

from __future__ import annotations

import copy
import math
import signal
from contextlib import contextmanager

import pandas as pd
import pytest
from hypothesis import given
from strategies import profile, scenarios

import sim
from sim.errors import InvariantError
from sim.model import Model, invariants
from sim.scenario import validate_mapping

SECONDS_PER_EXAMPLE = 60  # a small scenario runs in well under a second; a minute means a hang


@contextmanager
def time_limit(seconds: int):
    """Fail, instead of hanging the suite, if the block runs longer than `seconds` (Unix)."""
    if not hasattr(signal, "SIGALRM"):
        yield
        return

    def alarm(signum, frame):
        raise TimeoutError(f"still running after {seconds} s: the model hangs on this scenario")

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@profile()
@given(scenarios())
def test_random_valid_scenarios_run_and_keep_every_invariant(mapping):
    scenario = validate_mapping(copy.deepcopy(mapping), "<random>")  # a valid draw must be accepted
    with time_limit(SECONDS_PER_EXAMPLE):
        results = sim.run(scenario, reps=2, seed=scenario.seed % 1000)  # invariants checked per replication
        again = sim.run(scenario, reps=1, seed=scenario.seed % 1000)
        summary = results.summary()
        results.backfill_summary()
    d = results.deliveries
    assert set(d["rep"].unique()) <= {0, 1}
    assert (d["latency_days"].dropna() >= 0).all()  # nothing arrives before it is asked for
    # Every lot still on its way is counted (two replications), in the secondary view and the headline.
    assert summary["undelivered_lots"].fillna(0.0).get("ALL", 0.0) * 2 == int(
        d.loc[d["qty"] > 0, "delivered_day"].isna().sum()
    )
    assert summary["delivered_share"].dropna().between(0.0, 1.0).all()
    # Same scenario, seed and replication: identical rows (the reproducibility contract).
    first = d.loc[d["rep"] == 0].reset_index(drop=True)
    pd.testing.assert_frame_equal(first, again.deliveries.reset_index(drop=True), check_categorical=False)


# --- each invariant family catches its breach ---------------------------------------------------

RICH = """
name: invariant_probe
start: 2025-01-01
horizon_days: 400
seed: 3
items:
  a: {name: item a, unit_cost_musd: 2}
requests:
  packages:
    - {id: p1, at: 1, priority: urgent, lines: [{item: a, qty: 5}]}
    - {id: p2, at: 2, priority: urgent, lines: [{item: a, qty: 8}]}
    - {id: p3, at: 3, lines: [{item: a, qty: 4}]}
funding:
  initial_musd: 10
  contributions: [{by: x, amount_musd: 30, at: 5}, {by: y, amount_musd: 7, at: 500}]
us_stock:
  node: depot
  items: {a: {on_hand: 9, reserve_floor: 5}}
stockpiles:
  de: {node: berlin, items: {a: {on_hand: 10, min_keep: 3, prep_days: 2}}}
production:
  line_a: {item: a, node: plant, servers: 1, unit_days: 1.5}
transport:
  destination: ua
  nodes: {ua: {kind: destination}, depot: {kind: depot}, berlin: {kind: depot}, plant: {kind: plant}}
  legs:
    road: {from: berlin, to: ua, mode: road, days: 2, capacity: 1}
  routes:
    de_road: {legs: [road]}
  choose:
    - {origin: berlin, route: de_road}
    - {origin: depot, route: direct}
    - {origin: plant, route: direct}
policy:
  sources: [us_stock, stockpile, production]
  stockpile_priorities: [urgent]
  backfill: donors_first
"""


@pytest.fixture
def finished(tmp_path):
    """A finished replication that used every part (US stock, a donation, a backfill, production, the account)."""
    path = tmp_path / "probe.yaml"
    path.write_text(RICH)
    m = Model(sim.load_scenario(path), seed=3, rep=0)
    m.run()  # passes the invariants as built
    sources = {lot.source for lot in m.recorder.lots}
    assert {"us_stock", "stockpile", "production"} <= sources  # the probe exercises every source
    assert any(not math.isnan(row[8]) for row in m.recorder.backfills)  # and a finished backfill
    return m


def _breaks(model, fragment: str):
    """The invariant check fails, and for the reason named by `fragment` (not some other one)."""
    with pytest.raises(InvariantError, match=fragment):
        invariants.check(model)


def test_invariants_hold_on_the_probe(finished):
    invariants.check(finished)  # no exception: the probe itself is consistent


def test_catches_a_lost_unit(finished):
    lot = next(l for l in finished.recorder.lots if l.source == "production")
    lot.qty -= 1
    _breaks(finished, "conservation")


def test_catches_stages_out_of_order(finished):
    lot = next(l for l in finished.recorder.lots if not math.isnan(l.delivered_day))
    lot.delivered_day = lot.ready_day - 1.0
    _breaks(finished, "a stage before the stage before it")


def test_catches_us_stock_not_matching_sales(finished):
    finished.us_stock.on_hand["a"] += 1
    _breaks(finished, r"US stock of a: 9 - \d+ sold")


def test_catches_us_stock_sold_below_floor(finished):
    finished.recorder.level(99.0, "us_stock:a", 4)  # a point below the floor of 5
    _breaks(finished, "reserve floor")


def test_catches_stockpile_not_matching_donations(finished):
    finished.stockpiles.on_hand[("de", "a")] -= 1
    _breaks(finished, r"stockpile de/a: .* on hand")


def test_catches_stockpile_below_min_keep(finished):
    finished.recorder.level(99.0, "stockpile:de:a", 2)  # min_keep is 3
    _breaks(finished, "min_keep")


def test_catches_a_missing_backfill_row(finished):
    finished.recorder.backfills.pop()
    _breaks(finished, "backfill row")


def test_catches_backfill_before_order(finished):
    row = next(r for r in finished.recorder.backfills if not math.isnan(r[8]))
    row[8] = row[7] - 1.0
    _breaks(finished, "before it was ordered")


def test_catches_production_output_unaccounted(finished):
    finished.lines["line_a"].made += 1
    _breaks(finished, "production of a")


def test_catches_account_not_balancing(finished):
    finished.funding.account.balance += 1.0
    _breaks(finished, "ledger sums to")


def test_catches_a_ledger_entry_that_is_not_the_money_moved(finished):
    """A withdrawal written for less than was taken: the ledger no longer sums to the balance."""
    acc = finished.funding.account
    k = next(i for i, e in enumerate(acc.ledger) if e[3] == "withdrawal")
    acc.ledger.amount[k] += 0.5  # the ledger keeps its entries as columns
    _breaks(finished, "ledger sums to")


def test_catches_an_idle_server_with_work_waiting(finished):
    pool = finished.lines["line_a"].pool
    pool.close("probe")
    pool.request((9, 0.0, (0,)))  # queued: the pool is closed
    pool._closed.discard("probe")  # reopened without dispatching: a server idles while the job waits
    _breaks(finished, "idle while")
