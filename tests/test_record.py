"""A scenario's `record:` targets, measured per replication and scored (sim.metrics.record).

A hand-built scenario with fixed durations: one item `x` ($2M a unit), one US line with one
server making a unit in 10 days, goods delivered where they are made (route `direct`), two
one-unit packages on day 0. p1 is made days 0-10 and p2 days 10-20, so every figure below is
computed by hand in the comments; one replication suffices (nothing is random) and two show
that the per-replication values are averaged.
"""

from __future__ import annotations

import math

import pytest

import sim
from sim.errors import ScenarioError
from sim.scenario.loader import deep_merge, validate_mapping


def scenario(record, **over):
    base = {
        "start": "2025-01-01",
        "horizon_days": 40,
        "items": {"x": {"name": "X", "unit_cost_musd": 2.0}},
        "requests": {
            "packages": [
                {"id": "p1", "at": 0, "lines": [{"item": "x", "qty": 1}]},
                {"id": "p2", "at": 0, "lines": [{"item": "x", "qty": 1}]},
            ]
        },
        "approval": {"enabled": False},
        "funding": {"enabled": False},
        "production": {"x_line": {"item": "x", "node": "plant", "unit_days": 10, "shipments": {"whole_order": True}}},
        "transport": {
            "destination": "ua",
            "nodes": {"plant": {"kind": "plant"}, "ua": {"kind": "destination"}},
            "choose": [{"origin": "plant", "route": "direct"}],
        },
        "policy": {"sources": ["production"]},
        # Ukraine starts with none and uses 0.1 a day: at zero on days 0-10, then the unit of p1
        # lasts 10 days, and p2 arrives on day 20 just as it runs out.
        "ukraine": {"items": {"x": {"on_hand": 0, "per_day": 0.1}}},
        "record": record,
    }
    return validate_mapping(deep_merge(base, over))


def target(kind, **kw):
    return {"kind": kind, "source": "S", **kw}


def test_each_kind_measures_what_it_says():
    sc = scenario(
        {
            "first": target("first_arrival", **{"from": 0}, observed=10, band=[8, 12]),
            "last": target("closed", requests=["p1", "p2"], **{"from": 0}, at_most=15),
            "p2_from_5": target("closed", requests=["p2"], **{"from": 5}, observed=15),
            "shipped_15": target("value_shipped", by=15, at_least=4),
            "delivered_25": target("value_delivered", by=25, at_least=4),
            "zero_days": target("stockout_days", items=["x"], **{"from": 0}, by=15, at_least=1),
        }
    )
    rec = sim.run(sc, reps=2, seed=0).record()
    m = rec["model_mean"]
    assert m["first"] == 10.0 and m["last"] == 20.0 and m["p2_from_5"] == 15.0
    assert m["shipped_15"] == 2.0  # only p1 ($2M) has left by day 15
    assert m["delivered_25"] == 4.0
    assert m["zero_days"] == pytest.approx(10.0)  # days 0-10 of the window [0, 15)
    # Scored: 10 in its band; 20 > 15 fails the bound in every replication; a point with no
    # band matches when the interval (here of zero width) holds it; $2M < $4M fails.
    assert rec["met"].to_dict() == {
        "first": True,
        "last": False,
        "p2_from_5": True,
        "shipped_15": False,
        "delivered_25": True,
        "zero_days": True,
    }
    assert rec.loc["last", "share_consistent"] == 0.0 and rec.loc["first", "share_consistent"] == 1.0
    assert rec.loc["shipped_15", "record"] == ">= 4 $M" and rec.loc["first", "unit"] == "days"


def test_an_event_not_reached_by_the_horizon_is_censored_not_dropped():
    # Horizon 15: p2 is still being made. Its closing day enters as the horizon (15 days, a lower
    # bound), the row says so, and an upper bound cannot be judged met on a lower bound.
    sc = scenario({"last": target("closed", **{"from": 0}, at_most=16)}, horizon_days=15)
    row = sim.run(sc, reps=1, seed=0).record().loc["last"]
    assert row["model_mean"] == 15.0 and row["censored_reps"] == 1
    assert not row["met"]
    assert not math.isnan(row["model_p90"])


@pytest.mark.parametrize(
    "record, where, words",
    [
        ({"t": target("closed", observed=3)}, "record.t", "give `from`"),
        ({"t": target("value_shipped", observed=3)}, "record.t", "give `by`"),
        ({"t": target("closed", **{"from": 0})}, "record.t", "give what was observed"),
        ({"t": target("closed", requests=["nope"], **{"from": 0}, observed=1)}, "record.t.requests.0", "not defined"),
        ({"t": target("stockout_days", items=["x", "x"], **{"from": 0}, by=3, at_least=1)}, "record.t", "one item"),
        ({"t": target("closed", **{"from": 0}, observed=1, band=[3, 2])}, "record.t", "low <= high"),
    ],
)
def test_bad_targets_are_refused_with_their_path(record, where, words):
    with pytest.raises(ScenarioError) as err:
        scenario(record)
    problems = err.value.problems
    assert any(p.path.startswith(where) and words in p.message for p in problems), problems
