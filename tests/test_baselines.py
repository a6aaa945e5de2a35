"""Delivery-time baselines: the shipped scenarios against their recorded baselines, the method, and the pytest fixture."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from conftest import REPO, SEALIFT_5_DAYS_SLOWER, SHIPPED
from scipy import stats

import sim
from sim.experiments import baselines as bl

pytest_plugins = ["pytester"]

BASELINE_DIR = REPO / "tests" / "baselines"
STOCKPILE = f"""
extends: {SHIPPED}
name: with_stockpile
stockpiles:
  germany:
    node: us_depot_eu
    items: {{pac3_mse: {{on_hand: 200, min_keep: 50}}}}
policy:
  sources: [us_stock, stockpile, production]
"""


# --- the project's own regression check: every recorded baseline ---------------------------------


@pytest.mark.parametrize("file", sorted(BASELINE_DIR.glob("*.json")), ids=lambda p: p.stem)
def test_shipped_baseline_holds(file):
    result = bl.check(file, root=REPO)
    assert result.ok, result.describe()


def test_every_shipped_scenario_has_a_baseline():
    recorded = {bl.load(f).scenario for f in BASELINE_DIR.glob("*.json")}
    shipped = {p.relative_to(REPO).as_posix() for p in (REPO / "scenarios").glob("*.yaml")}
    missing = sorted(shipped - recorded)
    assert shipped and not missing, (
        f"no baseline for {missing}; record with: .venv/bin/purlsim baseline record "
        f"{' '.join(missing)} --dir tests/baselines"
    )


# --- what a baseline holds ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def stockpile_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("sc") / "with_stockpile.yaml"
    path.write_text(STOCKPILE)
    return sim.run(sim.load_scenario(path), reps=6, seed=3)


def test_metrics_agree_with_the_run_summary(stockpile_run):
    items, backfill = bl.measure(stockpile_run)
    summary = stockpile_run.summary()
    assert set(items) == set(summary.index) == {"ALL", "gmlrs", "pac3_mse", "shell_155"}
    for group, row in summary.iterrows():
        for stat in bl.LATENCY_METRICS:
            # the summary's headline figure; a quantile not reached (inf) is stored as null
            expected = None if row[stat] == math.inf else pytest.approx(row[stat], rel=1e-5)
            assert items[group][stat].value == expected, (group, stat)
        assert items[group]["delivered_lots"].value == pytest.approx(row["delivered_lots"], rel=1e-5)
        assert items[group]["undelivered_lots"].value == pytest.approx(row["undelivered_lots"], rel=1e-5)
        per = items[group]["rmst"].per_rep
        assert items[group]["rmst"].se == pytest.approx(np.std(per, ddof=1) / math.sqrt(6), rel=1e-4)
        # per_rep holds each replication's own estimate: its mean is near, not equal to, the pooled one
        assert np.mean(per) == pytest.approx(row["rmst"], rel=0.05)
    bf = stockpile_run.backfill_summary().loc[("germany", "pac3_mse")]
    assert bf["donations"] > 0
    germany = backfill["germany/pac3_mse"]
    assert germany["replaced_gap_mean"].value == pytest.approx(bf["replaced_gap_mean"], rel=1e-5)
    assert germany["donations"].value == pytest.approx(bf["donations"], rel=1e-5)
    assert germany["open"].value == pytest.approx(bf["open_per_rep"], rel=1e-5)
    assert backfill["ALL"]["donations"].value == germany["donations"].value


def test_file_is_sorted_rounded_and_reads_back(tmp_path, stockpile_run):
    scenario = tmp_path / "with_stockpile.yaml"
    scenario.write_text(STOCKPILE)
    baseline = bl.record(scenario, reps=4, seed=3, root=tmp_path)
    file = tmp_path / "b.json"
    bl.save(baseline, file)
    text = file.read_text()

    def sorted_pairs(pairs):
        keys = [k for k, _ in pairs]
        assert keys == sorted(keys)
        return dict(pairs)

    data = json.loads(text, object_pairs_hook=sorted_pairs)
    numbers = [
        v
        for g in data["items"].values()
        for m in g.values()
        for v in [m["value"], m["se"], *m["per_rep"]]
        if v is not None
    ]
    assert numbers and all(len(f"{abs(v):e}".split("e")[0].replace(".", "").rstrip("0")) <= 6 for v in numbers)
    assert data["scenario"] == "with_stockpile.yaml" and data["reps"] == 4 and data["seed"] == 3
    assert {"python", "purlsim", "numpy", "pandas", "simpy"} <= set(data["versions"])
    assert (
        data["tolerances"]["metrics"]["ttd_p90"] == {"atol": 1.0, "rtol": 0.01} and data["tolerances"]["alpha"] == 0.05
    )
    assert "germany/pac3_mse" in data["backfill"]
    assert bl.load(file) == baseline
    assert bl.dumps(bl.record(scenario, reps=4, seed=3, root=tmp_path)) == text  # a re-record diffs as nothing


def test_scenario_hash_is_of_the_resolved_scenario(tmp_path):
    parent = tmp_path / "parent.yaml"
    parent.write_text(
        SHIPPED.read_text().replace("extends: common/base.yaml", f"extends: {SHIPPED.parent / 'common/base.yaml'}")
    )
    child = tmp_path / "child.yaml"
    child.write_text("extends: parent.yaml\n")
    first = bl.scenario_hash(child)
    child.write_text("# a comment changes nothing\nextends: parent.yaml\n")
    assert bl.scenario_hash(child) == first
    parent.write_text(parent.read_text().replace("mean: 15", "mean: 16"))
    assert bl.scenario_hash(child) != first  # the extended file counts
    assert bl.scenario_hash(child, {"seed": 7}) != bl.scenario_hash(child)
    assert bl.scenario_hash(child, {"seed": 2025}) == bl.scenario_hash(child)  # same value, same scenario


def test_one_read_gives_the_scenario_the_loader_gives():
    overrides = {"requests.stream.interarrival_days.mean": 9}
    scenario, digest = bl.load_resolved(SHIPPED, overrides)
    assert scenario == sim.load_scenario(SHIPPED, overrides)
    assert digest == bl.scenario_hash(SHIPPED, overrides) != bl.scenario_hash(SHIPPED)


# --- the method: synthetic baselines with known answers ----------------------------------------


def synthetic(values: dict[str, list[float]], seed: int = 0) -> bl.Baseline:
    """A baseline whose ALL group holds the given per-replication values."""
    reps = len(next(iter(values.values())))
    metrics = {m: bl._metric(pd.Series(v), reps, math.nan) for m, v in values.items()}
    return bl.Baseline(
        scenario="x.yaml",
        scenario_name="x",
        scenario_hash="sha256:s",
        code_hash="sha256:c",
        seed=seed,
        reps=reps,
        versions={"python": "3"},
        tolerances=bl.Tolerances(),
        items={"ALL": metrics},
    )


RNG = np.random.default_rng(11)
OLD = RNG.normal(200, 20, 30)


def test_a_real_shift_is_flagged_and_named():
    result = bl.compare(
        synthetic({"rmst": OLD, "ttd_p90": OLD + 50}),
        synthetic({"rmst": OLD + 5, "ttd_p90": OLD + 50}),
        mode="tolerance",
    )
    assert [m.metric for m in result.moved] == ["items.ALL.rmst"]
    moved = result.moved[0]
    assert moved.change == pytest.approx(5, abs=1e-3) and moved.allowed == pytest.approx(0.01 * moved.old)
    assert moved.p < 1e-10


def test_a_shift_the_replications_cannot_resolve_is_not_flagged():
    noise = RNG.normal(200, 20, 30)
    unresolved = noise + (OLD.mean() + 3 - noise.mean())  # +3 days, but only noise pairs with OLD
    resolved = OLD + 3 + RNG.normal(0, 1, 30)  # +3 days, paired noise small
    assert bl.compare(synthetic({"rmst": OLD}), synthetic({"rmst": unresolved}), mode="tolerance").ok
    flagged = bl.compare(synthetic({"rmst": OLD}), synthetic({"rmst": resolved}), mode="tolerance")
    assert [m.metric for m in flagged.moved] == ["items.ALL.rmst"]
    assert flagged.moved[0].change > flagged.moved[0].allowed  # both runs moved beyond tolerance


def test_a_significant_shift_within_tolerance_is_not_flagged():
    assert bl.compare(synthetic({"rmst": OLD}), synthetic({"rmst": OLD + 0.5}), mode="tolerance").ok
    tight = bl.compare(synthetic({"rmst": OLD}), synthetic({"rmst": OLD + 0.5}), mode="tolerance", rtol=0, atol=0.1)
    assert [m.metric for m in tight.moved] == ["items.ALL.rmst"]


def test_a_count_that_disappears_counts_as_zero():
    old = synthetic({"rmst": OLD})
    old.items["gmlrs"] = {
        "delivered_lots": bl._metric(pd.Series([3.0] * 30), 30, 0.0),
        "rmst": bl._metric(pd.Series(OLD), 30, math.nan),
    }
    result = bl.compare(old, synthetic({"rmst": OLD}), mode="tolerance")
    assert [(m.metric, m.old, m.new) for m in result.moved] == [("items.gmlrs.delivered_lots", 3.0, 0.0)]


def test_exact_mode_catches_any_difference_beyond_1e_9():
    old = synthetic({"rmst": OLD, "ttd_p50": OLD})
    nudged = OLD.copy()
    nudged[7] *= 1 + 1e-5
    assert [m.metric for m in bl.compare(old, synthetic({"rmst": OLD, "ttd_p50": nudged})).moved] == [
        "items.ALL.ttd_p50"
    ]
    assert bl.compare(old, synthetic({"rmst": OLD, "ttd_p50": OLD})).ok
    assert bl.compare(old, synthetic({"rmst": OLD, "ttd_p50": nudged})).mode == "exact"


def test_mode_is_exact_only_when_scenario_code_and_versions_are_unchanged():
    old = synthetic({"rmst": OLD})
    assert bl.default_mode(old, old) == "exact"
    assert bl.default_mode(old, old.model_copy(update={"versions": {"python": "4"}})) == "tolerance"
    assert bl.default_mode(old, old.model_copy(update={"code_hash": "sha256:d"})) == "tolerance"
    assert bl.default_mode(old, old.model_copy(update={"scenario_hash": "sha256:t"})) == "tolerance"


def test_paired_test_and_holm_match_known_values():
    a, b = RNG.normal(0, 1, 12), RNG.normal(0.5, 1, 12)
    assert bl.paired_p(list(a), list(b)) == pytest.approx(stats.ttest_rel(b, a).pvalue, rel=1e-12)
    assert bl.paired_p([1.0, None, 2.0], [1.5, 3.0, 2.5]) == 0.0  # constant shift, one rep unpaired
    assert math.isnan(bl.paired_p([1.0], [2.0]))
    adjusted = bl.holm([0.01, 0.04, math.nan, 0.03])
    assert adjusted[:2] + adjusted[3:] == pytest.approx([0.03, 0.06, 0.06]) and math.isnan(adjusted[2])


def test_negative_tolerances_are_refused():
    with pytest.raises(bl.BaselineError, match="--rtol"):
        bl.Tolerances().with_overrides(rtol=-0.01)
    with pytest.raises(bl.BaselineError, match="--alpha"):
        bl.check(BASELINE_DIR / "baseline.json", root=REPO, alpha=0)


# --- the pytest plugin, as a user's CI would use it ---------------------------------------------

USER_TEST = """
def test_mine(delivery_baseline):
    delivery_baseline.check("scenarios/mine.yaml", reps=12)
"""


def run_user(pytester, *args):
    """pytest in the user's repository, without the plugins that play no part (hypothesis re-imports slowly)."""
    return pytester.runpytest("-p", "no:hypothesispytest", "-p", "no:cacheprovider", *args)


@pytest.fixture
def user_repo(pytester):
    pytester.makeini("[pytest]\npurlsim_baseline_dir = ci/baselines\n")
    (pytester.path / "scenarios").mkdir()
    (pytester.path / "scenarios" / "mine.yaml").write_text(f"extends: {SHIPPED}\nname: mine\n")
    pytester.makepyfile(test_user=USER_TEST)
    return pytester


def test_fixture_missing_baseline_fails_with_how_to_record(user_repo):
    result = run_user(user_repo)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*no baseline*ci/baselines/mine.json*pytest --purlsim-record test_user.py::test_mine"
            "*purlsim baseline record scenarios/mine.yaml --dir ci/baselines*"
        ]
    )
    assert not (user_repo.path / "ci" / "baselines").exists()


def test_fixture_records_checks_and_catches_a_slower_sealift(user_repo):
    run_user(user_repo, "--purlsim-record").assert_outcomes(passed=1, warnings=1)
    recorded = bl.load(user_repo.path / "ci" / "baselines" / "mine.json")
    assert (recorded.scenario, recorded.reps) == ("scenarios/mine.yaml", 12)
    run_user(user_repo).assert_outcomes(passed=1)

    with open(user_repo.path / "scenarios" / "mine.yaml", "a") as f:
        f.write(SEALIFT_5_DAYS_SLOWER)
    result = run_user(user_repo)
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        [
            "*AssertionError: delivery-time baseline moved*tolerance mode*",
            "*scenario file changed since the baseline*",
            "*metric*baseline*now*change*allowed*p",
            "*items.gmlrs.ttd_p50 * 3* * 3* * +5*",
            "*If the change is intended, re-record this baseline:",
            "*pytest --purlsim-update test_user.py::test_mine",
            "*or: purlsim baseline check ci/baselines/mine.json --update",
        ]
    )
    assert "pytest_plugin.py" not in result.stdout.str()

    run_user(user_repo, "--purlsim-update").assert_outcomes(passed=1, warnings=1)
    run_user(user_repo).assert_outcomes(passed=1)


def test_fixture_corrupt_baseline_fails_and_option_sets_the_dir(user_repo):
    other = user_repo.path / "elsewhere"
    other.mkdir()
    (other / "mine.json").write_text('{"format": "purlsim-baseline/2", "scenario": ')
    result = run_user(user_repo, "--purlsim-baseline-dir", "elsewhere")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*elsewhere/mine.json: corrupt baseline file: not valid JSON*"])


def test_fixture_paths_follow_the_test_file_wherever_pytest_starts(pytester):
    # No ini file: the scenario and the baseline directory are found from the test file's folder,
    # so pytest started in tests/ and at the top of the repository read the same baseline.
    (pytester.path / "scenarios").mkdir()
    (pytester.path / "scenarios" / "mine.yaml").write_text(f"extends: {SHIPPED}\nname: mine\n")
    tests = pytester.mkdir("tests")
    (tests / "test_user.py").write_text(
        USER_TEST.replace('"scenarios/mine.yaml", reps=12', '"../scenarios/mine.yaml", reps=4')
    )
    pytester.chdir()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tests)
        run_user(pytester, "--purlsim-record", "-p", "no:pytester").assert_outcomes(passed=1, warnings=1)
        assert bl.load(tests / "baselines" / "mine.json").scenario == "../scenarios/mine.yaml"
        run_user(pytester).assert_outcomes(passed=1)
    run_user(pytester, "tests").assert_outcomes(passed=1)


def test_the_code_hash_follows_only_the_code_that_decides_results():
    files = {f.relative_to(REPO / "sim").as_posix() for f in bl.result_code_files()}
    assert {
        "model/flow.py",
        "scenario/loader.py",
        "streams.py",
        "recorder.py",
        "tables.py",
        "metrics/headline.py",
        "experiments/ensemble.py",
    } <= files
    assert not files & {
        "plots.py",
        "report.py",
        "cli.py",
        "pytest_plugin.py",
        "experiments/baselines.py",
        "commands/baseline.py",
        "scenario/descriptions.py",
        "scenario/file_schema.py",
    }
