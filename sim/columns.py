"""Compact columns of a replication's records, as the recorder hands them to the tables: labels
factorized, request ids as Arrow text, numbers as numpy on the recorder's own memory.

None of them holds a Python object made during the run, so once a replication's records are
dropped its memory can go back to the system (a str or float kept per row would pin the run's
freed memory blocks, one each); see sim.model.run_replication.
"""

from __future__ import annotations

from array import array
from operator import attrgetter

import numpy as np
import pandas as pd
import pyarrow as pa


class Labels:
    """A column of repeated labels, factorized: row i holds uniques[codes[i]]."""

    __slots__ = ("codes", "uniques")

    def __init__(self, codes: np.ndarray, uniques: np.ndarray):
        self.codes = codes  # int codes, one per row
        self.uniques = uniques  # object array of the labels, in order of first appearance

    def __len__(self) -> int:
        return len(self.codes)

    def __iter__(self):
        """The labels row by row, as the list they were factorized from."""
        return iter(self.uniques[self.codes])


def labels(values: list | np.ndarray) -> Labels:
    """Factorize a list of labels once (several times faster than building a Categorical from it)."""
    codes, uniques = pd.factorize(np.asarray(values, dtype=object))
    return Labels(codes.astype(code_type(len(uniques))), uniques)


def labels_of_codes(codes: np.ndarray, names: np.ndarray) -> Labels:
    """`labels(names[codes])` without the column of objects: the codes renumbered in order of
    first appearance, as factorizing the labels numbers them (distinct names, one per code)."""
    if not len(codes):
        return labels([])
    values, first = np.unique(codes, return_index=True)
    seen = values[np.argsort(first)]  # the codes in order of first appearance
    renumber: np.ndarray = np.empty(int(values[-1] - values[0]) + 1, dtype=code_type(len(seen)))
    renumber[seen - values[0]] = np.arange(len(seen))
    return Labels(renumber[codes - values[0]], names[seen])


def code_type(n: int) -> type:
    """The smallest integer type that numbers n labels: a column of a few labels, a byte a row."""
    return next(t for t in (np.int8, np.int16, np.int32, np.int64) if n <= np.iinfo(t).max)


def texts(values: list) -> pa.Array:
    """Distinct labels (request ids) as one Arrow array: their bytes copied out, so the table keeps
    no str object of the run (each would keep a block of the run's freed memory from the system)."""
    return pa.array(values, type=pa.large_string())


def whole_units(values) -> np.ndarray:
    """Whole units as int64; anything else (a bug the invariants report) kept as float, never truncated."""
    arr = np.asarray(values)
    if arr.size == 0 or arr.dtype.kind in "iub":
        return arr.astype(np.int64)
    return arr.astype(np.float64)


def raw_doubles(values: array) -> np.ndarray:
    """A column of raw doubles as numpy, on the same memory (no copy; the recorder writes no more)."""
    return np.frombuffer(values, dtype=np.float64) if len(values) else np.empty(0, dtype=np.float64)


class _Codes(dict):
    """Label -> code, numbered in order of first use (as pd.factorize numbers them)."""

    def __missing__(self, label):
        code = self[label] = len(self)
        return code


class EventLog:
    """The event log as it is written: one column each, numbers as raw doubles and ints, request
    ids as the strings the parts pass, other labels as int codes (no pointer per line, and no
    factorizing of millions of strings at the end)."""

    __slots__ = ("day", "kind", "request_id", "lot_id", "item", "qty", "where", "_codes")

    def __init__(self):
        self.day, self.lot_id, self.qty = array("d"), array("q"), array("d")
        self.request_id: list[str] = []
        self.kind, self.item, self.where = array("i"), array("i"), array("i")
        self._codes = (_Codes(), _Codes(), _Codes())  # of kind, item, where

    def append(self, day, kind, request_id, lot_id, item, qty, where) -> None:
        """One line of the log."""
        kinds, items, wheres = self._codes
        self.day.append(day)
        self.kind.append(kinds[kind])
        self.request_id.append(request_id)
        self.lot_id.append(lot_id)
        self.item.append(items[item])
        self.qty.append(qty)
        self.where.append(wheres[where])

    def columns(self) -> dict:
        """The log's columns by EVENT_COLUMNS name: numbers as numpy arrays, labels factorized, request ids as text."""
        kinds, items, wheres = self._codes
        return {
            "day": raw_doubles(self.day),
            "kind": _coded(self.kind, kinds),
            "request_id": texts(self.request_id),
            "lot_id": np.frombuffer(self.lot_id, dtype=np.int64) if len(self.lot_id) else np.empty(0, dtype=np.int64),
            "item": _coded(self.item, items),
            "qty": raw_doubles(self.qty),  # units or money: the table's column is float
            "where": _coded(self.where, wheres),
        }


def _coded(codes: array, names: _Codes) -> Labels:
    """A column of codes as Labels, the same as `labels` would make of the labels themselves."""
    uniques = np.empty(len(names), dtype=object)
    uniques[:] = list(names)
    small = code_type(len(uniques))
    return Labels(np.frombuffer(codes, dtype=np.int32).astype(small) if len(codes) else np.empty(0, small), uniques)


def day_field(index: str, width: int, k: int, doc: str) -> property:
    """A day of a record kept in its owner's array of raw doubles (the record's `days`), at
    width * <index attribute> + k: no float object per day (32 bytes each, millions of them)."""
    at = attrgetter(index)

    def get(self) -> float:
        return self.days[width * at(self) + k]

    def put(self, day: float) -> None:
        self.days[width * at(self) + k] = day

    return property(get, put, doc=doc)
