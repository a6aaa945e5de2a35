"""Bad input: every malformed scenario exits 2 with one `FILE: path: message` line per problem.

The corpus in tests/bad_scenarios/ pairs each malformed file with all the problems it must
produce (expected.yaml). Each file goes through `purlsim validate` and `purlsim run --out`, each
command in its own process; both must exit 2, print exactly the expected lines on stderr, show
no traceback and write nothing. The Python API must raise one ScenarioError with the same list.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
import yaml
from conftest import MINIMAL, REPO, run_cli, run_cli_many

import sim
from sim.scenario import validate_mapping

BAD = REPO / "tests" / "bad_scenarios"
EXPECTED: dict[str, list[list[str]]] = yaml.safe_load((BAD / "expected.yaml").read_text(encoding="utf-8"))
CASES = sorted(EXPECTED)
BASE = BAD / "_base.yaml"

# Extra command lines beyond the corpus: problems that are not a file's content.
# name -> (argv with {out} for the output path, file shown in messages, [(path, fragment)])
EXTRA = {
    "missing_file": (
        ["run", BAD / "no_such_file.yaml", "--out", "{out}"],
        BAD / "no_such_file.yaml",
        [("", "file not found")],
    ),
    "missing_file_validate": (
        ["validate", BAD / "no_such_file.yaml"],
        BAD / "no_such_file.yaml",
        [("", "file not found")],
    ),
    "override_path_missing": (
        ["run", BASE, "--set", "production.nosuch.servers=3", "--out", "{out}"],
        BASE,
        [("production.nosuch.servers", "override path does not exist (no 'production.nosuch')")],
    ),
    "override_key_typo": (
        ["run", BASE, "--set", "production.line.servrs=3", "--out", "{out}"],
        BASE,
        [("production.line.servrs", "override path does not exist (did you mean 'servers'?)")],
    ),
    "override_huge_servers": (
        ["run", BASE, "--set", "production.line.servers=1e12", "--out", "{out}"],
        BASE,
        [("production.line.servers", "must be at most 100000 (got 1e+12)")],
    ),
    "override_bad_value": (
        ["run", BASE, "--set", "transport.legs.road.days={dist: exponential, mean: -3}", "--out", "{out}"],
        BASE,
        [("transport.legs.road.days.mean", "must be greater than 0 (got -3)")],
    ),
}

# FILE:LINE:COL: path: message, or FILE: path: message for a problem with no place in a file
LINE = re.compile(
    r"^(?P<file>.+?)(?::(?P<line>[0-9]+):(?P<column>[0-9]+))?: (?:(?P<path>[^\s:]+): )?(?P<message>\S.*)$"
)


def located(ln: str, file, path: str) -> bool:
    """True when line `ln` is a problem of `file` at dotted `path` ("" for the whole file), with or without its line."""
    m = LINE.match(ln)
    return bool(m) and m["file"] == str(file) and (m["path"] or "") == path


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    """Every corpus file through `validate` and `run --out`, and the EXTRA command lines: results by key."""
    work = tmp_path_factory.mktemp("bad_runs")
    argvs, keys, outs = [], [], {}
    for name in CASES:
        out_parent = work / f"{name}.parent"
        out_parent.mkdir()
        outs[("run", name)] = out_parent
        argvs += [["validate", BAD / name], ["run", BAD / name, "--out", out_parent / "out", "--workers", "1"]]
        keys += [("validate", name), ("run", name)]
    for name, (argv, _, _) in EXTRA.items():
        out_parent = work / f"{name}.parent"
        out_parent.mkdir()
        outs[("extra", name)] = out_parent
        argvs.append([str(a).replace("{out}", str(out_parent / "out")) for a in argv])
        keys.append(("extra", name))
    results = run_cli_many(argvs, work)
    return {key: (res, outs.get(key)) for key, res in zip(keys, results)}


def check_failure(res, out_parent, shown: Path, expected) -> list[str]:
    """Assert exit 2, one well-formed line per expected problem, no traceback, nothing written."""
    assert "Traceback" not in res.stderr + res.stdout
    assert res.returncode == 2, (res.returncode, res.stderr)
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    for ln in lines:
        m = LINE.match(ln)
        assert m and m["file"] == str(shown), ln
    assert len(lines) == len(expected), lines  # every problem, and nothing else (no union noise)
    for path, fragment in expected:
        # a whole-file problem has no dotted path before its message
        hits = [ln for ln in lines if located(ln, shown, path) and fragment in LINE.match(ln)["message"]]
        assert hits, f"no line '{shown}[:LINE:COL]: {path}: ...{fragment}...' in {lines}"
    if out_parent is not None:
        assert list(out_parent.iterdir()) == [], "a failed run wrote something"
    return lines


@pytest.mark.parametrize("name", CASES)
def test_bad_scenario_corpus_through_cli(outcomes, name):
    """`purlsim validate F` and `purlsim run F --out D` both exit 2 with exactly the expected lines."""
    expected = EXPECTED[name]
    res_v, _ = outcomes[("validate", name)]
    res_r, out_parent = outcomes[("run", name)]
    lines_v = check_failure(res_v, None, BAD / name, expected)
    lines_r = check_failure(res_r, out_parent, BAD / name, expected)
    assert lines_v == lines_r


@pytest.mark.parametrize("name", CASES)
def test_bad_scenario_corpus_through_api(outcomes, name):
    """sim.load_scenario raises one ScenarioError whose problems are the lines the CLI printed."""
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(BAD / name)
    res, _ = outcomes[("validate", name)]
    assert [str(p) for p in info.value.problems] == [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert str(info.value) == "\n".join(str(p) for p in info.value.problems)


@pytest.mark.parametrize("name", sorted(EXTRA))
def test_bad_command_lines(outcomes, name):
    """A missing file and bad --set overrides exit 2 with their problem named, writing nothing."""
    _, shown, expected = EXTRA[name]
    res, out_parent = outcomes[("extra", name)]
    check_failure(res, out_parent, shown, expected)


def test_the_corpus_is_big_enough_and_fully_paired():
    """At least 30 malformed files, each with its expected problems, and no stray file."""
    files = {p.name for p in BAD.glob("*.yaml") if not p.name.startswith("_") and p.name != "expected.yaml"}
    assert files == set(EXPECTED)
    assert len(files) >= 30


# The bad-input list of issue 2, each category named by the corpus file that exercises it.
ISSUE_2 = {
    "unknown key, closest valid key suggested": "unknown_key_line.yaml",
    "wrong type": "wrong_type_number.yaml",
    "negative duration": "negative_duration.yaml",
    "zero rate": "zero_rate.yaml",
    "zero capacity": "zero_capacity.yaml",
    "item not defined": "unknown_item.yaml",
    "node not defined": "unknown_node.yaml",
    "leg not defined": "unknown_leg.yaml",
    "route not defined": "unknown_route.yaml",
    "ally not defined": "unknown_ally.yaml",
    "legs of a route do not connect": "legs_do_not_connect.yaml",
    "YAML syntax error with line and column": "yaml_syntax_flow.yaml",
    "extends cycle": "extends_cycle_a.yaml",
}


def test_issue_2_list_through_the_installed_console_script(tmp_path):
    """The real `purlsim` script, fresh processes: every issue-2 case in one validate, all problems listed."""
    missing = tmp_path / "nope.yaml"
    files = [BAD / f for f in ISSUE_2.values()]
    res = run_cli("validate", *files, missing)
    assert res.returncode == 2 and "Traceback" not in res.stderr + res.stdout
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    for f in files:
        expected = EXPECTED[f.name]
        mine = [ln for ln in lines if LINE.match(ln)["file"] == str(f)]
        assert len(mine) == len(expected), (f.name, mine)
        for path, fragment in expected:
            assert any(fragment in ln and (not path or located(ln, f, path)) for ln in mine), (f.name, mine)
    assert f"{missing}: file not found" in lines
    # `run` with an override path that does not exist: exit 2, nothing written.
    out = tmp_path / "out"
    res = run_cli("run", BASE, "--set", "production.nosuch.servers=3", "--out", out)
    assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
    assert (
        res.stderr.strip()
        == f"{BASE}: production.nosuch.servers: override path does not exist (no 'production.nosuch')"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_alias_bomb_is_refused_quickly():
    """Nine levels of nine aliases (387 million strings once expanded) are refused in well under a second."""
    t0 = time.perf_counter()
    with pytest.raises(sim.ScenarioError, match="alias bomb"):
        sim.load_scenario(BAD / "alias_bomb.yaml")
    assert time.perf_counter() - t0 < 1.0


def test_yaml_object_tags_are_never_constructed(tmp_path):
    """A python/object tag is refused before anything is built: the side effect never happens."""
    marker = tmp_path / "pwned"
    f = tmp_path / "evil.yaml"
    f.write_text(f'name: !!python/object/apply:os.system ["touch {marker}"]\n')
    with pytest.raises(sim.ScenarioError, match="is not allowed"):
        sim.load_scenario(f)
    assert not marker.exists()


def minimal(**changes) -> dict:
    """MINIMAL with one package and `changes` laid over its top level."""
    import copy

    data = copy.deepcopy(MINIMAL)
    data["requests"] = {"packages": [{"id": "p1", "at": 0, "lines": [{"item": "shell", "qty": 1}]}]}
    data.update(changes)
    return data


@pytest.mark.parametrize(
    "days, path, fragment",
    [
        ({"dist": "exponential", "mean": -3}, "transport.legs.l.days.mean", "must be greater than 0 (got -3)"),
        ({"dist": "uniform", "low": 5, "high": 1}, "transport.legs.l.days", "high must be >= low"),
        ([1, 2], "transport.legs.l.days", "expected a number or a distribution"),
        ("slow", "transport.legs.l.days", "expected a number or a distribution {dist: NAME, ...} (got 'slow')"),
        (None, "transport.legs.l.days", "expected a number or a distribution {dist: NAME, ...} (got null)"),
        (-2, "transport.legs.l.days", "must be greater than 0 (got -2)"),
        ({"mean": 3}, "transport.legs.l.days", "a distribution needs a 'dist' key"),
    ],
)
def test_union_field_problem_is_one_line(days, path, fragment):
    """A value pydantic tries against a number and every distribution still makes one problem."""
    data = minimal(
        transport={
            **MINIMAL["transport"],
            "legs": {"l": {"from": "plant", "to": "ukraine", "mode": "road", "days": days}},
        }
    )
    with pytest.raises(sim.ScenarioError) as info:
        validate_mapping(data)
    problems = info.value.problems
    assert len(problems) == 1, problems
    assert problems[0].path == path and fragment in problems[0].message, problems[0]


@pytest.mark.parametrize(
    "at, fragment",
    [
        ([3], "expected a date (YYYY-MM-DD) or a number of days (got a list)"),
        (-1, "must be at least 0 (got -1)"),
        ("2025-02-30", "must be a date (YYYY-MM-DD)"),
    ],
)
def test_moment_problem_is_one_line(at, fragment):
    """A moment (a date or a number of days) that is neither gives one line naming both options."""
    data = minimal(requests={"packages": [{"id": "p1", "at": at, "lines": [{"item": "shell", "qty": 1}]}]})
    with pytest.raises(sim.ScenarioError) as info:
        validate_mapping(data)
    [problem] = info.value.problems
    assert problem.path == "requests.packages.0.at" and fragment in problem.message, problem


def test_disruption_paths_do_not_carry_union_tags():
    """A bad field of a gate is reported at disruptions.0.p_continue, not disruptions.0.gate.p_continue."""
    data = minimal(disruptions=[{"kind": "gate", "at": 1, "p_continue": "high"}])
    with pytest.raises(sim.ScenarioError) as info:
        validate_mapping(data)
    assert [(p.path, p.message) for p in info.value.problems] == [
        ("disruptions.0.p_continue", "must be a number (got 'high')")
    ]


def test_names_that_look_like_union_tags_stay_in_the_path():
    """An item called 'gate' or 'uniform' is a name, not a union branch: it stays in the path."""
    data = minimal(items={"uniform": {"name": "x", "unit_cost_musd": -1}, "gate": {"name": "y", "unit_cost_musd": 1}})
    with pytest.raises(sim.ScenarioError) as info:
        validate_mapping(data)
    assert ("items.uniform.unit_cost_musd", "must be at least 0 (got -1)") in [
        (p.path, p.message) for p in info.value.problems
    ]
