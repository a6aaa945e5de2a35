"""Sourcing policy: source order, stockpile priorities, donor choice, split, named donors.

Three allies hold item `x` with different surpluses and routes, so each donor-choice rule has
one right answer: a (surplus 2, road 5 days), b (surplus 6, road 9 days), c (surplus 4, road
1 day). Durations are fixed, approval and funding off.
"""

from __future__ import annotations

import pandas as pd
import pytest

import sim
from sim.scenario.loader import deep_merge, validate_mapping


def scenario(**over):
    """Allies a, b, c in that order; US stock of 3 above its floor; a US line for x."""
    allies = {"a": (2, 5), "b": (6, 9), "c": (4, 1)}  # surplus, road days to Ukraine
    base = {
        "start": "2025-01-01",
        "horizon_days": 400,
        "items": {"x": {"name": "X", "unit_cost_musd": 1.0}},
        "requests": {"packages": []},
        "approval": {"enabled": False},
        "funding": {"enabled": False},
        "us_stock": {"node": "us_depot", "items": {"x": {"on_hand": 5, "reserve_floor": 2}}},
        "production": {"x_line": {"item": "x", "node": "plant", "unit_days": 10, "shipments": {"whole_order": True}}},
        "stockpiles": {
            a: {"node": f"depot_{a}", "items": {"x": {"on_hand": 10 + s, "min_keep": 10}}}
            for a, (s, _) in allies.items()
        },
        "transport": {
            "destination": "ua",
            "nodes": {
                "plant": {"kind": "plant"},
                "us_depot": {"kind": "depot"},
                "ua": {"kind": "destination"},
                **{f"depot_{a}": {"kind": "depot"} for a in allies},
            },
            "legs": {
                f"road_{a}": {"from": f"depot_{a}", "to": "ua", "mode": "road", "days": d}
                for a, (_, d) in allies.items()
            },
            "routes": {f"r_{a}": {"legs": [f"road_{a}"]} for a in allies},
            "choose": [
                {"origin": "plant", "route": "direct"},
                {"origin": "us_depot", "route": "direct"},
                *({"origin": f"depot_{a}", "route": f"r_{a}"} for a in allies),
            ],
        },
        "policy": {
            "sources": ["stockpile", "us_stock", "production"],
            "stockpile_priorities": ["urgent"],
            "backfill": "none",
        },
    }
    return validate_mapping(deep_merge(base, over))


def sourced(qty, priority="urgent", **over):
    """The (source, donor, qty) lots of one request of `qty` x on day 0, in lot order (donor "" where it is NA)."""
    pk = {"id": "r", "at": 0, "priority": priority, "lines": [{"item": "x", "qty": qty}]}
    pk.update(over.pop("package", {}))
    sc = scenario(requests={"packages": [pk]}, **over)
    d = sim.run(sc, reps=1, seed=0).deliveries.sort_values("lot_id")
    assert (d["donor"].notna() == (d["source"] == "stockpile")).all()  # only a donation has a donor
    return [(s, "" if pd.isna(dn) else dn, q) for s, dn, q in d[["source", "donor", "qty"]].itertuples(index=False)]


@pytest.mark.parametrize(
    "choice, donor",
    [
        ("listed_order", "a"),  # first in the stockpiles order
        ("most_surplus", "b"),  # surplus 6 beats 4 and 2
        ("fastest_route", "c"),  # 1 day of road beats 5 and 9
    ],
)
def test_donor_choice_picks_the_expected_donor(choice, donor):
    assert sourced(1, policy={"donor_choice": choice}) == [("stockpile", donor, 1)]


def test_listed_order_follows_policy_donors_and_only_those():
    # policy.donors [c, a]: c first; b, not listed, never gives even when the others run out:
    # 7 units = c 4 + a 2, then US stock 1.
    assert sourced(1, policy={"donors": ["c", "a"]}) == [("stockpile", "c", 1)]
    assert sourced(7, policy={"donors": ["c", "a"]}) == [
        ("stockpile", "c", 4),
        ("stockpile", "a", 2),
        ("us_stock", "", 1),
    ]


def test_fastest_route_delivers_in_the_route_time():
    # Donor c, prep 0, 1 day of road: delivered on day 1.
    sc = scenario(
        policy={"donor_choice": "fastest_route"},
        requests={"packages": [{"id": "r", "at": 0, "priority": "urgent", "lines": [{"item": "x", "qty": 1}]}]},
    )
    d = sim.run(sc, reps=1, seed=0).deliveries
    assert d[["donor", "route", "delivered_day"]].values.tolist() == [["c", "r_c", 1.0]]


def test_split_takes_what_each_donor_and_source_can_give():
    # 5 units, listed order: a gives its 2, b the other 3.
    assert sourced(5) == [("stockpile", "a", 2), ("stockpile", "b", 3)]
    # 15 units: a 2 + b 6 + c 4 = 12 from stockpiles, US stock 3 (5 on hand, floor 2): nothing left.
    assert sourced(15) == [("stockpile", "a", 2), ("stockpile", "b", 6), ("stockpile", "c", 4), ("us_stock", "", 3)]


def test_no_split_keeps_a_line_whole():
    # 5 units: a (2) cannot cover it alone, b (6) can: all 5 from b, one lot.
    assert sourced(5, policy={"split": False}) == [("stockpile", "b", 5)]
    # 7 units: no donor and not the US stock (3) can cover it alone; production always can.
    assert sourced(7, policy={"split": False}) == [("production", "", 7)]
    # The same without stockpiles: US stock 3 cannot take 4 whole, split would give 3 + 1.
    us_first = {"sources": ["us_stock", "production"]}
    assert sourced(4, policy={**us_first, "split": False}) == [("production", "", 4)]
    assert sourced(4, policy=us_first) == [("us_stock", "", 3), ("production", "", 1)]


def test_stockpiles_only_for_the_allowed_priorities():
    # Routine requests skip the stockpiles under stockpile_priorities [urgent].
    assert sourced(1, priority="routine") == [("us_stock", "", 1)]
    assert sourced(1, priority="routine", policy={"stockpile_priorities": ["urgent", "routine"]}) == [
        ("stockpile", "a", 1)
    ]


def test_source_order_is_the_policys():
    assert sourced(1, policy={"sources": ["us_stock", "stockpile", "production"]}) == [("us_stock", "", 1)]
    assert sourced(1, policy={"sources": ["production", "us_stock"]}) == [("production", "", 1)]


def test_a_named_donor_gives_whatever_the_priority_and_choice():
    # Routine, most_surplus would pick b, listed order a: the package names c, so c gives; what
    # c cannot cover (6 - 4) goes to the next sources, not to the other donors.
    named = {"package": {"donor": "c"}, "policy": {"donor_choice": "most_surplus"}}
    assert sourced(1, priority="routine", **named) == [("stockpile", "c", 1)]
    assert sourced(6, priority="routine", **named) == [("stockpile", "c", 4), ("us_stock", "", 2)]


def test_no_stockpile_source_means_no_donation_even_for_a_named_donor():
    # The factory-only counterfactual: without `stockpile` among the sources nobody donates.
    assert sourced(1, package={"donor": "c"}, policy={"sources": ["us_stock", "production"]}) == [("us_stock", "", 1)]


def test_what_no_source_can_supply_stays_as_an_undelivered_row():
    sc = scenario(
        policy={"sources": ["us_stock"]},
        requests={"packages": [{"id": "r", "at": 0, "lines": [{"item": "x", "qty": 5}]}]},
    )
    d = sim.run(sc, reps=1, seed=0).deliveries.sort_values("lot_id")
    assert d[["source", "qty"]].values.tolist() == [["us_stock", 3], ["unsourced", 2]]
    assert d["delivered_day"].isna().tolist() == [False, True]
