"""The JSON Schema of a scenario file accepts what purlsim accepts, as written (extends, partial files), and describes every field."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
from conftest import PURLSIM, REPO

from sim.scenario import descriptions, file_schema, shipped
from sim.scenario.schema import Scenario
from sim.scenario.yaml12 import load_yaml

SCHEMA = file_schema.file_schema()
VALIDATOR = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
# Scenario files, not the search spaces of `purlsim optimize` (scenarios/spaces: another format).
SHIPPED = sorted(p for p in (REPO / "scenarios").rglob("*.yaml") if "spaces" not in p.relative_to(REPO).parts)
EXAMPLES = sorted(shipped.STARTER_DIR.rglob("*.yaml"))


def as_json(text: str):
    """A YAML file as an editor's language server sees it: JSON values, dates as strings."""
    return json.loads(json.dumps(load_yaml(text), default=str))


def problems(text: str) -> list[str]:
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(as_json(text))]


def test_the_schema_is_a_valid_draft_2020_12_schema():
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"


@pytest.mark.parametrize("path", SHIPPED + EXAMPLES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_every_shipped_and_example_scenario_validates(path):
    assert problems(path.read_text(encoding="utf-8")) == []


def test_shipped_set_is_the_whole_set():
    names = {p.relative_to(REPO / "scenarios").as_posix() for p in SHIPPED}
    assert len(SHIPPED) >= 10 and "common/base.yaml" in names and EXAMPLES


def test_a_partial_file_with_extends_validates():
    child = """
extends: purlsim:common/base.yaml
name: child
production:
  pac3_line: {servers: 3}          # one field of a line the base defines
transport:
  legs:
    sealift: {days: {dist: triangular, low: 15, mode: 17, high: 21}}
requests:
  stream:
    interarrival_days: {mean: 9}   # one parameter of the base's distribution
"""
    assert problems(child) == []


@pytest.mark.parametrize(
    "text, where",
    [
        ("extends: base.yaml\nhorizon_dayz: 10\n", "horizon_dayz"),  # a typo
        ("extends: base.yaml\nhorizon_days: -1\n", "horizon_days"),  # out of range
        ("extends: base.yaml\nhorizon_days: 100000\n", "horizon_days"),  # beyond 200 years
        ("extends: 3\n", "extends"),  # not a path
        # an entry of a list replaces the parent's list whole: it must be complete
        ("extends: base.yaml\nrequests: {packages: [{id: p, at: 0}]}\n", "requests.packages.0"),
        ("extends: base.yaml\ndisruptions: [{kind: gate, at: 3, p_continue: 1.5}]\n", "disruptions.0"),
        ('start: "2025-13-45"\n', "start"),
    ],
)
def test_what_purlsim_refuses_the_schema_refuses(text, where):
    found = problems(text)
    assert found and any(p.startswith(where) or f"'{where}'" in p for p in found), found


def test_every_field_has_a_description_with_its_range():
    fields = [
        (name, field, prop)
        for name, model in [("(top)", SCHEMA), *SCHEMA["$defs"].items()]
        for field, prop in model.get("properties", {}).items()
    ]
    assert len(fields) > 130
    missing = [(n, f) for n, f, p in fields if "Allowed: " not in p.get("description", "")]
    assert missing == []
    assert "days" in SCHEMA["properties"]["horizon_days"]["description"].lower()
    assert "<= 73,000" in SCHEMA["properties"]["horizon_days"]["description"]
    assert "millions of US dollars" in SCHEMA["$defs"]["PartialItem"]["properties"]["unit_cost_musd"]["description"]


def _pydantic_fields() -> set[str]:
    doc = Scenario.model_json_schema(by_alias=True)
    return {
        f"{name}.{field}"
        for name, model in [("Scenario", doc), *doc["$defs"].items()]
        for field, prop in model.get("properties", {}).items()
        if "description" not in prop
    }


def test_meanings_cover_exactly_the_fields_pydantic_leaves_undescribed():
    assert set(descriptions.MEANINGS) == _pydantic_fields() | {"Scenario.extends"}


def test_the_package_ships_the_schema_purlsim_schema_prints(tmp_path):
    assert shipped.SCHEMA_FILE.read_text(encoding="utf-8") == file_schema.schema_text(), (
        "regenerate: purlsim schema --out sim/data/scenario.schema.json"
    )
    printed = subprocess.run([str(PURLSIM), "schema"], capture_output=True, text=True, check=True).stdout
    assert printed == file_schema.schema_text()
    out = tmp_path / "purlsim.schema.json"
    subprocess.run([str(PURLSIM), "schema", "--out", str(out)], capture_output=True, text=True, check=True)
    assert json.loads(out.read_text()) == SCHEMA


# --- the loader's side of `extends: purlsim:NAME` ----------------------------------------------


def run_cli(*args, cwd: Path):
    return subprocess.run([str(PURLSIM), *args], capture_output=True, text=True, cwd=cwd)


def test_a_file_outside_the_repository_extends_the_shipped_base(tmp_path):
    import sim

    mine = tmp_path / "mine.yaml"
    mine.write_text((shipped.STARTER_DIR / "scenarios" / "my_scenario.yaml").read_text())
    scenario = sim.load_scenario(mine)
    assert scenario.start.isoformat() == "2025-07-01" and "pac3_line" in scenario.production
    assert shipped.resolve_reference("purlsim:common/base.yaml") == shipped.SCENARIOS_DIR / "common" / "base.yaml"


@pytest.mark.parametrize(
    "ref, says",
    [
        ("purlsim:common/nosuch.yaml", "no shipped scenario 'common/nosuch.yaml' in purlsim (shipped: "),
        ("purlsim:../pyproject.toml", "is not a shipped scenario"),
        ("'purlsim:'", "is not a shipped scenario"),
    ],
)
def test_a_missing_shipped_scenario_is_one_line_exit_2(tmp_path, ref, says):
    (tmp_path / "bad.yaml").write_text(f"extends: {ref}\n")
    result = run_cli("validate", "bad.yaml", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.startswith("bad.yaml:1:1: extends: ") and says in result.stderr, result.stderr
