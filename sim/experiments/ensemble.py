"""Replications: in-process or on any concurrent.futures.Executor, gathered in replication order.

Each replication's random streams depend only on (seed, replication, part name), and chunks are
put back in replication order, so the same scenario, seed and reps give identical results on
any executor, worker count or chunking. Chunks are the unit of work sent to an executor: a few
per worker, at most MAX_CHUNK replications each.
"""

from __future__ import annotations

import gc
import numbers
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, wait
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from .. import interrupts, metrics
from ..errors import Problem, ScenarioError
from ..executors import executor_workers
from ..memory import give_back_memory
from ..model import BIG_REPLICATION, gc_paused, run_replication
from ..results import Results
from ..scenario.loader import load_scenario
from ..scenario.schema import Scenario
from ..scenario.workload import DEFAULT_REPS, MAX_SEED, describe, run_problem
from ..tables import finish, table

KINDS = ("deliveries", "events", "levels", "backfills")
MAX_CHUNK = 50


def run_chunk_tables(
    scenario: Scenario, seed: int, reps: list[int], record_events: bool = True, reference: bool = False
) -> dict[str, pd.DataFrame]:
    """Run replications `reps` in this process; one finished DataFrame per table for the whole chunk.

    reference: on the reference kernel (plain SimPy, see sim.model.kernel); the tables are the same.
    """
    with gc_paused():  # until the records are columns again (see sim.model.gc_paused)
        per_rep = [(rep, run_replication(scenario, seed, rep, record_events, reference)) for rep in reps]
        out = {k: finish(k, table(k, [(rep, tables[k]) for rep, tables in per_rep]), scenario.start) for k in KINDS}
    if len(out["deliveries"]) >= BIG_REPLICATION:
        del per_rep
        gc.collect()  # what the chunk left in cycles while the collector was paused (~140 MB at 10^6 lots)
        give_back_memory()  # the records and the columns they became are gone: their pages too
    return out


def _chunk_results(scenario: Scenario, seed: int, reps: list[int], record_events: bool, reference: bool) -> Results:
    raw = run_chunk_tables(scenario, seed, reps, record_events, reference)
    return Results.from_frames(scenario, seed, len(reps), {k: [df] for k, df in raw.items()})


def run_chunk_output(
    scenario: Scenario, seed: int, reps: list[int], record_events: bool = True, reference: bool = False
) -> dict:
    """Run replications `reps`; {"tables": each table as Results shows it, "stats": what the metrics count}."""
    res = _chunk_results(scenario, seed, reps, record_events, reference)
    tables = {k: getattr(res, k) for k in KINDS}
    return {"tables": tables, "stats": res.observations()}


def run_chunk_stats(scenario: Scenario, seed: int, reps: list[int], reference: bool = False) -> dict[str, pd.DataFrame]:
    """Run replications `reps` and keep only the observations the metrics count (small to send back)."""
    return _chunk_results(scenario, seed, reps, False, reference).observations()


def run_chunk_kept(scenario: Scenario, seed: int, reps: list[int], keep: int, reference: bool = False) -> dict:
    """A chunk's observations, and its tables (the event log, not stages) of replications below `keep`."""
    res = _chunk_results(scenario, seed, reps, True, reference)
    tables = {"deliveries": res.deliveries, "events": res.event_log, "levels": res.levels, "backfills": res.backfills}
    return {**res.observations(), "tables": {k: df[df["rep"] < keep] for k, df in tables.items()}}


def chunks(reps: int, size: int) -> list[list[int]]:
    """Replication numbers split into consecutive chunks of at most `size`."""
    return [list(range(i, min(i + size, reps))) for i in range(0, reps, size)]


def default_chunk_size(reps: int, workers: int) -> int:
    """A few chunks per worker (load balance), at most 50 replications (bounded memory per chunk)."""
    return max(1, min(MAX_CHUNK, -(-reps // max(1, 4 * workers))))


R = TypeVar("R")  # what the calls of as_completed return


def as_completed(
    executor: Executor | None, calls: Sequence[tuple[Callable[..., R], tuple]], window: int | None = None
) -> Iterator[tuple[int, R]]:
    """Run `calls` (function, args) and yield (index, result) as each finishes.

    In-process when executor is None. Otherwise at most `window` calls are in flight (default:
    twice the executor's workers), so finished results wait for the caller, not the whole
    ensemble, and memory stays bounded by a few chunks. Pending calls are cancelled if the
    caller stops early (Ctrl-C, an error).
    """
    if executor is None:
        for i, (fn, args) in enumerate(calls):
            interrupts.check()
            yield i, fn(*args)
        interrupts.check()
        return
    window = window or 2 * executor_workers(executor)
    todo = iter(enumerate(calls))
    pending: dict[Future, int] = {}

    def top_up() -> None:
        while len(pending) < window:
            nxt = next(todo, None)
            if nxt is None:
                return
            i, (fn, args) = nxt
            pending[executor.submit(fn, *args)] = i

    try:
        top_up()
        while pending:
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            finished = sorted((pending.pop(f), f) for f in done)
            top_up()  # keep the workers busy while the caller handles these
            for i, fut in finished:
                interrupts.check()  # a Ctrl-C lost in a GC callback stops the run here, between results
                yield i, fut.result()
        interrupts.check()
    finally:
        for fut in pending:
            fut.cancel()


def check_run(scenario: Scenario, reps: int, seed: int | None) -> tuple[int, int]:
    """Validated (reps, seed), seed defaulting to the scenario's own; raises ScenarioError (a ValueError) otherwise."""
    problems = []
    if isinstance(reps, bool) or not isinstance(reps, numbers.Integral):
        problems.append(Problem("<run>", "reps", f"must be a whole number (got {type(reps).__name__})"))
    elif reps < 1:
        problems.append(Problem("<run>", "reps", f"reps must be at least 1 (got {reps})"))
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
        problems.append(Problem("<run>", "seed", f"must be a whole number (got {type(seed).__name__})"))
    elif seed is not None and not 0 <= seed <= MAX_SEED:
        problems.append(
            Problem(
                "<run>",
                "seed",
                f"seed must not be negative (got {seed})"
                if seed < 0
                else f"seed must be at most {MAX_SEED} (got {describe(float(min(seed, 10**300)))})",
            )
        )
    if not problems:
        too_much = run_problem(scenario, int(reps))
        if too_much:
            problems.append(Problem("<run>", "reps", too_much))
    if problems:
        raise ScenarioError(problems)
    return int(reps), scenario.seed if seed is None else int(seed)


def run(
    scenario: Scenario | str | Path,
    reps: int = DEFAULT_REPS,
    seed: int | None = None,
    executor: Executor | None = None,
    chunk_size: int | None = None,
    record_events: bool = True,
    progress: Callable[[int], None] | None = None,
    reference: bool = False,
    overrides: Mapping[str, Any] | None = None,
) -> Results:
    """Run `reps` replications of `scenario` (a Scenario, or a scenario file's path) and gather their Results.

    overrides: dotted paths and values applied to a scenario file as it is loaded (as `--set`),
    kept in `Results.overrides`; with a Scenario already loaded they are refused. seed: defaults to the scenario's own; executor: any concurrent.futures.Executor (a process
    pool, a Dask Client's get_executor(), ...), or None to run in this process; progress: called
    with the number of replications just finished; reference: run on the reference kernel (plain
    SimPy processes and timeouts, see sim.model.kernel), for checking the fast one. Results do not
    depend on the executor, the worker count, the chunk size or the kernel.
    """
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario, overrides)
    elif overrides:
        raise TypeError("run: overrides apply to a scenario file as it is loaded; pass its path, not a Scenario")
    reps, seed = check_run(scenario, reps, seed)
    size = chunk_size or default_chunk_size(reps, executor_workers(executor))
    parts = chunks(reps, size)
    got: dict[int, dict] = {}
    for i, tables in as_completed(
        executor, [(run_chunk_tables, (scenario, seed, c, record_events, reference)) for c in parts]
    ):
        got[i] = tables
        if progress is not None:
            progress(len(parts[i]))
    frames = {k: [got[i][k] for i in range(len(parts))] for k in KINDS}
    return Results.from_frames(scenario, seed, reps, frames, dict(overrides) if overrides is not None else None)


def run_stats(
    scenarios: Sequence[Scenario],
    reps: int,
    seeds: Sequence[int],
    executor: Executor | None = None,
    chunk_size: int | None = None,
    progress: Callable[[int], None] | None = None,
    keep_reps: int = 0,
    reference: bool = False,
) -> list[dict]:
    """The observations the metrics count (sim.metrics.STATS) of each scenario, all scenarios' chunks sharing the executor.

    Each scenario runs replications 0..reps-1 with its seed; equal seeds give common random numbers.
    keep_reps: also keep, as "results", the full Results of each scenario's first `keep_reps`
    replications (for plots: memory bounded by keep_reps, whatever reps is); reference: as in run().
    """
    checked = [check_run(s, reps, seed) for s, seed in zip(scenarios, seeds)]
    size = chunk_size or default_chunk_size(reps, executor_workers(executor))
    parts = chunks(reps, size)
    calls, where = [], []
    for k, (sc, (_, seed)) in enumerate(zip(scenarios, checked)):
        for j, c in enumerate(parts):
            calls.append(
                (run_chunk_kept, (sc, seed, c, keep_reps, reference))
                if c[0] < keep_reps
                else (run_chunk_stats, (sc, seed, c, reference))
            )
            where.append((k, j))
    got: dict[tuple[int, int], dict] = {}
    for i, stats in as_completed(executor, calls):
        got[where[i]] = stats
        if progress is not None:
            progress(len(parts[where[i][1]]))
    out = [
        {name: pd.concat([got[(k, j)][name] for j in range(len(parts))], ignore_index=True) for name in metrics.STATS}
        for k in range(len(scenarios))
    ]
    if keep_reps > 0:
        kept = [j for j, c in enumerate(parts) if c[0] < keep_reps]
        for k, (sc, (_, seed)) in enumerate(zip(scenarios, checked)):
            frames = {kind: [got[(k, j)]["tables"][kind] for j in kept] for kind in KINDS}
            out[k]["results"] = Results.from_frames(sc, seed, min(reps, keep_reps), frames)
    return out
