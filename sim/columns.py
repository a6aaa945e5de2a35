"""Compact columns of a replication's records, as the recorder hands them to the tables: labels
factorized, request ids as Arrow text, numbers as numpy on the recorder's own memory.

None of them holds a Python object made during the run, so once a replication's records are
dropped its memory can go back to the system (a str or float kept per row would pin the run's
freed memory blocks, one each); see sim.model.run_replication.
"""

from __future__ import annotations

from array import array

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
    # The smallest integer type that numbers the labels: a column of a few labels, a byte a row.
    small = next(t for t in (np.int8, np.int16, np.int32, np.int64) if len(uniques) <= np.iinfo(t).max)
    return Labels(codes.astype(small), uniques)


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
