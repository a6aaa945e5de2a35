"""`purlsim sensitivity S.yaml --method sobol|morris --metric rmst --item pac3_mse -N 64`: which uncertain inputs matter."""

from __future__ import annotations

from pathlib import Path

import typer

from ..cli import (
    DASK_HELP,
    app,
    check_out_or_exit,
    check_parallel,
    check_reps_seed,
    executor_or_exit,
    fail,
    inputs_of,
    out_console,
    progress_bar,
)


@app.command()
def sensitivity(
    scenario: Path = typer.Argument(..., help="Scenario YAML file with an uncertain: section."),
    method: str = typer.Option(
        "sobol", "--method", help="sobol (first-order and total indices) or morris (screening)."
    ),
    n: int = typer.Option(64, "-N", "--samples", help="Base samples (Sobol) or trajectories (Morris)."),
    reps: int = typer.Option(10, "--reps", "-n", help="Replications per design point (same seeds at every point)."),
    figure: str = typer.Option(
        "rmst",
        "--metric",
        help="rmst (days), delivered_share, share_30d/90d/180d, or p_stockout (with --item of ukraine:).",
    ),
    item: str = typer.Option("ALL", "--item", help="An item id, or ALL (units weighed by value)."),
    inputs: list[str] | None = typer.Option(None, "--input", help="Only these uncertain inputs (repeat)."),
    seed: int | None = typer.Option(None, "--seed", help="Seed (default: the scenario's)."),
    workers: int | None = typer.Option(
        None, "--workers", help="Local worker processes (default: cores; 1 = in-process)."
    ),
    dask: str | None = typer.Option(None, "--dask", help=DASK_HELP),
    out: Path | None = typer.Option(
        None, "--out", help="Write sensitivity.csv and sensitivity.png into this new directory."
    ),
    resume: bool = typer.Option(False, "--resume", help="Finish the interrupted study into --out."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
):
    """Global sensitivity of a headline figure to the scenario's uncertain inputs, under common random numbers."""
    from ..experiments.sensitivity import METHODS
    from ..experiments.sensitivity import sensitivity as run_sensitivity
    from ..metrics import decision
    from . import _study

    check_reps_seed(reps, seed)
    check_parallel(workers)
    problems = []
    if method not in METHODS:
        problems.append(f"--method: one of {', '.join(METHODS)} (got {method})")
    if n < 2:
        problems.append(f"-N: at least 2 (got {n})")
    if figure not in decision.FIGURES:
        problems.append(f"--metric: one of {', '.join(decision.FIGURES)} (got {figure})")
    if problems:
        fail(problems)
    sc = _study.check_study(scenario, figure, item, inputs, seed, out, resume)
    check_out_or_exit(out, False, inputs_of([scenario]))
    k = len(inputs or sc.uncertain)
    total = n * (k + 2 if method == "sobol" else k + 1) * reps
    with (
        _study.interrupts(out),
        executor_or_exit(workers, dask, total) as executor,
        progress_bar(total, method, quiet) as advance,
    ):
        df = run_sensitivity(
            scenario, method, n, reps, figure, item, inputs or None, seed, executor, advance,
            checkpoint=_study.partial(out), resume=resume, keep=True,
        )  # fmt: skip
    a = df.attrs
    cols = (
        ["S1", "S1_lo", "S1_hi", "ST", "ST_lo", "ST_hi"]
        if method == "sobol"
        else ["mu_star", "mu_star_lo", "mu_star_hi", "sigma"]
    )
    out_console.print(
        f"{sc.name}: {method} sensitivity of {figure} of {item} ({a['points']} points x {reps} replications, "
        f"seed {a['seed']}, tau {a['tau']:g} d); output mean {a['output_mean']:,.1f}, sd {a['output_sd']:,.1f}",
        highlight=False,
    )
    out_console.print(
        df[["input", "source", *cols]].to_string(index=False, float_format=lambda v: f"{v:.3f}"), highlight=False
    )
    top = ", ".join(
        f"{r.input} ({r.ST:.2f}, 95% CI {r.ST_lo:.2f}-{r.ST_hi:.2f})"
        if method == "sobol"
        else f"{r.input} ({r.mu_star:,.1f})"
        for r in df.head(3).itertuples()
    )
    out_console.print(f"Matter most ({'total index' if method == 'sobol' else 'mu*'}): {top}.", highlight=False)
    if a["resumed_blocks"]:
        out_console.print(f"(resumed: {a['resumed_blocks']} block(s) of design points were finished)")
    if out is not None:
        _study.write_sensitivity(df, out)
        out_console.print(f"Wrote {out}")
