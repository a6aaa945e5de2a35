"""The tables of a run: one typed DataFrame per kind (deliveries, events, levels, backfills), `rep` first."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from .columns import Labels, code_type, labels, whole_units
from .memory import give_back_memory
from .recorder import BACKFILL_COLUMNS, DELIVERY_COLUMNS, EVENT_COLUMNS, LEVEL_COLUMNS
from .vocabulary import CONTRIBUTION, DONATED_VALUE, WITHDRAWAL

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
    arrow = [p if isinstance(p, pa.Array) else pa.array(list(p), type=pa.large_string()) for p in pieces]
    values = pa.concat_arrays(arrow) if len(arrow) != 1 else arrow[0]  # the recorder's are Arrow already
    if getattr(TEXT, "storage", None) == "pyarrow":  # pandas 3; older pandas has no Arrow-backed "str"
        return pd.arrays.ArrowStringArray(values, dtype=TEXT)
    return pd.array(np.asarray(values.to_pylist(), dtype=object), dtype=TEXT)


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


# Calendar dates of the day columns, per table: every stage of a lot or a donation has one.
DATE_COLUMNS = {
    "deliveries": ("requested", "approved", "funded", "ready", "shipped", "delivered"),
    "backfills": ("decided", "donated", "ordered", "backfilled"),
}
# Dates are rounded to the second: a day is a float, so a date computed from it carries
# nanoseconds of float noise (2025-09-09 19:13:26.351814313) that no source of the model can
# claim; a second keeps every event of a day apart and prints as people write times.
DATE_RESOLUTION = "s"
MISSING_ID = -1  # what the recorder writes for "no lot" (a line never sourced, a request-level event)


def _no_empty_label(col: pd.Series) -> pd.Series:
    """A categorical column with "" (the recorder's "none") made missing (NA), so `isna()` finds it."""
    if "" in col.cat.categories:
        col = col.cat.remove_categories([""])
    if not len(col.cat.categories):
        # No label left (all missing): empty categories of text, whatever dtype the empty index had.
        col = col.cat.set_categories(pd.Index([], dtype=TEXT))
    return col


def dates(start, days: pd.Series) -> pd.Series:
    """Calendar dates of `days` after `start`, to the second (DATE_RESOLUTION), datetime64[ns]; NaT where NaN."""
    d = days.to_numpy(dtype=np.float64)
    ok = np.isfinite(d)
    secs = np.round(d[ok] * 86400.0)  # whole seconds, ties to even as pandas rounds
    base = pd.Timestamp(start).as_unit("ns").value
    if len(secs) and not (np.abs(secs).max() < (np.iinfo(np.int64).max - abs(base)) / 1e9):
        # beyond what datetime64[ns] holds: pandas says so (OutOfBoundsTimedelta), never a wrapped date
        return (pd.Timestamp(start) + pd.to_timedelta(days, unit="D").dt.round(DATE_RESOLUTION)).astype(
            "datetime64[ns]"
        )
    # Integer nanoseconds from the start: float nanoseconds since 1970 would lose the seconds.
    ns = np.full(len(d), np.iinfo(np.int64).min, dtype=np.int64)  # NaT
    ns[ok] = base + secs.astype(np.int64) * 1_000_000_000
    return pd.Series(ns.view("datetime64[ns]"), index=days.index)


def finish(kind: str, df: pd.DataFrame, start) -> pd.DataFrame:
    """A table as Results shows it: sorted categories, missing labels and ids as NA, latency and dates, backfill gaps."""
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
                cat = cat.cat.reorder_categories(ordered)
            df[c] = _no_empty_label(cat)
    if kind in ("deliveries", "events") and "lot_id" in df.columns:
        ids = df["lot_id"]
        if not isinstance(ids.dtype, pd.Int64Dtype):
            values = ids.to_numpy(dtype=np.int64)
            df["lot_id"] = pd.arrays.IntegerArray(values, values == MISSING_ID)
    if kind == "events":
        rid = df["request_id"]
        if len(rid) and (rid == "").any():
            df["request_id"] = rid.where(rid != "")  # a contribution or a pause belongs to no request
    if kind == "deliveries":
        df["latency_days"] = df["delivered_day"] - df["requested_day"]
    for c in DATE_COLUMNS.get(kind, ()):
        if f"{c}_date" not in df.columns:  # chunks joined by Results.from_frames have theirs already
            df[f"{c}_date"] = dates(start, df[f"{c}_day"])
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
    """The event log plus one event per request stage and lot stage, built from `deliveries` columns.

    Built without a row-sized object column: every output row is first a pointer into the event
    log or into `deliveries` (and its stage), sorted by (rep, day) once, and each column is then
    taken through it in its final dtype (categoricals as codes), one column at a time. Every
    temporary the size of the result is dropped as soon as it is used, and lookups through small
    codes go block by block (an int8 index would be widened to a full int64 copy), so at 10^6
    lots the derivation needs little beyond the result itself (#17 item 4).
    """
    n_ev, n_del = len(events), len(deliveries)
    stage_rows, stage_days = [], []
    for _, col, per_request, _ in STAGES:
        day = deliveries[col].to_numpy(dtype=np.float64)
        rows = np.flatnonzero(~np.isnan(day))
        if per_request:  # its first row among the lines that have the stage, as drop_duplicates keeps
            ids = deliveries[["rep", "request_id"]].iloc[rows]
            rows = rows[~ids.duplicated().to_numpy()]
        stage_rows.append(rows)
        stage_days.append(day[rows])
    del day, rows
    if n_del >= BIG_TABLE:
        give_back_memory()  # what finding each request's first row took, before the result is built
    sizes = [n_ev] + [len(r) for r in stage_rows]
    rep_d = deliveries["rep"].to_numpy()
    rep = np.concatenate([events["rep"].to_numpy(dtype=rep_d.dtype)] + [rep_d[r] for r in stage_rows])
    day = np.concatenate([events["day"].to_numpy(dtype=np.float64), *stage_days])
    del stage_days
    order = np.lexsort((day, rep))  # stable: rows of one day stay in the order of the parts
    rep, day = rep[order], day[order]
    # Where each row comes from: `src` indexes the event log followed by deliveries; part 0 is the log.
    # In 32 bits where the rows fit (up to ~3x10^8 lots at the mission's ~5 logged events a lot):
    # 40 MB less beside the result at 10^6 lots; numpy widens each block's slice to intp as it takes.
    small = np.int32 if n_ev + 2 * n_del < 2**31 else np.intp
    src = np.concatenate([np.arange(n_ev, dtype=small)] + [(n_ev + r).astype(small) for r in stage_rows])[order]
    del stage_rows
    part = np.repeat(np.arange(len(sizes), dtype=np.int8), sizes)[order]
    del order
    if n_del >= BIG_TABLE:
        give_back_memory()  # the sort's temporaries
    request_level = _lookup(np.array([False] + [per_request for _, _, per_request, _ in STAGES]), part)
    cols = {"rep": rep, "day": day}
    # The largest column first, while the fewest others are held beside its temporaries.
    cols["request_id"] = pd.concat([events["request_id"], deliveries["request_id"]], ignore_index=True).array.take(src)
    if n_del >= BIG_TABLE:
        give_back_memory()  # the joined ids, before the next column is allocated where they lay
    ids = [t["lot_id"].astype("Int64") for t in (events, deliveries)]
    missing = _take2(ids[0].isna().to_numpy(), ids[1].isna().to_numpy(), src)
    missing |= request_level
    ev_ids, del_ids = (i.to_numpy(dtype=np.int64, na_value=MISSING_ID) for i in ids)
    values = _take2(ev_ids, del_ids, src)
    cols["lot_id"] = pd.arrays.IntegerArray(values, missing)
    del ids, missing, values, ev_ids, del_ids
    if n_del >= BIG_TABLE:
        give_back_memory()  # the ids' copies, likewise
    cols["qty"] = _take2(events["qty"].to_numpy(dtype=np.float64), deliveries["qty"].to_numpy(dtype=np.float64), src)
    cols["qty"][request_level] = np.nan
    if n_del >= BIG_TABLE:
        give_back_memory()  # the takes' temporaries, before the labels are taken beside the rest
    cols["item"] = _cat_taken([events["item"], deliveries["item"]], lambda codes: _lookup(codes, src), request_level)
    # `where` of a lot stage is its source (ready) or its route (shipped, delivered): the route's
    # labels sit after the sources' in the joined column.
    by_route = _lookup(np.array([False] + [w == "route" for _, _, _, w in STAGES]), part)

    def where_codes(codes):
        out = _lookup(codes, src)  # block by block: a take through all of src would widen it whole
        out[by_route] = codes[src[by_route] + n_del]
        return out

    cols["where"] = _cat_taken([events["where"], deliveries["source"], deliveries["route"]], where_codes, request_level)
    # A stage row's kind is its stage's: the stage labels sit after the log's kinds in the joined column.
    kinds = pd.Categorical([kind for kind, _, _, _ in STAGES])

    def kind_codes(codes):
        out = np.empty(len(src), dtype=codes.dtype)
        of_stage = codes[n_ev - 1 + np.arange(len(sizes))]  # part p > 0 -> row n_ev + p - 1
        for a in range(0, len(src), BLOCK):
            into, log = out[a : a + BLOCK], part[a : a + BLOCK] == 0  # from the event log
            into[log] = codes[src[a : a + BLOCK][log]]
            into[~log] = of_stage[part[a : a + BLOCK][~log]]
        return out

    cols["kind"] = _cat_taken([events["kind"], kinds], kind_codes)
    if not len(rep):  # as a concat of empty parts types it
        cols["request_id"] = np.empty(0, dtype=object)
    return pd.DataFrame({c: cols[c] for c in events.columns}, copy=False)


BLOCK = 1 << 20  # rows per block of a lookup through small codes
BIG_TABLE = 100_000  # delivery rows from which the derivation hands its freed temporaries back


def _lookup(table: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """table[codes] block by block: numpy widens a small-integer index to a full int64 copy first."""
    out = np.empty(len(codes), dtype=table.dtype)
    for a in range(0, len(codes), BLOCK):
        out[a : a + BLOCK] = table[codes[a : a + BLOCK]]
    return out


def _take2(first: np.ndarray, second: np.ndarray, src: np.ndarray) -> np.ndarray:
    """np.concatenate([first, second])[src], block by block, without the joined copy."""
    n = len(first)
    out = np.empty(len(src), dtype=np.result_type(first, second))
    for a in range(0, len(src), BLOCK):
        rows, into = src[a : a + BLOCK], out[a : a + BLOCK]
        low = rows < n
        into[low] = first[rows[low]]
        high = ~low
        into[high] = second[rows[high] - n]
    return out


def _joined_codes(parts: list) -> tuple[np.ndarray, np.ndarray]:
    """The categorical columns `parts` end to end as (codes, labels): codes in the smallest type
    (-1 missing), labels in order of first appearance (as union_categoricals, whose int64
    recoding of every row this avoids)."""
    cats = [p.array if isinstance(p, pd.Series) else p for p in parts]
    cats = [c if isinstance(c, pd.Categorical) else pd.Categorical(c) for c in cats]
    index: dict = {}
    onto = [[index.setdefault(label, len(index)) for label in c.categories] for c in cats]
    small = code_type(len(index) + 1)
    out: np.ndarray = np.empty(sum(len(c) for c in cats), dtype=small)
    at = 0
    for c, codes in zip(cats, onto):
        out[at : at + len(c)] = _lookup(np.array([*codes, -1], dtype=small), c.codes)  # -1 stays -1
        at += len(c)
    labels_ = np.empty(len(index), dtype=object)
    labels_[:] = list(index)
    return out, labels_


def _cat_taken(parts: list, pick, missing: np.ndarray | None = None) -> pd.Categorical:
    """Rows of the categorical columns `parts` end to end, NA where `missing`: the labels used and
    only those, sorted (as a column of labels turned categorical has them). `pick(codes)`: the
    rows' codes out of the joined column's (a new array, in the joined codes' small dtype)."""
    joined, categories = _joined_codes(parts)
    codes = pick(joined)
    del joined
    if missing is not None:
        codes[missing] = -1
    seen = np.zeros(len(categories) + 1, dtype=bool)  # the last flag: code -1 (missing)
    for a in range(0, len(codes), BLOCK):  # block by block: bincount would widen the codes to int64
        seen[codes[a : a + BLOCK]] = True
    used = np.flatnonzero(seen[:-1])
    names = categories[used]
    ranks = np.argsort(np.asarray(names, dtype=object), kind="stable")
    recode = np.full(len(categories) + 1, -1, dtype=codes.dtype)
    recode[used[ranks]] = np.arange(len(used))
    # Categories as pandas infers them from the labels (object when there are none).
    cats = pd.Index(list(names[ranks])) if len(used) else pd.Index([], dtype=object)
    return pd.Categorical.from_codes(_lookup(recode, codes), cats)


LEDGER_KINDS = {CONTRIBUTION: 1.0, DONATED_VALUE: 1.0, WITHDRAWAL: -1.0}  # sign of each kind's amount


def ledger(event_log: pd.DataFrame, initial_musd: float) -> pd.DataFrame:
    """The NATO account's ledger per replication from the event log: every deposit and withdrawal.

    Columns: rep, day, amount_musd (+ in, - out), who (the contributor, the donor, or the account
    for a purchase), why (the event kind), request_id, balance_musd (the running balance). Rounding
    residues the account clears (below 1e-9 $M) are not events, so a balance here may differ from
    the `account:nato_purl` series by that much.
    """
    e = event_log[event_log["kind"].astype(object).isin(list(LEDGER_KINDS))]
    sign = e["kind"].astype(object).map(LEDGER_KINDS).to_numpy(dtype=float)
    out = pd.DataFrame(
        {
            "rep": e["rep"].to_numpy(),
            "day": e["day"].to_numpy(dtype=float),
            "amount_musd": sign * e["qty"].to_numpy(dtype=float),
            "who": e["where"].astype(object).to_numpy(),
            "why": e["kind"].astype(object).to_numpy(),
            "request_id": e["request_id"].astype(object).to_numpy(),
        }
    )
    out["balance_musd"] = initial_musd + out.groupby("rep")["amount_musd"].cumsum()
    return out.reset_index(drop=True)
