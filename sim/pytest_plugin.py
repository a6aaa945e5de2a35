"""pytest plugin of purlsim (entry point `pytest11`): the `delivery_baseline` fixture.

    def test_my_scenario(delivery_baseline):
        delivery_baseline.check("../scenarios/mine.yaml")

Like pytest-regressions and syrupy, paths are relative to the test file: the scenario, and the
baseline directory, which is `baselines/` beside the test file unless set by the ini option
`purlsim_baseline_dir` (relative to the ini file) or by `--purlsim-baseline-dir` (relative to where
pytest starts). A baseline names its scenario relative to the test file's folder too, so the same
tests pass whether pytest starts in the repository, in `tests/` or elsewhere, with or without an
ini file. A check whose results moved fails with a table of the moved metrics and the exact
commands that re-record the baseline (`pytest --purlsim-update NODEID`, or the CLI), and no
frame of this plugin in the traceback; a missing baseline fails with the command that records it,
or is recorded when pytest runs with `--purlsim-record`; `--purlsim-update` re-records baselines
whose results moved. Method and modes: see `sim.experiments.baselines`.
"""

from __future__ import annotations

import os
import shlex
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

INI_DIR = "purlsim_baseline_dir"
DEFAULT_DIR = "baselines"  # beside the test file


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register purlsim's command-line and ini options."""
    group = parser.getgroup("purlsim", "purlsim delivery-time baselines")
    group.addoption(
        "--purlsim-baseline-dir",
        default=None,
        metavar="DIR",
        help=f"directory of delivery-time baselines (default: ini {INI_DIR}, else {DEFAULT_DIR}/ "
        "beside each test file)",
    )
    group.addoption(
        "--purlsim-record",
        action="store_true",
        default=False,
        help="record missing delivery-time baselines instead of failing",
    )
    group.addoption(
        "--purlsim-update",
        action="store_true",
        default=False,
        help="re-record delivery-time baselines whose results moved instead of failing",
    )
    parser.addini(
        INI_DIR,
        default="",
        help="directory of delivery-time baselines, relative to the ini file "
        f"(default: {DEFAULT_DIR}/ beside each test file)",
    )


class BaselineRecorded(UserWarning):
    """A delivery-time baseline was written by --purlsim-record or --purlsim-update."""


class DeliveryBaseline:
    """Checks scenarios against their recorded delivery-time baselines, from a test.

    `root` is the test file's folder: relative scenario paths, and the scenario path a baseline
    stores, are taken from it. `nodeid` and `invoked` (where pytest started) make the commands the
    failure messages print.
    """

    def __init__(
        self,
        directory: Path,
        root: Path,
        record_missing: bool = False,
        update: bool = False,
        nodeid: str = "",
        invoked: Path | None = None,
    ):
        self.directory = directory
        self.root = root
        self.record_missing = record_missing
        self.update = update
        self.nodeid = nodeid
        self.invoked = invoked or Path.cwd()

    def baseline_file(self, scenario: str | Path, name: str | None = None) -> Path:
        """Where the baseline of `scenario` (named `name`, default its stem) lives."""
        from .experiments.baselines import default_file

        return default_file(self.directory, scenario, name)

    def check(
        self,
        scenario: str | Path,
        *,
        name: str | None = None,
        overrides: Mapping[str, Any] | None = None,
        reps: int | None = None,
        seed: int | None = None,
        mode: str | None = None,
        rtol: float | None = None,
        atol: float | None = None,
        alpha: float | None = None,
    ):
        """Check `scenario` against its baseline; AssertionError with the moved metrics. Returns the Check.

        overrides, reps and seed are used only when recording a missing baseline; the check itself
        re-runs with the baseline's own.
        """
        __tracebackhide__ = True
        from .experiments import baselines as bl

        path = bl.locate(scenario, self.root)
        if not path.is_file():
            pytest.fail(
                f"delivery baseline: scenario {scenario} not found (relative to the test file's folder {self.root})",
                pytrace=False,
            )
        file = self.baseline_file(scenario, name)
        if not file.exists():
            if not self.record_missing:
                pytest.fail(
                    f"delivery baseline: no baseline {file} for {scenario}; record it with "
                    f"`{self._pytest_command('--purlsim-record')}`, or{self._in_root()}: "
                    f"`purlsim baseline record {scenario} --dir {self._from_root(self.directory)}`"
                    f" (run pytest with --purlsim-record to record every missing baseline)",
                    pytrace=False,
                )
            return self._record(scenario, name, overrides, reps, seed, stacklevel=3)
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
            raise AssertionError(self._moved_message(result))
        return result

    def record(
        self,
        scenario: str | Path,
        *,
        name: str | None = None,
        overrides: Mapping[str, Any] | None = None,
        reps: int | None = None,
        seed: int | None = None,
    ):
        """Record (or re-record) the baseline of `scenario` and return it."""
        __tracebackhide__ = True
        return self._record(scenario, name, overrides, reps, seed, stacklevel=3)

    def _record(self, scenario, name, overrides, reps, seed, stacklevel: int):
        """`record`, warning at the test's line `stacklevel` frames up (not at a line of this plugin)."""
        __tracebackhide__ = True
        from .errors import ScenarioError
        from .experiments import baselines as bl

        file = self.baseline_file(scenario, name)
        problem = None
        try:
            baseline = bl.record(scenario, reps=reps or bl.DEFAULT_REPS, seed=seed, overrides=overrides, root=self.root)
        except (bl.BaselineError, ScenarioError) as exc:
            problem = str(exc)
        if problem is not None:
            pytest.fail(f"delivery baseline: cannot record {scenario}: {problem}", pytrace=False)
        bl.save(baseline, file)
        warnings.warn(BaselineRecorded(f"recorded delivery-time baseline {file} for {scenario}"), stacklevel=stacklevel)
        return baseline

    def _moved_message(self, result) -> str:
        """What moved, as a table, and the commands that re-record the baseline if the change is intended."""
        from .experiments import baselines as bl

        head, *notes = [line for line in result.describe().splitlines() if not line.startswith("    ")]
        rows = [("metric", "baseline", "now", "change", "allowed", "p")]
        rows += [
            (m.metric, bl.fmt(m.old), bl.fmt(m.new), bl.fmt_change(m), bl.fmt_allowed(m, result.mode), bl.fmt_p(m.p))
            for m in result.moved
        ]
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        table = ["    " + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
        return "\n".join(
            [
                f"delivery-time baseline moved: {head}",
                *notes,
                *table,
                "If the change is intended, re-record this baseline:",
                f"    {self._pytest_command('--purlsim-update')}",
                f"or{self._in_root()}: purlsim baseline check {self._from_root(result.file)} --update",
            ]
        )

    def _pytest_command(self, option: str) -> str:
        return f"pytest {option} {shlex.quote(self.nodeid)}" if self.nodeid else f"pytest {option}"

    def _from_root(self, path: Path) -> str:
        """`path` as the CLI run in the test file's folder takes it."""
        try:
            return Path(os.path.relpath(path, self.root)).as_posix()
        except ValueError:  # another drive
            return str(path)

    def _in_root(self) -> str:
        """' in FOLDER' naming the test file's folder as seen from where pytest started, '' if it is that."""
        try:
            shown = Path(os.path.relpath(self.root, self.invoked)).as_posix()
        except ValueError:  # another drive
            shown = str(self.root)
        return "" if shown == "." else f", in {shown}"


@pytest.fixture
def delivery_baseline(request: pytest.FixtureRequest) -> DeliveryBaseline:
    """Check scenarios against recorded delivery-time baselines: `delivery_baseline.check("../scenarios/x.yaml")`."""
    config = request.config
    here = Path(request.path).parent
    invoked = Path(config.invocation_params.dir)
    option = config.getoption("--purlsim-baseline-dir")
    ini = config.getini(INI_DIR)
    if option:  # a command-line path is relative to where pytest was started
        directory = invoked / option
    elif ini:  # an ini path is relative to the ini file
        directory = (Path(config.inipath).parent if config.inipath else Path(config.rootpath)) / ini
    else:
        directory = here / DEFAULT_DIR
    return DeliveryBaseline(
        directory,
        here,
        record_missing=config.getoption("--purlsim-record"),
        update=config.getoption("--purlsim-update"),
        nodeid=_node_arg(request, invoked),
        invoked=invoked,
    )


def _node_arg(request: pytest.FixtureRequest, invoked: Path) -> str:
    """The test's node id as pytest takes it from where it was started (node ids are rootdir-relative)."""
    nodeid = request.node.nodeid
    rest = nodeid[nodeid.index("::") :] if "::" in nodeid else ""
    try:
        return Path(os.path.relpath(request.path, invoked)).as_posix() + rest
    except ValueError:
        return nodeid
