"""Hand-computed tests of legs with departures and vehicles (sim.model.vehicles).

Built on conftest.MINIMAL. Goods come from US stock at `depot` with 2 days of handling, so a lot
requested at day `at` is ready at the leg at `at + 2` (no production in the way). Each expected
value is worked out by hand in the comment above it.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import build, package

import sim
from sim.errors import ScenarioError

STOCK = {"node": "depot", "handling_days": 2, "items": {"shell": {"on_hand": 10_000, "reserve_floor": 0}}}


def leg(**spec) -> dict:
    """Transport: one leg depot -> ukraine (given fields), taken by everything from the depot."""
    return {
        "legs": {"leg": {"from": "depot", "to": "ukraine", **spec}},
        "routes": {"r": {"legs": ["leg"]}},
        "choose": [{"origin": "plant", "route": "direct"}, {"origin": "depot", "route": "r"}],
    }


def run(packages, items=None, **sections):
    s = build(packages, us_stock=STOCK, items=items or {}, **sections)
    return sim.run(s, reps=1, seed=0)


def shell(**figures) -> dict:
    return {"shell": {"name": "155 mm round", "unit_cost_musd": 0.001, "cargo": "bulk", **figures}}


def loads(res, kind="loaded"):
    ev = res.event_log
    return ev[ev["kind"] == kind]


def vehicle_points(res, series):
    lv = res.levels
    return lv[lv["series"] == series]


def test_100_tonnes_on_40_tonne_trucks_two_a_day_arrive_in_two_days_in_three_pieces():
    # Ready at day 2; trucks leave daily from day 0, two per departure, 1 day on the road.
    # Day 2: two trucks of 40 t; day 3: one truck of the last 20 t, arriving at 4 = ready + 2 days.
    res = run(
        [package("p1", qty=100)],
        items=shell(weight_t=1.0),
        transport=leg(mode="road", days=1, vehicles={"name": "truck", "payload_t": 40, "per_departure": 2}),
    )
    d = res.deliveries.set_index("request_id")
    assert d.loc["p1", "ready_day"] == 2
    assert d.loc["p1", "shipped_day"] == 2  # its first piece left at once
    assert d.loc["p1", "delivered_day"] == 4
    pieces = loads(res)
    assert pieces["qty"].tolist() == [40, 40, 20]
    assert pieces["day"].tolist() == [2, 2, 3]
    assert vehicle_points(res, "vehicle_t:leg")["value"].tolist() == [40, 40, 20]
    # In transit from the first piece's departure (2) to the last piece's arrival (4): 2 days.
    assert d.loc["p1", "phase_transit_road_days"] == 2
    assert d.loc["p1", "phase_waiting_departure_days"] == 0


def test_a_patriot_battery_of_18_c17_loads_needs_18_sorties():
    # One battery: 450 t, 18 loads of 18 pallet positions each (324 positions), as 18 pieces of
    # 25 t and 18 positions. A C-17 takes 18 positions and ~75 t: one piece per sortie, bound by
    # floor space (25 t < 75 t). 4 sorties a day from day 2: 4 + 4 + 4 + 4 + 2 = 18 sorties on
    # days 2-6; the last lands at 6 + 0.5 = 6.5.
    fu = {"fu": {"name": "Patriot battery", "unit_cost_musd": 1000, "weight_t": 450, "positions": 324,
                 "pieces_per_unit": 18, "cargo": "outsize"}}  # fmt: skip
    stock = {**STOCK, "items": {"fu": {"on_hand": 1, "reserve_floor": 0}}}
    s = build(
        [package("b1", qty=1, item="fu")],
        items=fu,
        us_stock=stock,
        transport=leg(
            mode="air", days=0.5, vehicles={"name": "C-17", "payload_t": 75, "positions": 18, "per_departure": 4}
        ),
    )
    res = sim.run(s, reps=1, seed=0)
    sorties = vehicle_points(res, "vehicle_t:leg")
    assert len(sorties) == 18
    assert sorties["value"].tolist() == pytest.approx([25.0] * 18)
    assert vehicle_points(res, "vehicle_space:leg")["value"].tolist() == pytest.approx([18.0] * 18)
    assert sorties.groupby("day").size().to_dict() == {2: 4, 3: 4, 4: 4, 5: 4, 6: 2}
    assert res.deliveries["delivered_day"].tolist() == [6.5]


def test_urgent_goods_take_the_first_sailing_when_deck_space_is_short():
    # Ship every 10 days from 0, 1000 m2 of deck, 8 days at sea; a round takes 400 m2.
    # p1 (routine, 2 rounds = 800 m2) is ready at 2, p2 (urgent, 800 m2) at 7. At the day-10
    # sailing the urgent lot loads first; 200 m2 are left, too little for one of p1's rounds, so
    # p1 takes the day-20 ship. Arrivals: p2 at 18, p1 at 28.
    res = run(
        [package("p1", at=0, qty=2), package("p2", at=5, qty=2, priority="urgent")],
        items=shell(weight_t=0.05, deck_m2=400),
        transport=leg(mode="sea", days=8, departures={"every_days": 10},
                      vehicles={"name": "ro-ro", "payload_t": 10_000, "deck_m2": 1000}),
    )  # fmt: skip
    d = res.deliveries.set_index("request_id")
    assert d["shipped_day"].to_dict() == {"p1": 20, "p2": 10}
    assert d["delivered_day"].to_dict() == {"p1": 28, "p2": 18}


def test_urgent_lot_takes_the_seat_on_a_full_sailing_of_whole_lots():
    # A scheduled leg of one lot per ship (no vehicles): the seat goes by priority at the
    # sailing, not to the lot that reached the port first. p1 routine ready 2, p2 urgent ready 7:
    # p2 sails at 10 (arrives 15), p1 at 20 (arrives 25).
    res = run(
        [package("p1", at=0, qty=1), package("p2", at=5, qty=1, priority="urgent")],
        transport=leg(mode="sea", days=5, capacity=1, departures={"every_days": 10}),
    )
    d = res.deliveries.set_index("request_id")
    assert d["delivered_day"].to_dict() == {"p1": 25, "p2": 15}


def test_a_lot_arriving_at_the_sailing_instant_does_not_take_the_seat_of_one_that_waited():
    # Same priority: p1 waited since 2, p2 reaches the port at 10, the sailing instant. The seat
    # goes by the time each reached the leg: p1 at 10 (arrives 15), p2 at 20 (arrives 25).
    res = run(
        [package("p1", at=0, qty=1), package("p2", at=8, qty=1)],
        transport=leg(mode="sea", days=5, capacity=1, departures={"every_days": 10}),
    )
    d = res.deliveries.set_index("request_id")
    assert d["delivered_day"].to_dict() == {"p1": 15, "p2": 25}


def test_batch_departures_of_two_lots_every_seven_days():
    # A hand-worked batch-service queue: lots ready at 2, 3, 4, 5, 6, 7 (requests at 0..5),
    # ships every 7 days from 0 taking 2 lots, 5 days at sea. Sailing 7 takes the lots ready at 2
    # and 3; sailing 14 those at 4 and 5; sailing 21 those at 6 and 7 (the one ready at 7 was
    # there at 7 but came third). Arrivals 12, 12, 19, 19, 26, 26.
    res = run(
        [package(f"p{k}", at=k, qty=1) for k in range(6)],
        transport=leg(mode="sea", days=5, capacity=2, departures={"every_days": 7}),
    )
    d = res.deliveries.set_index("request_id").sort_index()
    assert d["delivered_day"].tolist() == [12, 12, 19, 19, 26, 26]
    # Mean wait for a sailing: (5 + 4 + 10 + 9 + 15 + 14) / 6 = 57 / 6.
    assert d["phase_waiting_departure_days"].mean() == pytest.approx(57 / 6)


def test_goods_must_reach_the_ship_its_load_time_before_it_sails():
    # A 4-day load time: the day-10 ship takes goods at the port by day 6. Ready at 7 (request
    # at 5): too late, so it sails at 20 and arrives 28.
    res = run(
        [package("p1", at=5, qty=1)],
        items=shell(weight_t=0.05),
        transport=leg(mode="sea", days=8, departures={"every_days": 10}, vehicles={"payload_t": 100, "load_days": 4}),
    )
    assert res.deliveries["delivered_day"].tolist() == [28]


def test_a_pause_of_the_leg_holds_what_waits_from_the_departure_it_misses():
    # Trucks daily, 1 day on the road, the leg paused on days 3-6 (departures 3, 4, 5 do not
    # leave; the leg reopens at 6). 100 t ready at 2 on one 40-t truck a day: 40 t leave at 2,
    # 40 t at 6, 20 t at 7, arriving 8. The lot is in transit from 2 (its first piece) on: the
    # pause holds its later pieces, not the lot, so no day of it counts as held.
    res = run(
        [package("p1", qty=100)],
        items=shell(weight_t=1.0),
        transport=leg(mode="road", days=1, vehicles={"payload_t": 40}),
        disruptions=[{"kind": "pause", "scope": "leg:leg", "start": 3, "end": 6}],
    )
    assert loads(res)["day"].tolist() == [2, 6, 7]
    d = res.deliveries
    assert d["delivered_day"].tolist() == [8]
    assert d["phase_held_days"].tolist() == [0]


def test_a_pause_before_the_first_piece_counts_as_held():
    # Paused 1-5: the departures at 2, 3, 4 do not leave; the lot, ready at 2, is held from 2 to
    # the departure at 5 (the leg reopens at 5), 3 days, and arrives at 6.
    res = run(
        [package("p1", qty=10)],
        items=shell(weight_t=1.0),
        transport=leg(mode="road", days=1, vehicles={"payload_t": 40}),
        disruptions=[{"kind": "pause", "scope": "leg:leg", "start": 1, "end": 5}],
    )
    d = res.deliveries
    assert d["delivered_day"].tolist() == [6]
    assert d["phase_held_days"].tolist() == [3]


def test_a_capacity_change_on_a_vehicle_leg_sets_vehicles_per_departure():
    # One 40-t truck a day until day 3, three from then on: 40 t at 2; 120 t at 3 ... of 200 t:
    # day 2: 40, day 3: 120 (3 trucks), day 4: 40. Arrives 5.
    res = run(
        [package("p1", qty=200)],
        items=shell(weight_t=1.0),
        transport=leg(mode="road", days=1, vehicles={"payload_t": 40}),
        disruptions=[{"kind": "capacity", "scope": "leg:leg", "at": 3, "capacity": 3}],
    )
    assert loads(res)["qty"].tolist() == [40, 40, 40, 40, 40]
    assert loads(res)["day"].tolist() == [2, 3, 3, 3, 4]
    assert res.deliveries["delivered_day"].tolist() == [5]


@pytest.mark.parametrize(
    "items, vehicles, path, words",
    [
        (shell(), {"payload_t": 40}, "items.shell.weight_t", "needed"),
        (shell(weight_t=50.0), {"payload_t": 40}, "transport.legs.leg.vehicles.payload_t", "exceeds"),
        (shell(weight_t=1.0), {"payload_t": 40, "positions": 18}, "items.shell.positions", "needed"),
        (shell(weight_t=1.0, positions=20), {"payload_t": 40, "positions": 18}, "transport.legs.leg.vehicles.positions",
         "exceeds"),
        (shell(weight_t=1.0, cargo="outsize"), {"payload_t": 40, "takes": ["bulk"]}, "transport.legs.leg.vehicles.takes",
         "outsize"),
    ],
)  # fmt: skip
def test_goods_a_vehicle_cannot_load_are_refused_with_their_path(items, vehicles, path, words):
    with pytest.raises(ScenarioError) as err:
        build([package("p1")], us_stock=STOCK, items=items, transport=leg(mode="road", days=1, vehicles=vehicles))
    problems = [(p.path, p.message) for p in err.value.problems]
    assert any(p == path and words in m for p, m in problems), problems


def test_capacity_and_vehicles_together_are_refused():
    with pytest.raises(ScenarioError) as err:
        build(
            [package("p1")],
            us_stock=STOCK,
            items=shell(weight_t=1.0),
            transport=leg(mode="road", days=1, capacity=2, vehicles={"payload_t": 40}),
        )
    assert [p.path for p in err.value.problems] == ["transport.legs.leg.capacity"]


@pytest.mark.parametrize("reference", [False, True])
def test_both_kernels_load_alike(reference):
    # Three lots of mixed priority on trucks: the reference kernel (plain SimPy) must give the
    # same tables as the fast one (the late delay and the tie rule in both).
    pk = [package("p1", qty=70), package("p2", at=0, qty=30, priority="urgent"), package("p3", at=1, qty=50)]
    kw = dict(
        items=shell(weight_t=1.0), transport=leg(mode="road", days=1, vehicles={"payload_t": 40, "per_departure": 2})
    )
    s = build(pk, us_stock=STOCK, **kw)
    fast = sim.run(s, reps=1, seed=0)
    ref = sim.run(s, reps=1, seed=0, reference=reference)
    assert fast.deliveries.equals(ref.deliveries)
    # By hand: day 2, trucks of 40: p2 (urgent) 30 + p1 10, then p1 40; day 3: p1 20 + p3 20, then
    # p3 30 (p3 ready at 3 joins the day-3 departure). Arrivals: p2 3, p1 4, p3 4.
    d = fast.deliveries.set_index("request_id")["delivered_day"].to_dict()
    assert d == {"p1": 4, "p2": 3, "p3": 4}


def test_a_dated_route_rule_sends_goods_leaving_from_its_date_another_way():
    # From day 10 goods from the depot take route `slow` (5 days); before, `r` (1 day). Lots
    # ready at 2 and 12 (requests at 0 and 10): delivered 3 and 17.
    t = leg(mode="road", days=1)
    t["legs"]["slow_leg"] = {"from": "depot", "to": "ukraine", "mode": "road", "days": 5}
    t["routes"]["slow"] = {"legs": ["slow_leg"]}
    t["choose"] = [{"origin": "plant", "route": "direct"}, {"origin": "depot", "route": "slow", "from": 10},
                   {"origin": "depot", "route": "r"}]  # fmt: skip
    res = run([package("p1", at=0), package("p2", at=10)], transport=t)
    d = res.deliveries.set_index("request_id")
    assert d["delivered_day"].to_dict() == {"p1": 3, "p2": 17}
    assert d["route"].astype(str).to_dict() == {"p1": "r", "p2": "slow"}


def test_an_origin_with_only_a_dated_rule_is_refused():
    t = leg(mode="road", days=1)
    t["choose"] = [{"origin": "plant", "route": "direct"}, {"origin": "depot", "route": "r", "from": 10}]
    with pytest.raises(ScenarioError) as err:
        build([package("p1")], us_stock=STOCK, transport=t)
    assert any("no route" in p.message for p in err.value.problems)


def test_vehicle_use_counts_vehicles_and_load_factors_by_hand():
    # The 100-t case on 40-t trucks (see above), 2 replications alike (fixed transit): 3 trucks a
    # replication carrying 40, 40, 20 t: mean 100/3 t a truck, a load factor of (100/3)/40.
    s = build(
        [package("p1", qty=100)],
        us_stock=STOCK,
        items=shell(weight_t=1.0),
        transport=leg(mode="road", days=1, vehicles={"name": "truck", "payload_t": 40, "per_departure": 2}),
    )
    use = sim.run(s, reps=2, seed=0).vehicle_use()
    row = use.loc["leg"]
    assert row["vehicle"] == "truck"
    assert row["vehicles_per_rep"] == 3
    assert row["tonnes_per_rep"] == 100
    assert row["weight_factor"] == pytest.approx(100 / 3 / 40)
    assert np.isnan(row["space_factor"])  # no space limit


def test_the_diagram_names_vehicles_and_node_throughput():
    import io

    from sim.plots import network

    t = leg(mode="road", days=1, vehicles={"name": "truck", "payload_t": 40, "per_departure": 2})
    s = build([package("p1")], us_stock=STOCK, items=shell(weight_t=1.0), transport=t)
    buf = io.StringIO()
    network.diagram(s).savefig(buf, format="svg")
    svg = buf.getvalue()
    assert "2 x truck (40 t)" in svg and "road, 1 d, daily" in svg


@pytest.mark.parametrize(
    "start, delivered, lost",
    [
        # 100 t on one 40-t truck a day, 3 days on the road: pieces leave at 2, 3, 4, the last
        # arriving at 7. An outage losing goods from 5 to 6 finds the whole lot on the road: lost,
        # ordered again from stock (ready 5 + 2 = 7), pieces at 7, 8, 9, delivered 12.
        (5, 12, 1),
        # From 3.5 to 4.5 the last 20 t are still at the depot: nothing is lost; that piece leaves
        # at the first departure after the outage (5) and arrives 8.
        (3.5, 8, 0),
    ],
)
def test_an_outage_loses_a_lot_on_a_vehicle_leg_only_once_all_its_pieces_left(start, delivered, lost):
    res = run(
        [package("p1", qty=100)],
        items=shell(weight_t=1.0),
        transport=leg(mode="road", days=3, vehicles={"payload_t": 40}),
        disruptions=[{"kind": "outage", "scope": "leg:leg", "start": start, "end": start + 1, "on_transit": "lost"}],
    )
    assert res.deliveries["delivered_day"].tolist() == [delivered]
    assert len(res.losses) == lost
    if lost:
        assert res.losses["qty"].tolist() == [100] and res.losses["day"].tolist() == [5]


def test_the_report_shows_lift_by_leg_with_the_hand_computed_figures():
    from sim.report_routes import lift_tables

    # The 100-t case, 2 replications alike: 3 trucks a replication, 100 t, (100/3)/40 = 83% by weight.
    s = build(
        [package("p1", qty=100)],
        us_stock=STOCK,
        items=shell(weight_t=1.0),
        transport=leg(mode="road", days=1, vehicles={"name": "truck", "payload_t": 40, "per_departure": 2}),
    )
    html = lift_tables(sim.run(s, reps=2, seed=0))
    assert "leg (road)" in html and ">3.0<" in html and "83%" in html


def test_a_fleet_of_two_aircraft_back_three_days_after_each_sortie():
    # 200 t on 40-t aircraft, up to 2 sorties a day from a fleet of 2, each back 3 days after it
    # left: sorties at 2, 2, then (both away until 5) 5, 5, then 8; the last lands at 8 + 1 = 9.
    res = run(
        [package("p1", qty=200)],
        items=shell(weight_t=1.0),
        transport=leg(mode="air", days=1, vehicles={"payload_t": 40, "per_departure": 2, "fleet": 2, "return_days": 3}),
    )
    assert loads(res)["day"].tolist() == [2, 2, 5, 5, 8]
    assert res.deliveries["delivered_day"].tolist() == [9]


def test_a_fleet_without_its_return_days_is_refused():
    with pytest.raises(ScenarioError) as err:
        build([package("p1")], us_stock=STOCK, items=shell(weight_t=1.0),
              transport=leg(mode="air", days=1, vehicles={"payload_t": 40, "fleet": 2}))  # fmt: skip
    assert any("return_days" in p.message for p in err.value.problems)
