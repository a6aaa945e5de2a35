"""`purlsim report A.yaml [B.yaml ...] --out report.html`: run scenarios with common random numbers, write one HTML file."""

from __future__ import annotations

from pathlib import Path

import typer

from ..cli import (
    DASK_HELP,
    DEFAULT_REPS,
    REPS_HELP,
    app,
    check_out_or_exit,
    check_parallel,
    check_reps_seed,
    check_work,
    executor_or_exit,
    fail,
    inputs_of,
    load_all_or_exit,
    out_console,
    parse_sets,
    progress_bar,
)


@app.command()
def report(
    scenarios: list[Path] = typer.Argument(..., help="Scenario files; the first is the reference of the comparison."),
    out: Path = typer.Option(Path("report.html"), "--out", "-o", help="HTML file to write (replaced if it exists)."),
    reps: int = typer.Option(DEFAULT_REPS, "--reps", "-n", help=REPS_HELP),
    seed: int | None = typer.Option(None, "--seed", help="Seed for every scenario (default: the first scenario's)."),
    set_: list[str] | None = typer.Option(
        None, "--set", help="Override a field in every scenario: path.to.field=value."
    ),
    workers: int | None = typer.Option(
        None, "--workers", help="Local worker processes (default: cores; 1 = in-process)."
    ),
    dask: str | None = typer.Option(None, "--dask", help=DASK_HELP),
    title: str | None = typer.Option(None, "--title", help="Report title (default: the scenario names)."),
    sensitivity: Path | None = typer.Option(
        None,
        "--sensitivity",
        help="Add a Sensitivity section from a study: the DIR of `purlsim sensitivity --out DIR`.",
    ),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
):
    """Write one self-contained HTML report: scenarios, summary and comparison tables, sentences, plots."""
    from ..experiments.ensemble import run as run_ensemble
    from ..report import write_report

    check_reps_seed(reps, seed)
    check_parallel(workers)
    study = None
    if sensitivity is not None:
        from ._study import read_sensitivity

        study = read_sensitivity(sensitivity)
    overrides = parse_sets(set_)
    loaded = load_all_or_exit(scenarios, overrides)
    check_work(loaded, reps, scenarios)
    # Replaces only an earlier HTML report, never an input (report s.yaml --out s.yaml) or another file.
    check_out_or_exit(out, True, inputs_of(scenarios), kind="report")
    seed = loaded[0].seed if seed is None else seed
    with (
        executor_or_exit(workers, dask, reps) as executor,
        progress_bar(reps * len(loaded), "report", quiet) as advance,
    ):
        results = [run_ensemble(sc, reps=reps, seed=seed, executor=executor, progress=advance) for sc in loaded]
    try:
        path = write_report(results, out, [str(p) for p in scenarios], title=title, sensitivity=study)
    except OSError as exc:  # written through a temporary sibling: a full disk leaves the old file, or none
        from ..outdir import os_reason

        fail(f"{out}: cannot write: {os_reason(exc)}; nothing was written")
    out_console.print(
        f"Wrote {path} ({path.stat().st_size / 1024:,.0f} KiB): {len(loaded)} scenario(s), "
        f"{reps} replication(s) each, seed {seed}. It opens in any browser, without a server or network."
    )
