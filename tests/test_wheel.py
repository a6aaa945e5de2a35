"""purlsim stands alone: its wheel, installed outside the repository, carries the shipped scenarios and
starter project, and a user's own repository records, checks and catches a change with the fixture.

The wheel is built from a copy of the source tree (no network: no build isolation, no
dependencies), installed into a fresh virtual environment whose only link to this one is a
`.pth` line giving the dependencies' site-packages, and every command runs there with no
PYTHONPATH, in a temporary directory outside the repository.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import REPO, SEALIFT_5_DAYS_SLOWER

PLUGIN_SOURCE = REPO / "sim" / "pytest_plugin.py"
_ANYWHERE = shutil.ignore_patterns(".git", "__pycache__", ".pytest_cache", "*.egg-info")
_AT_TOP = {".venv", "out", "build", "tests", "benchmarks"}


def SKIP(folder, names):
    """What the copy of the source tree leaves out: caches anywhere, the repository's own tests and outputs."""
    top = {n for n in names if n in _AT_TOP} if Path(folder) == REPO else set()
    return set(_ANYWHERE(folder, names)) | top


def _run(cmd, cwd, env, check=True):
    result = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError(f"{cmd} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv python, venv bin folder, wheel path, clean environment, work folder) with purlsim from its wheel."""
    work = tmp_path_factory.mktemp("standalone")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    src = work / "src"
    shutil.copytree(REPO, src, symlinks=True, ignore=SKIP)  # the build writes build/ and egg-info: not into the repo
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-q",
            "-w",
            work / "wheels",
            src,
        ],
        work,
        env,
    )
    wheel = next((work / "wheels").glob("purlsim-*.whl"))
    venv = work / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], work, env)
    python = venv / "bin" / "python"
    purelib = Path(
        _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], work, env).stdout.strip()
    )
    (purelib / "dependencies.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    _run([python, "-m", "pip", "install", "--no-deps", "--no-index", "--ignore-installed", "-q", wheel], work, env)
    return python, venv / "bin", wheel, env, work


def test_the_wheel_carries_the_scenarios_schema_starter_and_notebooks(installed):
    _, _, wheel, _, _ = installed
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = sorted(p.relative_to(REPO / "scenarios").as_posix() for p in (REPO / "scenarios").rglob("*.yaml"))
    assert shipped and "common/base.yaml" in shipped
    missing = [s for s in shipped if f"sim/data/scenarios/{s}" not in names]
    assert missing == []
    with zipfile.ZipFile(wheel) as z:  # the files themselves, equal to the repository's, not links
        assert z.read("sim/data/scenarios/common/base.yaml") == (REPO / "scenarios/common/base.yaml").read_bytes()
    expected = {
        "sim/data/scenario.schema.json",
        "sim/data/scenarios/data/purl_facts.md",
        "sim/data/starter/scenarios/my_scenario.yaml",
        "sim/data/starter/tests/test_delivery_times.py",
        "sim/data/starter/notebooks/explore.ipynb",
        "sim/data/notebooks/01_quickstart.ipynb",
        "sim/data/notebooks/data/observed_2025.csv",
        "sim/pytest_plugin.py",
    }
    assert expected <= names


def test_a_user_repository_records_checks_and_catches_a_change(installed):
    python, bin_dir, _, env, work = installed
    where = _run([python, "-c", "import sim; print(sim.__file__)"], work, env).stdout.strip()
    assert not Path(where).resolve().is_relative_to(REPO.resolve()) and str(work) in where, where

    _run([bin_dir / "purlsim", "init", "user"], work, env)
    user = work / "user"
    assert "extends: purlsim:common/base.yaml" in (user / "scenarios" / "my_scenario.yaml").read_text()
    _run([bin_dir / "purlsim", "validate", "scenarios/my_scenario.yaml"], user, env)
    pytest_cmd = [python, "-m", "pytest", "-p", "no:hypothesispytest", "-p", "no:cacheprovider", "-q"]

    recorded = _run([*pytest_cmd, "--purlsim-record"], user, env)
    assert "1 passed" in recorded.stdout and "recorded delivery-time baseline" in recorded.stdout
    assert (user / "tests" / "baselines" / "my_scenario.json").is_file()
    assert "1 passed" in _run(pytest_cmd, user, env).stdout
    assert "1 passed" in _run([*pytest_cmd, "tests"], user, env).stdout  # any folder: paths follow the test file

    with open(user / "scenarios" / "my_scenario.yaml", "a") as f:
        f.write(SEALIFT_5_DAYS_SLOWER)
    failed = _run(pytest_cmd, user, env, check=False)
    out = failed.stdout
    assert failed.returncode == 1 and "1 failed" in out, out
    assert "delivery-time baseline moved" in out and "metric" in out and "allowed" in out
    assert "pytest --purlsim-update tests/test_delivery_times.py::test_my_scenario_delivery_times" in out, out
    assert "purlsim baseline check baselines/my_scenario.json --update" in out, out
    plugin_lines = {line.strip() for line in PLUGIN_SOURCE.read_text().splitlines() if len(line.strip()) > 12}
    shown = [line for line in out.splitlines() if line.strip().lstrip(">").strip() in plugin_lines]
    assert "pytest_plugin.py" not in out and shown == [], shown

    updated = _run(
        [*pytest_cmd, "--purlsim-update", "tests/test_delivery_times.py::test_my_scenario_delivery_times"], user, env
    )
    assert "1 passed" in updated.stdout and "re-recorded" in updated.stdout
    assert "1 passed" in _run(pytest_cmd, user, env).stdout


def test_the_starter_notebook_runs_from_the_installed_package(installed):
    python, bin_dir, _, env, work = installed
    _run([bin_dir / "purlsim", "init", "nb"], work, env)
    code = (
        "import nbformat, sys; from nbclient import NotebookClient; p = sys.argv[1]; nb = nbformat.read(p, 4); "
        "NotebookClient(nb, timeout=300, kernel_name='python3', resources={'metadata': {'path': sys.argv[2]}})"
        ".execute(); print('ran', len(nb.cells))"
    )
    for notebook in [work / "nb" / "notebooks" / "explore.ipynb"]:
        result = _run([python, "-c", code, notebook, notebook.parent], work, {**env, "PURLSIM_NOTEBOOK_REPS": "2"})
        assert result.stdout.startswith("ran"), result.stdout
