"""A finished replication's records as every part's end-of-run check reads them.

Each part checks its own invariants (`part.check(finished)`) on its own state and on these
tables only, never on another part's internals; sim/model/invariants.py runs the checks.
"""

from __future__ import annotations

from collections import defaultdict
from typing import NoReturn

import numpy as np

from ..columns import Labels, labels
from ..errors import InvariantError
from ..recorder import BACKFILL_COLUMNS

DAY_EPS = 1e-9  # day comparisons allow a relative 1e-9 (rounding of computed sailing days)
BACKFILL_AT = {name: k for k, name in enumerate(BACKFILL_COLUMNS)}  # row positions of a backfill row


def fail(message: str) -> NoReturn:
    """Report a broken invariant: always a bug, never a user error."""
    raise InvariantError(message)


def nan(x) -> bool:
    """Is this day missing (NaN)?"""
    return x != x


def factorized(col) -> Labels:
    """A label column as Labels: the recorder's own, or factorized now."""
    return col if isinstance(col, Labels) else labels(col)


def group_codes(columns: list, rows=slice(None)) -> np.ndarray:
    """One int64 code per row (of `rows`), equal exactly when the rows are equal in every column."""
    code = np.zeros(len(factorized(columns[0])), dtype=np.int64)[rows]
    for col in columns:
        lab = factorized(col)
        code = code * max(1, len(lab.uniques)) + np.asarray(lab.codes, dtype=np.int64)[rows]
    return code


def whole(x: float):
    """A sum of whole units back as int (a fractional one, itself a bug, stays visible as float)."""
    return int(x) if float(x).is_integer() else float(x)


class Finished:
    """The delivery columns, lots, backfill rows and level points of one finished replication."""

    def __init__(self, recorder, deliveries: dict, horizon: float):
        self.deliveries = deliveries
        self.lots = recorder.lots  # the first len(lots) delivery rows, in order
        self.lost = recorder.lost  # lots lost in transit: no delivery row, but they left their source
        self.backfills = recorder.backfills
        self.pending_lines = recorder.pending_lines  # (request, item, qty) of lines never sourced by the horizon
        self.horizon = horizon
        self._rec = recorder
        self._totals = _totals(deliveries, len(self.lots))
        for lot in self.lost:  # a lost lot was sold, donated or made (and made ready) all the same
            counts = self._totals.setdefault((lot.source, lot.donor, lot.item), [0, 0])
            counts[0] += lot.qty
            counts[1] += lot.qty

    def every_lot(self) -> list:
        """The lots with a delivery row and the lots lost in transit (for checks of where goods came from)."""
        return self.lots + self.lost if self.lost else self.lots

    def units(self, source: str) -> dict[tuple[str, str], int]:
        """Units per (donor, item) of the lots from `source` ('' as donor where there is none)."""
        out: dict[tuple[str, str], int] = defaultdict(int)
        for (src, donor, item), (units, _) in self._totals.items():
            if src == source:
                out[(donor, item)] += units
        return out

    def units_ready(self, source: str) -> dict[str, int]:
        """Units per item of the lots from `source` that were made ready."""
        out: dict[str, int] = defaultdict(int)
        for (src, _, item), (_, ready) in self._totals.items():
            if src == source:
                out[item] += ready
        return out

    def backfilled(self) -> dict[tuple[str, str], int]:
        """Units per (donor, item) whose replacement was finished."""
        out: dict[tuple[str, str], int] = defaultdict(int)
        done, donor, item, qty = (BACKFILL_AT[c] for c in ("backfilled_day", "donor", "item", "qty"))
        for row in self.backfills:
            if not nan(row[done]):
                out[(row[donor], row[item])] += row[qty]
        return out

    def level_values(self, series: str) -> np.ndarray:
        """The values of one level series, in recording order, as an array (no float object per point)."""
        rec = self._rec
        names = rec.level_series
        mine = np.fromiter((name == series for name in names), dtype=bool, count=len(names))
        values = np.frombuffer(rec.level_values, dtype=np.float64) if len(rec.level_values) else np.empty(0)
        return values[mine]

    def level_points(self, prefix: str) -> dict[str, list[float]]:
        """Values of every level series starting with `prefix`, in recording order."""
        rec = self._rec
        wanted = {name for name in set(rec.level_series) if name.startswith(prefix)}
        out: dict[str, list[float]] = defaultdict(list)
        if wanted:  # most points are queue lengths: skip the pass when no series is asked for
            for series, value in zip(rec.level_series, rec.level_values):
                if series in wanted:
                    out[series].append(value)
        return out


def _totals(d: dict, n_lots: int) -> dict[tuple[str, str, str], list[int]]:
    """[units, units made ready] per (source, donor, item) over the lots (the first n_lots rows)."""
    if not n_lots:
        return {}
    qty = np.asarray(d["qty"][:n_lots])
    ready = np.where(np.isnan(np.asarray(d["ready_day"][:n_lots], dtype=float)), 0, qty)
    cols = [factorized(d[c]) for c in ("source", "donor", "item")]
    codes = group_codes(cols, slice(0, n_lots))
    keys, first, inverse = np.unique(codes, return_index=True, return_inverse=True)
    units = np.bincount(inverse, weights=qty, minlength=len(keys))
    made = np.bincount(inverse, weights=ready, minlength=len(keys))
    return {
        tuple(lab.uniques[lab.codes[k]] for lab in cols): [whole(u), whole(m)] for k, u, m in zip(first, units, made)
    }
