"""One queue mechanism for everything that has servers: production lines and capacity-limited legs.

Waiting work is kept in a heap ordered by an explicit key (rank, time, tie-break), so results
never depend on the order SimPy happened to create processes. The pool can be paused (no new
starts; work in progress continues) and resized on a date.
"""
from __future__ import annotations

import heapq

import simpy
from simpy.events import PENDING


class Grant:
    """The event a queued job waits on: pending until the pool gives it a server.

    Only what SimPy's loop and processes read is kept (callbacks, `_ok`, `_value`); the pool
    schedules it with env.schedule, exactly as Event.succeed() would.
    """

    __slots__ = ("callbacks", "_ok", "_value")

    def __init__(self):
        self.callbacks = []
        self._ok, self._value = None, PENDING


class ServerPool:
    """c servers and a priority queue in front of them."""

    __slots__ = ("env", "capacity", "busy", "_queue", "_seq", "_closed", "_on_queue")

    def __init__(self, env: simpy.Environment, capacity: int, on_queue=None):
        self.env = env
        self.capacity = capacity
        self.busy = 0
        self._queue: list = []
        self._seq = 0
        self._closed: set[str] = set()
        self._on_queue = on_queue  # called with the queue length whenever it changes

    def request(self, key) -> Grant:
        """An event that fires when a server is granted to the work with this key."""
        ev = Grant()
        if not self._closed and self.busy < self.capacity and not self._queue:
            self.busy += 1
            self._succeed(ev)
            return ev
        self._seq += 1
        heapq.heappush(self._queue, (key, self._seq, ev))
        if self._on_queue is not None:
            self._on_queue(len(self._queue))
        return ev

    def acquire(self, key) -> Grant | None:
        """Like request, but None when a server is free right now: the caller goes on without a yield.

        Skipping the event saves a full schedule/step/resume cycle for every job that never waits.
        """
        if not self._closed and self.busy < self.capacity and not self._queue:
            self.busy += 1
            return None
        return self.request(key)

    def release(self) -> None:
        """A server is free again."""
        self.busy -= 1
        if self._queue:
            self._dispatch()

    def set_capacity(self, capacity: int) -> None:
        """Change the number of servers; work in progress is never interrupted."""
        self.capacity = capacity
        self._dispatch()

    def close(self, scope: str) -> None:
        """Stop granting servers while `scope` is closed."""
        self._closed.add(scope)

    def open(self, scope: str) -> None:
        """`scope` is open again; grant what waited."""
        self._closed.discard(scope)
        self._dispatch()

    def _succeed(self, ev: Grant) -> None:
        # What Event.succeed() does: same time, priority and id order.
        ev._ok, ev._value = True, None
        self.env.schedule(ev)

    @property
    def queue_length(self) -> int:
        return len(self._queue)

    def _dispatch(self) -> None:
        q = self._queue
        changed = False
        while q and not self._closed and self.busy < self.capacity:
            _, _, ev = heapq.heappop(q)
            self.busy += 1
            self._succeed(ev)
            changed = True
        if changed and self._on_queue is not None:
            self._on_queue(len(q))
