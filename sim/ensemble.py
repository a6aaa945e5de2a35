"""Replications: in-process or on any concurrent.futures.Executor, always in replication order.

Each replication's random streams depend only on (seed, replication, part name), and results are
put back in replication order, so the same scenario, seed and reps give identical results on
any executor, worker count or chunking.
"""
from __future__ import annotations

from concurrent.futures import Executor
from typing import Callable, Iterable

from .model import run_replication
from .results import Results, frame
from .scenario.schema import Scenario

KINDS = ("deliveries", "events", "levels", "backfills")


def run_chunk(scenario: Scenario, seed: int, reps: list[int], record_events: bool = True) -> list[dict]:
    """Run a list of replications in this process; DataFrames per replication."""
    out = []
    for rep in reps:
        tables = run_replication(scenario, seed, rep, record_events)
        out.append({k: frame(k, tables[k], rep) for k in KINDS})
    return out


def chunks(reps: int, size: int) -> list[list[int]]:
    """Replication numbers split into consecutive chunks of at most `size`."""
    return [list(range(i, min(i + size, reps))) for i in range(0, reps, size)]


def default_chunk_size(reps: int, workers: int) -> int:
    """A few chunks per worker: enough to balance load, few enough to keep overhead low."""
    return max(1, min(50, -(-reps // max(1, 4 * workers))))


def iter_chunks(scenario: Scenario, seed: int, rep_chunks: list[list[int]], executor: Executor | None,
                record_events: bool = True) -> Iterable[tuple[list[int], list[dict]]]:
    """Yield (reps, per-replication frames) chunk by chunk, in order."""
    if executor is None:
        for reps in rep_chunks:
            yield reps, run_chunk(scenario, seed, reps, record_events)
        return
    futures = [executor.submit(run_chunk, scenario, seed, reps, record_events) for reps in rep_chunks]
    try:
        for reps, fut in zip(rep_chunks, futures):
            yield reps, fut.result()
    finally:
        for fut in futures:
            fut.cancel()


def run(scenario: Scenario, reps: int = 1, seed: int | None = None, executor: Executor | None = None,
        chunk_size: int | None = None, record_events: bool = True,
        progress: Callable[[int], None] | None = None) -> Results:
    """Run `reps` replications of `scenario` and gather their Results.

    seed: defaults to the scenario's own; executor: any concurrent.futures.Executor, or None to
    run in this process; progress: called with the number of replications just finished.
    """
    if int(reps) < 1:
        raise ValueError("reps must be at least 1")
    seed = scenario.seed if seed is None else int(seed)
    if seed < 0:
        raise ValueError("seed must not be negative")
    workers = getattr(executor, "_max_workers", 2) if executor is not None else 1
    size = chunk_size or default_chunk_size(reps, workers)
    collected: dict[str, list] = {k: [] for k in KINDS}
    for done, per_rep in iter_chunks(scenario, seed, chunks(reps, size), executor, record_events):
        for tables in per_rep:
            for k in KINDS:
                collected[k].append(tables[k])
        if progress is not None:
            progress(len(done))
    return Results.from_frames(scenario, seed, reps, collected)
