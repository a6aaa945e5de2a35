"""Fire-and-forget processes for the hot path: a generator driven straight from event callbacks.

`Task(env, generator)` runs like `env.process(generator)`: it begins at the same point of the
event order (an urgent event scheduled now, as SimPy's Initialize) and resumes on the same
events, so results are identical. What it leaves out is what nobody here uses: the Process
object as an event (its end is scheduled as one more event per process), `active_process`, and
interrupts. A request and each of its lots are such processes: nothing ever waits on them.

A generator may end by returning another generator: the task goes on with it at once, in the
same step, as `yield from` would, but later resumes no longer pass through the finished frame.
"""
from __future__ import annotations

from simpy.core import URGENT
from simpy.events import Event


class _Started:
    """What a generator taken over by a tail call is first sent: an event that succeeded with None."""

    _ok, _value = True, None


_STARTED = _Started()


class Task:
    """One generator resumed by the events it yields."""

    # No reference to its own bound method is kept: that cycle would leave every finished task to
    # the cyclic collector instead of freeing it when its last event is processed.
    __slots__ = ("_gen",)

    def __init__(self, env, generator):
        self._gen = generator
        start = Event(env)
        start.callbacks.append(self._resume)
        start._ok, start._value = True, None
        env.schedule(start, URGENT)

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

