"""The `purlsim` command line. It reads options, calls the library, prints tables; it never touches SimPy."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import List, Optional

import typer
from rich.console import Console
from rich.table import Table

from .errors import ScenarioError
from .scenario.loader import load_scenario, parse_override_value
from .scenario.schema import Scenario

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="purlsim: how long do weapons take to reach Ukraine under PURL, and what changes it?")
# Pipes and CI logs get a wide fixed width so tables are not folded into unreadable columns.
out_console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 200)


def fail(lines: list[str] | str, code: int = 2) -> None:
    """Print problems (one per line) to stderr and exit, without a traceback."""
    for line in [lines] if isinstance(lines, str) else lines:
        err_console.print(line, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


def parse_sets(sets: list[str] | None, where: str = "--set") -> dict:
    """`k=v` options into an overrides mapping."""
    out = {}
    for s in sets or []:
        key, eq, value = s.partition("=")
        if not eq or not key.strip():
            fail(f"{where}: expected PATH=VALUE, got {s!r}")
        out[key.strip()] = parse_override_value(value)
    return out


def load_or_exit(path: Path, overrides: dict | None = None) -> Scenario:
    """Load a scenario or exit 2 listing every problem."""
    try:
        return load_scenario(path, overrides)
    except ScenarioError as exc:
        fail([str(p) for p in exc.problems])


def _fmt(v, digits=1) -> str:
    if v is None or v != v:
        return "-"
    return f"{v:,.{digits}f}"


def latency_table(summary, title: str, reps: int) -> Table:
    """A rich table of the latency summary."""
    table = Table(title=title, title_justify="left")
    for col in ("item", "lots", "delivered", "undelivered", "mean d", "p50 d", "p90 d", "p95 d", "max d"):
        table.add_column(col, justify="left" if col == "item" else "right")
    for item, row in summary.iterrows():
        def cell(c):
            text = _fmt(row[c])
            if reps > 1 and row.get(f"{c}_lo") == row.get(f"{c}_lo"):
                text += f" ({_fmt(row[f'{c}_lo'], 0)}-{_fmt(row[f'{c}_hi'], 0)})"
            return text
        table.add_row(str(item), _fmt(row["lots"]), f"{row['delivered_share']:.0%}", str(int(row["undelivered"])),
                      cell("mean"), cell("p50"), cell("p90"), cell("p95"), _fmt(row["max"]))
    return table


def check_reps_seed(reps: int, seed: Optional[int]) -> None:
    if reps < 1:
        fail(f"--reps: must be at least 1 (got {reps})")
    if seed is not None and seed < 0:
        fail(f"--seed: must not be negative (got {seed})")


@app.command()
def run(
    scenario: Path = typer.Argument(..., help="Scenario YAML file."),
    reps: int = typer.Option(1, "--reps", "-n", help="Replications."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Base seed (default: the scenario's)."),
    set_: Optional[List[str]] = typer.Option(None, "--set", help="Override a field: path.to.field=value."),
    out: Optional[Path] = typer.Option(None, "--out", help="Write tables, summary.json and plots here."),
    force: bool = typer.Option(False, "--force", help="Replace an existing --out directory."),
    workers: Optional[int] = typer.Option(None, "--workers", help="Local worker processes (default: cores; 1 = in-process)."),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress bar."),
):
    """Run a scenario and print its latency table."""
    from . import output
    from .ensemble import run as run_ensemble
    from .executors import make_executor

    check_reps_seed(reps, seed)
    sc = load_or_exit(scenario, parse_sets(set_))
    if out is not None and out.exists() and not force:
        fail(f"{out}: exists (use --force to replace it)")
    with make_executor(workers, reps) as executor:
        results = run_ensemble(sc, reps=reps, seed=seed, executor=executor)
    out_console.print(latency_table(results.summary(), f"{sc.name}: latency in days, {reps} replication(s), seed {results.seed}", reps))
    bf = results.backfill_summary()
    if len(bf):
        out_console.print(backfill_table(bf))
    out_console.print("Latency counts delivered lots only; lots undelivered at the horizon are censored "
                      "and counted under 'undelivered'." + (" Brackets: 95% CI across replications." if reps > 1 else ""))
    if out is not None:
        with output.staged_dir(out, force=force) as tmp:
            output.write_results(results, tmp)
        out_console.print(f"Wrote {out}")


def backfill_table(bf) -> Table:
    """A rich table of backfill gaps per donor and item."""
    table = Table(title="Backfill: donor readiness gap in days", title_justify="left")
    for col in ("donor", "item", "donations", "replaced", "mean gap", "max gap", "open at horizon"):
        table.add_column(col, justify="left" if col in ("donor", "item") else "right")
    for (donor, item), row in bf.iterrows():
        table.add_row(str(donor), str(item), _fmt(row["donations"]), f"{row['replaced_share']:.0%}",
                      _fmt(row["gap_mean"]), _fmt(row["gap_max"]), str(row["open"]))
    return table


@app.command()
def validate(files: List[Path] = typer.Argument(..., help="Scenario files to check.")):
    """Check scenario files; print every problem as FILE: path: message."""
    problems = []
    for f in files:
        try:
            load_scenario(f)
        except ScenarioError as exc:
            problems.extend(str(p) for p in exc.problems)
    if problems:
        fail(problems)
    out_console.print(f"{len(files)} scenario file(s) valid")


@app.command()
def schema():
    """Print the scenario JSON Schema (for editor completion)."""
    doc = Scenario.model_json_schema(by_alias=True)
    doc["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    doc["title"] = "purlsim scenario (format v1)"
    typer.echo(json.dumps(doc, indent=2))


@app.command()
def verify(directory: Path = typer.Argument(..., help="An output directory of purlsim.")):
    """Check an output directory against its manifest.json."""
    from .output import verify as verify_dir

    problems = verify_dir(directory)
    if problems:
        fail(problems, code=1)
    out_console.print(f"{directory}: intact")


def _register_commands() -> None:
    """Import every module of sim.commands so their @app.command()s register."""
    import importlib
    import pkgutil

    from . import commands

    for mod in sorted(m.name for m in pkgutil.iter_modules(commands.__path__)):
        importlib.import_module(f"{commands.__name__}.{mod}")


_register_commands()


def main() -> None:
    """Console entry point."""
    try:
        app(prog_name="purlsim")
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
