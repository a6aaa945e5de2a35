"""CI keeps the habits: `.ci/run` runs `make test`, which lints first (ruff rules, ruff format, mypy on sim/)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def recipe(target: str) -> tuple[list[str], list[str]]:
    """(prerequisites, command lines) of a target of the Makefile."""
    lines = (ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
    for i, line in enumerate(lines):
        m = re.match(rf"^{re.escape(target)}:(.*)$", line)
        if m:
            commands = []
            for body in lines[i + 1 :]:
                if not body.startswith("\t"):
                    break
                commands.append(body.strip())
            return m.group(1).split(), commands
    raise AssertionError(f"no target {target!r} in the Makefile")


def test_ci_runs_make_test_which_lints_first():
    ci = [ln.strip() for ln in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()]
    assert "make test" in ci
    prerequisites, _ = recipe("test")
    assert "lint" in prerequisites


def test_lint_runs_ruff_and_mypy():
    _, commands = recipe("lint")
    assert "$(BIN)/ruff check sim tests benchmarks" in commands
    assert "$(BIN)/ruff format --check sim tests benchmarks" in commands
    assert "$(BIN)/mypy" in commands  # its files and settings come from pyproject.toml


def test_mypy_checks_all_of_sim_with_the_pydantic_plugin():
    conf = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mypy"]
    assert conf["files"] == ["sim"]
    assert "pydantic.mypy" in conf["plugins"]
    assert conf.get("strict") is not True and conf["check_untyped_defs"] is True
    silenced = {m for o in conf.get("overrides", []) if o.get("ignore_errors") for m in o["module"]}
    assert not silenced
    untyped = {m for o in conf.get("overrides", []) if o.get("ignore_missing_imports") for m in o["module"]}
    assert not {m for m in untyped if m == "sim" or m.startswith("sim.")}
