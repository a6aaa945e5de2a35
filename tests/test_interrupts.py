"""A Ctrl-C that lands in a garbage collector's callback is not lost (sim.interrupts).

Python cannot raise out of a `__del__` or a weakref callback: a KeyboardInterrupt raised there is
printed as "Exception ignored" and the program goes on. Each test makes one land there for sure
(the SIGINT raised inside a `__del__`), sees that Python lost it, and checks the run stops anyway.
"""

import gc
import signal
import sys
from contextlib import ExitStack

import pytest

import sim
from sim import interrupts
from sim.executors import process_pool
from sim.experiments.streamed import finished_chunks, partial_dir, run_to_dir
from sim.output import staged_dir

BASELINE = sim.load_scenario("scenarios/baseline_2025.yaml")


class _CtrlCInDel:
    """An object whose collection delivers SIGINT, so the interrupt is raised inside `__del__`."""

    def __del__(self):
        signal.raise_signal(signal.SIGINT)  # Python runs the handler here, before raise_signal returns


@pytest.fixture
def lost(monkeypatch):
    """lost(): a Ctrl-C delivered where Python must drop its KeyboardInterrupt; returns how many were dropped."""
    dropped = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: dropped.append(u.exc_type))

    def lose() -> int:
        obj = _CtrlCInDel()
        del obj
        gc.collect()
        assert dropped and dropped[-1] is KeyboardInterrupt, "the interrupt was not raised in __del__"
        return len(dropped)

    return lose


def test_an_interrupt_lost_in_a_del_is_raised_by_check_and_only_within_recorded(lost):
    with interrupts.recorded():
        interrupts.check()  # nothing arrived yet: no raise
        lost()  # Python swallowed it (the fixture asserts the KeyboardInterrupt went unraisable)
        with pytest.raises(KeyboardInterrupt):
            interrupts.check()
    interrupts.check()  # leaving recorded() forgets it, as a new run must not stop on an old Ctrl-C
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_recorded_leaves_an_ignored_sigint_ignored(monkeypatch):
    # A shell starts background jobs with SIGINT ignored; the run must not start taking Ctrl-C then.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with interrupts.recorded():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)


@pytest.mark.parametrize("workers", [0, 2], ids=["in-process", "2-process-pool"])
def test_a_run_interrupted_in_a_gc_callback_stops_after_that_chunk_and_keeps_the_chunks(tmp_path, lost, workers):
    out = tmp_path / "run"
    finished = []

    def progress(n: int) -> None:
        finished.append(n)
        if len(finished) == 2:  # the Ctrl-C lands while the second chunk's progress is being shown
            lost()

    with ExitStack() as stack:
        executor = stack.enter_context(process_pool(workers)) if workers else None
        stack.enter_context(interrupts.recorded())
        with pytest.raises(KeyboardInterrupt):
            run_to_dir(BASELINE, out, reps=12, seed=3, executor=executor, chunk_size=1, progress=progress)
    # Without the record, the run went on and wrote all twelve chunks and the output. In the pool,
    # which two chunks finished first is the workers' race; that no third was written is not.
    assert len(finished) == 2
    assert len(finished_chunks(partial_dir(out))) == 2
    assert not out.exists()


def test_an_interrupt_lost_while_the_output_is_staged_leaves_no_output(tmp_path, lost):
    out = tmp_path / "out"
    with interrupts.recorded(), pytest.raises(KeyboardInterrupt), staged_dir(out) as tmp:
        (tmp / "table.csv").write_text("a\n1\n")
        lost()
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []  # the staged directory went too
