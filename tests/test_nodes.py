"""Nodes with throughput and NSATU's coordination step (issue 19 items 3 and 4), checked by hand.

Every scenario is built on conftest.MINIMAL (start 2025-01-01, no approval, no money limit),
with item `shell` weighing 1 t a unit and US stock at `depot` large enough for every request,
so a lot is ready the moment it is sourced. Goods go depot -(road, 1 day)-> port -(road, 1 day)->
ukraine, and `port` has the handling under test: a lot reaches the port one day after it is
sourced and Ukraine one day after it leaves the port. Expected days are worked out in the
comments, never by running the code. Every run is one replication with fixed times (nothing is
drawn), except the two tests on `stochastic()`: they check invariants (phases add up, nothing
negative) and exact equality of both kernels' tables, which hold for any replication, so a few
replications at a fixed seed suffice; there is no statistical tolerance to size.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import REPO, build, package, run_cli

import sim
from sim.recorder import PHASE_COLUMNS
from sim.scenario import validate_mapping
from sim.scenario.loader import deep_merge

BAD = REPO / "tests" / "bad_scenarios"
ROAD = {"mode": "road", "days": 1}


def via_port(packages, handling=None, **sections):
    """MINIMAL with 1-t shells from US stock at `depot`, routed depot -> port -> ukraine (1 day a leg)."""
    transport = {
        "legs": {"in": {"from": "depot", "to": "port", **ROAD}, "out": {"from": "port", "to": "ukraine", **ROAD}},
        "routes": {"via_port": {"legs": ["in", "out"]}},
        "choose": [{"origin": "depot", "route": "via_port"}, {"origin": "plant", "route": "direct"}],
    }
    if handling is not None:
        transport["nodes"] = {"port": {"kind": "port", "handling": handling}}
    base = {
        "items": {"shell": {"weight_t": 1.0}},
        "us_stock": {"node": "depot", "items": {"shell": {"on_hand": 100_000}}},
        "transport": transport,
    }
    return build(packages, **deep_merge(base, sections))


def by_request(scenario, **kw):
    d = sim.run(scenario, reps=1, seed=0, **kw).deliveries
    assert d["request_id"].is_unique, d
    return d.set_index("request_id")


# --- a hub handling tonnes a day --------------------------------------------------------------


def test_hub_at_600_t_a_day_delays_the_601st_tonne_to_the_next_day():
    """600 t reach the port at day 1 and pass at once; the 601st tonne (at 1.5) waits for day 2."""
    # p1: 600 t sourced at 0, at the port at 1.0, day 1's 600 t: leaves 1.0, delivered 2.0.
    # p2: 1 t at 0.5, at the port at 1.5: day 1 is used up, it leaves at day 2.0, delivered 3.0.
    d = by_request(via_port([package("p1", qty=600), package("p2", at=0.5, qty=1)], {"tonnes_per_day": 600}))
    assert d["delivered_day"].to_dict() == {"p1": 2.0, "p2": 3.0}
    assert d["phase_node_queue_days"].to_dict() == {"p1": 0.0, "p2": 0.5}  # 1.5 -> 2.0


def test_a_lot_bigger_than_a_days_capacity_is_handled_over_several_days():
    """1,300 t at a 600 t/day port: 600 on day 1, 600 on day 2, the last 100 on day 3: leaves at 3."""
    d = by_request(via_port([package("p1", qty=1300)], {"tonnes_per_day": 600}))
    assert d.loc["p1", "delivered_day"] == 4.0  # left the port at day 3.0, one more day of road
    assert d.loc["p1", "phase_node_queue_days"] == 2.0  # 1.0 -> 3.0


def test_without_handling_the_port_takes_no_time():
    """The same 1,300 t with no handling at the port: two days of road only."""
    d = by_request(via_port([package("p1", qty=1300)]))
    assert d.loc["p1", "delivered_day"] == 2.0
    assert d.loc["p1", "phase_node_queue_days"] == 0.0


@pytest.mark.parametrize(
    "priority, expected",
    [
        # U urgent: day 2's 100 t go to U first (leaves 2, delivered 3); R's last 50 t on day 3 (delivered 4).
        ("urgent", {"R": 4.0, "U": 3.0}),
        # U routine: R (asked first) takes its last 50 t of day 2 (delivered 3); U takes day 2's other
        # 50 t and 50 t of day 3 (delivered 4).
        ("routine", {"R": 3.0, "U": 4.0}),
    ],
)
def test_priority_at_a_node_urgent_goods_take_the_next_days_capacity_first(priority, expected):
    """At 100 t/day, R (150 t, routine) takes 100 t of day 1 and waits for 50; U (100 t) waits from 1.5."""
    packages = [package("R", qty=150), package("U", at=0.5, qty=100, priority=priority)]
    d = by_request(via_port(packages, {"tonnes_per_day": 100}))
    assert d["delivered_day"].to_dict() == expected


def test_goods_arriving_at_one_instant_are_handled_by_priority_not_by_event_order():
    """R (routine, asked first) and U (urgent) reach a 100 t/day port together at 1.0, 100 t each: U passes."""
    # Day 1's 100 t go to U (leaves 1.0, delivered 2.0); R waits for day 2 (leaves 2.0, delivered 3.0).
    packages = [package("R", qty=100), package("U", qty=100, priority="urgent")]
    d = by_request(via_port(packages, {"tonnes_per_day": 100}))
    assert d["delivered_day"].to_dict() == {"R": 3.0, "U": 2.0}
    assert d["phase_node_queue_days"].to_dict() == {"R": 1.0, "U": 0.0}


def test_len_r_date_opens_the_nodes_capacity():
    """A node at 0 t/day until 2025-01-11 (day 10), then 100 t/day: goods are held until then, then flow."""
    # p1 (50 t) at the node at 1.0, p2 (150 t) at 1.5: both wait. Day 10: p1's 50 t (leaves 10,
    # delivered 11), then 50 of p2's; day 11: p2's last 100 t (leaves 11, delivered 12).
    handling = {"tonnes_per_day": 0, "changes": [{"from": "2025-01-11", "tonnes_per_day": 100}]}
    res = sim.run(via_port([package("p1", qty=50), package("p2", at=0.5, qty=150)], handling), reps=1, seed=0)
    d = res.deliveries.set_index("request_id")
    assert d["delivered_day"].to_dict() == {"p1": 11.0, "p2": 12.0}
    assert d["phase_node_queue_days"].to_dict() == {"p1": 9.0, "p2": 9.5}
    # Tonnes waiting: 0, 50 from 1.0, 200 from 1.5, 100 from day 10, 0 from day 11.
    q = res.levels[res.levels["series"] == "node_queue:port"]
    assert list(zip(q["day"], q["value"])) == [(0.0, 0.0), (1.0, 50.0), (1.5, 200.0), (10.0, 100.0), (11.0, 0.0)]
    # Time-weighted mean over the 1,000-day horizon: (50 x 0.5 + 200 x 8.5 + 100 x 1) / 1000 = 1.825 t.
    row = res.node_queues().loc["port"]
    assert row["mean_queue_t"] == pytest.approx(1.825, abs=1e-12)
    assert row["peak_queue_t"] == 200.0
    assert row["days_queued"] == pytest.approx(10.0, abs=1e-12)  # 1.0 -> 11.0


def test_a_node_that_never_opens_holds_goods_as_undelivered_rows():
    """At 0 t/day with no change, the lot waits at the node to the horizon: censored there, not dropped."""
    d = by_request(via_port([package("p1", qty=10)], {"tonnes_per_day": 0}))
    assert pd.isna(d.loc["p1", "delivered_day"])
    assert d.loc["p1", "phase_at_horizon"] == "node_queue"
    assert d.loc["p1", "phase_node_queue_days"] == 999.0  # at the node from day 1 to the horizon, 1000


# --- an airfield: aircraft on the ground ------------------------------------------------------


def test_airfield_one_place_on_the_ground_turns_aircraft_one_after_the_other():
    """One place, 3-hour turns (0.125 day): p1 turns 1.0 -> 1.125; p2 (at 1.05) waits, turns 1.125 -> 1.25."""
    d = by_request(
        via_port([package("p1", qty=10), package("p2", at=0.05, qty=10)], {"on_ground": 1, "ground_hours": 3})
    )
    assert d["delivered_day"].to_dict() == {"p1": pytest.approx(2.125), "p2": pytest.approx(2.25)}
    assert d.loc["p2", "phase_node_queue_days"] == pytest.approx(0.075)  # 1.05 -> 1.125
    assert d["phase_node_handling_days"].tolist() == [pytest.approx(0.125)] * 2


def test_airfield_places_open_on_a_date():
    """No place on the ground until day 5, then one: the lot at the airfield from day 1 turns at 5 -> 5.125."""
    handling = {"on_ground": 0, "ground_hours": 3, "changes": [{"from": 5, "on_ground": 1}]}
    d = by_request(via_port([package("p1", qty=10)], handling))
    assert d.loc["p1", "delivered_day"] == pytest.approx(6.125)
    assert d.loc["p1", "phase_node_queue_days"] == pytest.approx(4.0)


# --- NSATU's coordination step ----------------------------------------------------------------


def test_coordination_with_one_server_delays_the_second_request_by_the_firsts_time():
    """5 days a request, one coordinator: p1 0 -> 5, p2 (asked at 1) waits, 5 -> 10; two days of road after."""
    d = by_request(via_port([package("p1"), package("p2", at=1)], coordination={"days": 5, "servers": 1}))
    assert d["delivered_day"].to_dict() == {"p1": 7.0, "p2": 12.0}
    assert d["phase_coordination_days"].to_dict() == {"p1": 5.0, "p2": 9.0}


def test_two_coordinators_match_two_requests_side_by_side():
    d = by_request(via_port([package("p1"), package("p2", at=1)], coordination={"days": 5, "servers": 2}))
    assert d["delivered_day"].to_dict() == {"p1": 7.0, "p2": 8.0}  # 0 -> 5 and 1 -> 6, + 2


def test_coordination_serves_urgent_requests_first():
    """p2 (routine, at 1) and p3 (urgent, at 2) wait behind p1: p3 goes first at 5, p2 at 10."""
    pkgs = [package("p1"), package("p2", at=1), package("p3", at=2, priority="urgent")]
    d = by_request(via_port(pkgs, coordination={"days": 5}))
    assert d["delivered_day"].to_dict() == {"p1": 7.0, "p2": 17.0, "p3": 12.0}


def test_a_request_still_in_coordination_at_the_horizon_is_a_censored_row():
    """100 days a request, horizon 150: p2 (asked at 10) waits from 10, starts at 100, still in it at 150."""
    s = via_port([package("p1"), package("p2", at=10)], coordination={"days": 100}, horizon_days=150)
    d = sim.run(s, reps=1, seed=0).deliveries.set_index("request_id")
    assert d.loc["p1", "delivered_day"] == 102.0
    assert pd.isna(d.loc["p2", "delivered_day"]) and pd.isna(d.loc["p2", "lot_id"])  # a line never sourced
    assert d.loc["p2", "phase_at_horizon"] == "coordination"
    assert d.loc["p2", "phase_coordination_days"] == 140.0  # 10 -> 150


# --- phases, kernels, shipped scenarios ---------------------------------------------------------


def stochastic():
    """Random transit, ground and coordination times, both kinds of node, two priorities, a stream of requests."""
    stream = {
        "interarrival_days": {"dist": "exponential", "mean": 0.5},
        "items": {"shell": {"weight": 1, "qty": {"dist": "uniform", "low": 20, "high": 400}}},
        "priority": {"urgent": 1, "routine": 3},
    }
    legs = {
        "in": {"days": {"dist": "uniform", "low": 0.5, "high": 2}},
        "mid": {"from": "port", "to": "air", "mode": "air", "days": {"dist": "exponential", "mean": 0.3}},
        "out": {"from": "air", "to": "ukraine", "mode": "road", "days": 1},
    }
    return via_port(
        [],
        {"tonnes_per_day": 300, "changes": [{"from": 40, "tonnes_per_day": 500}]},
        requests={"stream": stream},
        horizon_days=120,
        coordination={"days": {"dist": "exponential", "mean": 0.8}, "servers": 2},
        transport={
            "legs": legs,
            "routes": {"via_port": {"legs": ["in", "mid", "out"]}},
            "nodes": {
                "air": {
                    "kind": "airfield",
                    "handling": {"on_ground": 2, "ground_hours": {"dist": "uniform", "low": 2, "high": 4}},
                }
            },
        },
    )


def test_phases_still_add_up_to_the_time_in_system_with_nodes_and_coordination():
    """Every row's phases sum to delivered (or horizon) minus requested; the queues really happen."""
    res = sim.run(stochastic(), reps=3, seed=11)
    d = res.deliveries
    end = d["delivered_day"].fillna(120.0)
    assert (d[PHASE_COLUMNS].sum(axis=1) - (end - d["requested_day"])).abs().max() < 1e-9
    assert (d[PHASE_COLUMNS] >= 0).all().all()
    for col in ("phase_coordination_days", "phase_node_queue_days", "phase_node_handling_days"):
        assert d[col].sum() > 0, col  # at ~400 t a day offered against 300-500 t of capacity, both queue
    assert set(res.node_queues().index) == {"port", "air"}


def test_both_kernels_give_identical_tables_with_nodes_and_coordination():
    s = stochastic()
    fast, ref = sim.run(s, reps=2, seed=3), sim.run(s, reps=2, seed=3, reference=True)
    for name in ("deliveries", "levels", "event_log"):
        pd.testing.assert_frame_equal(getattr(fast, name), getattr(ref, name), check_exact=True)


def test_a_scenario_without_the_new_sections_spends_no_time_in_their_phases():
    # A route through a port without handling, and no coordination section: no time in them.
    transport = {
        "legs": {
            "a": {"from": "plant", "to": "port", "mode": "road", "days": 1},
            "b": {"from": "port", "to": "ukraine", "mode": "road", "days": 1},
        },
        "routes": {"r": {"legs": ["a", "b"]}},
        "choose": [{"origin": "plant", "route": "r"}],
    }
    d = sim.run(build([package("p1", qty=2)], transport=transport), reps=1, seed=0).deliveries
    for col in ("phase_coordination_days", "phase_node_queue_days", "phase_node_handling_days"):
        assert (d[col] == 0).all(), col
    # The shipped base has both (NSATU's step, Rzeszow's throughput): its funded rows spend time there.
    base = sim.run(REPO / "scenarios" / "baseline.yaml", reps=2, seed=0).deliveries
    assert (base["phase_coordination_days"] > 0).any()


# --- bad input --------------------------------------------------------------------------------


def problems(handling=None, **sections):
    """The (path, message) of every problem a MINIMAL-based scenario with port handling gives."""
    with pytest.raises(sim.ScenarioError) as err:
        via_port([package("p1")], handling, **sections)
    return [(p.path, p.message) for p in err.value.problems]


def test_handling_changes_out_of_date_order_are_refused():
    changes = [{"from": "2025-03-01", "tonnes_per_day": 100}, {"from": "2025-02-01", "tonnes_per_day": 200}]
    got = problems({"tonnes_per_day": 0, "changes": changes})
    assert got == [
        ("transport.nodes.port.handling.changes.1.from", "changes must be in date order, each after the last")
    ]


def test_negative_capacity_is_refused():
    got = problems({"tonnes_per_day": -5})
    assert got == [("transport.nodes.port.handling.tonnes_per_day", "must be at least 0 (got -5)")]


@pytest.mark.parametrize(
    "handling, fragment",
    [
        ({"tonnes_per_day": 100, "on_ground": 2, "ground_hours": 3}, "give tonnes_per_day"),
        ({"on_ground": 2}, "on_ground needs ground_hours"),
        ({"tonnes_per_day": 100, "changes": [{"from": 5, "on_ground": 1}]}, "every change gives tonnes_per_day"),
    ],
)
def test_handling_of_two_kinds_at_once_or_half_given_is_refused(handling, fragment):
    (path, message), *rest = problems(handling)
    assert not rest and path == "transport.nodes.port.handling" and fragment in message


def test_handling_where_no_route_passes_between_two_legs_is_refused():
    """Handling at the destination would never apply: refused, not silently ignored."""
    data = deep_merge(
        via_port([package("p1")]).model_dump(by_alias=True),
        {"transport": {"nodes": {"ukraine": {"kind": "destination", "handling": {"tonnes_per_day": 10}}}}},
    )
    with pytest.raises(sim.ScenarioError) as err:
        validate_mapping(data, "<test>")
    assert [(p.path, p.message) for p in err.value.problems] == [
        (
            "transport.nodes.ukraine.handling",
            "no route passes 'ukraine' between two legs: handling there would never apply",
        )
    ]


def test_a_tonnes_node_needs_the_weight_of_every_item_passing_it():
    got = problems({"tonnes_per_day": 100}, items={"shell": {"weight_t": None}})
    assert got == [("items.shell.weight_t", "needed: goods of this item pass 'port', handled in tonnes")]


def test_bad_handling_file_exits_2_with_file_path_and_message():
    """Through the CLI: one `FILE:LINE:COL: path: message` line, exit 2, no traceback (also in the bad corpus)."""
    f = BAD / "handling_changes_out_of_order.yaml"
    res = run_cli("validate", f)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith(str(f)), lines
    assert lines[0].endswith(
        ": transport.nodes.port.handling.changes.1.from: changes must be in date order, each after the last"
    )
