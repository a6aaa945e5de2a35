"""A command line with habits (issue 16, item 7): one default replication count, sweep plots in --out,
problems at their line and column and in the file that has them, suggestions inside --set paths, and
`make run` on the runtime dependencies alone."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest
from conftest import REPO, run_cli
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.scenario.workload import DEFAULT_REPS

BASE = REPO / "tests" / "bad_scenarios" / "_base.yaml"
STOCKPILE = REPO / "scenarios" / "stockpile_first.yaml"
PROBLEM = re.compile(r"^(?P<file>.+?):(?P<line>[0-9]+):(?P<column>[0-9]+): (?P<path>[^\s:]+): (?P<message>.+)$")


def _problems(path, overrides=None) -> list[str]:
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(path, overrides)
    return [str(p) for p in info.value.problems]


# --- one default replication count -------------------------------------------------------------


@pytest.mark.parametrize("command", ["run", "compare", "sweep", "report"])
def test_every_command_defaults_to_the_same_replications(command):
    import typer.main

    click_cmd = typer.main.get_command(app)
    params = {p.name: p for p in click_cmd.commands[command].params}
    assert params["reps"].default == DEFAULT_REPS
    assert f"default {DEFAULT_REPS}" in params["reps"].help


def test_run_without_reps_runs_the_default_count():
    res = CliRunner().invoke(app, ["run", str(BASE), "--workers", "1", "--quiet"])
    assert res.exit_code == 0, res.output
    assert f"{DEFAULT_REPS} replication(s)" in res.output


# --- sweep --out -------------------------------------------------------------------------------


def test_sweep_out_writes_its_plot_beside_its_tables(tmp_path):
    out = tmp_path / "sweep"
    argv = ["sweep", BASE, "--param", "production.line.servers=1,2", "--reps", "2", "--workers", "1", "-q"]
    res = run_cli(*argv, "--out", out)
    assert res.returncode == 0, res.stderr
    assert sorted(p.name for p in out.iterdir()) == ["manifest.json", "sweep.csv", "sweep.json", "sweep.png"]
    assert (out / "sweep.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "sweep.png" in json.loads((out / "manifest.json").read_text())["files"]
    assert run_cli("verify", out).returncode == 0
    bare = tmp_path / "bare"
    assert run_cli(*argv, "--no-plots", "--out", bare).returncode == 0
    assert not (bare / "sweep.png").exists()


# --- line and column; the file that has the problem ----------------------------------------------


def test_a_problem_carries_the_line_and_column_of_its_key(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text(f"extends: {BASE}\nproduction:\n  line:\n    servers: 0\n")
    assert _problems(f) == [f"{f}:4:5: production.line.servers: must be greater than 0 (got 0)"]
    # A reference problem (checked once the fields are valid), at the key `item` in a flow mapping.
    g = tmp_path / "t.yaml"
    g.write_text(
        f"extends: {BASE}\nrequests:\n  packages:\n    - {{id: p1, at: 0, lines: [{{item: shel, qty: 30}}]}}\n"
    )
    lines = _problems(g)
    assert lines == [f"{g}:4:32: requests.packages.0.lines.0.item: item 'shel' is not defined (did you mean 'shell'?)"]
    assert all(PROBLEM.match(ln) for ln in lines)
    res = run_cli("validate", f, g)  # the command prints the same lines, exit 2
    assert res.returncode == 2
    assert [ln for ln in res.stderr.splitlines() if ln] == [*_problems(f), *lines]


def test_a_problem_in_an_extended_file_is_reported_against_that_file(tmp_path):
    base = tmp_path / "common" / "base.yaml"
    base.parent.mkdir()
    text = BASE.read_text().replace(
        "road: {from: port, to: ukraine, mode: road, days: 2}", "road: {from: port, to: ukraine, mode: road, days: -2}"
    )
    assert "days: -2" in text
    base.write_text(text)
    line = 1 + text.splitlines().index(next(ln for ln in text.splitlines() if "days: -2" in ln))
    column = 1 + text.splitlines()[line - 1].index("days: -2")
    child = tmp_path / "child.yaml"
    child.write_text("extends: common/base.yaml\nname: child\nhorizon_days: 400\n")
    assert _problems(child) == [f"{base}:{line}:{column}: transport.legs.road.days: must be greater than 0 (got -2)"]
    # The child that sets the value itself owns the problem; one that fixes it has none.
    child.write_text("extends: common/base.yaml\ntransport:\n  legs:\n    road: {days: -5}\n")
    assert _problems(child) == [f"{child}:4:12: transport.legs.road.days: must be greater than 0 (got -5)"]
    child.write_text("extends: common/base.yaml\ntransport:\n  legs:\n    road: {days: 5}\n")
    assert sim.load_scenario(child).transport.legs["road"].days == 5


def test_sweep_and_baselines_keep_the_place_of_a_problem_in_the_file(tmp_path):
    from sim.experiments.baseline_file import load_resolved

    f = tmp_path / "s.yaml"
    f.write_text(f"extends: {BASE}\nproduction:\n  line:\n    servers: 0\n")
    with pytest.raises(sim.ScenarioError) as info:
        sim.sweep(f, {"horizon_days": [300, 400]}, reps=1)
    assert [str(p) for p in info.value.problems] == [
        f"{f}:4:5: production.line.servers: must be greater than 0 (got 0) "
        "(sweep points horizon_days=300; horizon_days=400)"
    ]
    with pytest.raises(sim.ScenarioError) as info:
        load_resolved(f)
    assert [str(p) for p in info.value.problems] == _problems(f)


def test_a_value_from_set_has_no_file_position(tmp_path):
    """A --set value is not in the file: its problem stays `FILE: path: message`, no line to mislead."""
    lines = _problems(BASE, {"production.line.servers": 0})
    assert lines == [f"{BASE}: production.line.servers: must be greater than 0 (got 0)"]


# --- suggestions inside --set paths ------------------------------------------------------------


@pytest.mark.parametrize(
    "path, hint",
    [
        ("policy.sorces.0", "(no 'policy.sorces') (did you mean 'sources'?)"),  # a schema field
        ("production.lin.servers", "(no 'production.lin') (did you mean 'line'?)"),  # an entry of the scenario
        ("transport.legs.raod.days", "(no 'transport.legs.raod') (did you mean 'road'?)"),
        ("requests.packages.3.at", "(no 'requests.packages.3') (the list has 1 entries, 0 to 0)"),
    ],
)
def test_a_typo_in_the_middle_of_a_set_path_gets_a_suggestion(path, hint):
    res = CliRunner().invoke(app, ["validate", str(BASE)])
    assert res.exit_code == 0
    lines = _problems(BASE, {path: 1})
    assert lines == [f"{BASE}: {path}: override path does not exist {hint}"]


# --- make run on the runtime dependencies -------------------------------------------------------


def _dry_run(target: str, tmp_path) -> str:
    venv = tmp_path / "fresh" / ".venv"  # a machine where nothing is installed yet
    res = subprocess.run(
        ["make", "-n", target, f"VENV={venv}"], cwd=REPO, capture_output=True, text=True, timeout=60, check=True
    )
    return res.stdout


def test_make_run_installs_no_extras_and_make_test_installs_dev(tmp_path):
    run = _dry_run("run", tmp_path)
    installs = [ln for ln in run.splitlines() if "pip install" in ln and "--upgrade pip" not in ln]
    assert installs and all(ln.rstrip().endswith("-e .") for ln in installs), installs
    assert "purlsim run" in run and "purlsim report" in run
    test = _dry_run("test", tmp_path)
    assert "-e '.[dev]'" in test and "pytest" in test


DEV_ONLY = [
    "pytest",
    "hypothesis",
    "dask",
    "distributed",
    "ciw",
    "nbclient",
    "nbformat",
    "ipykernel",
    "playwright",
    "jsonschema",
]


def test_run_and_report_work_without_any_dev_dependency(tmp_path):
    """What `make run` runs, with every package of the dev extras made unimportable."""
    driver = (
        f"import sys; sys.modules.update({{n: None for n in {DEV_ONLY!r}}}); "
        "from sim.cli import main; sys.argv = ['purlsim'] + sys.argv[1:]; main()"
    )
    for argv in (
        ["run", str(BASE), "--reps", "2", "--workers", "1", "--out", str(tmp_path / "run"), "-q"],
        ["report", str(BASE), str(BASE), "--reps", "2", "--workers", "1", "--out", str(tmp_path / "r.html"), "-q"],
    ):
        res = subprocess.run([sys.executable, "-c", driver, *argv], capture_output=True, text=True, timeout=300)
        assert res.returncode == 0, (argv[0], res.stderr[-2000:])
    assert (tmp_path / "run" / "deliveries.parquet").is_file() and (tmp_path / "r.html").is_file()
