"""Loading good scenarios: extends, overrides, dates and days, numbers, aliases, shipped files."""

from __future__ import annotations

import datetime as dt
import textwrap

import numpy as np
import pytest
from conftest import REPO
from pydantic import ValidationError

import sim
from sim.scenario.distributions import TOTAL_CHUNK, Sampler
from sim.scenario.loader import parse_override_value
from sim.scenario.schema import Scenario

BASE = REPO / "tests" / "bad_scenarios" / "_base.yaml"


def write(path, text: str):
    """Write dedented YAML to `path` (making its folder) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text))
    return path


def test_extends_merges_mappings_and_replaces_lists(tmp_path):
    """A child changes one field of a line and keeps its siblings; a list it gives replaces the parent's."""
    write(
        tmp_path / "child.yaml",
        f"""\
        extends: {BASE}
        production:
          line: {{servers: 2}}
        requests:
          packages:
            - {{id: p2, at: 3, lines: [{{item: shell, qty: 5}}]}}
        """,
    )
    s = sim.load_scenario(tmp_path / "child.yaml")
    assert s.production["line"].servers == 2
    assert s.production["line"].rate_per_month == 10  # from the parent
    assert [p.id for p in s.requests.packages] == ["p2"]  # the parent's p1 is gone


def test_extends_is_relative_to_the_file_and_chains(tmp_path, monkeypatch):
    """extends paths are read from the extending file's folder, through a chain of three files."""
    write(tmp_path / "common" / "mid.yaml", f"extends: {BASE}\nname: mid\nseed: 7\n")
    write(tmp_path / "scen" / "top.yaml", "extends: ../common/mid.yaml\nname: top\n")
    monkeypatch.chdir(tmp_path / "common")  # elsewhere than the top file
    s = sim.load_scenario(tmp_path / "scen" / "top.yaml")
    assert (s.name, s.seed, s.horizon_days) == ("top", 7, 365)


def test_overrides_set_nested_fields_and_list_entries():
    """Dotted overrides reach mapping fields and list entries by index."""
    s = sim.load_scenario(
        BASE,
        {
            "production.line.servers": 3,
            "requests.packages.0.at": 5,
            "transport.legs.road.days": {"dist": "uniform", "low": 1, "high": 3},
        },
    )
    assert s.production["line"].servers == 3
    assert s.requests.packages[0].at == 5
    assert s.transport.legs["road"].days.mean() == 2


def test_override_creates_a_section_the_file_leaves_out():
    """The base file has no `policy`: policy.split=false still applies (every field can be overridden)."""
    assert sim.load_scenario(BASE).policy.split is True
    assert sim.load_scenario(BASE, {"policy.split": False}).policy.split is False


def test_override_list_index_out_of_range_is_a_problem():
    """An index past the end of a list is reported, with the override's path."""
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(BASE, {"requests.packages.3.at": 5})
    [p] = info.value.problems
    assert p.path == "requests.packages.3.at" and "does not exist" in p.message


@pytest.mark.parametrize(
    "text, value",
    [
        ("3", 3),
        ("1e3", 1000.0),
        ("2.5", 2.5),
        ("false", False),
        ("2025-03-01", dt.date(2025, 3, 1)),
        ("{dist: exponential, mean: 5}", {"dist": "exponential", "mean": 5}),
        ("[a, b]", ["a", "b"]),
        ("plain words", "plain words"),
        ("[unclosed", "[unclosed"),
    ],
)
def test_override_values_are_read_as_yaml(text, value):
    """--set values are YAML: numbers, booleans, dates, mappings and lists; anything else stays text."""
    assert parse_override_value(text) == value


def test_dates_and_days_mean_the_same_moment(tmp_path):
    """A package on 2025-01-31 is on day 30 of a scenario starting 2025-01-01; a number is days."""
    s = sim.load_scenario(BASE, {"requests.packages.0.at": dt.date(2025, 1, 31)})
    assert s.day(s.requests.packages[0].at) == 30
    assert s.day(12.5) == 12.5
    assert s.date(30) == dt.date(2025, 1, 31)


def test_scientific_notation_in_a_file_is_a_number(tmp_path):
    """YAML 1.1 would read 1e3 as text; scenarios read it as the number an analyst meant."""
    write(tmp_path / "s.yaml", f"extends: {BASE}\nhorizon_days: 1e3\n")
    assert sim.load_scenario(tmp_path / "s.yaml").horizon_days == 1000.0


def test_anchors_and_aliases_are_accepted(tmp_path):
    """Ordinary YAML sharing (an anchor reused by an alias) loads like the written-out file."""
    write(
        tmp_path / "s.yaml",
        f"""\
        extends: {BASE}
        transport:
          legs:
            road: {{days: &transit {{dist: triangular, low: 1, mode: 2, high: 4}}}}
            depot_road: {{days: *transit}}
        """,
    )
    s = sim.load_scenario(tmp_path / "s.yaml")
    assert s.transport.legs["road"].days == s.transport.legs["depot_road"].days
    assert s.transport.legs["road"].days.mean() == pytest.approx(7 / 3)


def test_scenario_is_immutable():
    """A loaded scenario cannot be changed in place (runs and comparisons rely on it)."""
    s = sim.load_scenario(BASE)
    with pytest.raises(ValidationError):
        s.horizon_days = 5
    with pytest.raises(ValidationError):
        s.production["line"].servers = 9


def test_every_shipped_scenario_validates():
    """Each runnable file in scenarios/ loads without a problem."""
    files = sorted((REPO / "scenarios").glob("*.yaml"))
    assert files
    for f in files:
        assert isinstance(sim.load_scenario(f), Scenario), f


def test_json_schema_names_every_section():
    """The JSON Schema for editors lists every section of format v1, with leg `from` by its alias."""
    doc = Scenario.model_json_schema(by_alias=True)
    assert set(doc["properties"]) >= {
        "start",
        "horizon_days",
        "seed",
        "items",
        "requests",
        "approval",
        "funding",
        "us_stock",
        "production",
        "transport",
        "policy",
        "stockpiles",
        "disruptions",
    }
    assert "from" in doc["$defs"]["Leg"]["properties"]


def test_total_of_many_draws_is_summed_in_chunks():
    """Sampler.total over more than one chunk keeps memory bounded and gives the sum of the same draws."""
    from sim.scenario.distributions import Uniform

    spec = Uniform(dist="uniform", low=0, high=2)
    n = TOTAL_CHUNK * 2 + 5
    total = Sampler(spec, np.random.default_rng(1)).total(n)
    rng = np.random.default_rng(1)  # the same stream drawn in one go (numpy streams are chunk-invariant)
    assert total == pytest.approx(rng.uniform(0, 2, n).sum(), rel=1e-12)
    assert total == pytest.approx(n, rel=0.01)  # mean 1 per draw
