"""One process pool for the theory checks of this folder, shared by the whole session."""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor

import pytest

from validation_profile import workers


@pytest.fixture(scope="session")
def pool():
    """Worker processes for replications (forkserver: never fork a parent that may run threads)."""
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["sim.model", "queue_runs"])
    else:
        ctx = multiprocessing.get_context()
    with ProcessPoolExecutor(max_workers=workers(), mp_context=ctx) as ex:
        yield ex
