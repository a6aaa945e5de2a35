"""Executors for replications: in-process, local worker processes, or a Dask cluster.

`open_executor` is what the command line uses: `--workers N` local processes (1: in-process),
`--dask ADDRESS` an existing Dask scheduler, `--dask local` a LocalCluster started for the run;
both Dask forms go through a real `distributed.Client` and its `get_executor()`. Dask is an
optional extra (`pip install 'purlsim[dask]'`) imported only when asked for. Local workers are
capped at the machine's cores (results never depend on the count, and more only cost memory) and
die with the process that started them, even when it is killed with SIGKILL.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager

DASK_CONNECT_TIMEOUT_S = 5.0
DASK_WORKERS_TIMEOUT_S = 10.0


class ExecutorError(RuntimeError):
    """An executor could not be set up (bad option, Dask missing or unreachable): a user error."""


def default_workers() -> int:
    """The machine's cores (what `--workers` defaults to)."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def executor_workers(executor: Executor | None) -> int:
    """How many tasks `executor` runs at once (1 for in-process); Dask executors ask their Client."""
    if executor is None:
        return 1
    n = getattr(executor, "_max_workers", None)
    if n:
        return int(n)
    client = getattr(executor, "_client", None)  # distributed.cfexecutor.ClientExecutor
    if client is not None:
        try:
            return max(1, sum(client.nthreads().values()))
        except Exception:  # a client that cannot answer still runs tasks
            pass
    return default_workers()


def capped_workers(workers: int | None) -> int:
    """The worker count asked for (default: the cores), at most the machine's cores."""
    cores = default_workers()
    return cores if workers is None else max(1, min(int(workers), cores))


_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """Ask Linux to SIGKILL this worker when the process that forked it dies (a SIGKILL gives it no chance to clean up)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no libc prctl: workers then outlive a killed parent, as before
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


def _worker_init(parent: int) -> None:
    """Worker initializer: Ctrl-C is the parent's to handle (it keeps finished chunks and stops us); die with it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(parent)


def _mp_context():
    """fork on Linux (the platform's default elsewhere): workers start at once and skip re-importing the program.

    forkserver and spawn re-run `__main__`'s imports (the whole CLI) in every worker;
    process_pool forks its workers up front, before the progress bar or the pool's own threads run.
    """
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context()


def _ready() -> int:
    return os.getpid()


@contextmanager
def process_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of `workers` processes that ignore Ctrl-C; on any exception (Ctrl-C) its workers are stopped at once."""
    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=_mp_context(), initializer=_worker_init, initargs=(os.getpid(),)
    )
    try:
        pool.submit(_ready).result()  # start the workers now, while this process has a single thread
        yield pool
    except BaseException:
        procs = list((getattr(pool, "_processes", None) or {}).values())
        pool.shutdown(wait=False, cancel_futures=True)
        for p in procs:  # our own children: a chunk in progress is lost, finished ones are kept
            if p.is_alive():
                p.terminate()
        for p in procs:
            p.join(5)
        try:  # join the pool's manager thread now: left to exit time it may write to a closed pipe (EBADF)
            pool.shutdown(wait=True)
        except Exception:
            pass
        raise
    pool.shutdown(wait=True)


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise ExecutorError("--dask needs Dask, which is not installed: pip install 'purlsim[dask]'") from None
    return distributed


@contextmanager
def dask_executor(
    address: str, workers: int | None = None, connect_timeout: float = DASK_CONNECT_TIMEOUT_S
) -> Iterator[Executor]:
    """A Dask Client's executor: `address` of a running scheduler, or "local" for a LocalCluster of `workers` processes."""
    distributed = _import_distributed()
    address = (address or "").strip()
    if not address:
        raise ExecutorError("--dask: give a scheduler address (tcp://HOST:PORT) or 'local'")
    cluster = None
    try:
        if address == "local":
            if workers is not None and workers < 1:
                raise ExecutorError(f"--workers: must be at least 1 (got {workers})")
            n = capped_workers(workers)
            cluster = distributed.LocalCluster(
                n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
            )
            client = distributed.Client(cluster)
        else:
            try:
                client = distributed.Client(address, timeout=connect_timeout)
            except (OSError, TimeoutError, ValueError) as exc:
                raise ExecutorError(
                    f"--dask {address}: cannot reach a Dask scheduler within {connect_timeout:g} s ({exc})"
                ) from None
        try:
            try:
                client.wait_for_workers(1, timeout=DASK_WORKERS_TIMEOUT_S)
            except (OSError, TimeoutError) as exc:
                raise ExecutorError(
                    f"--dask {address}: the scheduler has no workers (waited {DASK_WORKERS_TIMEOUT_S:g} s: {exc})"
                ) from None
            yield client.get_executor(pure=False)
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()


@contextmanager
def open_executor(
    workers: int | None = None, dask: str | None = None, tasks: int | None = None
) -> Iterator[Executor | None]:
    """The executor the command-line options ask for; None runs in-process (one worker, or one task)."""
    if workers is not None and workers < 1:
        raise ExecutorError(f"--workers: must be at least 1 (got {workers})")
    if dask is not None:
        with dask_executor(dask, workers) as ex:
            yield ex
        return
    n = capped_workers(workers)
    if tasks is not None:
        n = min(n, max(1, tasks))
    if n <= 1:
        yield None
        return
    with process_pool(n) as pool:
        yield pool


@contextmanager
def make_executor(workers: int | None, reps: int):
    """A process pool for `workers` (None: the cores), or None to run in-process when 1 suffices."""
    with open_executor(workers, None, reps) as ex:
        yield ex
