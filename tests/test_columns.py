"""The recorder's compact columns (sim.columns): the event log's coded labels are what factorizing
the labels themselves gives, and the marks log gives each row its own and inherited marks."""

from __future__ import annotations

import numpy as np

from sim.columns import EventLog, labels
from sim.phases import marks_by_row
from sim.recorder import MARK_BITS, Recorder


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
