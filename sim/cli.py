"""The `purlsim` command line. It reads options, calls the library, prints tables; it never touches SimPy."""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import NoReturn

import typer
from rich.console import Console

from .errors import ScenarioError, printable
from .scenario.loader import input_files, load_scenario, parse_override_value
from .scenario.schema import Scenario
from .scenario.workload import DEFAULT_REPS, MAX_REPS, MAX_SEED, run_problem

app = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="purlsim: how long do weapons take to reach Ukraine under PURL, and what changes it?",
)


class SafeConsole(Console):
    """A rich Console that never reads markup in text and escapes control characters in printed strings.

    Names, file names and values come from users: '[/]' would be a markup error, and an ESC would drive the terminal.
    """

    def __init__(self, **kw):
        super().__init__(markup=False, **kw)

    def print(self, *objects, **kw):
        super().print(*(printable(o) if isinstance(o, str) else o for o in objects), **kw)


# Pipes and CI logs get a wide fixed width so tables are not folded into unreadable columns.
out_console = SafeConsole(width=None if sys.stdout.isatty() else 160)
err_console = SafeConsole(stderr=True, width=None if sys.stderr.isatty() else 200)


def fail(lines: list[str] | str, code: int = 2) -> NoReturn:
    """Print problems (one per line, control characters escaped) to stderr and exit, without a traceback."""
    for line in [lines] if isinstance(lines, str) else lines:
        err_console.print(printable(line), markup=False, highlight=False, soft_wrap=True)
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


def load_all_or_exit(paths: list[Path], overrides: dict | None = None) -> list[Scenario]:
    """Load several scenarios or exit 2 listing every problem of every file."""
    loaded: list[Scenario] = []
    problems: list[str] = []
    for path in paths:
        try:
            loaded.append(load_scenario(path, overrides))
        except ScenarioError as exc:
            problems.extend(str(p) for p in exc.problems)
    if problems:
        fail(problems)
    return loaded


def _fmt(v, digits=1) -> str:
    if v is None or v != v:
        return "-"
    return f"{v:,.{digits}f}"


def latency_footnote(reps: int, summary=None, scenario=None) -> str:
    """The note under a headline table: what it counts and how its intervals are made."""
    from .console_tables import headline_note

    return (
        headline_note(summary, reps, scenario)
        if summary is not None
        else ("Time to delivery counts every requested unit (delivered, or censored at the horizon).")
    )


def check_reps_seed(reps: int, seed: int | None) -> None:
    """Exit 2 on replications or a seed outside their ranges."""
    if reps < 1:
        fail(f"--reps: must be at least 1 (got {reps})")
    if reps > MAX_REPS:
        fail(f"--reps: must be at most {MAX_REPS:,} (got {_big(reps)})")
    if seed is not None and seed < 0:
        fail(f"--seed: must not be negative (got {_big(seed)})")
    if seed is not None and seed > MAX_SEED:
        fail(f"--seed: must be at most {MAX_SEED} (got {_big(seed)})")


def _big(n: int) -> str:
    """An integer as text, or its size when it is too long to print."""
    return str(n) if abs(n) < 10**30 else f"a number of about {int(abs(n).bit_length() * 0.30103) + 1:,} digits"


def check_work(scenarios: list[Scenario], reps: int, files: list[Path]) -> None:
    """Exit 2, with the estimate, when the replications asked for are more work than a run may be."""
    problems = [f"{f}: reps: {msg}" for sc, f in zip(scenarios, files) if (msg := run_problem(sc, reps))]
    if problems:
        fail(list(dict.fromkeys(problems)))


def inputs_of(paths: list[Path]) -> list[Path]:
    """Every file the scenarios named are read from (with their extends chains); loaded already, so readable."""
    found: list[Path] = []
    for p in paths:
        try:
            found.extend(input_files(p))
        except ScenarioError:
            found.append(p)
    return found


def check_out_or_exit(out: Path | None, force: bool, inputs: list[Path], kind: str = "directory") -> None:
    """Exit 2 unless --out may be written: never an input, never what purlsim did not write."""
    from .outdir import OutputRefused, check_target

    if out is None:
        return
    try:
        check_target(out, force, inputs, kind)
    except OutputRefused as exc:
        fail(str(exc))


def check_parallel(workers: int | None, chunk_size: int | None = None) -> None:
    """Exit 2 on a worker count or chunk size below 1."""
    if workers is not None and workers < 1:
        fail(f"--workers: must be at least 1 (got {workers})")
    if chunk_size is not None and chunk_size < 1:
        fail(f"--chunk-size: must be at least 1 (got {chunk_size})")


@contextmanager
def executor_or_exit(workers: int | None, dask: str | None, tasks: int | None = None):
    """The executor asked for (None: in-process); a Dask or option problem exits 2 with its message."""
    from .executors import ExecutorError, open_executor

    with ExitStack() as stack:
        try:
            executor = stack.enter_context(open_executor(workers, dask, tasks))
        except ExecutorError as exc:
            fail(str(exc))
        yield executor


@contextmanager
def progress_bar(total: int, what: str, quiet: bool = False):
    """A replications progress bar on stderr when it is a terminal; yields `advance(n)`."""
    if quiet or not err_console.is_terminal:
        yield lambda n: None
        return
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("replications"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task(what, total=total)
        yield lambda n: bar.advance(task, n)


REPS_HELP = f"Replications (per scenario or sweep point; default {DEFAULT_REPS}, the same for every command)."
TAU_HELP = (
    "Bound of the restricted mean time to delivery, days (default: the largest multiple of 30 within two "
    "thirds of the shortest horizon)."
)
COHORT_HELP = "Count requests made from FROM to TO (days from start, FROM:TO; default: 0 to the horizon minus tau)."


def parse_cohort(text: str | None) -> tuple[float, float] | None:
    """`FROM:TO` in days, or exit 2 with the reason."""
    if text is None:
        return None
    a, colon, b = text.partition(":")
    try:
        lo, hi = float(a), float(b)
    except ValueError:
        fail(f"--cohort: expected FROM:TO in days from the start, e.g. 0:200 (got {text!r})")
    if not colon or not (0 <= lo <= hi) or not (hi < float("inf")):
        fail(f"--cohort: FROM:TO needs 0 <= FROM <= TO, finite (got {text!r})")
    return lo, hi


def check_tau(tau: float | None) -> None:
    if tau is not None and not (0 < tau < float("inf")):
        fail(f"--tau: must be a positive number of days (got {tau})")


DASK_HELP = "Run on Dask: a scheduler address (tcp://HOST:PORT) or 'local' for a LocalCluster of --workers processes."


def png_note(reps: int) -> str:
    """What the PNG plots of a run show when it had more replications than they draw."""
    from .pngs import PLOT_REPS

    return f" (drawn from the first {PLOT_REPS} of {reps} replications)" if reps > PLOT_REPS else ""


@app.command()
def validate(files: list[Path] = typer.Argument(..., help="Scenario files to check.")):
    """Check scenario files; print every problem as FILE: path: message."""
    load_all_or_exit(files)
    out_console.print(f"{len(files)} scenario file(s) valid")


@app.command()
def schema(
    out: Path | None = typer.Option(
        None, "--out", help="Write the schema to this file instead of printing it (e.g. purlsim.schema.json)."
    ),
):
    """Print (or write) the JSON Schema of a scenario file, for editors: see docs/scenario-format.md."""
    from .scenario.file_schema import schema_text

    text = schema_text()
    if out is None:
        typer.echo(text, nl=False)
        return
    if out.is_dir():
        fail(f"{out}: is a directory; give a file name such as {out / 'purlsim.schema.json'}")
    out.write_text(text, encoding="utf-8")
    out_console.print(f"wrote {out}")


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


INTERRUPTED = 130  # the exit code of a run stopped by Ctrl-C (128 + SIGINT), as shells report it


def main() -> None:
    """Console entry point: a user's mistake or a file-system failure is one line on stderr, never a traceback."""
    from . import interrupts
    from .outdir import OutputExists, OutputRefused, os_reason

    try:
        with interrupts.recorded():
            app(prog_name="purlsim")
    except SystemExit as exc:
        _last_words(None, exc.code)
    except KeyboardInterrupt:
        _last_words("interrupted", INTERRUPTED)
    except (OutputRefused, OutputExists) as exc:
        _last_words(str(exc), 2)
    except OSError as exc:  # a full disk, a read-only directory, a name too long: where and why
        where = exc.filename if exc.filename is not None else "purlsim"
        _last_words(f"{where}: {os_reason(exc)}", 2)
    _last_words(None, 0)


def _last_words(message: str | None, code: str | int | None) -> NoReturn:
    """Print `message` (escaped) and exit with `code`; stdout closed by the shell (a pipe) is not an error."""
    try:
        if message:
            err_console.print(printable(message), highlight=False, soft_wrap=True)
        sys.stdout.flush()
    except (OSError, ValueError):  # EPIPE/EBADF once the terminal or pipe is gone: nothing left to tell
        try:  # interpreter shutdown would flush stdout again, onto the dead descriptor, with a traceback
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
    if code == INTERRUPTED:
        # After Ctrl-C, leave without joining the process pool's threads: a worker stopped while
        # writing a result can leave the pool's manager thread reading a half-written message for
        # good (seen under load: the run never exited). What the run keeps is already on disk.
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except (OSError, ValueError):
                pass
        os._exit(INTERRUPTED)
    sys.exit(code)


if __name__ == "__main__":
    # `python -m sim.cli`: the commands of sim.commands register on `sim.cli.app`, the module
    # they import, not on this `__main__` copy of it, so run that module's entry point.
    from sim.cli import main as _main

    _main()
