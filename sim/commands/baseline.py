"""`purlsim baseline record|check`: delivery-time baselines for CI (see sim.experiments.baselines for the method)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from ..cli import app, check_reps_seed, fail, out_console, parse_sets
from ..errors import ScenarioError
from ..scenario.workload import DEFAULT_REPS

if TYPE_CHECKING:  # imported by the functions that use it: scipy and the model only when a baseline command runs
    from ..experiments import baselines as bl

DEFAULT_DIR = "tests/baselines"  # where `purlsim baseline` reads and writes unless --dir says otherwise

baseline_app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    help="Record delivery-time baselines and check runs against them (CI regression).",
)
app.add_typer(baseline_app, name="baseline")

DIR_HELP = "Directory of baseline files."
RTOL_HELP = "Relative tolerance for every metric (overrides the file's)."
ATOL_HELP = "Absolute tolerance for every metric, in the metric's unit (overrides the file's)."
ALPHA_HELP = "Family-wise significance level of the paired t-test (Holm), tolerance mode."


def _fail_on(exc: Exception) -> None:
    """Exit 2 listing the problems of a BaselineError or ScenarioError."""
    if isinstance(exc, ScenarioError):
        fail([str(p) for p in exc.problems])
    fail(list(getattr(exc, "problems", [str(exc)])))


@baseline_app.command("record")
def record_cmd(
    scenarios: list[Path] | None = typer.Argument(
        None, help="Scenario files (default: re-record every baseline in --dir with its own settings)."
    ),
    directory: Path = typer.Option(Path(DEFAULT_DIR), "--dir", help=DIR_HELP),
    reps: int | None = typer.Option(
        None,
        "--reps",
        "-n",
        help=f"Replications (default: the existing file's, else {DEFAULT_REPS}, as for every command).",
    ),
    seed: int | None = typer.Option(None, "--seed", help="Seed (default: the existing file's, else the scenario's)."),
    set_: list[str] | None = typer.Option(None, "--set", help="Override a field: path.to.field=value."),
    name: str | None = typer.Option(None, "--name", help="Baseline file name without .json (one scenario only)."),
    rtol: float | None = typer.Option(None, "--rtol", help="Relative tolerance to store for every metric."),
    atol: float | None = typer.Option(None, "--atol", help="Absolute tolerance to store for every metric."),
    alpha: float | None = typer.Option(None, "--alpha", help="Significance level to store."),
):
    """Run scenarios and write one baseline JSON file per scenario.

    Settings not given on the command line are kept from an existing baseline file of the same name.
    """
    from ..experiments import baselines as bl

    try:
        bl.check_tolerance_options(rtol, atol, alpha)
    except bl.BaselineError as exc:
        _fail_on(exc)
    check_reps_seed(1 if reps is None else reps, seed)
    if directory.exists() and not directory.is_dir():
        fail(f"{directory}: --dir is not a directory")
    overrides = parse_sets(set_)
    if scenarios:
        if name and len(scenarios) > 1:
            fail("--name: only with a single scenario")
        jobs = _record_jobs(scenarios, directory, name, overrides)
    else:
        if set_ or name:
            fail("--set/--name: need a SCENARIO argument")
        jobs = _rerecord_jobs(directory)
    for target, scenario, existing, job_overrides in jobs:
        tol = (existing.tolerances if existing else bl.Tolerances()).with_overrides(rtol, atol, alpha)
        use_reps = reps or (existing.reps if existing else bl.DEFAULT_REPS)
        use_seed = seed if seed is not None else (existing.seed if existing else None)
        started = time.perf_counter()
        try:
            baseline = bl.record(scenario, reps=use_reps, seed=use_seed, overrides=job_overrides, tolerances=tol)
        except (bl.BaselineError, ScenarioError) as exc:
            _fail_on(exc)
        bl.save(baseline, target)
        out_console.print(
            f"recorded {target}  ({baseline.scenario}, {baseline.reps} reps, seed {baseline.seed}, "
            f"{time.perf_counter() - started:.1f} s)",
            highlight=False,
        )


def _record_jobs(scenarios: list[Path], directory: Path, name: str | None, overrides: dict):
    """(target file, scenario, existing baseline or None, overrides) per scenario; exit 2 on bad input."""
    from ..experiments import baselines as bl

    problems, jobs = [], []
    targets: dict[Path, Path] = {}  # baseline file: the scenario it was first given for
    for sc in scenarios:
        if not sc.is_file():
            problems.append(f"{sc}: scenario file not found")
            continue
        target = bl.default_file(directory, sc, name)
        if target in targets:
            problems.append(f"{sc}: same baseline file {target} as {targets[target]} (record it with --name)")
            continue
        targets[target] = sc
        try:
            bl.load_resolved(sc, overrides)
        except ScenarioError as exc:
            problems.extend(str(p) for p in exc.problems)
            continue
        existing = None
        if target.exists():
            try:
                existing = bl.load(target)
            except bl.BaselineError:
                existing = None  # a corrupt file is replaced by the new record
        jobs.append((target, sc, existing, overrides))
    if problems:
        fail(problems)
    return jobs


def _rerecord_jobs(directory: Path):
    """Re-record jobs for every baseline in a directory, each with its own scenario and overrides."""
    from ..experiments import baselines as bl

    try:
        files = bl.baseline_files(directory)
        if not files:
            raise bl.BaselineError(f"{directory}: no baseline files (*.json) to re-record; name scenarios to record")
        preps = _prepare_all(files)
    except bl.BaselineError as exc:
        _fail_on(exc)
    return [(p.file, p.path, p.baseline, p.baseline.overrides) for p in preps]


def _prepare_all(files: list[Path]) -> list[bl.Prepared]:
    """Load every baseline and its scenario; raise one BaselineError listing every problem."""
    from ..experiments import baselines as bl

    problems, preps = [], []
    for f in files:
        try:
            preps.append(bl.prepare(f))
        except bl.BaselineError as exc:
            problems.extend(exc.problems)
    if problems:
        raise bl.BaselineError(problems)
    return preps


def _check_files(scenarios: list[Path] | None, directory: Path) -> list[Path]:
    """The baseline files to check: every one in --dir, or those of the named scenarios / .json files."""
    from ..experiments import baselines as bl

    if not scenarios:
        files = bl.baseline_files(directory)
        if not files:
            raise bl.BaselineError(
                f"{directory}: no baseline files (*.json) to check; record them with "
                f"`purlsim baseline record SCENARIO... --dir {directory}`"
            )
        return files
    problems, files = [], []
    for sc in scenarios:
        if sc.suffix == ".json":
            files.append(sc)
            continue
        if not sc.is_file():
            problems.append(f"{sc}: scenario file not found")
            continue
        try:
            found = bl.find_for_scenario(directory, sc)
        except bl.BaselineError as exc:
            problems.extend(exc.problems)
            continue
        if not found:
            problems.append(
                f"{sc}: no baseline in {directory}; record it with `purlsim baseline record {sc} --dir {directory}`"
            )
        files.extend(f for f in found if f not in files)
    if problems:
        raise bl.BaselineError(problems)
    return files


@baseline_app.command("check")
def check_cmd(
    scenarios: list[Path] | None = typer.Argument(
        None, help="Scenario files or baseline .json files (default: every baseline in --dir)."
    ),
    directory: Path = typer.Option(Path(DEFAULT_DIR), "--dir", help=DIR_HELP),
    mode: str | None = typer.Option(
        None, "--mode", help="exact | tolerance (default: exact when scenario, code and versions are unchanged)."
    ),
    rtol: float | None = typer.Option(None, "--rtol", help=RTOL_HELP),
    atol: float | None = typer.Option(None, "--atol", help=ATOL_HELP),
    alpha: float | None = typer.Option(None, "--alpha", help=ALPHA_HELP),
    update: bool = typer.Option(False, "--update", help="Re-record the baselines checked (after printing what moved)."),
):
    """Re-run each baseline's scenario with its seed, reps and overrides; exit 1 if results moved.

    Tolerance mode flags a metric only if both hold: it moved by more than max(atol, rtol*|old|),
    and a paired t-test over replications, Holm-corrected across the baseline's metrics, is significant at alpha.
    """
    from ..experiments import baselines as bl

    if mode is not None and mode not in ("exact", "tolerance"):
        fail(f"--mode: must be 'exact' or 'tolerance' (got {mode!r})")
    try:
        bl.check_tolerance_options(rtol, atol, alpha)
        preps = _prepare_all(_check_files(scenarios, directory))
    except bl.BaselineError as exc:
        _fail_on(exc)
    checks = []
    for prep in preps:
        try:
            new = bl.rerun(prep)
        except ScenarioError as exc:  # e.g. more work than a run may be
            _fail_on(exc)
        checks.append(bl.compare(prep.baseline, new, mode, prep.file, rtol, atol, alpha))
    out_console.print(_summary_table(checks))
    moved = [c for c in checks if c.moved]
    if moved:
        out_console.print(_moved_table(moved))
    for c in checks:
        for line in _notes(c):
            out_console.print(line, highlight=False)
    if update:
        for c in checks:
            bl.save(c.new, c.file)
        out_console.print(f"re-recorded {len(checks)} baseline(s) in place", highlight=False)
        return
    if moved:
        out_console.print(
            f"{len(moved)} of {len(checks)} baseline(s): results moved beyond what is allowed. "
            "If the change is intended, re-record: purlsim baseline check --update "
            f"--dir {directory}",
            highlight=False,
        )
        raise typer.Exit(1)
    out_console.print(f"{len(checks)} baseline(s): results within what is allowed", highlight=False)


def _summary_table(checks: list[bl.Check]) -> Table:
    table = Table(title="Delivery-time baselines", title_justify="left")
    for col in ("baseline", "scenario", "scenario file", "code/versions", "mode", "results"):
        table.add_column(col)
    for c in checks:
        env = "unchanged" if not (c.code_changed or c.version_changes()) else "changed"
        results = f"moved: {len(c.moved)} of {c.compared} metrics" if c.moved else f"unchanged ({c.compared} metrics)"
        table.add_row(
            c.file.name,
            c.old.scenario,
            "changed since the baseline" if c.scenario_changed else "unchanged",
            env,
            c.mode,
            results,
        )
    return table


def _moved_table(checks: list[bl.Check]) -> Table:
    from ..experiments import baselines as bl

    table = Table(title="Results moved beyond what is allowed", title_justify="left")
    for col in ("scenario", "metric", "old", "new", "change", "allowed", "p (Holm)"):
        table.add_column(col, justify="left" if col in ("scenario", "metric") else "right")
    for c in checks:
        for m in c.moved:
            table.add_row(
                c.old.scenario,
                m.metric,
                bl.fmt(m.old),
                bl.fmt(m.new),
                bl.fmt_change(m),
                bl.fmt_allowed(m, c.mode),
                bl.fmt_p(m.p),
            )
    return table


def _notes(c: bl.Check) -> list[str]:
    notes = []
    if c.scenario_changed:
        state = "and results moved" if c.moved else "but results are within what is allowed"
        notes.append(
            f"{c.file.name}: scenario file changed since the baseline ({c.old.scenario}), {state}; "
            "re-record with --update if the edit is intended"
        )
    changes = (["purlsim code"] if c.code_changed else []) + c.version_changes()
    if changes:
        notes.append(f"{c.file.name}: changed since the baseline: {'; '.join(changes)} (so {c.mode} mode)")
    return notes
