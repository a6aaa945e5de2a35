"""`purlsim optimize SCENARIO --space FILE`: the best point of a space of policy knobs, under constraints."""

from __future__ import annotations

import json
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

SHOWN = 12  # rows of the printed table: the best points first


@app.command()
def optimize(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    space: Path = typer.Option(..., "--space", help="Space file: knobs, objective, constraints (docs/decisions.md)."),
    reps: int = typer.Option(10, "--reps", "-n", help="Replications at every point (the same seeds at all)."),
    seed: int | None = typer.Option(None, "--seed", help="Seed (default: the scenario's)."),
    max_points: int = typer.Option(200, "--max-points", help="Evaluate the whole grid up to this size, else a sample."),
    workers: int | None = typer.Option(
        None, "--workers", help="Local worker processes (default: cores; 1 = in-process)."
    ),
    dask: str | None = typer.Option(None, "--dask", help=DASK_HELP),
    out: Path | None = typer.Option(None, "--out", help="Write optimize.json and points.csv into this new directory."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
):
    """Search policy knobs for the best headline under constraints, every point on common random numbers."""
    from ..errors import ScenarioError
    from ..experiments.optimize import optimize as run_optimize

    check_reps_seed(reps, seed)
    check_parallel(workers)
    if max_points < 1:
        fail(f"--max-points: must be at least 1 (got {max_points})")
    check_out_or_exit(out, False, inputs_of([scenario, space]))
    from ..experiments.evaluate import Variants
    from ..experiments.optimize import _points
    from ..experiments.optimize_space import read_space

    try:  # every problem of either file before any replication runs
        variants = Variants(scenario)
        spec = read_space(space, variants)
    except ScenarioError as exc:
        fail([str(p) for p in exc.problems])
    total = len(_points(spec, max_points, 0)[0]) * reps
    with executor_or_exit(workers, dask) as executor, progress_bar(total, "optimize", quiet) as advance:
        table = run_optimize(scenario, space, reps, seed, max_points, executor, advance)
    a = table.attrs
    knobs = [c for c in table.columns if c.startswith("knob:")]
    order = table.sort_values(["feasible", "objective"], ascending=[False, "higher" not in a["objective"]])
    out_console.print(
        f"{a['points']} point(s) ({'the whole grid' if a['whole_grid'] else 'a random sample of the grid'}), "
        f"{a['reps']} replication(s) each, seed {a['seed']}; objective: {a['objective']}; "
        f"constraints: {'; '.join(a['constraints']) or 'none'} (judged on the mean)",
        highlight=False,
    )
    cols = [*knobs, "objective", "objective_lo", "objective_hi", "donor_gap", "spent_musd", "feasible", "tied"]
    cols += ["pareto"] if "pareto" in table.columns else []
    out_console.print(order[cols].head(SHOWN).round(2).to_string(index=False), highlight=False)
    best = table[table["best"]]
    if best.empty:
        out_console.print("No point meets the constraints.", highlight=False)
    else:
        b = best.iloc[0]
        at = ", ".join(f"{k[5:]} = {b[k]}" for k in knobs)
        out_console.print(
            f"Best: {at}: {b['objective']:.2f} (95% CI {b['objective_lo']:.2f}-{b['objective_hi']:.2f}); "
            f"{int(table['tied'].sum())} other feasible point(s) not distinguishable from it (paired 95% interval holds 0).",
            highlight=False,
        )
    if out is not None:
        out.mkdir(parents=True)
        table.to_csv(out / "points.csv", index=False)
        doc = {"attrs": a, "best": None if best.empty else json.loads(best.iloc[0].to_json())}
        (out / "optimize.json").write_text(json.dumps(doc, indent=2, default=str), encoding="utf-8")
        out_console.print(f"Wrote {out}")
