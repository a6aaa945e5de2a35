"""The `uncertain:` section: inverse CDFs by hand, every problem worded with its path, exit 2 from validate."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim import ScenarioError, load_scenario
from sim.scenario.uncertain import UncertainInput, points

ROOT = Path(__file__).resolve().parents[1]
BASE = ROOT / "scenarios" / "baseline_2025.yaml"


def test_uniform_and_triangular_quantiles_by_hand():
    u = UncertainInput(path="a.b", low=10, high=20, source="E")
    assert [u.value(q) for q in (0, 0.25, 1)] == [10, 12.5, 20]
    t = UncertainInput(path="a.b", low=0, high=10, mode=2, source="1")
    # F(x) = x^2 / (10 * 2) below the mode: F(2) = 0.2, so u = 0.05 is x = sqrt(0.05 * 20) = 1
    assert t.value(0.05) == pytest.approx(1.0)
    assert t.value(0.2) == pytest.approx(2.0)
    # above: 1 - (10 - x)^2 / (10 * 8); u = 0.8 is x = 10 - sqrt(0.2 * 80) = 6
    assert t.value(0.8) == pytest.approx(6.0)
    i = UncertainInput(path="a.b", low=1, high=4, integer=True, source="E")
    assert {i.value(q) for q in np.linspace(0, 1, 101)} == {1, 2, 3, 4}


def test_points_map_unit_rows_to_overrides():
    inputs = {
        "x": UncertainInput(path="p.x", low=0, high=2, source="E"),
        "y": UncertainInput(path="p.y", low=5, high=6, integer=True, source="S"),
    }
    assert points(inputs, np.array([[0.5, 0.9], [0.0, 0.1]])) == [{"p.x": 1.0, "p.y": 6}, {"p.x": 0.0, "p.y": 5}]


def test_baseline_2025_ships_tagged_inputs_whose_paths_exist():
    sc = load_scenario(BASE)
    assert len(sc.uncertain) >= 5
    assert {u.source for u in sc.uncertain.values()} <= {"S", "1", "E"}
    # each input at the middle of its range still loads, and the value lands where the path says
    for name, u in sc.uncertain.items():
        mid = u.value(0.5)
        node = load_scenario(BASE, {u.path: mid}).model_dump()
        for part in u.path.split("."):
            node = node[int(part)] if isinstance(node, list) else node[part]
        assert math.isclose(node, mid), name


def _write(tmp_path, body: str) -> Path:
    f = tmp_path / "s.yaml"
    f.write_text(f"extends: {BASE}\nuncertain:\n{body}", encoding="utf-8")
    return f


@pytest.mark.parametrize(
    "body, where, words",
    [
        (
            "  a: {path: production.nosuch.rate_per_month, low: 1, high: 2, source: E}\n",
            "uncertain.a.path",
            "not exist",
        ),
        (
            "  a: {path: us_stock.items.pac3_mse.nosuch, low: 1, high: 2, source: E}\n",
            "uncertain.a.path",
            "no such value",
        ),
        ("  a: {path: approval.delay_days, low: 1, high: 2, source: E}\n", "uncertain.a.path", "not a number"),
        (
            "  a: {path: production.pac3_line.other_customers_share, low: 0.5, high: 1.5, source: E}\n",
            "uncertain.a.high",
            "less than 1",
        ),
        ("  a: {path: approval.delay_days.low, low: 5, high: 2, source: E}\n", "uncertain.a", "must be below high"),
        ("  a: {path: approval.delay_days.low, low: 1, high: 2, source: X}\n", "uncertain.a.source", "one of"),
    ],
)
def test_bad_inputs_are_named_by_path(tmp_path, body, where, words):
    f = _write(tmp_path, body)
    with pytest.raises(ScenarioError) as exc:
        load_scenario(f)
    assert any(p.path == where and words in p.message for p in exc.value.problems), exc.value.problems


def test_validate_exits_2_with_file_path_message(tmp_path):
    f = _write(tmp_path, "  a: {path: production.pac3_line.other_customers_share, low: 0.5, high: 1.5, source: E}\n")
    r = subprocess.run([sys.executable, "-m", "sim.cli", "validate", str(f)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2
    # FILE: path: message (with the line and column in the file where they are known)
    assert re.search(re.escape(str(f)) + r"(:\d+:\d+)?: uncertain\.a\.high: .*must be less than 1", r.stderr)
    assert "Traceback" not in r.stderr


def test_required_by_before_the_package_is_refused(tmp_path):
    f = tmp_path / "r.yaml"
    f.write_text(
        f"extends: {BASE}\nrequests:\n  packages:\n"
        "    - {id: p, at: 2025-08-01, required_by: 2025-07-01, lines: [{item: gmlrs, qty: 5}]}\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as exc:
        load_scenario(f)
    assert any(p.path == "requests.packages.0.required_by" and "before" in p.message for p in exc.value.problems)


def test_an_override_fixes_the_inputs_it_sets_and_others_stay():
    # approval.delay_days as a number replaces the distribution the input's path points into
    sc = load_scenario(BASE, {"approval.delay_days": 15})
    assert "approval_delay_high" not in sc.uncertain and "us_pac3_floor" in sc.uncertain
    assert "us_pac3_floor" not in load_scenario(BASE, {"us_stock.items.pac3_mse.reserve_floor": 5}).uncertain
