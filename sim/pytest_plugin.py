"""pytest plugin of purlsim (entry point `pytest11`): the `delivery_baseline` fixture.

    def test_my_scenario(delivery_baseline):
        delivery_baseline.check("scenarios/mine.yaml")

Scenario paths are relative to pytest's rootdir. The baseline directory is `tests/baselines`
(relative to the ini file) unless set by the ini option `purlsim_baseline_dir` or by
`--purlsim-baseline-dir` (relative to where pytest starts). A check whose results moved
raises AssertionError naming every moved metric; a missing baseline fails with the command that
records it, or is recorded when pytest runs with `--purlsim-record`; `--purlsim-update`
re-records baselines whose results moved. Method and modes: see `sim.experiments.baselines`.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Mapping

import pytest

INI_DIR = "purlsim_baseline_dir"


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register purlsim's command-line and ini options."""
    group = parser.getgroup("purlsim", "purlsim delivery-time baselines")
    group.addoption("--purlsim-baseline-dir", default=None, metavar="DIR",
                    help=f"directory of delivery-time baselines (default: ini {INI_DIR}, else tests/baselines)")
    group.addoption("--purlsim-record", action="store_true", default=False,
                    help="record missing delivery-time baselines instead of failing")
    group.addoption("--purlsim-update", action="store_true", default=False,
                    help="re-record delivery-time baselines whose results moved instead of failing")
    parser.addini(INI_DIR, default="tests/baselines", help="directory of delivery-time baselines")


class BaselineRecorded(UserWarning):
    """A delivery-time baseline was written by --purlsim-record or --purlsim-update."""


class DeliveryBaseline:
    """Checks scenarios against their recorded delivery-time baselines, from a test."""

    def __init__(self, directory: Path, root: Path, record_missing: bool = False, update: bool = False):
        self.directory = directory
        self.root = root
        self.record_missing = record_missing
        self.update = update

    def baseline_file(self, scenario: str | Path, name: str | None = None) -> Path:
        """Where the baseline of `scenario` (named `name`, default its stem) lives."""
        from .experiments.baselines import default_file

        return default_file(self.directory, scenario, name)

    def check(self, scenario: str | Path, *, name: str | None = None, overrides: Mapping[str, Any] | None = None,
              reps: int | None = None, seed: int | None = None, mode: str | None = None,
              rtol: float | None = None, atol: float | None = None, alpha: float | None = None):
        """Check `scenario` against its baseline; AssertionError naming moved metrics. Returns the Check.

        overrides, reps and seed are used only when recording a missing baseline; the check itself
        re-runs with the baseline's own.
        """
        from .experiments import baselines as bl

        path = bl.locate(scenario, self.root)
        if not path.is_file():
            pytest.fail(f"delivery baseline: scenario {scenario} not found (relative to {self.root})", pytrace=False)
        file = self.baseline_file(scenario, name)
        if not file.exists():
            if not self.record_missing:
                pytest.fail(f"delivery baseline: no baseline {file} for {scenario}; record it with "
                            f"`purlsim baseline record {scenario} --dir {self._shown_dir()}` "
                            f"or run pytest with --purlsim-record", pytrace=False)
            return self.record(scenario, name=name, overrides=overrides, reps=reps, seed=seed)
        problems: list[str] = []
        try:
            prep = bl.prepare(file, self.root)
            if prep.path.resolve() != path.resolve():
                raise bl.BaselineError(f"{file}: records scenario {prep.baseline.scenario}, not {scenario}")
            result = bl.compare(prep.baseline, bl.rerun(prep), mode, file, rtol, atol, alpha)
        except bl.BaselineError as exc:
            problems = exc.problems
        if problems:  # failed outside the except block, so the report shows no chained traceback
            pytest.fail("delivery baseline: " + "\n".join(problems), pytrace=False)
        if result.moved and self.update:
            bl.save(result.new, file)
            warnings.warn(BaselineRecorded(f"re-recorded {file}:\n{result.describe()}"), stacklevel=2)
            return result
        if result.moved:
            raise AssertionError("delivery-time baseline moved: " + result.describe())
        return result

    def record(self, scenario: str | Path, *, name: str | None = None, overrides: Mapping[str, Any] | None = None,
               reps: int | None = None, seed: int | None = None):
        """Record (or re-record) the baseline of `scenario` and return it."""
        from .experiments import baselines as bl
        from .errors import ScenarioError

        file = self.baseline_file(scenario, name)
        problem = None
        try:
            baseline = bl.record(scenario, reps=reps or bl.DEFAULT_REPS, seed=seed, overrides=overrides, root=self.root)
        except (bl.BaselineError, ScenarioError) as exc:
            problem = str(exc)
        if problem is not None:
            pytest.fail(f"delivery baseline: cannot record {scenario}: {problem}", pytrace=False)
        bl.save(baseline, file)
        warnings.warn(BaselineRecorded(f"recorded delivery-time baseline {file} for {scenario}"), stacklevel=2)
        return baseline

    def _shown_dir(self) -> str:
        try:
            return self.directory.relative_to(self.root).as_posix()
        except ValueError:
            return str(self.directory)


@pytest.fixture
def delivery_baseline(request: pytest.FixtureRequest) -> DeliveryBaseline:
    """Check scenarios against recorded delivery-time baselines: `delivery_baseline.check("scenarios/x.yaml")`."""
    config = request.config
    root = Path(config.rootpath)
    option = config.getoption("--purlsim-baseline-dir")
    if option:  # a command-line path is relative to where pytest was started
        directory = Path(config.invocation_params.dir) / option
    else:  # an ini path is relative to the ini file
        base = Path(config.inipath).parent if config.inipath else root
        directory = base / (config.getini(INI_DIR) or "tests/baselines")
    return DeliveryBaseline(directory, root, record_missing=config.getoption("--purlsim-record"),
                            update=config.getoption("--purlsim-update"))
