"""The recorder's compact columns (sim.columns): the event log's coded labels are what factorizing
the labels themselves gives, and the marks log gives each row its own and inherited marks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

import sim
import sim.phases
from sim.columns import EventLog, labels, labels_of_codes
from sim.phases import marks_by_row, marks_in_blocks
from sim.recorder import MARK_BITS, Recorder

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks" / "scenarios"


def test_the_event_logs_coded_labels_are_the_factorized_labels():
    """Labels coded as they are written must give the codes and uniques pd.factorize gives the
    written labels (first-use order), in the same small integer type: 300 places need int16."""
    log = EventLog()
    rows = [
        (float(i), ("loaded", "withdrawal", "")[i % 3], f"R{i % 7}", i, ("a", "b")[i % 2], i, f"leg{i % 300}")
        for i in range(900)
    ]
    for row in rows:
        log.append(*row)
    cols = log.columns()
    for k, name in ((1, "kind"), (4, "item"), (6, "where")):
        want = labels([row[k] for row in rows])
        assert cols[name].codes.dtype == want.codes.dtype
        assert np.array_equal(cols[name].codes, want.codes)
        assert list(cols[name].uniques) == list(want.uniques)
    assert cols["where"].codes.dtype == np.int16 and cols["kind"].codes.dtype == np.int8
    assert cols["day"].tolist() == [row[0] for row in rows]
    assert cols["request_id"].to_pylist() == [row[2] for row in rows]


def test_a_split_shipment_has_its_lots_marks_until_the_split_then_its_own():
    """By hand: lot A marks phases 1@0, 2@5; B is split off at day 6 and marks 4@8; A marks 3@7
    after the split. Row A: 1@0, 2@5, 3@7 (a 3-day stay in 2 then 3 from 7); row B: 1@0, 2@5, 4@8.
    An inherited history replaces marks the lot made itself before (as a lot sourced again does)."""
    rec = Recorder(events=False, horizon=20.0)
    req = type("Req", (), {})()
    a = rec.new_lot(req, "x", 3, "us_stock")
    a.enter(1, 0.0)
    a.enter(2, 5.0)
    b = rec.split(a, 1)
    a.enter(3, 7.0)
    b.enter(4, 8.0)
    c = rec.new_lot(req, "x", 1, "us_stock")
    c.enter(5, 1.0)  # replaced by what it inherits from b at day 9
    rec.inherit(c, b)
    c.enter(6, 9.0)
    code, start, pairs = marks_by_row(rec.marks, rec.inherits, np.array([0, 1, 2]))
    assert pairs.tolist() == [3, 3, 4]
    assert code.tolist() == [1, 2, 3, 1, 2, 4, 1, 2, 4, 6]
    assert start.tolist() == [0.0, 5.0, 7.0, 0.0, 5.0, 8.0, 0.0, 5.0, 8.0, 9.0]
    assert rec.marks[0] == (a.shipment_id << MARK_BITS) + 1  # the log's key: shipment id and phase


def test_marks_taken_block_by_block_are_each_rows_marks_in_order_made():
    """By hand, 5 lots (no split) marking interleaved in time, taken 2 rows at a time: rows 0-1,
    2-3, 4 each get exactly their own marks in the order made, and a row without marks gets none."""
    rec = Recorder(events=False, horizon=20.0)
    req = type("Req", (), {})()
    lots = [rec.new_lot(req, "x", 1, "us_stock") for _ in range(5)]
    for lot, phase, day in (
        (lots[3], 1, 0.0),
        (lots[0], 2, 1.0),
        (lots[3], 3, 2.0),
        (lots[4], 4, 3.0),
        (lots[0], 5, 4.0),
    ):
        lot.enter(phase, day)
    blocks = list(marks_in_blocks(rec.marks, rec.inherits, np.arange(5), block=2))
    assert [(lo, hi) for lo, hi, *_ in blocks] == [(0, 2), (2, 4), (4, 5)]
    assert [b[2].tolist() for b in blocks] == [[2, 5], [1, 3], [4]]
    assert [b[3].tolist() for b in blocks] == [[1.0, 4.0], [0.0, 2.0], [3.0]]
    assert [b[4].tolist() for b in blocks] == [[2, 0], [0, 2], [1]]


def test_phase_days_are_the_same_in_blocks_of_any_size(monkeypatch):
    """The blocks only bound memory: the deliveries of a real run (the scale benchmark's flow, 400
    requests, no split or loss) in blocks of 7 lots are bit for bit those of one block of all."""
    scenario = sim.load_scenario(BENCH / "purl_flow.yaml", {"requests.stream.max_requests": 400})
    whole = sim.run(scenario, reps=2, seed=3).deliveries
    taken = []

    def counted(*args, **kw):
        for block in marks_in_blocks(*args, **kw):
            taken.append(block[1] - block[0])
            yield block

    monkeypatch.setattr(sim.phases, "BLOCK_LOTS", 7)
    monkeypatch.setattr(sim.phases, "marks_in_blocks", counted)
    blocked = sim.run(scenario, reps=2, seed=3).deliveries
    assert len(taken) > 100 and max(taken) == 7  # really taken in blocks
    pd.testing.assert_frame_equal(whole, blocked)


def test_labels_of_codes_are_the_factorized_labels_of_the_names():
    """Codes -1..4 into six names ("" for -1, as the phase at the horizon has it), drawn at random
    with one code never used: the same Labels as factorizing the 2,000 names themselves."""
    rng = np.random.default_rng(5)
    names = np.array(["a", "b", "c", "d", "e", ""], dtype=object)
    codes = rng.choice([-1, 0, 2, 3, 4], size=2000)
    got, want = labels_of_codes(codes, names), labels(names[codes])
    assert got.codes.dtype == want.codes.dtype and np.array_equal(got.codes, want.codes)
    assert list(got.uniques) == list(want.uniques) and "b" not in list(got.uniques)
    assert list(labels_of_codes(np.array([3, 3, -1]), names)) == ["d", "d", ""]


def test_stage_events_taken_block_by_block_are_the_same_as_in_one_block(monkeypatch):
    """The derived events (sim.tables.with_stage_events) look codes and values up in blocks only to
    bound memory: with blocks of 5 rows the whole events table of a run with splits, donations
    and never-sourced lines (the shipped baseline, 2 replications) is the one of a single block."""
    import sim.tables

    res = sim.run(sim.load_scenario(ROOT / "scenarios" / "baseline_2025.yaml"), reps=2, seed=4)
    whole = sim.tables.with_stage_events(res.event_log, res.deliveries)
    monkeypatch.setattr(sim.tables, "BLOCK", 5)
    blocked = sim.tables.with_stage_events(res.event_log, res.deliveries)
    assert len(blocked) > 400 * 5  # really many blocks
    pd.testing.assert_frame_equal(whole, blocked)
