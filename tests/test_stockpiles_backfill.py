"""Allied stockpiles and backfill: min_keep is never crossed, queue disciplines, backfill rows.

Hand-built scenarios with fixed durations, so every expected day below is computed by hand in
the comments. Approval and funding are off and goods are delivered where they start (route
`direct`), so a lot's day is the day its source makes it ready.
"""

from __future__ import annotations

import math

import pytest

import sim
from sim.errors import InvariantError
from sim.model import Model
from sim.scenario.loader import deep_merge, validate_mapping


def scenario(**over):
    """One item `x`, one US line (1 server, 10 days a unit), one ally `de` holding x."""
    base = {
        "start": "2025-01-01",
        "horizon_days": 400,
        "seed": 11,
        "items": {"x": {"name": "X", "unit_cost_musd": 1.0}},
        "requests": {"packages": []},
        "approval": {"enabled": False},
        "funding": {"enabled": False},
        "production": {"x_line": {"item": "x", "node": "plant", "unit_days": 10}},
        "stockpiles": {"de": {"node": "depot_de", "items": {"x": {"on_hand": 5, "min_keep": 0}}}},
        "transport": {
            "destination": "ua",
            "nodes": {"plant": {"kind": "plant"}, "depot_de": {"kind": "depot"}, "ua": {"kind": "destination"}},
            "choose": [{"origin": "plant", "route": "direct"}, {"origin": "depot_de", "route": "direct"}],
        },
        "policy": {
            "sources": ["stockpile", "production"],
            "stockpile_priorities": ["urgent"],
            "backfill": "donors_first",
        },
    }
    return validate_mapping(deep_merge(base, over))


def pkg(pid, at, qty, priority="routine", item="x", **extra):
    return {"id": pid, "at": at, "priority": priority, "lines": [{"item": item, "qty": qty}], **extra}


def run1(sc, reps=1):
    return sim.run(sc, reps=reps, seed=0)


def lots(res, request_id):
    d = res.deliveries
    return d[d["request_id"] == request_id].sort_values("lot_id")


# --- min_keep ---------------------------------------------------------------------------------


def test_donation_takes_only_the_surplus_above_min_keep():
    # on_hand 10, min_keep 7: surplus 3. u1 takes 2 (10 -> 8), u2 can take only 1 more (-> 7) and
    # its second unit goes to production, u3 gets nothing from the stockpile at all.
    sc = scenario(
        stockpiles={"de": {"items": {"x": {"on_hand": 10, "min_keep": 7}}}},
        policy={"backfill": "none"},  # no replacements, so the stock only goes down
        requests={"packages": [pkg("u1", 0, 2, "urgent"), pkg("u2", 1, 2, "urgent"), pkg("u3", 2, 2, "urgent")]},
    )
    res = run1(sc)
    assert list(lots(res, "u1")[["source", "qty"]].itertuples(index=False)) == [("stockpile", 2)]
    assert list(lots(res, "u2")[["source", "qty"]].itertuples(index=False)) == [("stockpile", 1), ("production", 1)]
    assert list(lots(res, "u3")[["source", "qty"]].itertuples(index=False)) == [("production", 2)]
    level = res.levels[res.levels["series"] == "stockpile:de:x"]["value"]
    assert list(level) == [10, 8, 7]  # initial, after u1, after u2: it stops exactly at min_keep


def test_min_keep_holds_under_a_random_stream_with_refills():
    # Urgent requests of 1-6 units every ~5 days draw on a stock of 12 keeping 8, while donors_first
    # refills it every 10 days a unit: the level goes up and down many times; it must never go
    # below 8 and must reach 8 (otherwise the check proves nothing).
    sc = scenario(
        horizon_days=300,
        stockpiles={
            "de": {
                "items": {"x": {"on_hand": 12, "min_keep": 8, "prep_days": {"dist": "uniform", "low": 0, "high": 3}}}
            }
        },
        requests={
            "stream": {
                "interarrival_days": {"dist": "exponential", "mean": 5},
                "priority": {"urgent": 1.0},
                "items": {"x": {"weight": 1, "qty": {"dist": "uniform", "low": 1, "high": 6}}},
            }
        },
    )
    res = run1(sc, reps=10)
    level = res.levels[res.levels["series"] == "stockpile:de:x"]
    assert level["value"].min() == 8
    assert len(res.backfills) > 10 and res.backfills["backfilled_day"].notna().any()
    donated = res.deliveries[res.deliveries["source"] == "stockpile"]
    assert donated["qty"].max() <= 4  # never more than the surplus 12 - 8 in one go


def test_stockpiles_give_refuses_to_cross_min_keep():
    sc = scenario(
        stockpiles={"de": {"items": {"x": {"on_hand": 10, "min_keep": 7}}}}, requests={"packages": [pkg("r", 0, 1)]}
    )
    piles = Model(sc, seed=0, rep=0).stockpiles
    assert piles.surplus("de", "x") == 3
    with pytest.raises(InvariantError):
        piles.give("de", "x", 4)
    piles.give("de", "x", 3)
    assert piles.on_hand[("de", "x")] == 7 and piles.surplus("de", "x") == 0


# --- queue disciplines ------------------------------------------------------------------------


def _discipline_case(discipline):
    # Day 0: routine p0 (no stockpile for routine) takes the only server, days 0-10.
    # Day 1: urgent u is given by `de` at once (prep 0); its backfill is ordered 5 days later, day 6.
    # Day 3: routine p1, a later PURL request, queues at the line on day 3.
    # At day 10 the server is free and both wait: p1 since day 3, the backfill since day 6.
    sc = scenario(
        policy={"backfill": discipline, "backfill_order_delay_days": 5},
        requests={"packages": [pkg("p0", 0, 1), pkg("u", 1, 1, "urgent"), pkg("p1", 3, 1)]},
    )
    return run1(sc)


def test_donors_first_replaces_the_donor_before_a_later_purl_order():
    res = _discipline_case("donors_first")
    bf = res.backfills.iloc[0]
    # Rank 0 beats p1's earlier place: the backfill is made on days 10-20, p1 on days 20-30.
    assert (bf["donor"], bf["item"], bf["qty"]) == ("de", "x", 1)
    assert (bf["donated_day"], bf["ordered_day"], bf["backfilled_day"]) == (1.0, 6.0, 20.0)
    assert bf["backfill_gap_days"] == 19.0
    assert lots(res, "p1")["delivered_day"].item() == 30.0
    assert lots(res, "u")[["source", "donor"]].values.tolist() == [["stockpile", "de"]]


def test_fifo_serves_the_earlier_queued_purl_order_first():
    res = _discipline_case("fifo")
    bf = res.backfills.iloc[0]
    # Same queue, first come first served: p1 (queued day 3) on days 10-20, the backfill 20-30.
    assert lots(res, "p1")["delivered_day"].item() == 20.0
    assert (bf["ordered_day"], bf["backfilled_day"], bf["backfill_gap_days"]) == (6.0, 30.0, 29.0)


@pytest.mark.parametrize("discipline, backfilled", [("donors_first", 20.0), ("fifo", 60.0)])
def test_donors_first_gets_ahead_of_other_customers_order_book(discipline, backfilled):
    # Other customers have 5 units on order at day 0 (10 days each). A donation on day 0 orders
    # its replacement at once. donors_first takes the server when the first unit of the book is
    # done (day 10) and finishes day 20; fifo waits for the whole book (day 50), finishing day 60.
    # (Were the book one 50-day job, donors_first could not get ahead of it: it would be 60 too.)
    sc = scenario(
        production={"x_line": {"other_backlog_units": 5}},
        policy={"backfill": discipline},
        requests={"packages": [pkg("u", 0, 1, "urgent")]},
    )
    assert run1(sc).backfills["backfilled_day"].item() == backfilled


def test_donors_first_still_waits_the_long_lead():
    # The replacement is a new order: 30 days of long lead (day 0 -> 30), then 10 days of work.
    sc = scenario(production={"x_line": {"long_lead_days": 30}}, requests={"packages": [pkg("u", 0, 1, "urgent")]})
    assert run1(sc).backfills["backfilled_day"].item() == 40.0


def test_backfill_from_holds_the_replacement_until_its_production_slot():
    # The donation on day 0 orders its replacement at once, but its slot is day 50: the line is
    # idle until then (p0, made days 0-10, is long gone), so the unit is made days 50-60. A later
    # PURL order p1 (day 20) finds the server free and is made days 20-30, ahead of the backfill:
    # under donors_first too, since the backfill is not yet in the queue.
    sc = scenario(
        stockpiles={"de": {"items": {"x": {"backfill_from": 50}}}},
        requests={"packages": [pkg("u", 0, 1, "urgent"), pkg("p0", 0, 1), pkg("p1", 20, 1)]},
    )
    res = run1(sc)
    bf = res.backfills.iloc[0]
    assert (bf["ordered_day"], bf["backfilled_day"]) == (0.0, 60.0)
    assert lots(res, "p1")["delivered_day"].item() == 30.0


def test_backfill_from_as_a_date_before_the_order_changes_nothing():
    # A slot no later than the order (the start date, day 0) leaves the
    # case of test_donors_first_still_waits_the_long_lead as it was: 30 d lead + 10 d work.
    sc = scenario(
        production={"x_line": {"long_lead_days": 30}},
        stockpiles={"de": {"items": {"x": {"backfill_from": "2025-01-01"}}}},
        requests={"packages": [pkg("u", 0, 1, "urgent")]},
    )
    assert run1(sc).backfills["backfilled_day"].item() == 40.0


def test_empty_donors_list_means_only_named_packages_draw_on_stockpiles():
    # donors: [] -> no ally gives unasked: the urgent u goes to production, while g, naming
    # `de` as its donor, is given from its stock.
    sc = scenario(
        policy={"donors": []},
        requests={"packages": [pkg("u", 0, 1, "urgent"), pkg("g", 0, 1, "urgent", donor="de")]},
    )
    res = run1(sc)
    assert lots(res, "u")["source"].tolist() == ["production"]
    assert lots(res, "g")[["source", "donor"]].values.tolist() == [["stockpile", "de"]]


# --- backfill rows ----------------------------------------------------------------------------


def test_backfill_none_records_the_donation_with_its_gap_open():
    sc = scenario(
        policy={"backfill": "none"},
        horizon_days=100,
        stockpiles={"de": {"items": {"x": {"prep_days": 4}}}},
        requests={"packages": [pkg("u", 0, 2, "urgent")]},
    )
    res = run1(sc)
    bf = res.backfills.iloc[0]
    assert bf["donated_day"] == 4.0 and math.isnan(bf["ordered_day"]) and math.isnan(bf["backfilled_day"])
    assert "backfill_ordered" not in set(res.events["kind"])
    summary = res.backfill_summary().loc[("de", "x")]
    # Open at the horizon: censored, its gap at least 100 - 0 = 100 days from the decision on day 0
    # (the hand-over on day 4 does not start it), and its median gap never reached.
    assert summary["replaced_share"] == 0 and summary["open"] == 1 and summary["open_gap_min_days"] == 100.0
    assert summary["gap_p50"] == math.inf and bf["decided_day"] == 0.0 and math.isnan(bf["backfill_gap_days"])
    assert res.levels[res.levels["series"] == "stockpile:de:x"]["value"].iloc[-1] == 3  # never refilled


def test_backfill_refills_the_donor_and_names_its_payers():
    # Norway pays half of Germany's replacements (as in 2025); the donor pays the rest.
    sc = scenario(
        stockpiles={"de": {"backfill_paid_by": {"no": 0.5}}}, requests={"packages": [pkg("u", 0, 2, "urgent")]}
    )
    res = run1(sc)
    bf = res.backfills.iloc[0]
    assert bf["paid_by"] == "de:0.50;no:0.50"
    assert (bf["request_id"], bf["lot_id"]) == ("u", lots(res, "u")["lot_id"].item())
    # 2 units at 10 days each from day 0: the donor is back to 5 on day 20.
    level = res.levels[res.levels["series"] == "stockpile:de:x"]
    assert level[["day", "value"]].values.tolist() == [[0.0, 5], [0.0, 3], [20.0, 5]]
    full = scenario(
        stockpiles={"de": {"backfill_paid_by": {"no": 1.0}}}, requests={"packages": [pkg("u", 0, 1, "urgent")]}
    )
    assert run1(full).backfills["paid_by"].item() == "no:1.00"


def test_gap_counts_from_the_decision_and_from_hand_over_is_never_negative():
    # Prep 30 days: decided on day 0, handed over on day 30. The replacement is finished on day
    # 10: the donor's stock was short from day 0 to day 10 (the gap), but once the goods had left
    # it was never short, so the hand-over gap is 0, not -20.
    sc = scenario(
        stockpiles={"de": {"items": {"x": {"prep_days": 30}}}}, requests={"packages": [pkg("u", 0, 1, "urgent")]}
    )
    bf = run1(sc).backfills.iloc[0]
    assert (bf["decided_day"], bf["donated_day"], bf["backfilled_day"]) == (0.0, 30.0, 10.0)
    assert (bf["backfill_gap_days"], bf["handover_gap_days"]) == (10.0, 0.0)


def test_backfill_summary_reports_gap_per_donor_and_item():
    res = sim.run(_discipline_case("donors_first").scenario, reps=3, seed=0)
    summary = res.backfill_summary()
    row = summary.loc[("de", "x")]
    # Fixed durations: every replication has the gap of 19 days worked out above.
    assert row["donations"] == 1 and row["replaced_share"] == 1 and row["replaced_gap_mean"] == pytest.approx(19.0)
    assert row["gap_p50"] == pytest.approx(19.0) and row["handover_gap_mean"] == pytest.approx(19.0)  # prep 0
    assert row["open"] == 0
