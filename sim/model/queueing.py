"""One queue mechanism for everything that has servers: production lines and capacity-limited legs.

Waiting work is kept in a heap ordered by an explicit key (rank, time, tie-break), so results
never depend on the order SimPy happened to create processes. That holds for ties at one instant
too: a free server is granted at once only when nothing else is due at this instant; otherwise
the request queues and the servers free at the end of the instant go by key (priority, then
request order), so a lot asking first at an instant does not take the slot of an urgent one
asking at the same instant. The pool can be paused (no new
starts; work in progress continues) and resized on a date. A standing claim (`stand`) keeps its
place in the queue while it has work left: each time it wins a server its `take` is called at
once, so a book of many orders (other customers') holds its place with any number of servers
without a process waiting for each order.

A lot that queues is marked in the pool's `queue_phase` (line_queue, waiting_departure); while
the pool is paused, every lot waiting in it is marked `held`, and back in the queue phase when
it reopens. Marks only record the current time: they add no event.
"""

from __future__ import annotations

import heapq

from ..errors import InvariantError
from ..recorder import HELD


class Standing:
    """A claim that stays queued: `take()` starts one piece of work and says whether more is left."""

    __slots__ = ("take",)

    def __init__(self, take):
        self.take = take


class ServerPool:
    """c servers and a priority queue in front of them."""

    __slots__ = ("env", "capacity", "busy", "_heap", "_seq", "_closed", "_on_queue", "queue_phase", "_late", "_asked")

    def __init__(self, env, capacity: int, on_queue=None, queue_phase=None):
        self.env = env
        self.capacity = capacity
        self.busy = 0
        self._heap: list = []
        self._seq = 0
        self._closed: set[str] = set()
        self._on_queue = on_queue  # called with the queue length whenever it changes
        self.queue_phase = queue_phase  # the phase of a lot waiting here (None: lots are not marked)
        self._late = False  # a dispatch at the end of this instant is scheduled
        self._asked: list = []  # requests for a free server made at this instant, granted at its end

    def request(self, key, lot=None):
        """A kernel signal that fires when a server is granted to the work with this key (for `lot`, if any)."""
        env = self.env
        ev = env.signal()
        if not self._closed and self.busy < self.capacity:
            if not self._heap and not self._asked and not env.busy_now():
                self.busy += 1
                env.fire(ev)
                return ev
            # Others may still ask at this instant: the free servers go by key at its end. Not a
            # queue to report unless it is one then (a lot marked here for no time loses none).
            if lot is not None and self.queue_phase is not None:
                lot.enter(self.queue_phase, env.now)
            else:
                lot = None
            self._seq += 1
            self._asked.append((key, self._seq, ev, lot))
            self._dispatch_late()
            return ev
        if lot is not None and self.queue_phase is not None:
            lot.enter(HELD if self._closed else self.queue_phase, env.now)
        else:
            lot = None
        self._seq += 1
        heapq.heappush(self._heap, (key, self._seq, ev, lot))  # lot: marked while it waits (None: not a delivery)
        if self._on_queue is not None:
            self._on_queue(len(self._heap))
        return ev

    def stand(self, key, take) -> None:
        """Queue a standing claim (see Standing); servers free now go to it at once, in this call."""
        self._seq += 1
        heapq.heappush(self._heap, (key, self._seq, Standing(take), None))
        if self.env.busy_now():
            self._dispatch_late()
        else:
            self._dispatch()
        if self._on_queue is not None:
            self._on_queue(len(self._heap))

    def acquire(self, key, lot=None):
        """Like request, but None when a server is free right now: the caller goes on without a yield.

        Skipping the event saves a full schedule/step/resume cycle for every job that never waits.
        """
        if not self._closed and self.busy < self.capacity and not self._heap and not self._asked:
            if not self.env.busy_now():
                self.busy += 1
                return None
        return self.request(key, lot)

    def release(self) -> None:
        """A server is free again."""
        self.busy -= 1
        if self._heap:
            if self.env.busy_now():
                self._dispatch_late()  # a request later in this instant may rank before what waits
            else:
                self._dispatch()

    def set_capacity(self, capacity: int) -> None:
        """Change the number of servers; work in progress is never interrupted."""
        self.capacity = capacity
        self._dispatch()

    def close(self, scope: str) -> None:
        """Stop granting servers while `scope` is closed."""
        if not self._closed:
            self._mark_waiting(HELD)
        self._closed.add(scope)

    def open(self, scope: str) -> None:
        """`scope` is open again; grant what waited."""
        self._closed.discard(scope)
        self._dispatch()
        if not self._closed:
            self._mark_waiting(self.queue_phase)

    def _mark_waiting(self, phase) -> None:
        """Every lot still waiting here enters `phase` now (the pool was paused or reopened)."""
        if self.queue_phase is None:
            return
        now = self.env.now
        for _, _, _, lot in self._heap:
            if lot is not None:
                lot.enter(phase, now)

    @property
    def queue_length(self) -> int:
        """Work waiting for a server."""
        return len(self._heap) + len(self._asked)

    def check(self, name: str) -> None:
        """End of run: the busy count is sane and no server is idle on an open pool while work waits."""
        if self.busy < 0:
            raise InvariantError(f"{name}: busy count {self.busy}")
        if not self._closed and self.busy < self.capacity and self._heap:
            raise InvariantError(
                f"{name}: {self.capacity - self.busy} server(s) idle while {len(self._heap)} job(s) wait"
            )

    def _dispatch_late(self) -> None:
        """Dispatch once more at the end of this instant, when every request due at it has been made."""
        if not self._late:
            self._late = True
            self.env.at_end(self._late_dispatch)

    def _late_dispatch(self) -> None:
        self._late = False
        q, before = self._heap, len(self._heap)
        for entry in self._asked:
            heapq.heappush(q, entry)
        self._asked = []
        report, self._on_queue = self._on_queue, None  # one point for the instant, if the queue moved
        self._dispatch()
        self._on_queue = report
        if self._closed:  # closed during the instant: what asked waits held
            self._mark_waiting(HELD)
        if report is not None and len(q) != before:
            report(len(q))

    def _dispatch(self) -> None:
        q, fire = self._heap, self.env.fire
        changed = False
        while q and not self._closed and self.busy < self.capacity:
            ev = q[0][2]
            self.busy += 1
            if ev.__class__ is Standing:
                if not ev.take():  # its last piece of work has started: it leaves the queue
                    heapq.heappop(q)
                    changed = True
            else:
                heapq.heappop(q)
                fire(ev)
                changed = True
        if changed and self._on_queue is not None:
            self._on_queue(len(q))
