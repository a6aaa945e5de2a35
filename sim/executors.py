"""Executors for replications: in-process, local worker processes, or a Dask cluster."""
from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager


def default_workers() -> int:
    """The machine's cores (what `--workers` defaults to)."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


@contextmanager
def make_executor(workers: int | None, reps: int):
    """A process pool for `workers` (None: the cores), or None to run in-process when 1 suffices."""
    n = default_workers() if workers is None else workers
    if n < 1:
        raise ValueError("workers must be at least 1")
    n = min(n, reps)
    if n <= 1:
        yield None
        return
    with ProcessPoolExecutor(max_workers=n) as pool:
        yield pool
