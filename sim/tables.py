"""The tables of a run: one typed DataFrame per kind (deliveries, events, levels, backfills), `rep` first."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from .recorder import BACKFILL_COLUMNS, DELIVERY_COLUMNS, EVENT_COLUMNS, LEVEL_COLUMNS, Labels, labels, whole_units

CATEGORIES = {"item", "priority", "source", "donor", "route", "kind", "where", "series", "paid_by", "phase_at_horizon"}
COLUMNS = {
    "deliveries": DELIVERY_COLUMNS,
    "events": EVENT_COLUMNS,
    "levels": LEVEL_COLUMNS,
    "backfills": BACKFILL_COLUMNS,
}


INT_COLUMNS = {"lot_id", "shipment_id", "qty"}
TEXT_COLUMNS = {"request_id"}


def _column(name: str, pieces: list):
    """One typed array from the pieces of a column (one per replication): categories for
    repeated labels, Arrow strings for request ids, numpy for numbers."""
    if name in CATEGORIES:
        return _categorical(pieces)
    if name in TEXT_COLUMNS:
        return _text(pieces)
    if name in INT_COLUMNS:
        return whole_units(_joined(pieces))
    return _joined(pieces, np.float64)


def _joined(pieces: list, dtype=None) -> np.ndarray:
    # Empty pieces are left out: an empty list is float64 to numpy and would turn ints float.
    arrays = [np.asarray(p, dtype=dtype) for p in pieces if len(p)]
    if not arrays:
        return np.empty(0, dtype=dtype or np.int64)
    return arrays[0] if len(arrays) == 1 else np.concatenate(arrays)


def _categorical(pieces: list) -> pd.Categorical:
    """The pieces' labels as one Categorical: each piece factorized once, its codes mapped onto the union."""
    index: dict = {}
    codes = []
    for piece in pieces:
        if not len(piece):
            continue
        lab = piece if isinstance(piece, Labels) else labels(piece)
        onto = np.fromiter(
            (index.setdefault(u, len(index)) for u in lab.uniques), dtype=np.int64, count=len(lab.uniques)
        )
        codes.append(onto[lab.codes])  # labels are never missing, so there is no -1 code
    joined = np.concatenate(codes) if codes else np.empty(0, dtype=np.int64)
    # Categories sorted here, as `finish` wants them, at the cost of a small relabelling.
    names = sorted(index, key=str)
    rank = np.empty(len(names), dtype=np.int64)
    rank[[index[n] for n in names]] = np.arange(len(names))
    return pd.Categorical.from_codes(rank[joined] if len(joined) else joined, np.asarray(names, dtype=object))


TEXT = pd.array([], dtype="str").dtype
if not isinstance(TEXT, pd.StringDtype):
    # pandas 2 reads "str" as fixed-width numpy text (`str32`, one character here): pandas' string dtype instead.
    TEXT = pd.StringDtype()


def _text(pieces: list):
    """Distinct labels (request ids) as pandas' `str` dtype, always.

    An explicit dtype: left to inference, an empty replication's column would come out as object
    and turn the whole column object when concatenated with the others. With Arrow storage the
    Arrow array is built directly from the values, twice as fast as through pd.array.
    """
    values = [v for p in pieces for v in p] if len(pieces) != 1 else pieces[0]
    if getattr(TEXT, "storage", None) == "pyarrow":  # pandas 3; older pandas has no Arrow-backed "str"
        return pd.arrays.ArrowStringArray(pa.array(values, type=pa.large_string()), dtype=TEXT)
    return pd.array(np.asarray(values, dtype=object), dtype=TEXT)


def table(kind: str, parts: list[tuple[int, dict]]) -> pd.DataFrame:
    """The table `kind` of replications [(rep, its columns), ...] as one DataFrame, `rep` first.

    Built once per chunk of replications, not once per replication: for small replications the
    pandas overhead of a DataFrame and its categoricals is most of the cost.
    """
    names = COLUMNS[kind]
    sizes = [len(cols[names[0]]) for _, cols in parts]
    data = {"rep": np.repeat(np.asarray([rep for rep, _ in parts], dtype=np.int32), sizes)}
    for c in names:
        data[c] = _column(c, [cols[c] for _, cols in parts])
    if kind == "events":
        data["qty"] = data["qty"].astype(np.float64)  # quantities and amounts of money: always float
    return pd.DataFrame(data)


def finish(kind: str, df: pd.DataFrame, start) -> pd.DataFrame:
    """A table as Results shows it: sorted categories, latency and dates, backfill gaps."""
    for c in df.columns:
        if c in CATEGORIES:
            # Sorted categories: the same table whatever the chunking (concat order) or executor.
            # A chunk's table has them sorted already; a concat may not, or may have lost the
            # categorical dtype altogether (categories differing between chunks).
            col = df[c]
            cat = col if isinstance(col.dtype, pd.CategoricalDtype) else col.astype("category")
            names = list(cat.cat.categories)
            ordered = sorted(names, key=str)
            if names != ordered:
                df[c] = cat.cat.reorder_categories(ordered)
            elif cat is not col:
                df[c] = cat
    if kind == "deliveries":
        df["latency_days"] = df["delivered_day"] - df["requested_day"]
        base = pd.Timestamp(start)
        for c in ("requested", "delivered"):
            # One resolution always: pandas picks ns or us from the values (all-NaN gives us).
            df[f"{c}_date"] = (base + pd.to_timedelta(df[f"{c}_day"], unit="D")).astype("datetime64[ns]")
    if kind == "backfills":
        # The donor's gap runs from the decision (its stock drops) to the replacement; NaN while
        # open (sim.metrics.backfill censors it at the horizon). From the hand-over it is the
        # second figure, zero if the replacement came before the hand-over.
        df["backfill_gap_days"] = df["backfilled_day"] - df["decided_day"]
        df["handover_gap_days"] = (df["backfilled_day"] - df["donated_day"]).clip(lower=0.0)
        df["qty"] = df["qty"].astype("int64")
    return df


# Stage events derived from the deliveries table: (kind, day column, request-level?, `where` column).
STAGES = [
    ("requested", "requested_day", True, None),
    ("approved", "approved_day", True, None),
    ("funded", "funded_day", True, None),
    ("ready", "ready_day", False, "source"),
    ("shipped", "shipped_day", False, "route"),
    ("delivered", "delivered_day", False, "route"),
]


def with_stage_events(events: pd.DataFrame, deliveries: pd.DataFrame) -> pd.DataFrame:
    """The event log plus one event per request stage and lot stage, built from `deliveries` columns."""
    parts = [events]
    for kind, col, per_request, where in STAGES:
        d = deliveries[deliveries[col].notna()]
        if per_request:
            d = d.drop_duplicates(["rep", "request_id"])
        n = len(d)
        parts.append(
            pd.DataFrame(
                {
                    "rep": d["rep"].to_numpy(),
                    "day": d[col].to_numpy(),
                    "kind": np.full(n, kind, dtype=object),
                    "request_id": d["request_id"].to_numpy(dtype=object),
                    "lot_id": (np.full(n, -1) if per_request else d["lot_id"].to_numpy()),
                    # A request-level stage covers all its lines: no single item or quantity.
                    "item": (np.full(n, "", dtype=object) if per_request else d["item"].astype(object).to_numpy()),
                    "qty": (np.full(n, np.nan) if per_request else d["qty"].to_numpy(dtype=float)),
                    "where": (np.full(n, "", dtype=object) if where is None else d[where].astype(object).to_numpy()),
                }
            )
        )
    out = pd.concat([p.astype({c: object for c in CATEGORIES & set(p.columns)}) for p in parts], ignore_index=True)
    out = out.sort_values(["rep", "day"], kind="stable", ignore_index=True)
    for c in CATEGORIES & set(out.columns):
        out[c] = out[c].astype("category")
    return out
