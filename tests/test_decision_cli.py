"""`purlsim select` and `purlsim sensitivity` from the command line: what they print, and bad options exit 2."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from test_select import _policy

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, cwd=ROOT):
    return subprocess.run([sys.executable, "-m", "sim.cli", *map(str, args)], capture_output=True, text=True, cwd=cwd)


def test_select_prints_the_winner_the_eliminated_and_the_cost(tmp_path):
    files = [_policy(tmp_path, d) for d in (14, 10, 12)]
    out = tmp_path / "sel.json"
    r = cli("select", *files, "--delta", "1.5", "--n0", "5", "--workers", "1", "--out", out)
    assert r.returncode == 0, r.stderr
    assert "the best policy is approval_10" in r.stdout
    assert "eliminated approval_14 after" in r.stdout and "replications spent:" in r.stdout
    doc = json.loads(out.read_text())
    assert doc["winner"] == "approval_10" and doc["total_reps"] == sum(p["reps"] for p in doc["policies"])


def test_select_bad_options_exit_2_without_traceback(tmp_path):
    files = [_policy(tmp_path, d) for d in (14, 10)]
    r = cli("select", *files, "--delta", "0", "--pcs", "1.5")
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "--delta" in r.stderr and "--pcs" in r.stderr
    r = cli("select", files[0], "--delta", "1")
    assert r.returncode == 2 and "at least two" in r.stderr


def test_sensitivity_morris_names_what_matters_and_writes_its_plot(tmp_path):
    out = tmp_path / "sens"
    r = cli(
        "sensitivity", "scenarios/baseline_2025.yaml", "--method", "morris", "-N", "3", "--reps", "1",
        "--item", "pac3_mse", "--input", "us_pac3_on_hand", "--input", "sealift_interval", "--workers", "1",
        "--out", out,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "Matter most (mu*): us_pac3_on_hand" in r.stdout
    assert (out / "sensitivity.csv").is_file() and (out / "sensitivity.png").stat().st_size > 1000


def test_sensitivity_bad_options_exit_2(tmp_path):
    r = cli("sensitivity", "scenarios/baseline_2025.yaml", "--method", "nosuch", "--metric", "ttd_p50")
    assert r.returncode == 2 and "--method" in r.stderr and "--metric" in r.stderr and "Traceback" not in r.stderr
    r = cli("sensitivity", "scenarios/baseline.yaml")
    assert r.returncode == 2 and "declares no uncertain inputs" in r.stderr
    r = cli("sensitivity", "scenarios/baseline_2025.yaml", "--input", "nosuch")
    assert r.returncode == 2 and "--input: not uncertain inputs" in r.stderr
    r = cli("sensitivity", "scenarios/baseline_2025.yaml", "--metric", "p_stockout", "--item", "gmlrs")
    assert r.returncode == 2 and "p_stockout needs an item Ukraine keeps" in r.stderr
