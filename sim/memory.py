"""Memory a big run has freed, handed back to the system."""

from __future__ import annotations

import ctypes
import functools
import sys


def give_back_memory() -> None:
    """Hand memory freed by a big replication back to the system (glibc's malloc_trim, and Arrow's pool).

    glibc keeps freed heap pages for reuse, so a process that has dropped a million lots' records
    would go on holding ~100 MB of them beside its tables; elsewhere (no malloc_trim) a no-op.
    """
    arrow = sys.modules.get("pyarrow")  # its own allocator keeps freed blocks too (not imported for this)
    if arrow is not None:
        arrow.default_memory_pool().release_unused()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim():
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None
