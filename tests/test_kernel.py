"""sim.model.kernel: the fast kernel keeps SimPy's order of events, the reference kernel gives the same
tables on every shipped and validation scenario, and no SimPy internals are used outside the kernel."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import simpy
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.model import kernel
from sim.model.kernel import FastKernel, ReferenceKernel
from sim.model.queueing import ServerPool

REPO = Path(__file__).resolve().parents[1]
KERNELS = [FastKernel, ReferenceKernel]


class _EventPool:
    """A FIFO pool of one server made of plain SimPy events: what ServerPool's grants must match.

    Its tie rule, written independently: a free server is granted at once only when no other
    event is due at this instant; otherwise the request queues and the server goes, first come
    first served, at an event after every ordinary event of the instant (priority NORMAL + 1).
    """

    def __init__(self, env):
        self.env, self.busy, self.queue, self.late = env, False, [], False

    def _later(self):
        if not self.late:
            self.late = True
            ev = self.env.event()
            ev._ok, ev._value = True, None
            ev.callbacks.append(self._grant)
            self.env.schedule(ev, priority=2)

    def _grant(self, _ev=None):
        self.late = False
        if not self.busy and self.queue:
            self.busy = True
            self.queue.pop(0).succeed()

    def _now_busy(self):
        # An ended process's own event does nothing (FastKernel's tasks have none): it does not count.
        now = self.env.now
        return any(
            t <= now and not (isinstance(ev, simpy.Process) and not ev.callbacks) for t, _, _, ev in self.env._queue
        )

    def request(self, key):
        ev = self.env.event()
        if not self.busy and not self.queue and not self._now_busy():
            self.busy = True
            ev.succeed()
            return ev
        self.queue.append(ev)
        if not self.busy:
            self._later()
        return ev

    def release(self):
        self.busy = False
        if self.queue:
            if self._now_busy():
                self._later()
            else:
                self._grant()


def _trace(start, light=False, pool=None, make_env=FastKernel):
    """Order of steps of processes that meet at the same instants (ties decided by event order only).

    start(env, generator) starts a process; light: wait with env.delay instead of SimPy's Timeout;
    pool: "events" (_EventPool) or "server" (ServerPool) instead of a simpy.Resource.
    """
    env = make_env()
    log = []
    res = simpy.Resource(env, capacity=1)
    slots = {"events": _EventPool, "server": lambda env: ServerPool(env, 1)}[pool](env) if pool else None
    timeout = env.delay if light else env.timeout

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


def process(env, gen):
    env.process(gen)


def task(env, gen):
    env.task(gen)


@pytest.mark.parametrize("make_env", KERNELS)
def test_a_task_takes_the_same_steps_as_a_simpy_process(make_env):
    expected = _trace(process, make_env=simpy.Environment)
    assert len(expected) > 40  # the scenario has many same-instant ties to order
    assert _trace(task, make_env=make_env) == expected


@pytest.mark.parametrize("make_env", KERNELS)
def test_delays_and_pool_grants_keep_simpys_order(make_env):
    # FastKernel's delays and signals are pushed onto the queue by hand (no Timeout, no
    # Event.succeed): the same steps must still come in the same order, ties included.
    assert _trace(task, light=True, make_env=make_env) == _trace(process, make_env=simpy.Environment)
    for_pool = _trace(process, pool="events", make_env=simpy.Environment)
    assert for_pool != _trace(process, make_env=simpy.Environment)  # sharp: a Resource grants one event later
    if make_env is ReferenceKernel:  # FastKernel's model runs tasks, not processes (see busy_now)
        assert _trace(process, pool="server", make_env=make_env) == for_pool
    assert _trace(task, light=True, pool="server", make_env=make_env) == for_pool


@pytest.mark.parametrize("make_env", KERNELS)
def test_a_task_started_by_a_call_runs_where_a_generator_task_would(make_env):
    # env.call(fn, arg) calls fn(arg) at the start event, then runs what it returns.
    calls = []

    def via_call(env, gen):
        def first(g):
            calls.append(env.now)  # called at the start event, not when the task is made
            return g

        env.call(first, gen)

    assert _trace(via_call, make_env=make_env) == _trace(task, make_env=make_env)
    assert len(calls) == 7 and calls.count(0) == 5  # four workers and the first late one start at 0


@pytest.mark.parametrize("make_env", KERNELS)
def test_a_returned_generator_goes_on_at_once_like_yield_from(make_env):
    def trace(tail: bool):
        env = make_env()
        log = []

        def second(name):
            log.append((env.now, name, "second starts"))
            yield env.delay(1)
            log.append((env.now, name, "second ends"))

        def first(name, d):
            yield env.delay(d)
            log.append((env.now, name, "first ends"))
            if tail:
                return second(name)
            yield from second(name)

        for k, d in enumerate([1, 0, 1, 2]):
            env.task(first(f"t{k}", d))
        env.run()
        return log

    log = trace(tail=True)
    assert log == trace(tail=False)
    k = log.index((1, "t0", "first ends"))
    assert log[k + 1] == (1, "t0", "second starts")  # taken over in the same step, before anyone else


@pytest.mark.parametrize("make_env", KERNELS)
def test_urgent_delays_and_signals_keep_the_same_order_in_both_kernels(make_env):
    def trace(env):
        log = []
        gate = env.signal()

        def ordinary(name, d):
            yield env.delay(d)
            log.append((env.now, name))
            if name == "b":
                env.fire(gate)

        def urgent(name, d):
            yield env.urgent_delay(d)
            log.append((env.now, name))
            yield gate
            log.append((env.now, f"{name} after gate"))

        for name, d in (("a", 1), ("b", 2), ("c", 2)):
            env.task(ordinary(name, d))
        for name, d in (("u1", 2), ("u0", -1)):  # a past instant means now
            env.task(urgent(name, d))
        env.run()
        return log

    log = trace(make_env())
    assert log == trace(ReferenceKernel())
    assert log[:3] == [(0, "u0"), (1, "a"), (2, "u1")]  # urgent: ahead of ordinary work at day 2


@pytest.mark.parametrize("make_env", KERNELS)
def test_a_failed_event_is_thrown_into_the_generator(make_env):
    env = make_env()
    seen = []

    def waits():
        ev = env.event()
        ev.fail(ValueError("boom"))
        try:
            yield ev
        except ValueError as exc:
            seen.append(str(exc))

    env.task(waits())
    env.run()
    assert seen == ["boom"]


@pytest.mark.parametrize("make_env", KERNELS)
def test_an_error_in_a_task_stops_the_run(make_env):
    env = make_env()

    def broken():
        yield env.delay(1)
        raise RuntimeError("model bug")

    env.task(broken())
    with pytest.raises(RuntimeError, match="model bug"):
        env.run()


@pytest.mark.parametrize("make_env", KERNELS)
def test_a_call_that_returns_none_ends_the_task_and_a_negative_delay_is_refused(make_env):
    env = make_env()
    log = []
    env.call(lambda x: log.append(x), "ran")
    env.run()
    assert log == ["ran"]
    with pytest.raises(ValueError, match="(?i)negative delay"):
        env.delay(-1.0)


def _until_trace(env, until):
    """What runs before env.run(until) returns: events at 1, 2 (ordinary and urgent), 3; and the clock then."""
    log = []

    def mark(name):
        return lambda _ev: log.append((env.now, name))

    for day, name in ((1.0, "at 1"), (2.0, "ordinary at 2"), (3.0, "at 3")):
        ev = env.event()
        ev._ok, ev._value = True, None
        ev.callbacks.append(mark(name))
        env.schedule(ev, delay=day)
    urgent = env.event()
    urgent._ok, urgent._value = True, None
    urgent.callbacks.append(mark("urgent at 2, queued first"))
    env.schedule(urgent, priority=simpy.core.URGENT, delay=2.0)
    value = env.run(until=until(env))
    return log, env.now, value


@pytest.mark.parametrize("make_env", KERNELS)
def test_run_until_stops_where_simpys_run_stops(make_env):
    # By hand: SimPy queues its stop urgent at `until` after what is already queued, so the urgent
    # event queued first at 2 runs, the ordinary one at 2 does not, and the clock reads 2.
    want = ([(1.0, "at 1"), (2.0, "urgent at 2, queued first")], 2.0, None)
    assert _until_trace(simpy.Environment(), lambda env: 2.0) == want
    env = make_env()
    assert _until_trace(env, lambda env: 2.0) == want
    assert env.now == env._now == 2.0  # the fast kernel's clock attribute is SimPy's clock

    # Until an event: it runs its own callbacks, then the run returns its value.
    def at_one_and_a_half(env):
        ev = env.event()
        ev._ok, ev._value = True, "stopped"
        env.schedule(ev, delay=1.5)
        return ev

    want = ([(1.0, "at 1")], 1.5, "stopped")
    assert _until_trace(simpy.Environment(), at_one_and_a_half) == want
    assert _until_trace(make_env(), at_one_and_a_half) == want
    with pytest.raises(ValueError, match="greater than the current"):
        env.run(until=1.0)


# ---- the whole model on both kernels ----------------------------------------------------------

SCENARIOS = sorted((REPO / "scenarios").glob("*.yaml")) + sorted((REPO / "tests/validation/scenarios").glob("*.yaml"))
TABLES = ("deliveries", "event_log", "levels", "backfills")


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: f"{p.parent.parent.name}/{p.stem}")
def test_the_reference_kernel_gives_identical_tables(path):
    # The validation queues run for up to 73,000 days to pin a mean within 2%; identity between the
    # kernels needs only their mechanics (queues built and drained, ties), which 4,000 days hold.
    short = {"horizon_days": 4000} if path.parent.parent.name == "validation" else {}
    scenario = sim.load_scenario(path, short)
    fast = sim.run(scenario, reps=2, seed=0)
    ref = sim.run(scenario, reps=2, seed=0, reference=True)
    assert len(fast.deliveries) > 0
    for name in TABLES:
        pd.testing.assert_frame_equal(getattr(ref, name), getattr(fast, name), check_exact=True, obj=name)


def test_purlsim_run_reference_prints_the_same_table(tmp_path):
    path = REPO / "scenarios" / "backfill_fifo.yaml"
    args = ["run", str(path), "--reps", "2", "--seed", "3", "--workers", "1", "--quiet"]
    runner = CliRunner()
    fast, ref = runner.invoke(app, args), runner.invoke(app, [*args, "--reference"])
    assert fast.exit_code == 0 and ref.exit_code == 0, ref.output
    assert ref.output == fast.output


def test_a_replication_runs_on_the_kernel_it_asks_for():
    scenario = sim.load_scenario(REPO / "scenarios" / "baseline.yaml")
    assert isinstance(sim.model.Model(scenario, 0, 0).env, FastKernel)
    assert isinstance(sim.model.Model(scenario, 0, 0, reference=True).env, ReferenceKernel)
    assert isinstance(kernel.make(), FastKernel)


# ---- SimPy internals stay in the kernel --------------------------------------------------------

PRIVATE = re.compile(
    r"env\._|\._queue\b|\._eid\b|\._now\b|simpy\.core|simpy\.events\b|from simpy\.|\._ok\b|\._value\b"
    r"|\._defused\b|\bURGENT\b|\bPENDING\b"
)
# The parts start and wait only through the kernel's calls (see its docstring for which to use).
PLAIN_SIMPY = re.compile(r"\benv\.(process|timeout|event|schedule|step)\(|\bsimpy\.")


def _sources(under: str):
    for path in sorted((REPO / under).rglob("*.py")):
        if path.name != "kernel.py" or path.parent.name != "model":
            yield path


def _hits(pattern, under):
    return [
        f"{p.relative_to(REPO)}:{n}: {line.strip()}"
        for p in _sources(under)
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line.split("#")[0])
    ]


def test_no_private_simpy_name_outside_the_kernel():
    assert _hits(PRIVATE, "sim") == []
    assert _hits(PRIVATE, "sim/model") == []  # (the kernel is the one file left out)
    assert (REPO / "sim/model/kernel.py").read_text().count("self._queue") >= 1  # the check is not empty


def test_domain_parts_use_the_kernels_calls_not_simpys():
    assert _hits(PLAIN_SIMPY, "sim/model") == []
