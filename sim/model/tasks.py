"""Fire-and-forget processes for the hot path: a generator driven straight from event callbacks.

`Task(env, generator)` runs like `env.process(generator)`: it begins at the same point of the
event order (an urgent event scheduled now, as SimPy's Initialize) and resumes on the same
events, so results are identical. What it leaves out is what nobody here uses: the Process
object as an event (its end is scheduled as one more event per process), `active_process`, and
interrupts. A request and each of its lots are such processes: nothing ever waits on them.

`Task.call(env, fn, arg)` starts with a plain call instead of a generator, and `delays(env)` gives
such generators a light timeout; both schedule exactly where SimPy would.

A generator may end by returning another generator: the task goes on with it at once, in the
same step, as `yield from` would, but later resumes no longer pass through the finished frame.
"""
from __future__ import annotations

from heapq import heappush

from simpy.core import NORMAL, URGENT


class _Started:
    """What a generator taken over by a tail call is first sent: an event that succeeded with None."""

    _ok, _value = True, None


_STARTED = _Started()


class Fired:
    """An event that has succeeded with None and waits in the event queue: a task's start, a delay.

    It has only what SimPy's loop and processes read (callbacks, `_ok`, `_value`), so making one
    costs no Event.__init__.
    """

    __slots__ = ("callbacks",)
    _ok, _value = True, None


def delays(env):
    """`delay(days)`: an event `days` from now, scheduled exactly as env.timeout(days) would be.

    The one place that pushes onto SimPy's queue itself (no env.schedule call): it runs for
    every wait of every lot.
    """
    queue, eid = env._queue, env._eid

    def delay(days):
        if days < 0:
            raise ValueError(f"negative delay {days}")
        ev = Fired()
        ev.callbacks = []
        heappush(queue, (env._now + days, NORMAL, next(eid), ev))
        return ev

    return delay


class Task:
    """One generator resumed by the events it yields."""

    # No reference to its own bound method is kept: that cycle would leave every finished task to
    # the cyclic collector instead of freeing it when its last event is processed.
    __slots__ = ("_gen",)

    def __init__(self, env, generator):
        self._gen = generator
        self._start(env, self._resume)

    @classmethod
    def call(cls, env, fn, arg) -> None:
        """Start a task that first calls `fn(arg)`, at the point a generator would start.

        `fn` returns the generator to go on with, or None when it has nothing to wait for: a plain
        call costs less than a generator that would only return another one.
        """
        task = cls.__new__(cls)
        task._gen = (fn, arg)
        task._start(env, task._first_call)

    @staticmethod
    def _start(env, callback) -> None:
        # Urgent at now, as SimPy's Initialize: the same point of the event order as env.process.
        start = Fired()
        start.callbacks = [callback]
        env.schedule(start, URGENT)

    def _first_call(self, event) -> None:
        fn, arg = self._gen
        self._gen = fn(arg)
        if self._gen is not None:
            self._resume(_STARTED)

    def _resume(self, event) -> None:
        gen = self._gen
        while True:
            try:
                if event._ok:
                    event = gen.send(event._value)
                else:
                    event._defused = True  # handed to the generator, which handles it or raises
                    event = gen.throw(event._value)
            except StopIteration as stop:
                if stop.value is None:
                    return
                gen = self._gen = stop.value  # tail call
                event = _STARTED
                continue
            if event.callbacks is not None:  # not yet processed: resume when it is
                event.callbacks.append(self._resume)
                return

