"""`purlsim uncertainty S.yaml --outer 32 --inner 10 --item pac3_mse`: the inputs' share of a figure's spread."""

from __future__ import annotations

from pathlib import Path

import typer

from ..cli import (
    DASK_HELP,
    app,
    check_out_or_exit,
    check_parallel,
    executor_or_exit,
    fail,
    inputs_of,
    out_console,
    progress_bar,
)


@app.command()
def uncertainty(
    scenario: Path = typer.Argument(..., help="Scenario YAML file with an uncertain: section."),
    outer: int = typer.Option(32, "--outer", help="Outer points: a Latin hypercube of the uncertain inputs."),
    inner: int = typer.Option(10, "--inner", help="Replications at each outer point (the same seeds at every point)."),
    figure: str = typer.Option(
        "rmst", "--metric", help="rmst (days), delivered_share, share_30d/90d/180d, or p_stockout (with --item)."
    ),
    item: str = typer.Option("ALL", "--item", help="An item id, or ALL (units weighed by value)."),
    inputs: list[str] | None = typer.Option(None, "--input", help="Only these uncertain inputs (repeat)."),
    seed: int | None = typer.Option(None, "--seed", help="Seed (default: the scenario's)."),
    workers: int | None = typer.Option(
        None, "--workers", help="Local worker processes (default: cores; 1 = in-process)."
    ),
    dask: str | None = typer.Option(None, "--dask", help=DASK_HELP),
    out: Path | None = typer.Option(
        None, "--out", help="Write uncertainty.json, points.csv and uncertainty.png into this new directory."
    ),
    resume: bool = typer.Option(False, "--resume", help="Finish the interrupted study into --out."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
):
    """Second-order run: how much of a figure's spread is the uncertain inputs, how much the run's randomness."""
    from . import _study as study_cli

    sc = study_cli.check_study(scenario, figure, item, inputs, seed, out, resume)
    problems = [f"--{name}: at least 2 (got {v})" for name, v in (("outer", outer), ("inner", inner)) if v < 2]
    if problems:
        fail(problems)
    check_out_or_exit(out, False, inputs_of([scenario]))
    check_parallel(workers)
    from ..experiments.uncertainty import uncertainty as run_uncertainty

    total = outer * inner
    with (
        study_cli.interrupts(out),
        executor_or_exit(workers, dask, total) as executor,
        progress_bar(total, "second-order run", quiet) as advance,
    ):
        u = run_uncertainty(
            scenario, outer, inner, figure, item, inputs or None, seed, executor, advance,
            checkpoint=study_cli.partial(out), resume=resume, keep=True,
        )  # fmt: skip
    for line in u.text():
        out_console.print(line, highlight=False)
    if u.attrs["resumed_blocks"]:
        out_console.print(f"(resumed: {u.attrs['resumed_blocks']} block(s) of outer points were finished)")
    if out is not None:
        study_cli.write_uncertainty(u, out, sc.name)
        out_console.print(f"Wrote {out}")
