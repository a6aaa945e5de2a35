"""Tonnes delivered by month, node and mode (sim.metrics.cargo), on a hand-built case.

Two items made on two lines of one server, 10 days a unit, nothing random: `x` (2 t a unit)
flies plant -> hub (1 day) then goes by road hub -> ua (1 day); `y` (0.5 t a unit) sails
plant -> port (3 days) then by rail port -> ua (2 days); `z` has no weight. Packages on day 0:
3 x, 4 y and 1 z, so x arrives on days 12, 22, 32 (2 t each), y on days 15, 25, 35, 45 (0.5 t
each), all in January-February 2025 (start 1 Jan).
"""

from __future__ import annotations

import pytest

import sim
from sim.scenario.loader import validate_mapping


def scenario():
    return validate_mapping(
        {
            "start": "2025-01-01",
            "horizon_days": 59,  # to 1 Mar: months Jan and Feb, and the first of March
            "items": {
                "x": {"name": "X", "unit_cost_musd": 1.0, "weight_t": 2.0, "cargo": "bulk"},
                "y": {"name": "Y", "unit_cost_musd": 1.0, "weight_t": 0.5},
                "z": {"name": "Z", "unit_cost_musd": 1.0},
            },
            "requests": {
                "packages": [
                    {"id": "px", "at": 0, "lines": [{"item": "x", "qty": 3}]},
                    {"id": "py", "at": 0, "lines": [{"item": "y", "qty": 4}]},
                    {"id": "pz", "at": 0, "lines": [{"item": "z", "qty": 1}]},
                ]
            },
            "approval": {"enabled": False},
            "funding": {"enabled": False},
            "production": {
                line: {"item": item, "node": "plant", "unit_days": 10, "shipments": {"every_units": 1}}
                for line, item in (("lx", "x"), ("ly", "y"), ("lz", "z"))
            },
            "transport": {
                "destination": "ua",
                "nodes": {k: {"kind": "hub"} for k in ("plant", "hub", "port")} | {"ua": {"kind": "destination"}},
                "legs": {
                    "fly": {"from": "plant", "to": "hub", "mode": "air", "days": 1},
                    "drive": {"from": "hub", "to": "ua", "mode": "road", "days": 1},
                    "sail": {"from": "plant", "to": "port", "mode": "sea", "days": 3},
                    "train": {"from": "port", "to": "ua", "mode": "rail", "days": 2},
                },
                "routes": {"air": {"legs": ["fly", "drive"]}, "sea": {"legs": ["sail", "train"]}},
                "choose": [{"origin": "plant", "item": "x", "route": "air"}, {"origin": "plant", "route": "sea"}],
            },
            "policy": {"sources": ["production"]},
        }
    )


@pytest.fixture(scope="module")
def res():
    return sim.run(scenario(), reps=2, seed=0)  # deterministic: two replications show the mean is per replication


def test_arrivals_are_as_computed_by_hand(res):
    d = res.deliveries[res.deliveries["rep"] == 0]
    assert sorted(d.loc[d["item"] == "x", "delivered_day"]) == [12.0, 22.0, 32.0]
    assert sorted(d.loc[d["item"] == "y", "delivered_day"]) == [15.0, 25.0, 35.0, 45.0]


def test_tonnes_by_month_through_a_node(res):
    # All goods: January (days 0-30) x on 12 and 22 (4 t) + y on 15 and 25 (1 t) = 5 t;
    # February: x on 32 (2 t) + y on 35 and 45 (1 t) = 3 t. Through the hub: x only.
    every = res.tonnes_by_month()
    assert every.loc["2025-01", "tonnes"] == pytest.approx(5.0)
    assert every.loc["2025-02", "tonnes"] == pytest.approx(3.0)
    assert every.loc["2025-03", "tonnes"] == 0.0
    hub = res.tonnes_by_month("hub")
    assert hub["tonnes"].tolist() == pytest.approx([4.0, 2.0, 0.0])
    assert every.attrs["untracked_units"] == 1.0  # the weightless z, counted, not guessed


def test_tonnes_by_mode(res):
    # Air (any leg flies): x, 6 t; sea: y, 2 t; share of tonnage 0.75 and 0.25; no land.
    m = res.tonnes_by_mode()
    assert m.loc["air", "tonnes"] == pytest.approx(6.0) and m.loc["sea", "tonnes"] == pytest.approx(2.0)
    assert m.loc["air", "share"] == pytest.approx(0.75) and m.loc["land", "tonnes"] == 0.0


def test_leg_flows_put_each_routes_tonnes_on_its_legs(res):
    # x's 6 t crossed fly and drive, y's 2 t sail and train, over a horizon of 59 d = 59/30.4 months.
    from sim.metrics import cargo

    flows = cargo.leg_flows(res.deliveries, res.scenario, res.reps)
    months = 59 / 30.4
    assert flows.to_dict() == pytest.approx(
        {"fly": 6 / months, "drive": 6 / months, "sail": 2 / months, "train": 2 / months}
    )


def test_diagram_and_route_map_write_pictures_and_refuse_bad_outputs(tmp_path):
    import subprocess
    import sys

    import yaml

    from sim.plots import network

    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(scenario().model_dump(mode="json", by_alias=True, exclude_none=True)))
    run = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "sim.cli", "diagram", str(path), *a], capture_output=True, text=True, timeout=120
    )
    out = tmp_path / "net.svg"
    done = run("--out", str(out))
    assert done.returncode == 0, done.stderr
    svg = out.read_text()
    for name in ("plant", "hub", "port", "fly", "air, 1 d", "line lx: x"):
        assert name in svg, name  # SVG text stays text: every node, leg and line is named
    # A second write without --force keeps the file; a wrong suffix writes nothing; both exit 2.
    again = run("--out", str(out))
    assert again.returncode == 2 and "--force" in again.stderr and out.read_text() == svg
    bad = run("--out", str(tmp_path / "net.jpg"))
    assert bad.returncode == 2 and ".svg or .png" in bad.stderr and not (tmp_path / "net.jpg").exists()
    fig = network.route_map(sim.run(scenario(), reps=1, seed=0))
    assert len(fig.axes) == 2 and "no position: hub, plant, port, ua" in fig._suptitle.get_text()
