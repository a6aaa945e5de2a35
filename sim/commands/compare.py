"""`purlsim compare A.yaml B.yaml [C.yaml ...]`: scenarios under common random numbers, paired differences against the first."""

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
    load_all_or_exit,
    out_console,
    parse_cohort,
    parse_sets,
    png_note,
    progress_bar,
)


def display_names(paths: list[Path], names: list[str]) -> list[str]:
    """Scenario names, or file names where two scenarios share a name."""
    if len(set(names)) == len(names):
        return names
    return [p.stem if names.count(n) > 1 else n for p, n in zip(paths, names)]


@app.command()
def compare(
    scenarios: list[Path] = typer.Argument(..., help="Scenario files; the first is the reference of the differences."),
    reps: int = typer.Option(DEFAULT_REPS, "--reps", "-n", help=REPS_HELP),
    seed: int | None = typer.Option(None, "--seed", help="Seed for every scenario (default: the first scenario's)."),
    set_: list[str] | None = typer.Option(
        None, "--set", help="Override a field in every scenario: path.to.field=value."
    ),
    out: Path | None = typer.Option(None, "--out", help="Write comparison.csv, comparison.json and PNG plots here."),
    force: bool = typer.Option(False, "--force", help="Replace an existing --out directory."),
    workers: int | None = typer.Option(
        None, "--workers", help="Local worker processes (default: cores; 1 = in-process)."
    ),
    dask: str | None = typer.Option(None, "--dask", help=DASK_HELP),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
    plots: bool = typer.Option(True, "--plots/--no-plots", help="With --out, also write the plots as PNG."),
    tau: float | None = typer.Option(None, "--tau", help=TAU_HELP),
    cohort: str | None = typer.Option(None, "--cohort", help=COHORT_HELP),
):
    """Compare scenarios with common random numbers: per item each one's headline and its paired difference against the first."""
    from .. import output
    from ..console_tables import comparison_table as rich_table
    from ..console_tables import headline_note
    from ..experiments.ensemble import run_stats
    from ..metrics.comparison import comparison_table, unique_names

    check_reps_seed(reps, seed)
    check_parallel(workers)
    check_tau(tau)
    window = parse_cohort(cohort)
    if len(scenarios) < 2:
        fail("compare: give at least two scenario files")
    check_out_or_exit(out, force, inputs_of(scenarios))
    overrides = parse_sets(set_)
    loaded = load_all_or_exit(scenarios, overrides)
    check_work(loaded, reps, scenarios)
    seed = loaded[0].seed if seed is None else seed
    names = unique_names(display_names(scenarios, [sc.name for sc in loaded]))
    total = reps * len(loaded)
    keep = 0  # replications whose full tables are kept, for the plots
    if out is not None and plots:
        from ..pngs import PLOT_REPS

        keep = PLOT_REPS
    with executor_or_exit(workers, dask, total) as executor, progress_bar(total, "compare", quiet) as advance:
        stats = run_stats(loaded, reps, [seed] * len(loaded), executor, None, advance, keep_reps=keep)
    df = comparison_table(stats, names, reps, loaded, tau, window)
    out_console.print(
        rich_table(
            df,
            f"Time to delivery in days, every unit counted, {reps} replication(s) each, seed {seed} for all "
            f"(common random numbers)",
            width=out_console.width,
        )
    )
    for sentence in df.loc[df["sentence"] != "", "sentence"]:
        out_console.print(sentence, markup=False, highlight=False)
    out_console.print(
        "'vs first': the scenario's restricted mean time to delivery minus the first's, paired under common "
        "random numbers (same replications, same bootstrap resamples), with its 95% interval. "
        + headline_note(df.set_index("item"), reps, loaded[0]),
        markup=False,
        highlight=False,
    )
    if out is not None:
        with output.staged_dir(out, force=force) as tmp:
            df.to_csv(tmp / "comparison.csv", index=False)
            doc = {
                "scenarios": [str(p) for p in scenarios],
                "names": names,
                "seed": seed,
                "reps": reps,
                "method": df.attrs["method"],
                "statistics_method": df.attrs["statistics"],
                "tau_days": df.attrs["tau"],
                "cohort_days": list(df.attrs["cohort"]),
                "rows": output.table_records(df.set_index(["item", "scenario"])),
            }
            (tmp / "comparison.json").write_text(json.dumps(doc, indent=2))
            if keep:
                from ..pngs import write_compare_pngs

                pngs = [p.name for p in write_compare_pngs(tmp, df, [s["results"] for s in stats], names)]
        out_console.print(f"Wrote {out}")
        if keep:
            out_console.print(f"Plots: {', '.join(pngs)}" + png_note(reps))
