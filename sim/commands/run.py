"""`purlsim run S.yaml`: one scenario's ensemble and its headline; with --out, streamed to disk chunk by chunk."""

from __future__ import annotations

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
    latency_footnote,
    load_or_exit,
    out_console,
    parse_cohort,
    parse_sets,
    png_note,
    progress_bar,
)


@app.command()
def run(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    reps: int = typer.Option(DEFAULT_REPS, "--reps", "-n", help=REPS_HELP),
    seed: int | None = typer.Option(None, "--seed", help="Base seed (default: the scenario's)."),
    set_: list[str] | None = typer.Option(None, "--set", help="Override a field: path.to.field=value."),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="Write tables (Parquet; CSV too with --csv), summary.json, the resolved scenario and its overrides, and PNG plots here, chunk by chunk (read back with sim.Results.load).",
    ),
    force: bool = typer.Option(
        False, "--force", help="Replace an existing --out directory (and discard an unfinished run)."
    ),
    workers: int | None = typer.Option(
        None, "--workers", help="Local worker processes (default: cores; 1 = in-process)."
    ),
    dask: str | None = typer.Option(None, "--dask", help=DASK_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    resume: bool = typer.Option(
        False, "--resume", help="Finish the interrupted run into --out (same scenario, seed and reps)."
    ),
    chunk_size: int | None = typer.Option(
        None, "--chunk-size", help="Replications per chunk (default: a few chunks per worker, at most 50)."
    ),
    plots: bool = typer.Option(True, "--plots/--no-plots", help="With --out, also write the plots as PNG."),
    csv: bool = typer.Option(False, "--csv", help="With --out, also write each table as CSV beside its Parquet file."),
    tau: float | None = typer.Option(None, "--tau", help=TAU_HELP),
    cohort: str | None = typer.Option(None, "--cohort", help=COHORT_HELP),
    reference: bool = typer.Option(
        False,
        "--reference",
        help="Run on the reference kernel (plain SimPy processes and timeouts; slower, same results): for checking the engine.",
    ),
):
    """Run a scenario and print its headline (time to delivery, every unit counted); with --out, results stream to disk chunk by chunk (Ctrl-C keeps them; --resume finishes)."""
    from .. import metrics, output
    from ..console_tables import backfill_table, closure_table, delivered_table, headline_table
    from ..experiments.ensemble import run_stats
    from ..experiments.streamed import PartialRunError, finished_chunks, partial_dir, run_to_dir
    from ..outdir import OutputRefused, os_reason

    check_reps_seed(reps, seed)
    check_parallel(workers, chunk_size)
    check_tau(tau)
    window = parse_cohort(cohort)
    if resume and out is None:
        fail("--resume: needs --out DIR, the output of the interrupted run")
    if csv and out is None:
        fail("--csv: needs --out DIR, where the tables are written")
    overrides = parse_sets(set_)
    sc = load_or_exit(scenario, overrides)
    seed = sc.seed if seed is None else seed
    check_work([sc], reps, [scenario])
    check_out_or_exit(out, force, inputs_of([scenario]))
    if out is not None:
        if partial_dir(out).exists() and not (resume or force):
            fail(
                f"{partial_dir(out)}: an unfinished run into {out} is there; finish it with --resume or discard it with --force"
            )
    resumed, had_partial = 0, out is not None and partial_dir(out).exists()
    try:
        with executor_or_exit(workers, dask, reps) as executor, progress_bar(reps, sc.name, quiet) as advance:
            if out is not None:
                done = run_to_dir(
                    sc,
                    out,
                    reps,
                    seed,
                    executor,
                    chunk_size,
                    resume=resume,
                    force=force,
                    progress=advance,
                    plots=plots,
                    tau=tau,
                    cohort=window,
                    reference=reference,
                    overrides=overrides,
                    csv=csv,
                )
                summary, bf, resumed, closure = done.latency, done.backfill, done.resumed_reps, done.closure
            else:
                [stats] = run_stats([sc], reps, [seed], executor, chunk_size, advance, reference=reference)
                summary = metrics.lot_summary(stats, reps, sc.horizon_days, tau, window)
                closure = metrics.closure_summary(stats, reps, sc.horizon_days, tau, window)
                bf = metrics.backfill_summary(stats, reps, sc.horizon_days)
    except (PartialRunError, output.OutputExists, OutputRefused) as exc:
        fail(str(exc))
    except OSError as exc:  # writing --out failed outside the streamed run's own handling
        fail(f"{out}: cannot write: {os_reason(exc)}")
    except KeyboardInterrupt:
        if out is None:
            fail("interrupted", code=130)
        partial = partial_dir(out)
        n = len(finished_chunks(partial))
        fail(
            f"interrupted: {n} finished chunk(s) kept in {partial}; run the same command with --resume to finish "
            f"(or --force to start over)",
            code=130,
        )
    out_console.print(
        headline_table(
            summary,
            f"{sc.name}: time to delivery in days, every unit counted, {reps} replication(s), seed {seed}",
            sc,
            out_console.width,
        )
    )
    out_console.print(latency_footnote(reps, summary, sc), markup=False, highlight=False)
    if closure is not None and len(closure):
        out_console.print(
            closure_table(
                closure,
                "Requests closed (every line arrived) and groups of items that work "
                "together, each request counted once",
                sc,
            )
        )
    out_console.print(
        delivered_table(
            summary,
            "Among delivered lots only (one count per lot, all requests; leaves out what is still on its way)",
            sc,
        )
    )
    if len(bf):
        out_console.print(backfill_table(bf))
    if out is not None:
        note = f" (resumed: {resumed} replication(s) were already finished)" if resumed else ""
        if resume and not had_partial:
            note = " (no unfinished run was there to resume: ran from the start)"
        out_console.print(f"Wrote {out}{note}")
        if done.pngs:
            out_console.print(f"Plots: {', '.join(done.pngs)}" + png_note(reps))
