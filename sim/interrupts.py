"""Ctrl-C that is never lost: recorded when it arrives, and raised again at the run's safe points.

Python raises KeyboardInterrupt wherever the main thread happens to be when SIGINT arrives. If
that is a garbage collector's callback (a weakref's, a `__del__`), the exception cannot propagate:
Python prints "Exception ignored" and the program goes on, so a run that was asked to stop would
finish and exit 0 (seen once in CI). Within `recorded()` the handler also notes the interrupt, and
`check()`, called between chunks and before a run's output replaces anything, raises it again.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_pending = False  # a Ctrl-C arrived while recorded() was in force


def _on_sigint(signum, frame) -> None:
    """SIGINT: note it, then raise as Python's default handler does (which is lost only in a GC callback)."""
    global _pending
    _pending = True
    raise KeyboardInterrupt


@contextmanager
def recorded() -> Iterator[None]:
    """Within: Ctrl-C is recorded as well as raised, so `check()` raises it even if it landed where it was lost.

    Leaves SIGINT alone when it is not Python's default (ignored, as a shell starts background
    jobs, or a handler of the program embedding us) or when not called from the main thread.
    """
    global _pending
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    previous = signal.signal(signal.SIGINT, _on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        _pending = False


def check() -> None:
    """Raise KeyboardInterrupt if a Ctrl-C arrived within `recorded()`, wherever it landed."""
    if _pending:
        raise KeyboardInterrupt
