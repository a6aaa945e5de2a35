"""The simulation kernel: the one module of the model that may touch SimPy's internals.

A kernel is the SimPy Environment of one replication, with the few calls the parts use to make
time pass. Parts read the clock as `env.now` and otherwise call only these:

- `env.task(generator)`: start a process that nobody waits on or interrupts; a generator may end
  by returning the generator to go on with (a tail call, run at once as `yield from` would);
- `env.call(fn, arg)`: a task that first calls `fn(arg)`, which returns its generator or None;
- `env.delay(days)`: an event `days` from now (SimPy's Timeout);
- `env.after(days, fn)`: call `fn(event)` `days` from now, with no task around it (a delay whose
  only waiter is a plain callback: one event, where a task would add its start);
- `env.urgent_delay(days)`: the same, but ahead of ordinary events at that instant (disruptions);
- `env.late_delay(days)`: the same, but after every ordinary event at that instant, those scheduled
  later included (a departure loads once every lot arriving at its instant is there);
- `env.busy_now()`: whether another event is still due at this instant (a free server is then
  granted at the end of the instant, by priority, rather than to whoever asks first);
- `env.at_end(fn)`: call `fn()` at the end of this instant (one late event shared by every call
  of the instant, in the order of the calls);
- `env.signal()` and `env.fire(signal)`: an event that waits until the part fires it (a server
  granted, a scope reopened, money arrived; Event() and succeed());
- `env.fire_at(signal, days)`: fire it `days` from now, decided now (a lot's arrival, known when
  its last piece leaves): one event where a fire and a delay would be two;
- `env.drop_pending()`: forget what is still scheduled once the run is over.

When to use which: every process of a part is a task (`task` or `call`), because nothing in the
model waits on a process or interrupts one. `env.process` is for a process that something yields
on or interrupts; there is none today, and one would run as a SimPy Process in both kernels.

Two kernels implement these calls and give the same order of events, ties included:
- `FastKernel`, the default: light events and tasks driven straight from event callbacks. A task
  leaves out what nobody here uses (the Process as an event, `active_process`, interrupts); a
  delay or a start is pushed onto SimPy's queue by hand, skipping Event.__init__ and the schedule
  call; its `run` is SimPy's step loop inlined, and its clock `now` a plain attribute. They run
  for every wait of every lot, so this is where the engine's speed is, and the reason these
  internals are used at all; they stay in this module as SimPy keeps its own inlined internals
  inside the package that owns them.
- `ReferenceKernel` (`sim.run(..., reference=True)`, `purlsim run --reference`): plain SimPy, a
  Process per task, Timeout, Event().succeed(). Upgrading SimPy means: run both, compare the
  tables (tests/test_kernel.py), and fix FastKernel where they differ.
"""

from __future__ import annotations

from heapq import heappop, heappush
from typing import Any

import simpy
from simpy.core import NORMAL, URGENT
from simpy.events import PENDING, EventPriority

LATE = EventPriority(NORMAL + 1)  # after every ordinary event at the same instant (SimPy orders by time, then priority)


class Kernel(simpy.Environment):
    """The calls the parts use besides `now`; see the module docstring for what each is for."""

    reference = False
    _ends: tuple[float, list] | None = None  # (instant, calls) of at_end, while its event is pending

    def task(self, generator) -> None:
        """Start `generator` as a process nobody waits on."""
        raise NotImplementedError

    def call(self, fn, arg) -> None:
        """Start a task that first calls `fn(arg)` (returning its generator, or None to end)."""
        raise NotImplementedError

    def delay(self, days: float):
        """An event `days` from now."""
        raise NotImplementedError

    def urgent_delay(self, days: float):
        """An event `days` from now (at least now), processed before ordinary events at that instant."""
        raise NotImplementedError

    def late_delay(self, days: float):
        """An event `days` from now, processed after every ordinary event at that instant."""
        raise NotImplementedError

    def busy_now(self) -> bool:
        """Another event is due at this instant (its processing could still ask for what is free now)."""
        queue = self._queue
        return bool(queue) and queue[0][0] <= self._now

    def at_end(self, fn) -> None:
        """Call `fn()` after every ordinary event of this instant; calls of one instant share one event."""
        ends = self._ends
        if ends is None or ends[0] != self._now:
            ends = self._ends = (self._now, [])
            self.late_delay(0).callbacks.append(self._run_ends)
        ends[1].append(fn)

    def _run_ends(self, _event) -> None:
        assert self._ends is not None, "at_end's event runs once per instant"
        fns = self._ends[1]
        self._ends = None  # a call from these runs anew: after the events they make at this instant
        for fn in fns:
            fn()

    def after(self, days: float, fn) -> None:
        """Call `fn(event)` when a delay of `days` from now is processed (in both kernels)."""
        self.delay(days).callbacks.append(fn)

    def signal(self):
        """An event that fires when `fire` is called with it."""
        raise NotImplementedError

    def fire(self, signal) -> None:
        """Succeed `signal` now, as Event.succeed() would."""
        raise NotImplementedError

    def fire_at(self, signal, days: float) -> None:
        """Succeed `signal` `days` from now: processed then, in the order a Timeout made now would be."""
        raise NotImplementedError

    def drop_pending(self) -> None:
        """Forget every scheduled event (after the run: they would keep the whole replication alive)."""
        self._queue.clear()


def make(reference: bool = False) -> Kernel:
    """The kernel of one replication: FastKernel, or ReferenceKernel when `reference`."""
    return ReferenceKernel() if reference else FastKernel()


# ---- the fast kernel -------------------------------------------------------------------------


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
    callbacks: list
    _ok, _value = True, None


class Signal:
    """A pending event with only what SimPy's loop and processes read; FastKernel.fire schedules it."""

    __slots__ = ("_ok", "_value", "callbacks")

    def __init__(self):
        self.callbacks = []
        self._ok, self._value = None, PENDING


class Task:
    """One generator resumed by the events it yields, at the points of the event order a Process would be."""

    # No reference to its own bound method is kept: that cycle would leave every finished task to
    # the cyclic collector instead of freeing it when its last event is processed.
    __slots__ = ("_gen",)
    _gen: Any  # the generator; before a call's start, (fn, arg)

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


class FastKernel(Kernel):
    """Light tasks, delays and signals, in exactly SimPy's order of events."""

    # The clock as a plain attribute, kept equal to SimPy's `_now` by the loop: the parts read
    # `env.now` about a dozen times a lot, and a property costs a call each time.
    now: float = 0.0

    def __init__(self, initial_time: float = 0):
        super().__init__(initial_time)
        self.now = initial_time
        queue: list[Any] = self._queue  # typed for Events; light ones are what its loop reads of them
        eid = self._eid

        def delay(days):
            if days < 0:
                raise ValueError(f"negative delay {days}")
            ev = Fired()
            ev.callbacks = []
            heappush(queue, (self.now + days, NORMAL, next(eid), ev))
            return ev

        # An instance attribute, not a method: the per-wait call then costs no bound-method lookup.
        self.delay = delay  # type: ignore[method-assign]

    def run(self, until=None):
        """Process events until `until` (an instant or an event), as Environment.run does, or until none is left.

        The loop of Environment.step, inlined: one method call and one try a step fewer, for every
        event of every lot.
        """
        queue: list[Any] = self._queue  # typed for Events; light ones are what this loop reads of them
        stop: Any = None
        if isinstance(until, simpy.Event):
            if until.callbacks is None:  # already processed
                return until.value
            stop = until
        elif until is not None:
            at = float(until)
            if at <= self._now:
                raise ValueError(f"until ({at}) must be greater than the current simulation time")
            # Queued where SimPy queues its own stop: urgent at `until`, with the next id, so the
            # ordinary events at `until` are left unprocessed, as there.
            stop = Fired()
            stop.callbacks = []
            heappush(queue, (at, URGENT, next(self._eid), stop))
        while queue:
            self._now, _, _, event = heappop(queue)
            self.now = self._now
            callbacks, event.callbacks = event.callbacks, None
            for callback in callbacks:
                callback(event)
            if event is stop:
                if not event._ok:
                    raise event._value
                return event._value
            if not event._ok and not hasattr(event, "_defused"):
                # A failed event nobody handled (a Process's): raise it, as SimPy's step does.
                exc = type(event._value)(*event._value.args)
                exc.__cause__ = event._value
                raise exc
        if stop is not None:
            raise RuntimeError(f"No scheduled events left but until event was not triggered: {until}")
        return None

    def step(self) -> None:
        """One event, as Environment.step, with the clock attribute kept up."""
        super().step()
        self.now = self._now

    def _start(self, callback) -> None:
        # Urgent at now, as SimPy's Initialize: the same point of the event order as env.process.
        start = Fired()
        start.callbacks = [callback]
        queue: list[Any] = self._queue  # typed for Events; light ones are what its loop reads of them
        heappush(queue, (self._now, URGENT, next(self._eid), start))

    def task(self, generator) -> None:
        task = Task.__new__(Task)
        task._gen = generator
        self._start(task._resume)

    def call(self, fn, arg) -> None:
        # A plain call first costs less than a generator that would only return another one.
        task = Task.__new__(Task)
        task._gen = (fn, arg)
        self._start(task._first_call)

    def urgent_delay(self, days: float):
        ev = Fired()
        ev.callbacks = []
        queue: list[Any] = self._queue
        heappush(queue, (self._now + max(0.0, days), URGENT, next(self._eid), ev))
        return ev

    def late_delay(self, days: float):
        if days < 0:
            raise ValueError(f"negative delay {days}")
        ev = Fired()
        ev.callbacks = []
        queue: list[Any] = self._queue
        heappush(queue, (self._now + days, LATE, next(self._eid), ev))
        return ev

    def signal(self) -> Signal:
        return Signal()

    def fire(self, signal) -> None:
        # What Event.succeed() does: same time, priority and id order.
        signal._ok, signal._value = True, None
        heappush(self._queue, (self._now, NORMAL, next(self._eid), signal))

    def fire_at(self, signal, days: float) -> None:
        if days < 0:
            raise ValueError(f"negative delay {days}")
        signal._ok, signal._value = True, None
        heappush(self._queue, (self._now + days, NORMAL, next(self._eid), signal))


# ---- the reference kernel --------------------------------------------------------------------


def _driven(generator):
    """A task's generator as a Process runs it: tail calls become `yield from`."""
    while generator is not None:
        generator = yield from generator


def _called(fn, arg):
    yield from _driven(fn(arg))


class _UrgentTimeout(simpy.Event):
    """SimPy's Timeout with URGENT priority: SimPy has no public urgent timeout, so this one mirrors
    Timeout.__init__ line for line (with _LateTimeout and fire_at, the reference kernel's only uses of Event internals)."""

    def __init__(self, env: simpy.Environment, delay: float):
        super().__init__(env)
        self._ok, self._value = True, None
        env.schedule(self, URGENT, max(0.0, delay))


class _LateTimeout(simpy.Event):
    """SimPy's Timeout after every ordinary event of its instant, mirroring Timeout.__init__ as above."""

    def __init__(self, env: simpy.Environment, delay: float):
        if delay < 0:
            raise ValueError(f"negative delay {delay}")
        super().__init__(env)
        self._ok, self._value = True, None
        env.schedule(self, LATE, delay)


class ReferenceKernel(Kernel):
    """Plain SimPy: a Process per task, Timeout, Event().succeed()."""

    reference = True

    def task(self, generator) -> None:
        self.process(_driven(generator))

    def call(self, fn, arg) -> None:
        self.process(_called(fn, arg))

    def delay(self, days: float):
        return self.timeout(days)

    def urgent_delay(self, days: float):
        return _UrgentTimeout(self, days)

    def late_delay(self, days: float):
        return _LateTimeout(self, days)

    def busy_now(self) -> bool:
        # A Process that ended queues itself as an event nobody waits on; FastKernel's tasks have
        # no such event, so it does not count here either (the two kernels then tie alike).
        now = self._now
        return any(t <= now and not (ev.__class__ is simpy.Process and not ev.callbacks) for t, _, _, ev in self._queue)

    def signal(self) -> simpy.Event:
        return self.event()

    def fire(self, signal) -> None:
        signal.succeed()

    def fire_at(self, signal, days: float) -> None:
        # As Timeout.__init__ schedules itself: the event succeeds now and is processed `days` on.
        if days < 0:
            raise ValueError(f"negative delay {days}")
        signal._ok, signal._value = True, None
        self.schedule(signal, NORMAL, days)
