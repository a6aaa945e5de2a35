"""Shared test helpers: a minimal valid scenario to build small cases on, and a way to run the CLI."""

from __future__ import annotations

import copy
import datetime as dt
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from sim.scenario import validate_mapping
from sim.scenario.loader import deep_merge

REPO = Path(__file__).resolve().parent.parent
PURLSIM = Path(sys.executable).with_name("purlsim")
SHIPPED = REPO / "scenarios" / "baseline.yaml"
# The shipped baseline with its sealift 5 days slower at every point of the triangle (baseline tests).
SEALIFT_5_DAYS_SLOWER = """
transport:
  legs:
    sealift:
      days: {dist: triangular, low: 15, mode: 17, high: 21}   # shipped: 10 / 12 / 16
"""

# The smallest scenario that validates: one item costing 1 M$ a unit, one line making 10 a month
# (3 days a unit) at `plant` and shipping each order whole when its last unit is made, goods delivered where they are made (route `direct`), no approval
# step and no money limit. Tests lay only the part they check on top of it.
MINIMAL = {
    "name": "unit",
    "start": dt.date(2025, 1, 1),
    "horizon_days": 1000,
    "items": {"shell": {"name": "155 mm round", "unit_cost_musd": 1.0}},
    "requests": {"packages": []},
    "approval": {"enabled": False},
    "funding": {"enabled": False},
    "production": {
        "line": {"item": "shell", "node": "plant", "rate_per_month": 10, "shipments": {"whole_order": True}}
    },
    "transport": {
        "destination": "ukraine",
        "nodes": {
            "plant": {"kind": "plant"},
            "depot": {"kind": "depot"},
            "port": {"kind": "port"},
            "ukraine": {"kind": "destination"},
        },
        "choose": [{"origin": "plant", "route": "direct"}, {"origin": "depot", "route": "direct"}],
    },
}


def package(pid: str, at=0, qty: int = 1, item: str = "shell", **extra) -> dict:
    """One explicit request of a single line, as it would be written in a scenario file."""
    return {"id": pid, "at": at, "lines": [{"item": item, "qty": qty}], **extra}


def build(packages=(), **sections):
    """A validated Scenario: MINIMAL with `sections` merged over it (mappings merge, lists replace)."""
    data = deep_merge(copy.deepcopy(MINIMAL), sections)
    data.setdefault("requests", {})["packages"] = list(packages) or data["requests"].get("packages", [])
    return validate_mapping(data, "<test>")


@pytest.fixture
def make_scenario():
    """Factory fixture: `make_scenario(packages, **sections)` -> validated Scenario (see `build`)."""
    return build


@dataclass
class CliResult:
    """What one CLI call did."""

    returncode: int
    stdout: str
    stderr: str


def run_cli(*args, cwd: Path | None = None, timeout: float = 120) -> CliResult:
    """Run the installed `purlsim` console script in a fresh process."""
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", TERM="dumb")
    proc = subprocess.run(
        [str(PURLSIM), *map(str, args)], capture_output=True, text=True, cwd=cwd or REPO, timeout=timeout, env=env
    )
    return CliResult(proc.returncode, proc.stdout, proc.stderr)


# Running the CLI costs ~1.5 s of interpreter and import start-up per call, which a corpus of
# dozens of files cannot afford. This driver imports the CLI once, then forks one child process
# per command line; each child runs the console entry point `sim.cli.main` with its own argv,
# output files and exit status, exactly as `purlsim ...` would.
_FORK_DRIVER = r"""
import contextlib, io, json, os, sys, traceback
import sim.cli
# Warm up: commands import their modules lazily; do it once here rather than in every child.
for argv in (["validate", "/nonexistent/warm-up.yaml"], ["run", "/nonexistent/warm-up.yaml"]):
    sys.argv = ["purlsim", *argv]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        try:
            sim.cli.main()
        except SystemExit:
            pass
jobs = json.loads(sys.stdin.read())
results = []
for argv, out_path, err_path in jobs:
    pid = os.fork()
    if pid == 0:
        out = os.open(out_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        err = os.open(err_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.dup2(out, 1); os.dup2(err, 2)
        sys.argv = ["purlsim", *argv]
        code = 0
        try:
            sim.cli.main()
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except BaseException:
            traceback.print_exc()
            code = 1
        sys.stdout.flush(); sys.stderr.flush()
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    results.append(os.waitstatus_to_exitcode(status))
print(json.dumps(results))
"""


def run_cli_many(argvs: list[list[str]], workdir: Path, cwd: Path | None = None) -> list[CliResult]:
    """Run many CLI command lines, each in its own forked process, paying start-up once."""
    import json

    jobs = [
        ([str(a) for a in argv], str(workdir / f"{k}.out"), str(workdir / f"{k}.err")) for k, argv in enumerate(argvs)
    ]
    env = dict(os.environ, COLUMNS="200", NO_COLOR="1", TERM="dumb")
    proc = subprocess.run(
        [sys.executable, "-c", _FORK_DRIVER],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        cwd=cwd or REPO,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    codes = json.loads(proc.stdout.strip().splitlines()[-1])
    return [CliResult(code, Path(o).read_text(), Path(e).read_text()) for code, (_, o, e) in zip(codes, jobs)]
