"""Disruptions: pauses delay and release everything they hold, outages hold lots in transit,
capacity changes act on their date, gates stop new releases for good.

The hand-built network: US stock at `us_depot` --leg1 (road, 10 days)--> `hub` --leg2 (road,
2 days)--> Ukraine, all on route `main`; a US line at `plant` (10 days a unit) delivers where it
makes (route `direct`). Handling, approval and funding take no time unless a test says so, so a
US-stock lot requested on day t leaves on day t and arrives on day t + 12 when nothing is in the
way. Windows are [start, end): work reaching a pause at its start waits, at its end it passes.
"""

from __future__ import annotations

import pytest

import sim
from sim.model import Model
from sim.scenario.loader import deep_merge, validate_mapping


def scenario(**over):
    base = {
        "start": "2025-01-01",
        "horizon_days": 300,
        "seed": 3,
        "items": {"x": {"name": "X", "unit_cost_musd": 1.0}},
        "requests": {"packages": []},
        "approval": {"enabled": False},
        "funding": {"enabled": False},
        "us_stock": {"node": "us_depot", "items": {"x": {"on_hand": 1000}}},
        "production": {"x_line": {"item": "x", "node": "plant", "unit_days": 10, "shipments": {"whole_order": True}}},
        "transport": {
            "destination": "ua",
            "nodes": {
                "us_depot": {"kind": "depot"},
                "hub": {"kind": "hub"},
                "plant": {"kind": "plant"},
                "ua": {"kind": "destination"},
            },
            "legs": {
                "leg1": {"from": "us_depot", "to": "hub", "mode": "road", "days": 10},
                "leg2": {"from": "hub", "to": "ua", "mode": "road", "days": 2},
            },
            "routes": {"main": {"legs": ["leg1", "leg2"]}},
            "choose": [{"origin": "us_depot", "route": "main"}, {"origin": "plant", "route": "direct"}],
        },
        "policy": {"sources": ["us_stock", "production"]},
    }
    return validate_mapping(deep_merge(base, over))


def packages(*days, qty=1):
    return {"packages": [{"id": f"r{k}", "at": d, "lines": [{"item": "x", "qty": qty}]} for k, d in enumerate(days)]}


def pause(scope, start, end, kind="pause"):
    return {"kind": kind, "scope": scope, "start": start, "end": end}


def delivered(res) -> dict[str, float]:
    d = res.deliveries
    return dict(zip(d["request_id"], d["delivered_day"]))


def run1(sc, **kw):
    return sim.run(sc, reps=1, seed=0, **kw)


# --- pauses -------------------------------------------------------------------------------------


def test_release_pause_delays_then_releases_everything_it_held():
    days = (0, 4, 5, 8, 14, 15, 20)
    free = run1(scenario(requests=packages(*days)))
    paused = run1(scenario(requests=packages(*days), disruptions=[pause("us_releases", 5, 15)]))
    ev = paused.events
    held, released = ev[ev["kind"] == "held"], ev[ev["kind"] == "released"]
    # Ready on days 5, 8 and 14 (inside [5, 15)): held, and all released on day 15.
    assert sorted(held["request_id"]) == ["r2", "r3", "r4"]
    assert sorted(released["request_id"]) == sorted(held["request_id"])
    assert set(released["day"]) == {15.0}
    assert sorted(held["lot_id"]) == sorted(released["lot_id"])
    # None lost: every lot of the no-pause run is delivered, with the same quantities.
    assert paused.deliveries["delivered_day"].notna().all()
    assert paused.deliveries["qty"].sum() == free.deliveries["qty"].sum() == len(days)
    # Held lots leave on day 15 and arrive 12 days later; the others are untouched.
    assert delivered(paused) == {**delivered(free), "r2": 27.0, "r3": 27.0, "r4": 27.0}
    assert delivered(free)["r2"] == 17.0


def test_approval_pause_holds_requests_until_it_ends():
    sc = scenario(
        requests=packages(0, 6, 14),
        approval={"enabled": True, "delay_days": 0},
        disruptions=[pause("approvals", 5, 15)],
    )
    res = run1(sc)
    d = res.deliveries.set_index("request_id")
    assert d["approved_day"].to_dict() == {"r0": 0.0, "r1": 15.0, "r2": 15.0}
    assert delivered(res) == {"r0": 12.0, "r1": 27.0, "r2": 27.0}


def test_line_pause_stops_new_starts_but_not_work_in_progress():
    # r0 starts on day 0 and finishes on day 10 despite the pause from day 5; r1 (day 1) would
    # start on day 10 but the line is paused until 20: it runs 20-30.
    sc = scenario(
        requests=packages(0, 1), policy={"sources": ["production"]}, disruptions=[pause("line:x_line", 5, 20)]
    )
    assert delivered(run1(sc)) == {"r0": 10.0, "r1": 30.0}


def test_leg_pause_stops_departures_only():
    # r0 is on leg1 (0-10) when the pause starts: it arrives as planned (12). r1, ready on day 6,
    # departs when the leg reopens on day 15: 15 + 12 = 27.
    res = run1(scenario(requests=packages(0, 6), disruptions=[pause("leg:leg1", 5, 15)]))
    assert delivered(res) == {"r0": 12.0, "r1": 27.0}


def test_route_pause_holds_lots_before_their_next_leg():
    # r0 reaches the hub on day 10 and may not start leg2 until day 15: 17. r1 waits to start.
    res = run1(scenario(requests=packages(0, 6), disruptions=[pause("route:main", 5, 15)]))
    assert delivered(res) == {"r0": 17.0, "r1": 27.0}


def test_overlapping_pauses_nest():
    # [5, 15) and [10, 20) on the same scope: it reopens only when the last ends, on day 20.
    sc = scenario(requests=packages(6), disruptions=[pause("us_releases", 5, 15), pause("us_releases", 10, 20)])
    assert delivered(run1(sc)) == {"r0": 32.0}


def test_windows_before_the_start_are_refused_and_ones_from_day_0_hold_from_day_0():
    # A moment is never before start (issue 15): a window already in force is written from the start date.
    with pytest.raises(sim.ScenarioError, match="before the scenario start"):
        scenario(requests=packages(0), disruptions=[pause("us_releases", "2024-12-01", "2024-12-10")])
    spanning = scenario(requests=packages(0), disruptions=[pause("us_releases", "2025-01-01", "2025-01-06")])
    assert delivered(run1(spanning)) == {"r0": 17.0}  # held at day 0, released day 5, + 12


def test_nothing_is_lost_under_many_overlapping_disruptions():
    # A random stream through every kind of pause and an outage: the same lots and quantities
    # are delivered as without them (the horizon leaves time to drain), every held lot is
    # released, and no process is left waiting on a scope that is open.
    common = {
        "requests": {
            "stream": {
                "interarrival_days": {"dist": "exponential", "mean": 2},
                "end": 200,
                "priority": {"urgent": 0.3, "routine": 0.7},
                "items": {"x": {"weight": 1, "qty": {"dist": "uniform", "low": 1, "high": 40}}},
            }
        },
        "us_stock": {"items": {"x": {"on_hand": 600, "reserve_floor": 100}}},
        "approval": {"enabled": True, "delay_days": {"dist": "uniform", "low": 0, "high": 5}},
        "production": {"x_line": {"unit_days": {"dist": "uniform", "low": 0.2, "high": 0.6}}},
        "horizon_days": 2000,
    }
    windows = [
        pause("approvals", 10, 30),
        pause("us_releases", 20, 60),
        pause("releases", 50, 70),
        pause("line:x_line", 40, 90),
        pause("leg:leg1", 80, 120),
        pause("route:main", 100, 110),
        pause("all", 130, 140),
        pause("hub:hub", 150, 170, kind="outage"),
        pause("leg:leg2", 160, 200, kind="outage"),
    ]
    free = sim.run(scenario(**common), reps=3, seed=5)
    hit = sim.run(scenario(**common, disruptions=windows), reps=3, seed=5)
    a, b = free.deliveries, hit.deliveries
    assert len(a) == len(b) and a["qty"].sum() == b["qty"].sum()
    assert a["delivered_day"].notna().all() and b["delivered_day"].notna().all()
    assert b["latency_days"].mean() > a["latency_days"].mean()  # the windows did hold work
    kinds = hit.events["kind"].value_counts()
    assert kinds["held"] == kinds["released"] > 0
    model = Model(scenario(**common, disruptions=windows), seed=5, rep=0)
    model.run()
    assert model.switch.waiting() == {}


# --- outages ------------------------------------------------------------------------------------


def test_outage_holds_lots_in_transit_until_it_ends():
    # r0 left on day 0 and would reach the hub on day 10; the outage [5, 15) of leg1 holds it
    # until 15, then leg2: 17. r1 (ready day 6) cannot depart before 15: 27.
    res = run1(scenario(requests=packages(0, 6), disruptions=[pause("leg:leg1", 5, 15, kind="outage")]))
    assert delivered(res) == {"r0": 17.0, "r1": 27.0}
    ev = res.events
    assert ev[ev["kind"].isin(["outage_start", "outage_end"])]["day"].tolist() == [5.0, 15.0]


def test_hub_outage_closes_every_leg_at_the_hub():
    # hub:hub covers leg1 (into the hub) and leg2 (out of it). r0 arrives on day 10, waits to 20,
    # then 2 days: 22. A lot of a route that only uses leg2 is held as well.
    res = run1(scenario(requests=packages(0), disruptions=[pause("hub:hub", 5, 20, kind="outage")]))
    assert delivered(res) == {"r0": 22.0}


def test_outage_on_a_scheduled_leg_holds_the_sailing_at_arrival():
    # A ship every 10 days from day 0, 10 days at sea. r0 sails day 0, due day 10, held by the
    # outage [5, 25) until 25, then leg2: 27.
    sc = scenario(
        requests=packages(0),
        transport={"legs": {"leg1": {"departures": {"every_days": 10, "first": 0}}}},
        disruptions=[pause("leg:leg1", 5, 25, kind="outage")],
    )
    assert delivered(run1(sc)) == {"r0": 27.0}


# --- capacity changes ---------------------------------------------------------------------------


def test_line_capacity_change_on_a_date():
    # Three one-unit orders on day 0, one server: 0-10, 10-20, 20-30. A second server from
    # day 15 takes the third order at 15: done 25.
    common = {"requests": packages(0, 0, 0), "policy": {"sources": ["production"]}}
    assert sorted(delivered(run1(scenario(**common))).values()) == [10.0, 20.0, 30.0]
    ramp = {"kind": "capacity", "scope": "line:x_line", "at": 15, "servers": 2}
    res = run1(scenario(**common, disruptions=[ramp]))
    assert sorted(delivered(res).values()) == [10.0, 20.0, 25.0]
    assert res.events[res.events["kind"] == "capacity"]["day"].tolist() == [15.0]


def test_line_rate_change_applies_to_orders_starting_after_it():
    # 6 units a month = 5 days a unit from day 12: r0 (0-10) unchanged, r1 starts 12 -> 17.
    sc = scenario(
        requests=packages(0, 12),
        policy={"sources": ["production"]},
        disruptions=[{"kind": "capacity", "scope": "line:x_line", "at": 12, "rate_per_month": 6}],
    )
    assert delivered(run1(sc)) == {"r0": 10.0, "r1": 17.0}


def test_leg_capacity_change_limits_a_leg_that_had_no_limit():
    # From day 5 leg1 carries one lot at a time. r0 (day 0) is already on it and holds no slot;
    # r1 (day 6) takes the slot 6-16; r2 (day 7) waits for it: 16-26, then leg2: 28.
    sc = scenario(
        requests=packages(0, 6, 7), disruptions=[{"kind": "capacity", "scope": "leg:leg1", "at": 5, "capacity": 1}]
    )
    assert delivered(run1(sc)) == {"r0": 12.0, "r1": 18.0, "r2": 28.0}


def test_leg_capacity_change_raises_a_limit():
    # One slot: r0 0-10, r1 waits to 10. Two slots from day 3: r1 departs on day 3: 15.
    common = {"requests": packages(0, 1), "transport": {"legs": {"leg1": {"capacity": 1}}}}
    assert delivered(run1(scenario(**common)))["r1"] == 22.0
    raised = scenario(**common, disruptions=[{"kind": "capacity", "scope": "leg:leg1", "at": 3, "capacity": 2}])
    assert delivered(run1(raised))["r1"] == 15.0


# --- gates --------------------------------------------------------------------------------------


def gate(p, at=10, scope="us_releases"):
    return {"kind": "gate", "at": at, "p_continue": p, "scope": scope}


def test_a_closed_gate_stops_new_releases_and_leaves_the_rest_undelivered():
    # p_continue 0: the gate on day 10 always closes. Lots ready on days 0 and 5 were released
    # and arrive; those ready on 12 and 20 are held for good: rows with no delivered_day.
    res = run1(scenario(requests=packages(0, 5, 12, 20), disruptions=[gate(0.0)]))
    d = res.deliveries.set_index("request_id")
    assert d["delivered_day"].to_dict() == pytest.approx(
        {"r0": 12.0, "r1": 17.0, "r2": float("nan"), "r3": float("nan")}, nan_ok=True
    )
    assert d["qty"].sum() == 4  # every requested unit is still a row
    ev = res.events
    assert ev[ev["kind"] == "gate_closed"]["day"].tolist() == [10.0]
    assert sorted(ev[ev["kind"] == "held"]["request_id"]) == ["r2", "r3"]
    assert (ev["kind"] == "released").sum() == 0
    assert res.summary().loc["x", "undelivered_lots"] == 2  # one replication
    assert res.summary().loc["x", "delivered_share"] == 0.5  # and they count in the headline


def test_a_gate_that_passes_changes_nothing():
    days = (0, 5, 12, 20)
    free = run1(scenario(requests=packages(*days))).deliveries
    passed = run1(scenario(requests=packages(*days), disruptions=[gate(1.0)])).deliveries
    assert passed.equals(free)


def test_a_closed_us_release_gate_lets_donations_through():
    sc = scenario(
        requests={"packages": [{"id": "d", "at": 20, "priority": "urgent", "lines": [{"item": "x", "qty": 1}]}]},
        stockpiles={"de": {"node": "us_depot", "items": {"x": {"on_hand": 3}}}},
        policy={"sources": ["stockpile", "us_stock"], "backfill": "none"},
        disruptions=[gate(0.0)],
    )
    assert delivered(run1(sc)) == {"d": 32.0}


def test_gate_draw_closes_in_about_1_minus_p_of_replications_from_its_own_stream():
    # 100 replications at p_continue 0.5: the closed count is Binomial(100, 0.5), sd 5; the
    # band 50 +- 18 is 3.6 sd wide. Adding a pause before the gate in the list must not change
    # any replication's draw (the stream is named by the gate, not its position).
    sc = scenario(requests=packages(0), disruptions=[gate(0.5)])
    closed = sim.run(sc, reps=100, seed=1).events
    closed = set(closed[closed["kind"] == "gate_closed"]["rep"])
    assert 32 <= len(closed) <= 68
    moved = scenario(requests=packages(0), disruptions=[pause("leg:leg2", 100, 101), gate(0.5)])
    ev = sim.run(moved, reps=100, seed=1).events
    assert set(ev[ev["kind"] == "gate_closed"]["rep"]) == closed


# --- diversions ---------------------------------------------------------------------------------


def _diverted(units, at=5, on_hand=10, floor=2):
    stock = {"node": "us_depot", "items": {"x": {"on_hand": on_hand, "reserve_floor": floor}}}
    diversion = {"kind": "diversion", "item": "x", "at": at, "units": units}
    return scenario(us_stock=stock, requests=packages(10, qty=5), disruptions=[diversion])


def test_a_diversion_takes_exactly_its_units_and_purl_buys_what_is_left_above_the_floor():
    """10 on hand, floor 2; 7 leave at day 5, so at day 10 only 10 - 7 - 2 = 1 may be sold.

    The request of 5 at day 10 takes 1 from stock (arrives 10 + 12 = 22) and 4 from the line
    (4 x 10 = 40 days: ready at 50, delivered there, route direct).
    """
    res = run1(_diverted(7))
    ev = res.events[res.events["kind"] == "diversion"]
    assert list(zip(ev["day"], ev["qty"], ev["where"])) == [(5, 7, "us_stock:x")]
    d = res.deliveries.set_index("source")
    assert d["qty"].to_dict() == {"us_stock": 1, "production": 4}
    assert d["delivered_day"].to_dict() == {"us_stock": 22, "production": 50}
    lv = res.levels[res.levels["series"] == "us_stock:x"]
    assert list(zip(lv["day"], lv["value"])) == [(0, 10), (5, 3), (10, 2)]


def test_a_diversion_goes_below_the_floor_but_never_below_zero():
    """20 asked of 10 on hand: 10 leave (below the floor of 2); the request of 5 at day 10 goes to the
    line: 5 x 10 = 50 days, delivered at 60."""
    model = Model(_diverted(20), seed=0, rep=0)
    tables = model.run()  # the invariants hold: a diversion below the floor is not a sale
    assert model.us_stock.on_hand["x"] == 0 and model.us_stock.diverted["x"] == 10
    ev = [
        (d, q)
        for d, k, q in zip(tables["events"]["day"], tables["events"]["kind"], tables["events"]["qty"])
        if k == "diversion"
    ]
    assert ev == [(5, 10)]
    d = tables["deliveries"]
    assert list(d["delivered_day"]) == [60.0] and list(d["qty"]) == [5]


def test_a_diversion_of_an_item_us_stock_does_not_hold_is_refused():
    with pytest.raises(Exception, match="disruptions.0.item: US stock holds no 'y'"):
        scenario(disruptions=[{"kind": "diversion", "item": "y", "at": 5, "units": 1}])
