"""Where the time goes: every delivery row's phase columns add up to its time in system.

Hand-computed cases on conftest.MINIMAL (item `shell` at 1 M$ a unit, one line `line` at `plant`
making 10 units a month = 3 days a unit, route `direct`, no approval, no money limit). Every
duration here is a whole number of days, so the phases are exact differences of event times;
they are compared with `approx(abs=1e-9)` only so that a harmless rounding of a computed day
(a sailing day, a unit time of 30/10) could never fail them. The sum invariant is checked to
1e-9 * max(1, time in system), the tolerance of sim/model/invariants.py: a phase is a difference
of two event days, and a row's phases telescope back to its end minus its request day, so the
only error is a few ulps per phase (below 1e-12 days for the shipped scenarios).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, build, package

import sim
from sim.errors import InvariantError
from sim.model import Model, invariants
from sim.recorder import MARK_BITS, PHASE_AT_HORIZON, PHASE_COLUMNS, PHASES, TRANSIT_MODES
from sim.scenario.schema import Leg

EXACT = 1e-9


def rows(scenario, seed=0):
    """Deliveries of one replication, one row per request id (each request here is one lot)."""
    d = sim.run(scenario, reps=1, seed=seed).deliveries
    assert d["request_id"].is_unique, d
    return d.set_index("request_id")


def spent(row) -> dict[str, float]:
    """The phases a row spent time in: {phase name: days}, zero phases left out."""
    return {name: row[col] for name, col in zip(PHASES, PHASE_COLUMNS) if row[col] != 0}


def assert_phases(row, expected: dict[str, float]):
    got = spent(row)
    assert set(got) == set(expected), got
    for name, days in expected.items():
        assert got[name] == pytest.approx(days, abs=EXACT), (name, got)


def road(days=5, **leg) -> dict:
    """One road leg plant -> ukraine used by every plant lot."""
    return {
        "legs": {"road": {"from": "plant", "to": "ukraine", "mode": "road", "days": days, **leg}},
        "routes": {"r": {"legs": ["road"]}},
        "choose": [{"origin": "plant", "route": "r"}],
    }


# --- the vocabulary --------------------------------------------------------------------------


def test_one_transit_phase_per_leg_mode_of_the_schema():
    modes = Leg.model_fields["mode"].annotation.__args__
    assert modes == TRANSIT_MODES
    assert [p for p in PHASES if p.startswith("transit_")] == [f"transit_{m}" for m in modes]
    assert [f"phase_{p}_days" for p in PHASES] == PHASE_COLUMNS
    d = sim.run(build([package("p1")]), reps=1, seed=0).deliveries
    assert [c for c in d.columns if c.startswith("phase_")] == [*PHASE_COLUMNS, PHASE_AT_HORIZON]
    assert all(d[c].dtype == np.float64 for c in PHASE_COLUMNS)


# --- production ------------------------------------------------------------------------------


def test_long_lead_queue_manufacture_and_transit_of_two_production_lots():
    """Lead 20, one server at 3 days a unit, a 5-day road leg; p1 (30 units) and p2 (10) at day 0."""
    # p1: long lead 0-20, a free server at 20: makes 30 x 3 = 90 days (20-110), road 110-115.
    # p2: long lead 0-20, queued behind p1 20-110 (90), makes 10 x 3 = 30 (110-140), road 140-145.
    s = build(
        [package("p1", qty=30), package("p2", qty=10)], production={"line": {"long_lead_days": 20}}, transport=road(5)
    )
    d = rows(s)
    assert_phases(d.loc["p1"], {"long_lead": 20, "manufacture": 90, "transit_road": 5})
    assert_phases(d.loc["p2"], {"long_lead": 20, "line_queue": 90, "manufacture": 30, "transit_road": 5})
    assert d["delivered_day"].to_dict() == {"p1": 115, "p2": 145}
    assert d[PHASE_AT_HORIZON].isna().all()  # delivered: in no phase at the horizon (NA)


def test_queue_behind_other_customers_book():
    """A book of 10 units (3 days each) ordered before day 0 runs first: p1 queues 30 days."""
    d = rows(build([package("p1", qty=30)], production={"line": {"other_backlog_units": 10}}))
    assert_phases(d.loc["p1"], {"line_queue": 30, "manufacture": 90})


def test_a_line_pause_holds_the_queued_lot_for_exactly_the_overlap():
    """Line paused days 10-40: p1 (in progress) is not stopped, p2 (queued) is held 30 days."""
    # p1: 30 units from day 0, work in progress continues through the pause: 0-90 manufacture.
    # p2: queued 0-10, held 10-40 (the pause), queued again 40-90 (p1 still on the server),
    #     made 90-120: line_queue 10 + 50 = 60, held 30, manufacture 30.
    s = build(
        [package("p1", qty=30), package("p2", qty=10)],
        disruptions=[{"kind": "pause", "scope": "line:line", "start": 10, "end": 40}],
    )
    d = rows(s)
    assert_phases(d.loc["p1"], {"manufacture": 90})
    assert_phases(d.loc["p2"], {"line_queue": 60, "held": 30, "manufacture": 30})


def test_a_release_pause_holds_a_ready_lot_until_it_ends():
    """US releases paused days 50-120; the lot is ready at 90 (manufacture goes on) and held 90-120."""
    s = build([package("p1", qty=30)], disruptions=[{"kind": "pause", "scope": "us_releases", "start": 50, "end": 120}])
    d = rows(s)
    assert_phases(d.loc["p1"], {"manufacture": 90, "held": 30})
    assert d.loc["p1", "delivered_day"] == 120


# --- request stages, US stock, stockpiles, unsourced ---------------------------------------------


def test_approval_and_funding_come_from_the_request_days():
    """A 7-day check; the account is empty until 50 M$ arrive at day 20; 10 units cost 10 M$."""
    # approval 0-7, funding 7-20, manufacture 20-50.
    s = build(
        [package("p1", qty=10)],
        approval={"enabled": True, "delay_days": 7},
        funding={"enabled": True, "initial_musd": 0, "contributions": [{"by": "a", "amount_musd": 50, "at": 20}]},
    )
    assert_phases(rows(s).loc["p1"], {"approval": 7, "funding": 13, "manufacture": 30})


def test_us_handling_and_donor_preparation():
    """US stock hands over after 2 days; a donor prepares its lot for 30 days."""
    us = {"node": "depot", "handling_days": 2, "items": {"shell": {"on_hand": 10, "reserve_floor": 0}}}
    s = build([package("p1", qty=5)], us_stock=us)
    assert_phases(rows(s).loc["p1"], {"us_handling": 2})
    s = build(
        [package("p1", qty=5, priority="urgent")],
        stockpiles={"de": {"node": "depot", "items": {"shell": {"on_hand": 5, "min_keep": 0, "prep_days": 30}}}},
        policy={"sources": ["stockpile", "production"], "stockpile_priorities": ["urgent"]},
    )
    row = rows(s).loc["p1"]
    assert row["source"] == "stockpile"
    assert_phases(row, {"donor_prep": 30})


def test_an_unsourced_lot_sits_in_unsourced_from_its_funded_day_to_the_horizon():
    """Only US stock may supply: 6 above the floor of a 10-unit line; the other 4 are unsourced."""
    us = {"node": "depot", "handling_days": 2, "items": {"shell": {"on_hand": 10, "reserve_floor": 4}}}
    s = build([package("p1", at=10, qty=10)], us_stock=us, policy={"sources": ["us_stock"]})
    d = sim.run(s, reps=1, seed=0).deliveries.set_index("source")
    assert_phases(d.loc["us_stock"], {"us_handling": 2})
    assert_phases(d.loc["unsourced"], {"unsourced": 1000 - 10})  # horizon 1000, asked at day 10
    assert d.loc["unsourced", PHASE_AT_HORIZON] == "unsourced"
    assert pd.isna(d.loc["us_stock", PHASE_AT_HORIZON])


# --- transport -------------------------------------------------------------------------------


def test_rail_then_a_sailing():
    """Rail 4 days to the port, a ship every 10 days from day 0 taking 10 days; 1 unit ready at 3."""
    # made 0-3, rail 3-7, waits for the day-10 ship 7-10, sea 10-20.
    t = {
        "legs": {
            "rail": {"from": "plant", "to": "port", "mode": "rail", "days": 4},
            "ship": {"from": "port", "to": "ukraine", "mode": "sea", "days": 10, "departures": {"every_days": 10}},
        },
        "routes": {"sea": {"legs": ["rail", "ship"]}},
        "choose": [{"origin": "plant", "route": "sea"}],
    }
    d = rows(build([package("p1", qty=1)], transport=t))
    assert_phases(d.loc["p1"], {"manufacture": 3, "transit_rail": 4, "waiting_departure": 3, "transit_sea": 10})


def test_waiting_for_a_slot_on_a_leg_of_capacity_one():
    """A 10-day road leg carrying one lot at a time: p1 ready at 3 leaves at once, p2 ready at 6 waits."""
    # p1: made 0-3, road 3-13. p2: queued behind p1 at the line 0-3, made 3-6, waits 6-13, road 13-23.
    d = rows(build([package("p1", qty=1), package("p2", qty=1)], transport=road(10, capacity=1)))
    assert_phases(d.loc["p1"], {"manufacture": 3, "transit_road": 10})
    assert_phases(d.loc["p2"], {"line_queue": 3, "manufacture": 3, "waiting_departure": 7, "transit_road": 10})


@pytest.mark.parametrize(
    "kind, window, expected",
    [
        # departs at 3 before the pause, which only stops departures: nothing held
        ("pause", (5, 20), {"manufacture": 3, "transit_road": 10}),
        # in transit 3-13 when the leg goes down: held on arrival 13-20
        ("outage", (5, 20), {"manufacture": 3, "transit_road": 10, "held": 7}),
        # ready at 3 inside the pause: held 3-8, then 8-18 on the road
        ("pause", (0, 8), {"manufacture": 3, "held": 5, "transit_road": 10}),
    ],
)
def test_pauses_and_outages_of_a_leg(kind, window, expected):
    s = build(
        [package("p1", qty=1)],
        transport=road(10),
        disruptions=[{"kind": kind, "scope": "leg:road", "start": window[0], "end": window[1]}],
    )
    assert_phases(rows(s).loc["p1"], expected)


def test_a_paused_leg_of_capacity_one_holds_the_lot_waiting_for_its_slot():
    """Capacity 1, a 10-day road leg paused 8-20 (p1 travels 3-13); p2, ready at 6, waits for its slot."""
    # p2: line 0-3, made 3-6, waits for the slot 6-8, held 8-20 by the pause (p1 arrives at 13 but
    # no departure before 20), road 20-30.
    s = build(
        [package("p1", qty=1), package("p2", qty=1)],
        transport=road(10, capacity=1),
        disruptions=[{"kind": "pause", "scope": "leg:road", "start": 8, "end": 20}],
    )
    assert_phases(
        rows(s).loc["p2"], {"line_queue": 3, "manufacture": 3, "waiting_departure": 2, "held": 12, "transit_road": 10}
    )


# --- undelivered at the horizon ----------------------------------------------------------------


def test_undelivered_rows_are_in_the_phase_they_are_in_at_the_horizon():
    """Horizon 100. A 20-day lead, 30 units a lot (90 days); the account is empty; a 50-day check."""
    # p1: lead 0-20, making since 20: manufacture 80 at the horizon.
    # p2: lead 0-20, queued behind p1 since 20: line_queue 80.
    # p3: asked at 60, in its 50-day check at the horizon (a line never sourced): approval 40.
    # p4: no check, waits for money from day 0 that never comes: funding 100.
    # p1 and p2 are paid by Germany and skip the check.
    paid = {"funded_by": ["germany"], "skip_approval": True}
    s = build(
        [
            package("p1", qty=30, **paid),
            package("p2", qty=30, **paid),
            package("p3", at=60),
            package("p4", skip_approval=True),
        ],
        horizon_days=100,
        production={"line": {"long_lead_days": 20}},
        approval={"enabled": True, "delay_days": 50},
        funding={"enabled": True, "initial_musd": 0},
    )
    d = rows(s)
    assert d["delivered_day"].isna().all()
    assert d[PHASE_AT_HORIZON].to_dict() == {"p1": "manufacture", "p2": "line_queue", "p3": "approval", "p4": "funding"}
    assert_phases(d.loc["p1"], {"long_lead": 20, "manufacture": 80})
    assert_phases(d.loc["p2"], {"long_lead": 20, "line_queue": 80})
    assert_phases(d.loc["p3"], {"approval": 40})
    assert_phases(d.loc["p4"], {"funding": 100})
    assert d.loc[["p3", "p4"], "lot_id"].isna().all()  # never sourced: no lot (NA)
    assert d.loc[["p1", "p2"], "lot_id"].notna().all()
    total = d[PHASE_COLUMNS].sum(axis=1)
    assert total.to_dict() == pytest.approx((100 - d["requested_day"]).to_dict(), abs=EXACT)


# --- the sum, everywhere -----------------------------------------------------------------------

SHIPPED = sorted((REPO / "scenarios").glob("*.yaml"))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.stem)
def test_phases_add_up_to_time_in_system_for_every_row_of_every_shipped_scenario(path: Path):
    r = sim.run(sim.load_scenario(path), reps=2, seed=0)
    d = r.deliveries
    undelivered = d["delivered_day"].isna().to_numpy()
    t = np.where(undelivered, r.scenario.horizon_days, d["delivered_day"].to_numpy()) - d["requested_day"].to_numpy()
    phases = d[PHASE_COLUMNS].to_numpy()
    assert len(d) and undelivered.any() and not undelivered.all()  # both kinds of row are checked
    assert (phases >= 0).all()
    assert (np.abs(phases.sum(axis=1) - t) <= 1e-9 * np.maximum(1.0, np.abs(t))).all()
    assert (d[PHASE_AT_HORIZON].isna().to_numpy() == ~undelivered).all()
    at = d[PHASE_AT_HORIZON].astype(str).to_numpy()
    assert set(at[undelivered]) <= set(PHASES)


def test_the_invariant_catches_a_wait_nobody_marked():
    """Drop a lot's first mark (its 20-day long lead): its phases fall 20 days short, and the check says so.

    A forgotten mark later in a lot's life would not break the sum (the time would go to the
    phase before it): the hand-computed cases above are what catch that.
    """
    s = build([package("p1", qty=30)], production={"line": {"long_lead_days": 20}}, transport=road(5))
    model = Model(s, seed=0, rep=0)
    model.run()
    rec = model.recorder
    lot = rec.lots[0]
    # The log's first mark is this lot's: (key, day) raw doubles, the key its shipment id and phase.
    assert list(rec.marks[:2]) == [(lot.shipment_id << MARK_BITS) + PHASES.index("long_lead"), 0.0]
    del rec.marks[:2]
    with pytest.raises(InvariantError, match="do not add up"):
        invariants.check(model)
