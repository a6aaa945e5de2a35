"""Optimisation (sim.optimize): the known optimum of a constructed case, under a donor-gap limit.

The case, nothing random: one item `x`, one US line (1 server, 10 days a unit), an ally `de`
holding 5 of x and keeping `min_keep` M (the knob, 0..5), five urgent one-unit packages on day 0,
goods delivered where they start (route `direct`). The ally gives 5 - M units at once (delivered
on day 0); the other M go to the line. The first of those finds the line idle on day 0 and is
made days 0-10 (work in progress is never interrupted); the replacements are ordered the same
day, a moment later, and go first among what waits (donors first): days 20, 30, ...; PURL's
remaining units come last, up to day 50. So, by hand:

    M                     0    1    2    3    4    5
    PURL units' days      0    0,0,0,0,10   0,0,0,10,50   0,0,10,40,50   0,10,30,40,50   10..50
    mean time, d          0    2   12   20   26   30   (every unit counts; all within tau)
    donor's mean gap, d  30   35   30   25   20    0   (replacements at 10..50 / 20..50 / ...; none: 0)

Under "donor's mean gap <= 22 d" only M = 4 and 5 are feasible and the optimum is M = 4 (26 d);
without the constraint it is M = 0. With the gap as a second objective the Pareto front is
M = 0, 3, 4, 5 (M = 1 and 2 are dominated by M = 0). One replication suffices: nothing is random.
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
                "constraints": [{"metric": "donor_gap", "at_most": 22}],
            }
        )
    )
    return sc, space


def test_finds_the_constrained_optimum_computed_by_hand(files):
    sc, space = files
    t = sim.optimize(sc, space, reps=1, seed=0)
    assert t["objective"].tolist() == pytest.approx([0, 2, 12, 20, 26, 30])
    assert t["donor_gap"].tolist() == pytest.approx([30, 35, 30, 25, 20, 0])
    assert t["feasible"].tolist() == [False, False, False, False, True, True]
    best = t[t["best"]]
    assert best["knob:keep"].tolist() == [4] and best["objective"].item() == pytest.approx(26)
    assert t.attrs["whole_grid"] and t.attrs["points"] == 6


def test_without_the_constraint_the_optimum_moves_and_the_front_drops_dominated_points(files):
    sc, _ = files
    space = {"knobs": KNOB, "objective": {"metric": "rmst", "item": "x"}, "second_objective": {"metric": "donor_gap"}}
    t = sim.optimize(sc, space, reps=1, seed=0)
    assert t.loc[t["best"], "knob:keep"].tolist() == [0]
    assert t["pareto"].tolist() == [True, False, False, True, True, True]


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
