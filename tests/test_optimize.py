"""Optimisation (sim.optimize): the known optimum of a constructed case, under a donor-gap limit.

The case, nothing random: one item `x`, one US line (1 server, 10 days a unit), an ally `de`
holding 5 of x and keeping `min_keep` M (the knob, 0..5), five urgent one-unit packages on day 0,
goods delivered where they start (route `direct`). The ally gives 5 - M units at once (delivered
on day 0), and their 5 - M replacements are ordered at that instant; the other M units go to
the line, ordered at the same instant. Ties at one instant go by priority, then request order:
donors first puts the replacements ahead, so the line makes them on days 10, 20, ...,
10 (5 - M), and PURL's M units after them, up to day 50. So, by hand:

    M                     0    1    2    3    4    5
    PURL units' days      0    0,0,0,0,50   0,0,0,40,50   0,0,30,40,50   0,20,30,40,50   10..50
    mean time, d          0   10   18   24   28   30   (every unit counts; all within tau)
    donor's mean gap, d  30   25   20   15   10    0   (replacements at 10..50 / 10..40 / ...; none: 0)

Under "donor's mean gap <= 17 d" only M = 3, 4 and 5 are feasible and the optimum is M = 3
(24 d); without the constraint it is M = 0. With the gap as a second objective every point is
on the Pareto front (each unit kept trades 5 d of the donor's gap for PURL time); with the money
spent instead (nothing is bought here: 0 for every point) M = 0 dominates the rest. One
replication suffices: nothing is random.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
import yaml

import sim

SCENARIO = {
    "start": "2025-01-01",
    "horizon_days": 400,
    "items": {"x": {"name": "X", "unit_cost_musd": 1.0}},
    "requests": {
        "packages": [
            {"id": f"p{k}", "at": 0, "priority": "urgent", "lines": [{"item": "x", "qty": 1}]} for k in range(5)
        ]
    },
    "approval": {"enabled": False},
    "funding": {"enabled": False},
    "production": {"x_line": {"item": "x", "node": "plant", "unit_days": 10, "shipments": {"whole_order": True}}},
    "stockpiles": {"de": {"node": "depot", "items": {"x": {"on_hand": 5, "min_keep": 0}}}},
    "transport": {
        "destination": "ua",
        "nodes": {"plant": {"kind": "plant"}, "depot": {"kind": "depot"}, "ua": {"kind": "destination"}},
        "choose": [{"origin": "plant", "route": "direct"}, {"origin": "depot", "route": "direct"}],
    },
    "policy": {"sources": ["stockpile", "production"], "stockpile_priorities": ["urgent"], "backfill": "donors_first"},
}
KNOB = {"keep": {"path": "stockpiles.de.items.x.min_keep", "range": {"low": 0, "high": 5, "step": 1}}}


@pytest.fixture
def files(tmp_path):
    sc, space = tmp_path / "case.yaml", tmp_path / "space.yaml"
    sc.write_text(yaml.safe_dump(SCENARIO))
    space.write_text(
        yaml.safe_dump(
            {
                "knobs": KNOB,
                "objective": {"metric": "rmst", "item": "x"},
                "constraints": [{"metric": "donor_gap", "at_most": 17}],
            }
        )
    )
    return sc, space


def test_finds_the_constrained_optimum_computed_by_hand(files):
    sc, space = files
    t = sim.optimize(sc, space, reps=1, seed=0)
    assert t["objective"].tolist() == pytest.approx([0, 10, 18, 24, 28, 30])
    assert t["donor_gap"].tolist() == pytest.approx([30, 25, 20, 15, 10, 0])
    assert t["feasible"].tolist() == [False, False, False, True, True, True]
    best = t[t["best"]]
    assert best["knob:keep"].tolist() == [3] and best["objective"].item() == pytest.approx(24)
    assert t.attrs["whole_grid"] and t.attrs["points"] == 6


def test_without_the_constraint_the_optimum_moves_and_the_front_drops_dominated_points(files):
    sc, _ = files
    space = {"knobs": KNOB, "objective": {"metric": "rmst", "item": "x"}, "second_objective": {"metric": "donor_gap"}}
    t = sim.optimize(sc, space, reps=1, seed=0)
    assert t.loc[t["best"], "knob:keep"].tolist() == [0]
    assert t["pareto"].tolist() == [True] * 6
    t = sim.optimize(sc, {**space, "second_objective": {"metric": "spent_musd"}}, reps=1, seed=0)
    assert t["pareto"].tolist() == [True, False, False, False, False, False]


def test_noise_makes_ties_not_false_winners(files):
    # Prep times of 0-1 d (uniform) make the donated units' days noisy: M = 0 is still best on
    # the mean, and a point it beats by 10 d is never tied with it (the paired interval is tight).
    sc, _ = files
    noisy = yaml.safe_load(sc.read_text())
    noisy["stockpiles"]["de"]["items"]["x"]["prep_days"] = {"dist": "uniform", "low": 0, "high": 1}
    sc.write_text(yaml.safe_dump(noisy))
    t = sim.optimize(sc, {"knobs": KNOB, "objective": {"metric": "rmst", "item": "x"}}, reps=10, seed=3)
    assert t.loc[t["best"], "knob:keep"].tolist() == [0]
    assert not t["tied"].any()
    assert (t["diff_vs_best_lo"] > 0).sum() == 5  # every other point is worse, with its interval above 0


def test_bad_space_files_exit_2_with_their_path_and_write_nothing(files, tmp_path):
    sc, space = files
    space.write_text(yaml.safe_dump({"knobs": {"keep": {"path": "stockpiles.de.items.x.min_keep", "values": [0, 9]}}}))
    out = tmp_path / "out"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "sim.cli",
            "optimize",
            str(sc),
            "--space",
            str(space),
            "--out",
            str(out),
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert f"{space}: knobs.keep:" in done.stderr and "min_keep" in done.stderr and "above on_hand" in done.stderr
    assert not out.exists()
    space.write_text(
        yaml.safe_dump({"knobs": {"keep": {"path": "stockpiles.de.items.x.min_keep"}}, "objective": {"metric": "p50"}})
    )
    with pytest.raises(sim.ScenarioError) as err:
        sim.optimize(sc, space)
    paths = {p.path for p in err.value.problems}
    assert {"knobs.keep", "objective"} <= paths
