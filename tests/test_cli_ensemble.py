"""The ensemble command line: bad input exits 2 with a message, Ctrl-C keeps finished chunks and
--resume finishes them, --dask local runs on a real LocalCluster, a progress bar only on a terminal."""

from __future__ import annotations

import signal
import subprocess
import time

import pandas as pd
import pytest
import yaml
from conftest import PURLSIM, REPO, run_cli, run_cli_many
from test_ensemble import DONOR
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.experiments.streamed import finished_chunks, partial_dir, run_to_dir

BASELINE = REPO / "scenarios" / "baseline.yaml"


@pytest.fixture(scope="module")
def donor_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("scenarios") / "donor.yaml"
    path.write_text(yaml.safe_dump(DONOR))
    return path


BAD = [
    (["run", BASELINE, "--reps", "0"], "--reps: must be at least 1 (got 0)"),
    (["run", BASELINE, "--seed", "-3"], "--seed: must not be negative (got -3)"),
    (["run", BASELINE, "--workers", "0"], "--workers: must be at least 1"),
    (["run", BASELINE, "--chunk-size", "0"], "--chunk-size: must be at least 1"),
    (["run", BASELINE, "--resume"], "--resume: needs --out"),
    (["compare", BASELINE], "at least two scenario files"),
    (["compare", BASELINE, BASELINE, "--reps", "0"], "--reps: must be at least 1"),
    (
        ["sweep", BASELINE, "--param", "production.nope.rate_per_month=40,60"],
        "production.nope.rate_per_month: override path does not exist",
    ),
    (
        ["sweep", BASELINE, "--param", "transport.legs.sealift.days.mode=8:20:4"],
        "need low <= mode <= high (sweep points transport.legs.sealift.days.mode=8; transport.legs.sealift.days.mode=20)",
    ),
    (["sweep", BASELINE, "--param", "production.pac3_line.rate_per_month=40:80"], "a range is from:to:step"),
    (["sweep", BASELINE, "--param", "production.pac3_line.rate_per_month"], "expected PATH=VALUES"),
    (
        ["sweep", BASELINE, "--param", "production.pac3_line.rate_per_month=40", "--seed", "-1"],
        "--seed: must not be negative",
    ),
]


def test_bad_input_exits_2_with_a_clear_message_and_no_traceback(tmp_path):
    # An unreachable Dask scheduler is among them: a clear error after the 5 s connect timeout,
    # not a hang (the whole batch would run into its limit).
    unreachable = (
        ["run", BASELINE, "--reps", "2", "--dask", "tcp://127.0.0.1:9"],
        "--dask tcp://127.0.0.1:9: cannot reach a Dask scheduler within 5 s",
    )
    t = time.perf_counter()
    results = run_cli_many([argv for argv, _ in BAD + [unreachable]], tmp_path)
    assert time.perf_counter() - t < 60
    for (argv, message), res in zip(BAD + [unreachable], results):
        assert res.returncode == 2, (argv, res.stderr)
        assert message in " ".join(res.stderr.split()), (argv, res.stderr)
        assert "Traceback" not in res.stderr and res.stdout == "", argv


def test_ctrl_c_keeps_finished_chunks_and_resume_finishes_them_identically(tmp_path):
    out = tmp_path / "run"
    # One replication per chunk: the interrupt must land mid-run however fast replications get
    # (in 10 chunks of 4, a run once finished before the Ctrl-C arrived).
    reps, size = 40, 1
    argv = [
        str(PURLSIM),
        "run",
        str(BASELINE),
        "--reps",
        str(reps),
        "--seed",
        "9",
        "--chunk-size",
        str(size),
        "--workers",
        "2",
        "--csv",
        "--no-plots",  # what is checked is the tables and the resume; plots would only add seconds
        "--out",
        str(out),
        "-q",
    ]
    # A shell starts background jobs with Ctrl-C ignored, and Python keeps an ignored SIGINT: give
    # the run the default disposition, as a terminal would, whoever started this test.
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    partial = partial_dir(out)
    deadline = time.monotonic() + 60
    while len(finished_chunks(partial)) < 2 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert proc.poll() is None, "the run ended before it could be interrupted: give it more chunks"
    proc.send_signal(signal.SIGINT)  # what Ctrl-C sends
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "--resume" in err and "Traceback" not in err
    kept = len(finished_chunks(partial))
    assert 2 <= kept < reps // size and not out.exists()

    res = run_cli(*argv[1:-1], "--resume", "-q")
    assert res.returncode == 0, res.stderr
    assert f"resumed: {size * kept} replication(s) were already finished" in " ".join(res.stdout.split())
    assert not partial.exists()

    run_to_dir(sim.load_scenario(BASELINE), tmp_path / "whole", reps=reps, seed=9, chunk_size=size, csv=True)
    for name in ("deliveries.csv", "events.csv", "levels.csv", "backfills.csv", "summary.json"):
        assert (out / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name
    pd.testing.assert_frame_equal(
        pd.read_parquet(out / "deliveries.parquet"), pd.read_parquet(tmp_path / "whole" / "deliveries.parquet")
    )


def test_dask_local_starts_a_cluster_and_gives_the_in_process_results(tmp_path, donor_file):
    runner = CliRunner()
    res = runner.invoke(
        app,
        [
            "run",
            str(donor_file),
            "--reps",
            "6",
            "--seed",
            "4",
            "--dask",
            "local",
            "--workers",
            "2",
            "--csv",
            "--out",
            str(tmp_path / "dask"),
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    res = runner.invoke(
        app,
        [
            "run",
            str(donor_file),
            "--reps",
            "6",
            "--seed",
            "4",
            "--workers",
            "1",
            "--csv",
            "--out",
            str(tmp_path / "one"),
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    for name in ("deliveries.csv", "backfills.csv", "summary.json"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "one" / name).read_bytes(), name


def test_a_progress_bar_on_a_terminal_only_and_not_with_quiet(monkeypatch, donor_file):
    import io

    from rich.console import Console

    import sim.cli

    def drawn(*extra) -> str:
        screen = io.StringIO()  # a terminal as rich sees one, drawn into a buffer
        monkeypatch.setattr(sim.cli, "err_console", Console(file=screen, force_terminal=True, width=120))
        res = CliRunner().invoke(app, ["run", str(donor_file), "--reps", "20", "--workers", "1", *extra])
        assert res.exit_code == 0, res.output
        return screen.getvalue()

    assert "replications" in drawn()
    assert drawn("--quiet") == ""
    monkeypatch.setattr(sim.cli, "err_console", Console(file=io.StringIO(), force_terminal=False))
    res = CliRunner().invoke(app, ["run", str(donor_file), "--reps", "20", "--workers", "1"])
    assert res.exit_code == 0 and res.stderr == ""  # not a terminal: no bar


def test_compare_and_sweep_on_the_command_line(tmp_path, donor_file):
    runner = CliRunner()
    faster = tmp_path / "faster.yaml"
    faster.write_text(
        yaml.safe_dump(
            {
                "extends": str(donor_file),
                "name": "fast_line",
                "production": {"x_line": {"unit_days": {"dist": "exponential", "mean": 2}}},
            }
        )
    )
    res = runner.invoke(
        app,
        [
            "compare",
            str(donor_file),
            str(faster),
            "--reps",
            "12",
            "--seed",
            "1",
            "--workers",
            "2",
            "--out",
            str(tmp_path / "cmp"),
        ],
    )
    assert res.exit_code == 0, res.output
    text = " ".join(res.output.split())
    assert "Interceptor X: fast_line is" in text and "faster than donor_stream (mean time to delivery to" in text
    table = pd.read_csv(tmp_path / "cmp" / "comparison.csv")
    assert set(table["scenario"]) == {"donor_stream", "fast_line"} and (tmp_path / "cmp" / "comparison.json").is_file()

    res = runner.invoke(
        app,
        [
            "sweep",
            str(donor_file),
            "--param",
            "production.x_line.unit_days.mean=2:6:4",
            "--reps",
            "6",
            "--workers",
            "1",
            "--out",
            str(tmp_path / "sw"),
        ],
    )
    assert res.exit_code == 0, res.output
    sweep = pd.read_csv(tmp_path / "sw" / "sweep.csv")
    assert sorted(sweep["production.x_line.unit_days.mean"].unique()) == [2, 6] and len(sweep) == 4
