"""`purlsim sweep S.yaml --param path=40,60,80 --param path=8:20:4`: a grid of overrides, each point an ensemble."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from ..cli import (
    COHORT_HELP,
    DASK_HELP,
    DEFAULT_REPS,
    REPS_HELP,
    TAU_HELP,
    app,
    check_out_or_exit,
    check_parallel,
    check_reps_seed,
    check_tau,
    check_work,
    executor_or_exit,
    fail,
    inputs_of,
    out_console,
    parse_cohort,
    progress_bar,
)
from ..errors import ScenarioError


@app.command()
def sweep(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    param: list[str] = typer.Option(
        ..., "--param", "-p", help="PATH=VALUES: a,b,c or from:to:step (inclusive) or a YAML list; repeat for a grid."
    ),
    reps: int = typer.Option(DEFAULT_REPS, "--reps", "-n", help=REPS_HELP),
    seed: int | None = typer.Option(None, "--seed", help="Seed for every point (default: the scenario's)."),
    item: list[str] | None = typer.Option(
        None, "--item", help="Only these items in the printed table (ALL for overall)."
    ),
    out: Path | None = typer.Option(
        None, "--out", help="Write sweep.csv, sweep.json and the sweep plot (sweep.png) here."
    ),
    plots: bool = typer.Option(True, "--plots/--no-plots", help="With --out, also write the sweep plot as PNG."),
    force: bool = typer.Option(False, "--force", help="Replace an existing --out directory."),
    workers: int | None = typer.Option(
        None, "--workers", help="Local worker processes (default: cores; 1 = in-process)."
    ),
    dask: str | None = typer.Option(None, "--dask", help=DASK_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    tau: float | None = typer.Option(None, "--tau", help=TAU_HELP),
    cohort: str | None = typer.Option(None, "--cohort", help=COHORT_HELP),
):
    """Run a grid of parameter values over one scenario (same seeds at every point) and print latency per point."""
    from .. import output
    from ..console_tables import comparison_table as rich_table
    from ..console_tables import headline_note
    from ..experiments.ensemble import run_stats
    from ..experiments.sweep import SweepError, grid, load_points, parse_param, sweep_table

    check_reps_seed(reps, seed)
    check_parallel(workers)
    check_tau(tau)
    window = parse_cohort(cohort)
    check_out_or_exit(out, force, inputs_of([scenario]))
    params: dict = {}
    try:
        for text in param:
            path, values = parse_param(text)
            if path in params:
                raise SweepError(f"--param {path}: given twice")
            params[path] = values
        points = grid(params)
    except SweepError as exc:
        fail(str(exc))
    try:
        scenarios = load_points(scenario, points)
    except ScenarioError as exc:
        fail([str(p) for p in exc.problems])
    check_work(scenarios, reps, [scenario] * len(scenarios))
    seeds = [sc.seed if seed is None else seed for sc in scenarios]
    total = reps * len(points)
    with executor_or_exit(workers, dask, total) as executor, progress_bar(total, "sweep", quiet) as advance:
        stats = run_stats(scenarios, reps, seeds, executor, None, advance)
    df = sweep_table(points, stats, reps, scenarios, tau, window)
    shown = df if not item else df[df["item"].isin(item)]
    seed_text = f"seed {seeds[0]}" if len(set(seeds)) == 1 else "seeds per point"
    out_console.print(
        rich_table(
            shown,
            f"{scenarios[0].name}: sweep of {len(points)} point(s), {reps} "
            f"replication(s) each, {seed_text}; time to delivery in days",
            list(params),
            out_console.width,
        )
    )
    out_console.print(
        "'vs first': restricted mean time to delivery minus the first point's, paired (same seeds, same "
        "bootstrap resamples), with its 95% interval. " + headline_note(df.set_index("item"), reps, scenarios[0]),
        markup=False,
        highlight=False,
    )
    if out is not None:
        with output.staged_dir(out, force=force) as tmp:
            flat = df.copy()
            for p in params:
                flat[p] = flat[p].map(lambda v: json.dumps(v) if isinstance(v, (dict, list)) else v)
            flat.to_csv(tmp / "sweep.csv", index=False)
            doc = {
                "scenario": str(scenario),
                "params": {k: v for k, v in params.items()},
                "reps": reps,
                "seeds": seeds,
                "rows": output.table_records(flat.set_index("point")),
            }
            (tmp / "sweep.json").write_text(json.dumps(doc, indent=2, default=str))
            pngs = []
            if plots:
                from ..plots import write_pngs

                pngs = [p.name for p in write_pngs(df, tmp)]  # the figure against the first parameter
        out_console.print(f"Wrote {out}")
        if pngs:
            out_console.print(f"Plots: {', '.join(pngs)}")
