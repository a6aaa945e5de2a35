"""`purlsim baseline record|check`: files written, moves caught and named, bad input refused with exit 2."""

from __future__ import annotations

import json

import pytest
from conftest import SEALIFT_5_DAYS_SLOWER, SHIPPED
from typer.testing import CliRunner

from sim.cli import app
from sim.experiments import baselines as bl


def purlsim(*args):
    """Run the purlsim CLI in-process; returns click's Result (exit_code, output)."""
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture
def repo(tmp_path, monkeypatch):
    """A user's repository: scenarios extending the shipped baseline, the cwd, baselines in ./bl."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "mine.yaml").write_text(f"extends: {SHIPPED}\nname: mine\n")
    (tmp_path / "other.yaml").write_text(f"extends: {SHIPPED}\nname: other\nseed: 9\n")
    return tmp_path


def assert_refused(result, *messages):
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit) and "Traceback" not in result.output
    for m in messages:
        assert m in result.output
    assert "within what is allowed" not in result.output


def test_record_writes_one_file_per_scenario_with_what_a_rerun_needs(repo):
    result = purlsim(
        "baseline",
        "record",
        "mine.yaml",
        "other.yaml",
        "--dir",
        "bl",
        "--reps",
        8,
        "--set",
        "requests.stream.interarrival_days.mean=12",
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (repo / "bl").iterdir()) == ["mine.json", "other.json"]
    mine = json.loads((repo / "bl" / "mine.json").read_text())
    other = bl.load(repo / "bl" / "other.json")
    overrides = {"requests.stream.interarrival_days.mean": 12}
    assert (mine["scenario"], mine["reps"], mine["seed"], mine["overrides"]) == ("mine.yaml", 8, 2025, overrides)
    assert (other.scenario, other.seed) == ("other.yaml", 9)  # the scenario's own seed
    assert mine["scenario_hash"] == bl.scenario_hash(repo / "mine.yaml", overrides) != other.scenario_hash
    assert mine["versions"] == bl.versions() and mine["tolerances"] == bl.Tolerances().model_dump()
    assert set(mine["items"]) == {"ALL", "gmlrs", "pac3_mse", "shell_155"}
    assert set(mine["items"]["ALL"]) == set(bl.LATENCY_METRICS + bl.ITEM_COUNT_METRICS)


def test_record_without_scenarios_rerecords_each_baseline_with_its_own_settings(repo):
    assert (
        purlsim(
            "baseline",
            "record",
            "mine.yaml",
            "--dir",
            "bl",
            "--reps",
            5,
            "--seed",
            7,
            "--name",
            "mine_fast",
            "--set",
            "approval.delay_days=20",
            "--rtol",
            0.03,
        ).exit_code
        == 0
    )
    before = (repo / "bl" / "mine_fast.json").read_text()
    assert purlsim("baseline", "record", "--dir", "bl").exit_code == 0
    again = bl.load(repo / "bl" / "mine_fast.json")
    assert (again.reps, again.seed, again.overrides) == (5, 7, {"approval.delay_days": 20})
    assert again.tolerances.metrics["ttd_p90"].rtol == 0.03
    assert (repo / "bl" / "mine_fast.json").read_text() == before


def test_slower_sealift_is_caught_and_named_and_a_rerecord_passes(repo):
    assert purlsim("baseline", "record", "mine.yaml", "--dir", "bl", "--reps", 20).exit_code == 0
    unchanged = purlsim("baseline", "check", "mine.yaml", "--dir", "bl")
    assert unchanged.exit_code == 0, unchanged.output
    assert "results within what is allowed" in unchanged.output and "scenario file changed" not in unchanged.output

    with open(repo / "mine.yaml", "a") as f:
        f.write(SEALIFT_5_DAYS_SLOWER)
    moved = purlsim("baseline", "check", "mine.yaml", "--dir", "bl")
    assert moved.exit_code == 1, moved.output
    out = moved.output
    assert "tolerance" in out and "scenario file changed since the baseline (mine.yaml), and results moved" in out
    assert "Results moved beyond what is allowed" in out
    for metric in ("items.shell_155.rmst", "items.shell_155.ttd_p50"):
        assert metric in out
    assert "items.pac3_mse" not in out  # interceptors fly: the sealift does not touch them
    row = next(line for line in out.splitlines() if "items.shell_155.ttd_p50" in line)
    assert "+5" in row and "±" in row  # change and allowed shift are shown

    assert purlsim("baseline", "check", "mine.yaml", "--dir", "bl", "--atol", 10).exit_code == 0  # 5 d < 10 d
    updated = purlsim("baseline", "check", "--dir", "bl", "--update")
    assert updated.exit_code == 0 and "re-recorded 1 baseline" in updated.output
    assert bl.load(repo / "bl" / "mine.json").scenario_hash == bl.scenario_hash(repo / "mine.yaml")
    again = purlsim("baseline", "check", "--dir", "bl")
    assert again.exit_code == 0, again.output


def test_exact_mode_flags_what_tolerance_mode_lets_pass(repo):
    assert purlsim("baseline", "record", "mine.yaml", "--dir", "bl", "--reps", 6).exit_code == 0
    file = repo / "bl" / "mine.json"
    data = json.loads(file.read_text())
    data["items"]["ALL"]["rmst"]["per_rep"][2] += 0.01  # a hundredth of a day
    file.write_text(json.dumps(data))
    exact = purlsim("baseline", "check", "--dir", "bl", "--mode", "exact")
    assert exact.exit_code == 1 and "items.ALL.rmst" in exact.output and "exact (1e-09)" in exact.output
    assert "items.ALL.ttd_p50" not in exact.output
    assert purlsim("baseline", "check", "--dir", "bl", "--mode", "tolerance").exit_code == 0


def test_check_without_scenarios_checks_every_baseline_in_the_dir(repo):
    assert purlsim("baseline", "record", "mine.yaml", "other.yaml", "--dir", "bl", "--reps", 4).exit_code == 0
    result = purlsim("baseline", "check", "--dir", "bl")
    assert result.exit_code == 0, result.output
    assert "mine.json" in result.output and "other.json" in result.output and "2 baseline(s)" in result.output


# --- bad input: exit 2, a clear message, never a silent pass ------------------------------------


@pytest.fixture
def recorded(repo):
    assert purlsim("baseline", "record", "mine.yaml", "--dir", "bl", "--reps", 3).exit_code == 0
    return repo / "bl" / "mine.json"


def test_missing_baseline_file_is_refused(recorded):
    assert_refused(
        purlsim("baseline", "check", "bl/nothere.json", "--dir", "bl"), "bl/nothere.json: baseline file not found"
    )
    assert_refused(
        purlsim("baseline", "check", "other.yaml", "--dir", "bl"),
        "other.yaml: no baseline in bl",
        "purlsim baseline record other.yaml --dir bl",
    )


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda text: text[: len(text) // 2], "corrupt baseline file: not valid JSON"),
        (lambda text: text.replace('"reps": 3,', ""), "corrupt baseline file: reps: Field required"),
        (
            lambda text: text.replace('"rtol": 0.01', '"rtol": -0.01', 1),
            "corrupt baseline file: tolerances.metrics.rmst.rtol: Input should be greater than or equal to 0",
        ),
        (lambda text: text.replace('"format": "purlsim-baseline/2"', '"format": "other/2"'), "not a purlsim baseline"),
    ],
    ids=["truncated", "missing-key", "negative-tolerance", "wrong-format"],
)
def test_corrupt_baseline_file_is_refused(recorded, damage, message):
    recorded.write_text(damage(recorded.read_text()))
    assert_refused(purlsim("baseline", "check", "--dir", "bl"), "bl/mine.json: ", message)
    assert_refused(purlsim("baseline", "check", "mine.yaml", "--dir", "bl"), message)


def test_corrupt_file_among_good_ones_fails_the_whole_check(recorded, repo):
    assert purlsim("baseline", "record", "other.yaml", "--dir", "bl", "--reps", 3).exit_code == 0
    (repo / "bl" / "stray.json").write_text("[]")
    assert_refused(purlsim("baseline", "check", "--dir", "bl"), "bl/stray.json: corrupt baseline file")


def test_baseline_of_a_deleted_scenario_is_refused(recorded, repo):
    (repo / "mine.yaml").unlink()
    assert_refused(purlsim("baseline", "check", "--dir", "bl"), "bl/mine.json: the scenario mine.yaml no longer exists")


def test_baseline_of_a_scenario_that_no_longer_loads_is_refused(recorded, repo):
    (repo / "mine.yaml").write_text(f"extends: {SHIPPED}\nname: mine\nhorizon_dayz: 3\n")
    assert_refused(
        purlsim("baseline", "check", "--dir", "bl"),
        "bl/mine.json: its scenario no longer loads: mine.yaml:3:1: horizon_dayz: unknown key",
    )


@pytest.mark.parametrize("option", [["--rtol", -0.1], ["--atol", -1], ["--alpha", 1.5], ["--mode", "fuzzy"]])
def test_bad_check_options_are_refused(recorded, option):
    assert_refused(purlsim("baseline", "check", "--dir", "bl", *option), option[0])


def test_bad_record_input_is_refused(repo):
    assert_refused(purlsim("baseline", "record", "mine.yaml", "--dir", "bl", "--rtol", -1), "--rtol: must be")
    assert_refused(purlsim("baseline", "record", "gone.yaml", "--dir", "bl"), "gone.yaml: scenario file not found")
    assert_refused(
        purlsim("baseline", "record", "mine.yaml", "--dir", "bl", "--set", "transport.legs.nope.days=3"),
        "override path does not exist",
    )
    assert not (repo / "bl").exists()


def test_no_baselines_to_check_is_refused(repo):
    assert_refused(purlsim("baseline", "check", "--dir", "bl"), "bl: baseline directory not found")
    (repo / "bl").mkdir()
    assert_refused(purlsim("baseline", "check", "--dir", "bl"), "bl: no baseline files", "purlsim baseline record")
