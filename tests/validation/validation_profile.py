"""The validation profile and scenario loading shared by the theory checks.

Profiles (environment variable PURLSIM_VALIDATION):
- unset / `fast` (the default, run by `make test`): every check at a size whose 95% interval is
  inside its band, about a minute and a half on 2 cores;
- `long`: adds the cases that cost minutes each (M/M/3 and M/D/1 at utilisation 0.9).
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

import sim

SCENARIOS = Path(__file__).parent / "scenarios"
PROFILE = os.environ.get("PURLSIM_VALIDATION", "fast")
LONG = PROFILE == "long"
long_only = pytest.mark.skipif(not LONG, reason="long validation profile only (PURLSIM_VALIDATION=long)")


def load(name: str):
    """A validation scenario by file stem, through the ordinary loader."""
    return sim.load_scenario(SCENARIOS / f"{name}.yaml")


def workers() -> int:
    """Worker processes for replications: the budget is two cores, shared."""
    n = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, min(2, n))


@pytest.fixture(scope="session")
def pool():
    """Worker processes for replications, shared by the whole session (forkserver: never fork a
    parent that may run threads). Defined here, not in a conftest.py: tests/conftest.py is imported
    by name (`from conftest import ...`) and a second conftest module would shadow it."""
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["sim.model", "queue_runs"])
    else:
        ctx = multiprocessing.get_context()
    with ProcessPoolExecutor(max_workers=workers(), mp_context=ctx) as ex:
        yield ex
