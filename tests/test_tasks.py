"""sim.model.tasks.Task resumes a generator exactly where env.process would, in the same event order."""
from __future__ import annotations

import pytest
import simpy

from sim.model.queueing import ServerPool
from sim.model.tasks import Task, delays


class _EventPool:
    """A FIFO pool of one server made of plain SimPy events: what ServerPool's light grants must match."""

    def __init__(self, env):
        self.env, self.busy, self.queue = env, False, []

    def request(self, key):
        ev = self.env.event()
        if not self.busy and not self.queue:
            self.busy = True
            ev.succeed()
        else:
            self.queue.append(ev)
        return ev

    def release(self):
        self.busy = False
        if self.queue:
            self.busy = True
            self.queue.pop(0).succeed()


def _trace(start, light=False, pool=None):
    """Order of steps of processes that meet at the same instants (ties decided by event order only).

    light: wait with tasks.delays instead of SimPy's Timeout; pool: "events" (_EventPool) or
    "server" (ServerPool) instead of a simpy.Resource.
    """
    env = simpy.Environment()
    log = []
    res = simpy.Resource(env, capacity=1)
    slots = {"events": _EventPool, "server": lambda env: ServerPool(env, 1)}[pool](env) if pool else None
    timeout = delays(env) if light else env.timeout

    def worker(name, waits):
        log.append((env.now, name, "start"))
        for d in waits:
            yield timeout(d)
            log.append((env.now, name, f"after {d}"))
            if slots is not None:
                yield slots.request((0,))  # equal keys: first come, first served
                log.append((env.now, name, "holds"))
                yield timeout(0)
                slots.release()
                continue
            with res.request() as req:
                yield req
                log.append((env.now, name, "holds"))
                yield timeout(0)
        ev = env.event()
        ev.succeed(name)
        got = yield ev
        yield ev  # an event already processed: resumed at once with its value again
        log.append((env.now, name, f"done {got}"))

    def spawner():
        for k in range(3):
            start(env, worker(f"late{k}", [0, 1, 0]))
            yield env.timeout(1)

    for k, waits in enumerate([[1, 1, 2], [0, 2, 1], [2, 0, 0], [1, 1, 1]]):
        start(env, worker(f"w{k}", waits))
    env.process(spawner())
    env.run()
    return log


def test_same_order_of_steps_as_simpy_processes():
    expected = _trace(lambda env, gen: env.process(gen))
    got = _trace(Task)
    assert len(expected) > 40  # the scenario has many same-instant ties to order
    assert got == expected


def test_a_failed_event_is_thrown_into_the_generator():
    env = simpy.Environment()
    seen = []

    def waits():
        ev = env.event()
        ev.fail(ValueError("boom"))
        try:
            yield ev
        except ValueError as exc:
            seen.append(str(exc))

    Task(env, waits())
    env.run()
    assert seen == ["boom"]


def test_an_error_in_the_generator_stops_the_run():
    env = simpy.Environment()

    def broken():
        yield env.timeout(1)
        raise RuntimeError("model bug")

    Task(env, broken())
    with pytest.raises(RuntimeError, match="model bug"):
        env.run()


def test_a_returned_generator_goes_on_at_once_like_yield_from():
    def trace(tail: bool):
        env = simpy.Environment()
        log = []

        def second(name):
            log.append((env.now, name, "second starts"))
            yield env.timeout(1)
            log.append((env.now, name, "second ends"))

        def first(name, d):
            yield env.timeout(d)
            log.append((env.now, name, "first ends"))
            if tail:
                return second(name)
            yield from second(name)

        for k, d in enumerate([1, 0, 1, 2]):
            Task(env, first(f"t{k}", d))
        env.run()
        return log

    log = trace(tail=True)
    assert log == trace(tail=False)
    k = log.index((1, "t0", "first ends"))
    assert log[k + 1] == (1, "t0", "second starts")  # taken over in the same step, before anyone else


def test_a_task_started_by_a_call_runs_where_a_generator_task_would():
    # Task.call(env, fn, arg) calls fn(arg) at the start event, then runs what it returns: the
    # same steps at the same points of the event order as Task(env, generator).
    calls = []

    def via_call(env, gen):
        def first(g):
            calls.append(env.now)  # called at the start event, not when the task is made
            return g
        Task.call(env, first, gen)

    assert _trace(via_call) == _trace(Task)
    assert len(calls) == 7 and calls.count(0) == 5  # four workers and the first late one start at 0


def test_a_call_that_returns_none_ends_the_task():
    env = simpy.Environment()
    log = []
    Task.call(env, lambda x: log.append(x), "ran")
    env.run()
    assert log == ["ran"]


def test_light_delays_and_pool_grants_keep_simpys_order():
    # tasks.delays and ServerPool's grants are scheduled by hand (no Timeout, no Event.succeed):
    # the same steps must still come in the same order, ties included.
    process = lambda env, gen: env.process(gen)  # noqa: E731
    assert _trace(Task, light=True) == _trace(process)
    for_pool = _trace(process, pool="events")
    assert for_pool != _trace(process)  # the case is sharp: a Resource grants one event later
    assert _trace(process, pool="server") == for_pool
    assert _trace(Task, light=True, pool="server") == for_pool  # SimPy processes and tasks alike


def test_a_negative_delay_is_refused():
    env = simpy.Environment()
    with pytest.raises(ValueError, match="negative delay"):
        delays(env)(-1.0)
