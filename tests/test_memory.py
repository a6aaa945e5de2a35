"""sim.memory: memory freed by a big run goes back to the system."""

from __future__ import annotations

import ctypes
import os
import sys

import pytest

from sim.memory import give_back_memory

PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE / 2**20


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim and /proc: Linux only")
def test_freed_heap_pages_go_back_to_the_system():
    """By hand: 3,000 blocks of 64 KiB (under glibc's mmap threshold, so on the heap) are written
    and freed, all but the last one (which pins the top of the heap, so glibc trims nothing by
    itself). The ~190 MB stay resident until give_back_memory(), then at least 150 MB go."""
    import pyarrow  # noqa: F401  (its pool is released too: the call must work with it loaded)

    libc = ctypes.CDLL(None)
    if not hasattr(libc, "malloc_trim"):
        pytest.skip("not glibc")
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    size = 64 * 1024
    blocks = [libc.malloc(size) for _ in range(3000)]
    for b in blocks:
        ctypes.memset(b, 1, size)  # resident: every page written
    held = _rss_mb()
    for b in blocks[:-1]:
        libc.free(b)
    before = _rss_mb()
    give_back_memory()
    after = _rss_mb()
    libc.free(blocks[-1])
    assert before > held - 20  # freed but still resident: glibc kept the pages
    assert before - after >= 150  # handed back
