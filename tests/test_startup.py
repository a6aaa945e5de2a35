"""Commands import only what they use: help, validate and schema start without scipy, plots, Parquet, Dask or the model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("scipy", "matplotlib", "pyarrow", "dask", "distributed", "pandas")

# Runs the CLI's entry point with argv, then writes every module it left imported to a file: a
# fresh interpreter, so nothing imported by pytest or another test is counted.
PROBE = """
import json, sys
dump = sys.argv[2]
sys.argv = ["purlsim", *json.loads(sys.argv[1])]
from sim.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
with open(dump, "w") as fh:
    json.dump({"code": code, "modules": sorted(sys.modules)}, fh)
"""


def imported_by(args: list[str], tmp_path: Path) -> tuple[int, list[str]]:
    """The exit code of `purlsim ARGS` and the modules it imported, from a fresh interpreter."""
    dump = tmp_path / "modules.json"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(args), str(dump)],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=60,
    )
    got = json.loads(dump.read_text())
    return got["code"], got["modules"]


def heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if m.split(".")[0] in HEAVY or m == "sim.model" or m.startswith("sim.model.")]


@pytest.mark.parametrize(
    "args",
    [["--help"], ["validate", "scenarios/baseline_2025.yaml", "scenarios/baseline.yaml"], ["schema"]],
    ids=["help", "validate", "schema"],
)
def test_light_commands_import_neither_scipy_plots_parquet_dask_nor_the_model(args, tmp_path):
    code, modules = imported_by(args, tmp_path)
    assert code in (0, None)
    assert "sim.cli" in modules  # the probe did run the CLI
    if args[0] == "validate":  # and validating did load the scenarios
        assert "sim.scenario.loader" in modules
    assert heavy(modules) == []


def test_a_command_that_runs_still_finds_what_it_needs(tmp_path):
    # The same probe sees the heavy modules when a command uses them: the test above can fail.
    code, modules = imported_by(["run", "scenarios/baseline.yaml", "--reps", "1", "--quiet"], tmp_path)
    assert code in (0, None)
    assert "sim.model" in modules and "pandas" in modules


def test_import_sim_is_lazy_yet_every_public_name_is_there():
    probe = (
        "import sys, sim\n"
        "light = not any(m.startswith(('sim.model', 'sim.experiments', 'scipy', 'pandas')) for m in sys.modules)\n"
        "names = sorted(n for n in sim.__all__ if getattr(sim, n) is not None)\n"
        "from sim import run, Results\n"
        "print(light, names == sorted(sim.__all__), set(sim.__all__) <= set(dir(sim)),"
        " run is sim.experiments.ensemble.run, Results is sim.results.Results)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.stdout.split() == ["True"] * 5, out.stderr
    import sim

    assert set(sim.__all__) == set(sim._SOURCES)
    with pytest.raises(AttributeError):
        sim.no_such_name  # noqa: B018
