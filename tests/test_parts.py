"""Hand-checkable unit tests, one small scenario per behaviour of each model part.

Every scenario is built on conftest.MINIMAL: item `shell` at 1 M$ a unit, one line `line` at
`plant` making 10 units a month, i.e. 30/10 = 3 days a unit (a month is 30 days), delivered
where it is made (route `direct`), no approval step, no money limit, start 2025-01-01. Expected
values are worked out by hand in the comments, never by running the code.
"""

from __future__ import annotations

import math

import pytest
from conftest import build, package

import sim
from sim.model import Model


def deliveries(scenario):
    """Deliveries of one replication, indexed by request id when each request is one lot."""
    return sim.run(scenario, reps=1, seed=0).deliveries


def by_request(scenario):
    """Deliveries keyed by request id (each test request here makes exactly one lot)."""
    d = deliveries(scenario)
    assert d["request_id"].is_unique, d
    return d.set_index("request_id")


# --- production ------------------------------------------------------------------------------


def test_monthly_rate_makes_30_units_in_90_days():
    """10 units/month, 30 ordered at day 0, no long lead: done at day 90."""
    d = by_request(build([package("p1", at=0, qty=30)]))
    # 10 a month = 3 days a unit; 30 units on one server = 90 days; `direct` adds nothing.
    assert d.loc["p1", "ready_day"] == 90
    assert d.loc["p1", "shipped_day"] == 90
    assert d.loc["p1", "delivered_day"] == 90
    assert d.loc["p1", "latency_days"] == 90
    assert d.loc["p1", "source"] == "production"


def test_unit_days_instead_of_a_rate():
    """A fixed unit time of 2 days makes 30 units in 60 days."""
    line = {"unit_days": 2, "rate_per_month": None}  # replaces the rate of MINIMAL
    d = by_request(build([package("p1", qty=30)], production={"line": line}))
    assert d.loc["p1", "delivered_day"] == 60  # 30 x 2


@pytest.mark.parametrize(
    "servers, expected",
    [
        (1, {"p1": 90, "p2": 180}),  # one server: 30 x 3 = 90 each, one after the other
        (2, {"p1": 90, "p2": 90}),  # two servers: both orders made side by side, half the makespan
    ],
)
def test_two_servers_halve_the_time_for_two_orders(servers, expected):
    """Two 30-unit orders at day 0 take 180 days on one server and 90 on two."""
    s = build([package("p1", qty=30), package("p2", qty=30)], production={"line": {"servers": servers}})
    d = by_request(s)
    assert d["delivered_day"].to_dict() == expected


def test_long_lead_delay_adds_exactly():
    """A 20-day long lead before the order may start: 20 + 90 = 110."""
    d = by_request(build([package("p1", qty=30)], production={"line": {"long_lead_days": 20}}))
    assert d.loc["p1", "delivered_day"] == 110


def test_other_customers_share_half_doubles_unit_time():
    """Half the output goes to other customers: 3 / (1 - 0.5) = 6 days a unit, 30 units = 180."""
    d = by_request(build([package("p1", qty=30)], production={"line": {"other_customers_share": 0.5}}))
    assert d.loc["p1", "delivered_day"] == 180


def test_other_customers_backlog_is_made_first():
    """A backlog of 10 units from other customers (30 days) runs before the PURL order: 30 + 90."""
    d = by_request(build([package("p1", qty=30)], production={"line": {"other_backlog_units": 10}}))
    assert d.loc["p1", "delivered_day"] == 120


def test_ramp_on_a_date_speeds_up_the_order_in_progress_and_those_after_it():
    """A ramp to 30/month on 2025-02-20 speeds up the units not yet made, of the running order too."""
    # 2025-02-20 is day 31 (January) + 19 = day 50. p1 starts at day 0 at 3 d/unit: by day 50 it
    # has made 50/3 units; the other 30 - 50/3 = 40/3 go at 1 d/unit: done at 50 + 40/3 = 63.33
    # (90 without the ramp). p2 (day 60) waits for the one server until then: + 30 = 93.33.
    s = build(
        [package("p1", at=0, qty=30), package("p2", at=60, qty=30)],
        production={"line": {"ramps": [{"at": "2025-02-20", "rate_per_month": 30}]}},
    )
    d = by_request(s)
    assert d.loc["p1", "delivered_day"] == pytest.approx(50 + 40 / 3, abs=1e-9)
    assert d.loc["p2", "delivered_day"] == pytest.approx(50 + 40 / 3 + 30, abs=1e-9)


def test_ramp_adding_a_server_starts_queued_work():
    """A second server from day 30 starts the queued order then instead of when the first ends."""
    # p1 and p2 at day 0 on one server: p1 0 -> 90; p2 queued. At day 30 a second server
    # appears and p2 starts: 30 + 90 = 120 (180 without the ramp).
    s = build(
        [package("p1", qty=30), package("p2", qty=30)], production={"line": {"ramps": [{"at": 30, "servers": 2}]}}
    )
    d = by_request(s)
    assert d["delivered_day"].to_dict() == {"p1": 90, "p2": 120}


# --- requests --------------------------------------------------------------------------------


def test_stream_emits_requests_at_fixed_interarrival_until_its_end():
    """A stream every 10 days from day 0 ending at day 25 asks at days 10 and 20 only."""
    stream = {"interarrival_days": 10, "items": {"shell": {"weight": 1, "qty": 2}}, "end": 25}
    d = deliveries(build(requests={"stream": stream}))
    # 2 units = 6 days each on a free server: ready 16 and 26.
    assert d["requested_day"].tolist() == [10, 20]
    assert d["qty"].tolist() == [2, 2]
    assert d["delivered_day"].tolist() == [16, 26]
    assert d["priority"].astype(str).tolist() == ["routine", "routine"]


def test_stream_stops_after_max_requests():
    """max_requests 3 every 10 days: requests at 10, 20, 30 and no more."""
    stream = {"interarrival_days": 10, "items": {"shell": {"weight": 1}}, "max_requests": 3}
    d = deliveries(build(requests={"stream": stream}))
    assert d["requested_day"].tolist() == [10, 20, 30]


# --- approval --------------------------------------------------------------------------------


def test_approval_delay_holds_the_request():
    """A 7-day availability check: approved at 7, made 7 -> 97."""
    d = by_request(build([package("p1", qty=30)], approval={"enabled": True, "delay_days": 7}))
    assert d.loc["p1", "approved_day"] == 7
    assert d.loc["p1", "funded_day"] == 7  # no money limit: funded as soon as approved
    assert d.loc["p1", "delivered_day"] == 97


def test_skip_approval_bypasses_the_check():
    """A package agreed outside PURL is approved on the day it is asked."""
    d = by_request(build([package("p1", at=4, skip_approval=True)], approval={"enabled": True, "delay_days": 7}))
    assert d.loc["p1", "approved_day"] == 4


def test_approvals_pause_holds_requests_until_it_ends():
    """Approvals paused days 3-20: a check ending at 7 waits until 20; one after the pause does not."""
    # p1 asks at 0, its 7-day check ends at 7 inside the pause -> approved 20.
    # p2 asks at 25, after the pause -> approved 25 + 7 = 32.
    s = build(
        [package("p1", at=0), package("p2", at=25)],
        approval={"enabled": True, "delay_days": 7},
        disruptions=[{"kind": "pause", "scope": "approvals", "start": 3, "end": 20}],
    )
    d = by_request(s)
    assert d["approved_day"].to_dict() == {"p1": 20, "p2": 32}


# --- funding ---------------------------------------------------------------------------------

FUNDED = dict(
    funding={
        "enabled": True,
        "initial_musd": 0,
        "contributions": [
            {"by": "a", "amount_musd": 50, "at": 10},
            {"by": "b", "amount_musd": 50, "at": 20},
            {"by": "c", "amount_musd": 40, "at": 30},
        ],
    },
    production={"line": {"servers": 4, "rate_per_month": 3000}},
)


def test_funding_waits_for_contributions_in_strict_priority_order():
    """Requests are funded only once covered, urgent first, and never overtaken by a cheaper one."""
    # 1 M$ a unit. Queue on the account: p3 (urgent, 40), then p1 (routine, 80, listed first),
    # then p2 (routine, 10).
    # day 10: balance 50 -> p3 (40) funded, 10 left; p1 needs 80 -> waits; p2 behind p1.
    # day 20: balance 60 -> p1 still not covered; p2 (10) could be paid but may not overtake.
    # day 30: balance 100 -> p1 funded (20 left), then p2 (10 left).
    # p4 is pledged by Germany: its own money, funded the day it is approved (0).
    s = build(
        [
            package("p1", at=0, qty=80),
            package("p2", at=0, qty=10),
            package("p3", at=5, qty=40, priority="urgent"),
            package("p4", at=0, qty=1000, funded_by=["germany"]),
        ],
        **FUNDED,
    )
    d = by_request(s)
    assert d["funded_day"].to_dict() == {"p1": 30, "p2": 30, "p3": 10, "p4": 0}


def test_account_balance_never_negative_and_ends_at_what_is_left():
    """The account's level series never dips below zero and ends at 140 - 40 - 80 - 10 = 10."""
    s = build(
        [package("p1", at=0, qty=80), package("p2", at=0, qty=10), package("p3", at=5, qty=40, priority="urgent")],
        **FUNDED,
    )
    model = Model(s, seed=0, rep=0)
    model.run()
    levels = sim.run(s, reps=1, seed=0).levels
    balance = levels[levels["series"] == "account:nato_purl"]
    assert balance["value"].min() >= 0
    assert balance["value"].iloc[-1] == pytest.approx(10)
    assert model.funding.account.balance == pytest.approx(10)


def test_request_costing_more_than_all_money_is_never_funded():
    """A 200 M$ request against 140 M$ of contributions stays unfunded: an undelivered row."""
    d = by_request(build([package("p1", qty=200)], **FUNDED))
    assert math.isnan(d.loc["p1", "funded_day"])
    assert math.isnan(d.loc["p1", "delivered_day"])
    assert d.loc["p1", "qty"] == 200


# --- US stock --------------------------------------------------------------------------------

US = {"node": "depot", "handling_days": 2, "items": {"shell": {"on_hand": 10, "reserve_floor": 4}}}


def test_us_stock_sells_down_to_the_floor_and_production_makes_the_rest():
    """10 on hand, floor 4: a 10-unit request takes 6 from stock and 4 from production, two lots."""
    # Stock lot: 6 units, 2 days of handling at the depot, delivered 2. Production lot: 4 x 3 = 12.
    # p2 (day 1, 5 units) finds 0 above the floor: production, after p1's 4 units: 12 + 15 = 27.
    s = build([package("p1", at=0, qty=10), package("p2", at=1, qty=5)], us_stock=US)
    d = deliveries(s)
    p1 = d[d["request_id"] == "p1"].set_index("source")
    assert p1["qty"].to_dict() == {"us_stock": 6, "production": 4}
    assert p1["delivered_day"].to_dict() == {"us_stock": 2, "production": 12}
    p2 = d[d["request_id"] == "p2"]
    assert p2["source"].tolist() == ["production"] and p2["qty"].tolist() == [5]
    assert p2["delivered_day"].tolist() == [27]

    model = Model(s, seed=0, rep=0)
    model.run()
    assert model.us_stock.on_hand["shell"] == 4  # exactly the floor, never below it


def test_us_stock_without_split_sends_the_whole_line_to_one_source():
    """split false: 10 > 6 available goes wholly to production; 5 <= 6 comes wholly from stock."""
    s = build([package("p1", at=0, qty=10), package("p2", at=0, qty=5)], us_stock=US, policy={"split": False})
    d = by_request(s)
    assert d["source"].astype(str).to_dict() == {"p1": "production", "p2": "us_stock"}
    assert d["qty"].to_dict() == {"p1": 10, "p2": 5}
    assert d.loc["p1", "delivered_day"] == 30  # 10 x 3
    assert d.loc["p2", "delivered_day"] == 2  # handling only
    levels = sim.run(s, reps=1, seed=0).levels
    stock = levels[levels["series"] == "us_stock:shell"]["value"]
    assert stock.tolist() == [10, 5]  # 10 - 5; the 10-unit line never touched stock


def test_us_stock_floor_above_on_hand_sells_nothing():
    """A floor above what is on hand means nothing may be sold: all from production."""
    us = {"node": "depot", "items": {"shell": {"on_hand": 3, "reserve_floor": 5}}}
    d = deliveries(build([package("p1", qty=2)], us_stock=us))
    assert d["source"].tolist() == ["production"]


# --- transport -------------------------------------------------------------------------------


def one_leg(**leg) -> dict:
    """Transport with a single leg plant -> ukraine (given fields) used by every plant lot."""
    return {
        "legs": {"leg": {"from": "plant", "to": "ukraine", "mode": "sea", **leg}},
        "routes": {"r": {"legs": ["leg"]}},
        "choose": [{"origin": "plant", "route": "r"}],
    }


def test_a_lot_ready_at_day_3_sails_on_the_day_10_ship():
    """Ships every 10 days from day 0; a lot ready at 3 waits for day 10 and arrives 10 + 5."""
    s = build([package("p1", qty=1)], transport=one_leg(days=5, departures={"every_days": 10}))
    d = by_request(s)
    assert d.loc["p1", "ready_day"] == 3  # 1 unit x 3 days
    assert d.loc["p1", "shipped_day"] == 10
    assert d.loc["p1", "delivered_day"] == 15
    assert d.loc["p1", "route"] == "r"


def test_first_sailing_given_as_a_date():
    """First ship on 2025-01-08 (day 7), every 10 days: a lot ready at 3 sails at 7."""
    s = build([package("p1", qty=1)], transport=one_leg(days=5, departures={"every_days": 10, "first": "2025-01-08"}))
    assert by_request(s).loc["p1", "shipped_day"] == 7


def test_capacity_per_sailing_pushes_the_extra_lot_to_the_next_ship():
    """Room for one lot per ship: of two lots ready at day 3, one sails at 10 and the other at 20."""
    # Two servers make both 1-unit lots by day 3; the first listed boards first (same priority).
    s = build(
        [package("p1", qty=1), package("p2", qty=1)],
        production={"line": {"servers": 2}},
        transport=one_leg(days=5, capacity=1, departures={"every_days": 10}),
    )
    d = by_request(s)
    assert d["ready_day"].to_dict() == {"p1": 3, "p2": 3}
    assert d["shipped_day"].to_dict() == {"p1": 10, "p2": 20}
    assert d["delivered_day"].to_dict() == {"p1": 15, "p2": 25}


def test_capacity_one_unscheduled_leg_serialises_two_lots():
    """One lot at a time on a 5-day leg: lots ready at 3 arrive at 8 and at 8 + 5 = 13."""
    s = build(
        [package("p1", qty=1), package("p2", qty=1)],
        production={"line": {"servers": 2}},
        transport=one_leg(days=5, capacity=1, mode="air"),
    )
    d = by_request(s)
    assert d["shipped_day"].to_dict() == {"p1": 3, "p2": 8}
    assert d["delivered_day"].to_dict() == {"p1": 8, "p2": 13}


def test_urgent_lot_takes_the_free_slot_when_both_arrive_at_once():
    """Two lots ready at day 3 for a capacity-1 leg: the urgent one (listed second) should go first."""
    # By DESIGN.md's tie-break (priority, then request id): p2 (urgent) departs 3, arrives 8;
    # p1 (routine) departs 8, arrives 13.
    s = build(
        [package("p1", qty=1), package("p2", qty=1, priority="urgent")],
        production={"line": {"servers": 2}},
        transport=one_leg(days=5, capacity=1, mode="air"),
    )
    assert by_request(s)["delivered_day"].to_dict() == {"p1": 13, "p2": 8}


def test_urgent_lot_overtakes_queued_routine_lots_on_a_capacity_leg():
    """A lot that waits for a slot is served urgent first: p3 (urgent, ready 6) passes p2 (ready 3)."""
    # Leg capacity 1, 10 days. p1 (1 unit, ready 3) holds the slot 3-13. p2 (routine, 1 unit,
    # ready 3 on the second server) and p3 (urgent, 2 units, ready 6 on the third server) queue;
    # at 13 the urgent p3 goes first (13-23), then p2 (23-33).
    s = build(
        [package("p1", qty=1), package("p2", qty=1), package("p3", qty=2, priority="urgent")],
        production={"line": {"servers": 3}},
        transport=one_leg(days=10, capacity=1, mode="air"),
    )
    assert by_request(s)["delivered_day"].to_dict() == {"p1": 13, "p2": 33, "p3": 23}


def test_uncapacitated_leg_carries_lots_side_by_side():
    """Without a capacity both lots travel at once: 3 + 5 = 8 each."""
    s = build(
        [package("p1", qty=1), package("p2", qty=1)],
        production={"line": {"servers": 2}},
        transport=one_leg(days=5, mode="road"),
    )
    assert by_request(s)["delivered_day"].to_dict() == {"p1": 8, "p2": 8}


def test_route_of_two_legs_chains_transit_and_sailing():
    """Rail 4 days to the port, then ships every 10 days taking 2: ready 3, port 7, sails 10, in at 12."""
    t = {
        "legs": {
            "rail": {"from": "plant", "to": "port", "mode": "rail", "days": 4},
            "ship": {"from": "port", "to": "ukraine", "mode": "sea", "days": 2, "departures": {"every_days": 10}},
        },
        "routes": {"sea": {"legs": ["rail", "ship"]}},
        "choose": [{"origin": "plant", "route": "sea"}],
    }
    d = by_request(build([package("p1", qty=1)], transport=t))
    assert d.loc["p1", "shipped_day"] == 3  # first departure: onto the train
    assert d.loc["p1", "delivered_day"] == 12


def test_route_is_chosen_by_origin_and_item():
    """Rockets from the plant fly (1 day), anything else from the plant goes by road (10 days)."""
    # shell: 1 unit x 3 days, road 10 -> 13. rocket: own line at 30/month = 1 day, air 1 -> 2.
    s = build(
        [package("p1", qty=1), package("p2", qty=1, item="rocket")],
        items={"rocket": {"name": "GMLRS", "unit_cost_musd": 0.2}},
        production={"rocket_line": {"item": "rocket", "node": "plant", "rate_per_month": 30}},
        transport={
            "legs": {
                "air": {"from": "plant", "to": "ukraine", "mode": "air", "days": 1},
                "road": {"from": "plant", "to": "ukraine", "mode": "road", "days": 10},
            },
            "routes": {"fly": {"legs": ["air"]}, "drive": {"legs": ["road"]}},
            "choose": [{"origin": "plant", "item": "rocket", "route": "fly"}, {"origin": "plant", "route": "drive"}],
        },
    )
    d = by_request(s)
    assert d["route"].astype(str).to_dict() == {"p1": "drive", "p2": "fly"}
    assert d["delivered_day"].to_dict() == {"p1": 13, "p2": 2}


def test_direct_route_delivers_where_and_when_ready():
    """Route `direct` has no legs: shipped and delivered the day the lot is ready."""
    d = by_request(build([package("p1", at=5, qty=2)]))
    assert d.loc["p1", "route"] == "direct"
    assert d.loc["p1", "ready_day"] == d.loc["p1", "shipped_day"] == d.loc["p1", "delivered_day"] == 11  # 5 + 2 x 3


@pytest.mark.parametrize(
    "kind, window, delivered",
    [
        ("pause", (5, 20), 13),  # departed at 3 before the pause: a pause only stops departures
        ("outage", (5, 20), 20),  # in transit when the leg goes down: arrives when it comes back
        ("pause", (0, 8), 18),  # ready at 3 inside the pause: departs at 8, arrives 8 + 10
        ("outage", (0, 8), 18),  # same for an outage: no departure until 8
    ],
)
def test_pause_and_outage_of_a_leg_with_a_lot_in_transit(kind, window, delivered):
    """A 10-day leg; the lot is ready at day 3. What a pause and an outage do, as documented."""
    s = build(
        [package("p1", qty=1)],
        transport=one_leg(days=10, mode="road"),
        disruptions=[{"kind": kind, "scope": "leg:leg", "start": window[0], "end": window[1]}],
    )
    assert by_request(s).loc["p1", "delivered_day"] == delivered


def test_recorder_keeps_the_event_log_as_columns_and_hands_them_out_without_objects_of_the_run():
    """Two lines written by hand come back as typed columns: numbers as numpy, labels factorized
    (a byte a row), request ids as Arrow text, so a table holds no str or float object of the run."""
    import numpy as np
    import pyarrow as pa

    from sim.recorder import Recorder

    rec = Recorder(horizon=10.0)
    rec.event(1.5, "withdrawal", "R1", -1, "", 2.25, "nato_purl")
    rec.event(2.0, "held", "R2", 7, "gmlrs", 3, "")
    ev = rec.tables()["events"]
    assert ev["day"].tolist() == [1.5, 2.0] and ev["day"].dtype == np.float64
    assert ev["lot_id"].tolist() == [-1, 7] and ev["lot_id"].dtype == np.int64
    assert ev["qty"].tolist() == [2.25, 3.0] and ev["qty"].dtype == np.float64
    assert isinstance(ev["request_id"], pa.Array) and ev["request_id"].to_pylist() == ["R1", "R2"]
    for name, expected in (("kind", ["withdrawal", "held"]), ("item", ["", "gmlrs"]), ("where", ["nato_purl", ""])):
        lab = ev[name]
        assert lab.codes.dtype == np.int8 and [lab.uniques[c] for c in lab.codes] == expected, name
    d = rec.tables()["deliveries"]
    assert isinstance(d["request_id"], pa.Array) and len(d["request_id"]) == 0
