"""`purlsim select A.yaml B.yaml ... --delta DAYS --pcs 0.95`: the fastest policy, by a fully sequential procedure."""

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
    load_all_or_exit,
    out_console,
    progress_bar,
)


@app.command()
def select(
    scenarios: list[Path] = typer.Argument(..., help="Two or more scenario files: the policies to choose from."),
    delta: float = typer.Option(..., "--delta", help="Indifference zone: a difference worth detecting (days)."),
    pcs: float = typer.Option(0.95, "--pcs", help="Probability of correct selection when the best is delta better."),
    n0: int = typer.Option(10, "--n0", help="First-stage replications of every policy."),
    batch: int = typer.Option(5, "--batch", help="Replications added to each survivor per stage."),
    max_reps: int = typer.Option(1000, "--max-reps", help="Stop at this many replications of a policy."),
    figure: str = typer.Option(
        "rmst",
        "--metric",
        help="rmst (days, lower better), delivered_share, share_30d..., or p_stockout (with --item of ukraine:).",
    ),
    item: str = typer.Option("ALL", "--item", help="An item id, or ALL (units weighed by value)."),
    update_variances: bool = typer.Option(
        False, "--kn-plus-plus", help="KN++: variances updated every stage (fewer replications, asymptotic guarantee)."
    ),
    seed: int | None = typer.Option(None, "--seed", help="Seed for every policy (default: the first file's)."),
    workers: int | None = typer.Option(
        None, "--workers", help="Local worker processes (default: cores; 1 = in-process)."
    ),
    dask: str | None = typer.Option(None, "--dask", help=DASK_HELP),
    out: Path | None = typer.Option(None, "--out", help="Write selection.json here (a new file)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
):
    """Choose the fastest policy with a stated indifference zone and probability of correct selection (KN, KN++)."""
    from ..experiments.evaluate import Evaluator
    from ..experiments.select import kn_plus_plus
    from ..metrics import decision

    if len(scenarios) < 2:
        fail("select: give at least two scenario files")
    check_reps_seed(n0, seed)
    check_parallel(workers)
    problems = []
    if not (delta > 0 and delta < float("inf")):
        problems.append(f"--delta: must be a positive number of days (got {delta})")
    if not 1 / len(scenarios) < pcs < 1:
        problems.append(f"--pcs: must lie between 1/k = {1 / len(scenarios):.3g} and 1 (got {pcs})")
    if n0 < 2:
        problems.append(f"--n0: must be at least 2 (got {n0})")
    if batch < 1 or max_reps < n0:
        problems.append(f"--batch must be at least 1 and --max-reps at least --n0 (got {batch}, {max_reps})")
    if figure not in decision.FIGURES:
        problems.append(f"--metric: one of {', '.join(decision.FIGURES)} (got {figure})")
    if problems:
        fail(problems)
    loaded = load_all_or_exit(scenarios)
    if item != "ALL" and not all(item in s.items for s in loaded):
        fail(f"--item: {item} is not an item of every scenario")
    if figure == decision.STOCKOUT and not all(item in s.ukraine.items for s in loaded):
        fail(f"--item: p_stockout needs an item Ukraine keeps (ukraine.items) in every scenario (got {item})")
    check_out_or_exit(out, False, inputs_of(scenarios), kind="file")
    names = [s.name for s in loaded]
    if len(set(names)) < len(names):
        names = [
            p.stem if len({q.stem for q in scenarios}) == len(scenarios) else f"{p.stem}#{i + 1}"
            for i, p in enumerate(scenarios)
        ]
    the_seed = loaded[0].seed if seed is None else seed
    total = len(loaded) * max_reps
    with executor_or_exit(workers, dask) as executor, progress_bar(total, "select (at most)", quiet) as advance:
        ev = Evaluator(loaded, the_seed, figure, item, executor=executor)
        sel = kn_plus_plus(
            ev, len(loaded), delta, pcs, n0, batch, max_reps, ev.lower_is_better, names, advance, update_variances
        )
    unit = "days" if figure == "rmst" else "(share)"
    for line in sel.text(unit):
        out_console.print(line, highlight=False)
    out_console.print(
        f"Metric: {figure} of {item} per replication (tau {ev.tau:g} d, requests from day {ev.window[0]:g} to "
        f"{ev.window[1]:g}), seed {the_seed}, replication r of every policy on the same random numbers.",
        highlight=False,
    )
    if out is not None:
        doc = {
            "procedure": sel.procedure,
            "winner": sel.names[sel.winner],
            "delta": delta,
            "pcs": pcs,
            "metric": figure,
            "item": item,
            "seed": the_seed,
            "policies": [
                {"name": n, "file": str(p), "mean": float(m), "reps": int(r)}
                for n, p, m, r in zip(sel.names, scenarios, sel.means, sel.reps)
            ],
            "eliminated": [{"policy": sel.names[i], "after_reps": r, "by": sel.names[b]} for i, r, b in sel.eliminated],
            "total_reps": sel.total,
            "truncated": sel.truncated,
        }
        out.write_text(json.dumps(doc, indent=2), encoding="utf-8")
        out_console.print(f"Wrote {out}")
