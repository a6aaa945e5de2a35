"""Production as it really works: shipments as units are made, rates that act on work in progress,
line priorities, other customers' book ahead of PURL with any number of servers, and the rate plan.

Built on conftest.MINIMAL (item `shell`, line `line` at `plant`, delivered where made, route
`direct`, start 2025-01-01), with the line's speed and shipments set per test. Expected days are
worked out by hand in the comments.
"""

from __future__ import annotations

import pytest
from conftest import build, package

import sim
from sim.model.line_rate import RatePlan


def rows(scenario, **kw):
    """Deliveries of one replication, in shipment order."""
    d = sim.run(scenario, reps=1, seed=0, **kw).deliveries
    return d.sort_values(["request_id", "ready_day"]).reset_index(drop=True)


def line(**over):
    """The MINIMAL line with `over` replacing its rate or shipments (one shipment rule at a time)."""
    shipments = {"whole_order": False, **over.pop("shipments", {})}  # merged over MINIMAL's whole orders
    spec = {"rate_per_month": None, "unit_days": None, "shipments": shipments, **over}
    return {"production": {"line": spec}}


# --- shipments as units are made -----------------------------------------------------------------


def test_a_125_unit_order_at_2_a_day_ships_monthly_not_after_63_days():
    """2 a day = 0.5 d a unit: 125 units take 62.5 days. Monthly batches: 60 units at day 30,
    60 more at day 60, the last 5 at 62.5 (a whole order would wait until 62.5 for all 125)."""
    d = rows(build([package("p1", qty=125)], **line(rate_per_month=60)))
    assert list(zip(d["qty"], d["ready_day"])) == [(60, 30.0), (60, 60.0), (5, 62.5)]
    assert d["lot_id"].nunique() == 1 and d["shipment_id"].is_unique  # one lot, three shipments
    assert d["delivered_day"].max() == 62.5


def test_every_n_units_and_whole_orders():
    """Every 50 units at 0.5 d a unit: 50 at day 25, 50 at 50, 25 at 62.5; whole: 125 at 62.5."""
    by_units = rows(build([package("p1", qty=125)], **line(rate_per_month=60, shipments={"every_units": 50})))
    assert list(zip(by_units["qty"], by_units["ready_day"])) == [(50, 25.0), (50, 50.0), (25, 62.5)]
    whole = rows(build([package("p1", qty=125)], **line(rate_per_month=60, shipments={"whole_order": True})))
    assert list(zip(whole["qty"], whole["ready_day"])) == [(125, 62.5)]


def test_a_request_closes_when_its_last_shipment_arrives():
    """The request of 125 closes at 62.5, the day of its last shipment, though 120 units came earlier."""
    from sim.metrics.observations import request_observations

    s = build([package("p1", qty=125)], **line(rate_per_month=60))
    res = sim.run(s, reps=1, seed=0)
    obs = request_observations(res.deliveries, s)
    closed = obs[(obs["what"] == "request") & (obs["request_id"] == "p1")]
    assert closed["time"].tolist() == [62.5] and closed["delivered"].tolist() == [True]


def test_a_ramp_mid_order_speeds_up_the_remaining_units():
    """1 a day (30/month), 60 units from day 0; at day 20 the rate doubles to 2 a day.

    By day 20, 20 units are made; the other 40 take 20 days: done at 40 (60 without the ramp).
    Monthly batches: day 30 has 20 + 10 x 2 = 40 units made (shipped), the last 20 at day 40.
    """
    ramp = [{"at": 20, "rate_per_month": 60}]
    d = rows(build([package("p1", qty=60)], **line(rate_per_month=30, ramps=ramp)))
    assert list(zip(d["qty"], d["ready_day"])) == [(40, 30.0), (20, 40.0)]


def test_a_capacity_change_of_the_rate_acts_on_work_in_progress():
    """The same speed-up given as a capacity-change disruption on day 20 gives the same shipments."""
    change = [{"kind": "capacity", "scope": "line:line", "at": 20, "rate_per_month": 60}]
    d = rows(build([package("p1", qty=60)], **line(rate_per_month=30), disruptions=change))
    assert list(zip(d["qty"], d["ready_day"])) == [(40, 30.0), (20, 40.0)]


def test_every_shipment_is_a_row_whose_phases_add_up():
    """Each shipment's phases add up to its own time in system (the invariants check every row too)."""
    d = rows(build([package("p1", qty=125)], **line(rate_per_month=60)))
    phases = d.filter(like="phase_").select_dtypes("number").sum(axis=1)
    assert phases.tolist() == pytest.approx((d["delivered_day"] - d["requested_day"]).tolist())
    assert d["phase_manufacture_days"].tolist() == [30.0, 60.0, 62.5]


# --- line priorities -------------------------------------------------------------------------------


def _queued_urgent(priority: str):
    """p0 (routine, 30 units) holds the one server 0 -> 90; r1 routine at day 1, u2 urgent at day 2."""
    pkgs = [
        package("p0", at=0, qty=30, priority="routine"),
        package("r1", at=1, qty=10, priority="routine"),
        package("u2", at=2, qty=10, priority="urgent"),
    ]
    d = rows(build(pkgs, policy={"line_priority": priority}))  # MINIMAL: whole orders, 3 d a unit
    return dict(zip(d["request_id"], d["delivered_day"]))


def test_urgent_first_lets_an_urgent_order_pass_a_routine_one_waiting_at_the_line():
    """urgent_first: u2 starts at 90 (done 120), r1 after it (150); fifo: r1 first (120), u2 150."""
    assert _queued_urgent("urgent_first") == {"p0": 90, "r1": 150, "u2": 120}
    assert _queued_urgent("fifo") == {"p0": 90, "r1": 120, "u2": 150}


def test_urgent_first_never_interrupts_the_order_in_progress():
    """p0 (routine) started at day 0 finishes at 90 under either priority."""
    assert _queued_urgent("urgent_first")["p0"] == 90


# --- other customers' book -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "servers, expected",
    [
        # 1 server, book of 30 units at 3 d: it runs 0 -> 90; the PURL order of 10 then: 90 + 30 = 120.
        (1, 120),
        # 3 servers, book of 90 units (30 one-unit orders... split as 90 orders of 1): the three servers
        # work it off together, 90 units x 3 d / 3 servers = 90 days; PURL starts at 90: 90 + 30 = 120.
        (3, 120),
    ],
)
def test_other_customers_book_stays_ahead_of_purl_with_any_number_of_servers(servers, expected):
    book = 30 * servers
    s = build(
        [package("p1", at=0, qty=10)],
        production={"line": {"servers": servers, "other_backlog_units": book}},
    )
    d = rows(s)
    assert d["delivered_day"].tolist() == [expected]


def test_a_donors_first_backfill_still_gets_ahead_of_the_unstarted_book():
    """The book's standing claim is rank 1: a rank-0 backfill queued later takes the next free server."""
    from sim.model import Model

    s = build(
        [package("p1", at=0, qty=1, priority="urgent")],
        production={"line": {"other_backlog_units": 30}},
        stockpiles={"de": {"node": "depot", "items": {"shell": {"on_hand": 5}}}},
        policy={"sources": ["stockpile", "production"], "backfill": "donors_first"},
    )
    model = Model(s, seed=0, rep=0)
    tables = model.run()
    # The book: 30 one-unit orders of 3 d; the donation at day 0 orders its replacement at day 0;
    # the first book order runs 0 -> 3, then the backfill (rank 0) takes the server: 3 -> 6.
    assert list(tables["backfills"]["backfilled_day"]) == [6.0]


# --- the rate plan, by hand --------------------------------------------------------------------------


def test_rate_plan_integrates_piecewise():
    """3 d a unit, from day 10 1 d a unit, half the output diverted over [20, 30)."""
    plan = RatePlan(3.0, 1.0)
    plan.set_rate(10, 1.0)
    plan.divert(20, 30, 0.5)
    assert plan.unit_at(0) == 3.0 and plan.unit_at(15) == 1.0 and plan.unit_at(25) == 2.0 and plan.unit_at(30) == 1.0
    # From 0: 10/3 units by day 10, 10 more by 20, 5 more by 30 (at 2 d a unit).
    assert plan.made(0, 30) == pytest.approx(10 / 3 + 10 + 5)
    # 20 units from day 0: 10/3 by 10, then 10 by 20 (13.33), then 5 by 30 (18.33), then 1.67 more: 31.67.
    assert plan.finish(0, 20) == pytest.approx(30 + (20 - 10 / 3 - 15))
    stretch = RatePlan(3.0, 2.0)  # half the output to other customers: 6 d a PURL unit
    assert stretch.finish(0, 5) == 30.0


# --- money that follows the goods --------------------------------------------------------------------


def test_a_donation_leaves_the_nato_account_untouched():
    """100 $M in the account; an urgent request for 5 shells (1 $M each) donated by `de` (surplus 5).

    The request is funded at day 0 (100 -> 95) and sourced at once from the donation, whose value
    goes back (95 -> 100): the account ends where it began. A second request of 5, made by the
    line, is paid for: 100 -> 95.
    """
    s = build(
        [package("p1", qty=5, priority="urgent"), package("p2", at=1, qty=5, priority="routine")],
        funding={"enabled": True, "initial_musd": 100},
        stockpiles={"de": {"node": "depot", "items": {"shell": {"on_hand": 5}}}},
        policy={"sources": ["stockpile", "production"]},
    )
    res = sim.run(s, reps=1, seed=0)
    led = res.ledger
    assert list(zip(led["day"], led["amount_musd"], led["who"], led["why"], led["request_id"])) == [
        (0.0, -5.0, "nato_purl", "withdrawal", "p1"),
        (0.0, 5.0, "de", "donated_value", "p1"),
        (1.0, -5.0, "nato_purl", "withdrawal", "p2"),
    ]
    assert led["balance_musd"].tolist() == [95.0, 100.0, 95.0]
    bal = res.levels[res.levels["series"] == "account:nato_purl"]
    assert bal["value"].iloc[-1] == 95.0 and led["balance_musd"].iloc[-1] == bal["value"].iloc[-1]


# --- the availability check ---------------------------------------------------------------------------


def _checked(otherwise: str, window: float = 60):
    """US stock 10 (floor 0); the line makes 3 d a unit (MINIMAL). a: 10 units at day 0; b: 30 at day 1."""
    return build(
        [package("a", qty=10), package("b", at=1, qty=30)],
        us_stock={"node": "depot", "items": {"shell": {"on_hand": 10}}},
        approval={"enabled": True, "delay_days": 0, "availability": {"window_days": window, "otherwise": otherwise}},
    )


def test_a_line_the_us_cannot_supply_in_the_window_is_not_offered():
    """a (day 0, 10 units): US stock 10 covers it, offered, sold from stock (delivered day 0).
    b (day 1, 30): stock is 0 by then; the line, idle, would take 30 x 3 = 90 d > 60: not offered,
    a censored row of source not_offered, in phase not_offered from day 1 to the horizon (1000)."""
    res = sim.run(_checked("not_offered"), reps=1, seed=0)
    d = res.deliveries.set_index("request_id")
    assert d.loc["a", "source"] == "us_stock" and d.loc["a", "delivered_day"] == 0
    b = d.loc["b"]
    assert b["source"] == "not_offered" and b["qty"] == 30 and b["delivered_day"] != b["delivered_day"]
    assert b["phase_not_offered_days"] == 999 and b["phase_at_horizon"] == "not_offered"
    why = res.event_log[res.event_log["kind"] == "not_offered"]["where"].tolist()
    assert why == ["a US line would take about 90 d for 30 units (window 60 d)"]


def test_a_window_long_enough_offers_the_line():
    """With a 90-day window the same line passes (90 <= 90): made 1 -> 91, shipped whole."""
    d = sim.run(_checked("not_offered", window=90), reps=1, seed=0).deliveries.set_index("request_id")
    assert d.loc["b", "source"] == "production" and d.loc["b", "delivered_day"] == 91


def test_a_deferred_request_is_checked_again_until_it_passes():
    """defer, window 60: b is rechecked every 30 days; the line stays idle, so it never passes:
    b stays in approval to the horizon, never funded, and a `deferred` event is logged each check."""
    res = sim.run(_checked("defer"), reps=1, seed=0)
    d = res.deliveries.set_index("request_id")
    assert d.loc["b", "phase_at_horizon"] == "approval"
    deferred = res.event_log[res.event_log["kind"] == "deferred"]
    assert deferred["day"].tolist()[:3] == [1.0, 31.0, 61.0] and len(deferred) == 34  # days 1, 31, ..., 991


# --- diversions of a line's output ----------------------------------------------------------------------


def test_a_line_diversion_takes_exactly_its_share_of_the_output():
    """10 a month (3 d a unit), 30 units from day 0; half the output diverted over [0, 30).

    In the window PURL gets 5 units (6 d each) instead of 10; the other 25 take 75 d: done at 105,
    not 90. Monthly shipments: 5 at day 30, 10 at 60, 10 at 90, 5 at 105.
    """
    div = [{"kind": "line_diversion", "scope": "line:line", "start": 0, "end": 30, "share": 0.5}]
    d = rows(build([package("p1", qty=30)], **line(rate_per_month=10), disruptions=div))
    assert list(zip(d["qty"], d["ready_day"])) == [(5, 30.0), (10, 60.0), (10, 90.0), (5, 105.0)]


def test_a_line_diversion_names_a_line():
    from sim.errors import ScenarioError

    with pytest.raises(ScenarioError, match="scope names unknown line 'nope'"):
        build(
            [package("p1")],
            disruptions=[{"kind": "line_diversion", "scope": "line:nope", "start": 0, "end": 9, "share": 0.5}],
        )


# --- Ukraine's side ------------------------------------------------------------------------------------


def _ukraine(**use):
    """Ukraine holds 10 shells and uses 1 a day; 30 are asked at day 0, made whole at day 90 (3 d a unit)."""
    spec = {"on_hand": 10, "per_day": 1, **use}
    return build([package("p1", qty=30)], ukraine={"items": {"shell": spec}})


def test_ukraine_runs_out_and_is_refilled_by_deliveries():
    """10 last to day 10; empty 10 -> 90 (80 days); 30 arrive at 90 and last to 120; empty 120 -> 1000
    (the horizon: 880 days, ongoing). Use over the run 1,000, unmet 80 + 880 = 960: 4% met."""
    res = sim.run(_ukraine(), reps=1, seed=0)
    spells = res.ukraine_stockouts()
    assert list(zip(spells["start_day"], spells["end_day"], spells["ongoing"])) == [(10, 90, False), (120, 1000, True)]
    summary = res.ukraine_summary(window=(0, 100)).loc["shell"]
    assert summary["days_at_zero"] == 80 and summary["p_stockout"] == 1.0
    assert summary["use_met"] == pytest.approx(0.04)
    stock = res.levels[res.levels["series"] == "ukraine:shell"]
    assert list(zip(stock["day"], stock["value"])) == [(0, 10), (10, 0), (90, 0), (90, 30), (120, 0), (1000, 0)]


def test_a_surge_empties_the_stock_sooner():
    """A surge of 1 more a day over [0, 5): 2 a day, so the 10 are gone at day 5, not 10."""
    res = sim.run(_ukraine(surges=[{"start": 0, "end": 5, "per_day": 1}]), reps=1, seed=0)
    assert res.ukraine_stockouts()["start_day"].tolist()[0] == 5


def test_the_chance_of_a_stockout_has_an_exact_interval():
    """0 of 20 replications without a stockout... here all 20 have one: Clopper-Pearson [0.8316, 1]."""
    res = sim.run(_ukraine(), reps=20, seed=0)
    s = res.ukraine_summary(window=(0, 100)).loc["shell"]
    assert s["p_stockout"] == 1.0 and s["p_stockout_hi"] == 1.0
    assert s["p_stockout_lo"] == pytest.approx(0.025 ** (1 / 20), abs=1e-4)  # (alpha/2)^(1/n) = 0.8316
