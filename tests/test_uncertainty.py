"""The second-order run: a constructed case whose input and run variances are known, resume after an interrupt, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim.experiments.evaluate import Evaluator
from sim.experiments.uncertainty import anova, decompose, outer_design, uncertainty
from sim.scenario.loader import load_scenario

ROOT = Path(__file__).resolve().parents[1]


def one_noisy_leg(tmp_path) -> Path:
    """One unit; its time is the approval delay (uncertain, uniform 10-40 days: variance 75) plus a
    road leg uniform on 2-26 days (variance 48), drawn from the same stream at every outer point."""
    f = tmp_path / "one_noisy_leg.yaml"
    f.write_text(
        """name: one_noisy_leg
start: 2025-01-01
horizon_days: 400
seed: 5
items: {shell: {name: round, unit_cost_musd: 1.0}}
requests:
  packages: [{id: p, at: 0, lines: [{item: shell, qty: 1}]}]
approval: {delay_days: 20}
funding: {enabled: false}
production: {line: {item: shell, node: plant, rate_per_month: 300}}
transport:
  destination: ukraine
  nodes: {plant: {kind: plant}, ukraine: {kind: destination}}
  legs: {road: {from: plant, to: ukraine, mode: road, days: {dist: uniform, low: 2, high: 26}}}
  routes: {r: {legs: [road]}}
  choose: [{origin: plant, route: r}]
uncertain:
  approval: {path: approval.delay_days, low: 10, high: 40, source: E}
""",
        encoding="utf-8",
    )
    return f


def test_anova_by_hand():
    # rows 0, 2 (+ column effects 0, 1, 5 shared by both rows, no interaction): MS_points = 3 * 2 = 6,
    # MS_residual = 0, MS_within = (0 + 1 + 25 - 3 * 4) * 2 / (2 * 2) = 28 / 4 ... computed below
    y = np.array([[0.0, 1.0, 5.0], [2.0, 3.0, 7.0]])
    s2_in, s2_run, one_way = anova(y)
    within = np.var([0.0, 1.0, 5.0], ddof=1)  # the same in both rows: 7
    assert s2_in == pytest.approx(6.0 / 3) and s2_run == pytest.approx(within)
    assert one_way == pytest.approx((6.0 - within) / 3 if within < 6.0 else 0.0)  # truncated at 0
    with pytest.raises(ValueError, match="at least 2"):
        decompose(np.zeros((1, 5)))


def test_outer_design_is_a_latin_hypercube():
    u = outer_design(10, 3, seed=1)
    assert u.shape == (10, 3)
    for col in u.T:  # one point in each tenth of every input's range
        assert sorted(np.floor(col * 10).astype(int)) == list(range(10))
    assert np.array_equal(u, outer_design(10, 3, seed=1)) and not np.array_equal(u, outer_design(10, 3, seed=2))


def test_shares_of_a_constructed_case_are_within_their_intervals(tmp_path):
    # Known truth: variance from the inputs 30^2 / 12 = 75, from the run 24^2 / 12 = 48: share 75 / 123.
    # 20 outer points x 30 replications: the interval (~ +-0.14) is wide enough to hold the truth for
    # any seed we tried (1-5), narrow enough to exclude 0.5 and 0.85 (the shares of a wrong estimator).
    f = one_noisy_leg(tmp_path)
    u = uncertainty(f, outer=20, inner=30, tau=300, seed=3)
    assert u.share_lo <= 75 / 123 <= u.share_hi and u.share_hi - u.share_lo < 0.35
    # The leg's draws are the same at every point (common random numbers), so the two-way estimate
    # is exactly the sample variance of the delays drawn, and the run's variance exactly that of the
    # 30 leg draws at any fixed delay; the one-way estimator is short of it by var_run / R.
    assert u.var_inputs == pytest.approx(np.var(u.points["approval"], ddof=1), rel=1e-9)
    fixed = Evaluator([load_scenario(f)], 3, tau=300)([0], range(30))[0]
    assert u.var_run == pytest.approx(np.var(fixed, ddof=1), rel=1e-9)
    assert u.var_inputs_one_way == pytest.approx(u.var_inputs - u.var_run / 30, rel=1e-9)
    assert u.mean == pytest.approx(u.points["approval"].mean() + fixed.mean() - 20, rel=1e-6)  # the file says 20
    assert 50 < u.var_inputs < 100 and 30 < u.var_run < 70  # and they are near the truth


class _StopAfter:
    """A progress callback that interrupts the study after `k` blocks (as Ctrl-C would, between blocks)."""

    def __init__(self, k: int):
        self.k, self.calls = k, 0

    def __call__(self, n: int) -> None:
        self.calls += 1
        if self.calls == self.k:
            raise KeyboardInterrupt


def test_an_interrupted_second_order_run_resumes_to_the_same_numbers(tmp_path):
    f = one_noisy_leg(tmp_path)
    whole = uncertainty(f, outer=40, inner=2, tau=300)  # 3 blocks of 16 outer points
    part = tmp_path / ".u.partial"
    with pytest.raises(KeyboardInterrupt):
        uncertainty(f, outer=40, inner=2, tau=300, checkpoint=part, progress=_StopAfter(2))
    assert sorted(p.name for p in part.glob("block_*.npy")) == ["block_00000.npy", "block_00001.npy"]
    with pytest.raises(ValueError, match="unfinished study"):  # not resuming: refused, kept
        uncertainty(f, outer=40, inner=2, tau=300, checkpoint=part)
    with pytest.raises(ValueError, match="not this one"):  # another study: refused
        uncertainty(f, outer=40, inner=3, tau=300, checkpoint=part, resume=True)
    again = uncertainty(f, outer=40, inner=2, tau=300, checkpoint=part, resume=True)
    assert again.attrs["resumed_blocks"] == 2 and not part.exists()
    assert np.array_equal(again.values, whole.values) and again.share_inputs == whole.share_inputs
    assert (again.share_lo, again.share_hi) == (whole.share_lo, whole.share_hi)


def test_an_interrupted_sobol_study_resumes_to_the_same_indices(tmp_path, monkeypatch):
    from sim.experiments import sensitivity as module
    from sim.experiments.sensitivity import sensitivity

    monkeypatch.setattr(module, "BATCH", 8)  # small blocks: a small study of 3 blocks
    f = one_noisy_leg(tmp_path)
    whole = sensitivity(f, "sobol", n=8, reps=1, tau=300)  # 24 points: 3 blocks of 8
    part = tmp_path / ".s.partial"
    with pytest.raises(KeyboardInterrupt):
        sensitivity(f, "sobol", n=8, reps=1, tau=300, checkpoint=part, progress=_StopAfter(1))
    again = sensitivity(f, "sobol", n=8, reps=1, tau=300, checkpoint=part, resume=True)
    assert again.attrs["resumed_blocks"] == 1 and not part.exists()
    assert again.equals(whole)


def test_uncertainty_cli_resumes_and_writes_its_outputs(tmp_path):
    from sim.experiments.checkpoint import partial_for

    f = one_noisy_leg(tmp_path)
    out = tmp_path / "u"
    with pytest.raises(KeyboardInterrupt):
        uncertainty(f, outer=20, inner=2, tau=240, checkpoint=partial_for(out), progress=_StopAfter(1), keep=True)

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "sim.cli", *map(str, args)], capture_output=True, text=True)

    r = cli("uncertainty", f, "--outer", "20", "--inner", "2", "--workers", "1", "--out", out)
    assert r.returncode == 2 and "--resume" in r.stderr and "Traceback" not in r.stderr
    r = cli("uncertainty", f, "--outer", "20", "--inner", "2", "--workers", "1", "--out", out, "--resume")
    assert r.returncode == 0, r.stderr
    assert "resumed: 1 block(s)" in r.stdout and "share of the inputs" in r.stdout
    assert not partial_for(out).exists() and (out / "uncertainty.png").stat().st_size > 1000
    got, want = json.loads((out / "uncertainty.json").read_text()), uncertainty(f, outer=20, inner=2)
    assert got["tau"] == want.attrs["tau"] == 240  # the rule's tau, which the interrupted part was given
    assert (got["var_inputs"], got["var_run"], got["share_inputs_lo"]) == (want.var_inputs, want.var_run, want.share_lo)
    r = cli("uncertainty", f, "--outer", "1", "--inner", "2", "--metric", "ttd_p50")
    assert r.returncode == 2 and "--metric" in r.stderr and "Traceback" not in r.stderr


def test_report_has_a_sensitivity_section_from_a_study_on_disk(tmp_path):
    # A tiny Morris study (2 inputs, 3 trajectories, 1 replication: 9 runs) written as the CLI writes
    # it, then read by `report --sensitivity DIR`: the section names the inputs largest first, with
    # the numbers of the study's table, and embeds its plot.
    import pandas as pd

    from sim.commands._study import write_sensitivity
    from sim.experiments.sensitivity import sensitivity

    study = tmp_path / "sens"
    df = sensitivity(ROOT / "scenarios/baseline_2025.yaml", "morris", n=3, reps=1, group="pac3_mse",
                     inputs=["us_pac3_on_hand", "sealift_interval"])  # fmt: skip
    write_sensitivity(df, study)
    out = tmp_path / "r.html"
    r = subprocess.run(
        [sys.executable, "-m", "sim.cli", "report", "scenarios/baseline.yaml", "--reps", "1", "--workers", "1",
         "--sensitivity", study, "--out", out],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    text = out.read_text(encoding="utf-8")
    section = text.split('<h2 id="sensitivity">')[1].split("<h2")[0]
    first = df.iloc[0]
    assert "rmst of pac3_mse" in section and f"{first.input} [{first.source}]: mu* {first.mu_star:,.1f}" in section
    assert section.index(df.iloc[0].input) < section.index(df.iloc[1].input) and "<img " in section
    back = pd.read_csv(study / "sensitivity.csv")
    assert list(back["input"]) == list(df["input"]) and np.allclose(back["mu_star"], df["mu_star"])
    r = subprocess.run(
        [sys.executable, "-m", "sim.cli", "report", "scenarios/baseline.yaml", "--sensitivity", tmp_path],
        capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    assert (
        r.returncode == 2 and "not a study written by purlsim sensitivity" in r.stderr and "Traceback" not in r.stderr
    )
