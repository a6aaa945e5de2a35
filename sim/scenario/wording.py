"""Pydantic's validation errors as one readable line per problem, at the field's dotted path.

Pydantic reports a value that fits no branch of a union once per branch, with the branch in the
error's location ('constrained-float', 'date', 'tagged-union[...]', a distribution's name). We
walk each location along the schema, drop those markers from the path, and keep only the
branch that matches what the user wrote (a number, a date, a mapping); if none does, the field
gets one line saying what it accepts.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeGuard

from pydantic import BaseModel, ValidationError

from ..errors import Problem
from .disruption_specs import KIND_NAMES
from .distributions import DIST_NAMES, _Dist
from .schema import Scenario
from .yaml12 import one_line as _one_line

_TYPE_MARKERS = {
    "float": float,
    "int": int,
    "str": str,
    "bool": bool,
    "date": dt.date,
    "constrained-float": float,
    "constrained-int": int,
    "constrained-str": str,
}
_MISSING = object()


def _unannotate(tp):
    """`tp` without its Annotated[...] wrappers."""
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _union_args(tp):
    """Members of a union (annotations stripped), or [tp] itself."""
    tp = _unannotate(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [_unannotate(a) for a in typing.get_args(tp)]
    return [tp]


def _is_model(tp) -> TypeGuard[type[BaseModel]]:
    """True for a pydantic model class."""
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _tags(model) -> tuple:
    """The discriminator values a model answers to (its Literal `dist` or `kind`)."""
    field = model.model_fields.get("dist") or model.model_fields.get("kind")
    return typing.get_args(_unannotate(field.annotation)) if field is not None else ()


def _branch(members, seg: str):
    """(member, kind, discriminated) when `seg` is pydantic's marker for a union branch, else None."""
    for m in members:
        if _is_model(m) and seg in _tags(m):
            return m, "mapping", True
    if seg.startswith("tagged-union["):
        for m in members:
            if len(_union_args(m)) > 1:
                return m, _kind(m), False
    if seg in _TYPE_MARKERS:
        want = _TYPE_MARKERS[seg]
        for m in members:
            if m is want:
                return m, _kind(m), False
    if seg.startswith(("function-", "model-", "lax-", "json-or-python")):
        for m in members:
            if _is_model(m) and re.search(rf"\b{m.__name__}\b", seg):
                return m, "mapping", False
    return None


def _kind(tp) -> str:
    """What a union branch accepts, in words used by messages: number, date, distribution, mapping, text."""
    members = _union_args(tp)
    if all(_is_model(m) and issubclass(m, _Dist) for m in members):
        return "distribution"
    if all(_is_model(m) for m in members):
        return "mapping"
    m = members[0]
    if m in (int, float):
        return "number"
    if m is dt.date:
        return "date"
    return "text" if m is str else getattr(m, "__name__", str(m))


def _descend(tp, seg: str):
    """The schema type one path segment below `tp` (None when the segment is not in the schema)."""
    members = [m for m in _union_args(tp) if m is not type(None)]
    if len(members) > 1:
        picked = _branch(members, seg)
        if picked is not None:
            return picked[0]
        for m in members:  # a union of models: try each
            found = _descend(m, seg) if _is_model(m) else None
            if found is not None:
                return found
        return None
    base = members[0] if members else None
    origin = typing.get_origin(base)
    if origin is dict:
        return typing.get_args(base)[1]
    if origin is list:
        return typing.get_args(base)[0] if seg.isdigit() else None
    if _is_model(base):
        for name, f in base.model_fields.items():
            if seg in (name, f.alias):
                return f.annotation
    return None


def _walk(loc) -> tuple[list[str], str | None, str | None, bool]:
    """(clean path parts, path of the last union whose branches were all tried, branch kind, is a key error)."""
    tp: Any = Scenario
    parts: list[str] = []
    union_path = branch = None
    key_error = False
    for seg in loc:
        s = str(seg)
        if s == "[key]":
            key_error = True
            continue
        members = [m for m in _union_args(tp) if m is not type(None)] if tp is not None else []
        if len(members) > 1:
            picked = _branch(members, s)
            if picked is not None:
                tp, kind, discriminated = picked
                if not discriminated:
                    union_path, branch = ".".join(parts), kind
                continue
        parts.append(s)
        tp = _descend(tp, s) if tp is not None else None
    return parts, union_path, branch, key_error


def _value_at(data, parts):
    """The value the user wrote at a dotted path (compared as text), or _MISSING."""
    node = data
    for p in parts:
        if isinstance(node, Mapping):
            match = [k for k in node if str(k) == p]
            if not match:
                return _MISSING
            node = node[match[0]]
        elif isinstance(node, list) and p.isdigit() and int(p) < len(node):
            node = node[int(p)]
        else:
            return _MISSING
    return node


def _kind_of_value(v) -> str | None:
    """Which union branch a written value is meant for (None when it fits none)."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return "number"
    if isinstance(v, dt.date) or (isinstance(v, str) and re.match(r"^\d{4}-\d", v)):
        return "date"
    if isinstance(v, Mapping):
        return "mapping"
    return None


_EXPECT = {
    "number": "a number",
    "date": "a date (YYYY-MM-DD)",
    "distribution": "a distribution {dist: NAME, ...}",
    "mapping": "a mapping",
    "text": "text",
}


def _expected(kinds) -> str:
    """What a union field accepts, for a message: 'a number or a distribution {dist: NAME, ...}'."""
    kinds = set(kinds)
    if kinds == {"number", "date"}:
        return "a date (YYYY-MM-DD) or a number of days"
    order = ["number", "date", "distribution", "mapping", "text"]
    names = [_EXPECT.get(k, k) for k in order if k in kinds] + sorted(k for k in kinds if k not in order)
    return " or ".join(names)


def pydantic_problems(exc: ValidationError, shown: str, override_paths=frozenset(), data=None) -> list[Problem]:
    """One Problem per problem: union branches that do not fit the input dropped, paths cleaned."""
    entries = []
    for err in exc.errors(include_url=False):
        parts, union_path, branch, key_error = _walk(err["loc"])
        entries.append((".".join(parts), union_path, branch, key_error, err))
    by_union: dict[str, list] = {}
    for e in entries:
        if e[1] is not None:
            by_union.setdefault(e[1], []).append(e)
    keep: list[int] = []
    replaced: dict[str, str] = {}
    upath: str | None  # a union's path here, then an entry's (None outside any union) below
    for upath, group in by_union.items():
        value = _value_at(data, upath.split(".") if upath else []) if data is not None else _MISSING
        wanted = _kind_of_value(value)
        if wanted == "mapping" and any(g[2] == "distribution" for g in group):
            wanted = "distribution"
        if not any(g[2] == wanted for g in group):
            kinds = {g[2] for g in group}
            replaced[upath] = f"expected {_expected(kinds)}" + _got(value, always=True)
        keep.extend(id(g) for g in group if g[2] == wanted)
    keep_ids = set(keep)
    problems, seen = [], set()
    for e in entries:
        path, upath, _, key_error, err = e
        if upath is not None and id(e) not in keep_ids:
            if upath not in replaced:
                continue
            path, message = upath, replaced.pop(upath)
        else:
            message = _message(err, path, override_paths, key_error)
        if (path, message) not in seen:
            seen.add((path, message))
            problems.append(Problem(shown, path, message))
    return problems


def _got(v, always: bool = False) -> str:
    """' (got X)' for a short scalar input; containers are named by kind when `always`."""
    if v is _MISSING:
        return ""
    if isinstance(v, bool) or v is None:
        return f" (got {str(v).lower() if v is not None else 'null'})" if always else ""
    if isinstance(v, float):
        return f" (got {v:g})"
    if isinstance(v, int):
        if abs(v) < 10**29:
            return f" (got {v})"
        # str() of a huge int is slow and refused above 4300 digits; float() overflows above 1e308.
        return f" (got {float(v):g})" if abs(v) < 10**300 else f" (got a number of about {_digits(v):,} digits)"
    if isinstance(v, dt.date):
        return f" (got {v.isoformat()})"
    if isinstance(v, str):
        return f" (got {v!r})" if len(v) < 60 else f" (got a text of {len(v)} characters)"
    if always:
        return " (got a mapping)" if isinstance(v, Mapping) else " (got a list)" if isinstance(v, list) else ""
    return ""


def _digits(v: int) -> int:
    """Roughly how many decimal digits |v| has, without converting it to text."""
    return int(abs(v).bit_length() * 0.30103) + 1


# What a discriminator key selects, and its values, for messages about a missing or unknown tag.
_DISCRIMINATED = {"dist": ("distribution", DIST_NAMES), "kind": ("disruption", KIND_NAMES)}


def _num(x) -> str:
    """A bound as people write it: 0 not 0.0, 1000000 not 1e+06."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return str(x)


_ID_RULE = "use only ASCII letters, digits, '_' and '-' (not first), at most 64 characters"


def _message(err: Mapping[str, Any], path: str, override_paths, key_error: bool = False) -> str:
    """A readable message for one pydantic error."""
    kind = err["type"]
    ctx = err.get("ctx") or {}
    inp = err.get("input", _MISSING)
    if kind == "extra_forbidden":
        if path in override_paths:
            return "override path does not exist" + _suggest(err["loc"])
        key = str(err["loc"][-1])
        return f"unknown key '{key}'" + _suggest(err["loc"])
    if kind == "missing":
        return "required field is missing"
    if kind == "union_tag_invalid":
        disc = str(ctx.get("discriminator", "kind")).strip("'")
        return (
            f"unknown {_DISCRIMINATED.get(disc, (disc,))[0]} '{ctx.get('tag')}' "
            f"(expected one of {ctx.get('expected_tags', '')})"
        )
    if kind == "union_tag_not_found":
        disc = str(ctx.get("discriminator", "kind")).strip("'")
        what, tags = _DISCRIMINATED.get(disc, (disc, ()))
        return f"a {what} needs a '{disc}' key" + (f" (one of {', '.join(tags)})" if tags else "")
    if key_error:
        if kind in ("string_pattern_mismatch", "string_too_long"):
            return f"invalid name {str(inp)!r}: names {_ID_RULE}"
        if kind == "literal_error":
            return f"unknown key {str(inp)!r} (expected {ctx.get('expected')})"
        return f"invalid key {str(inp)!r}: " + err["msg"]
    if kind == "float_type" and isinstance(inp, int) and not isinstance(inp, bool):  # beyond a float's range
        return "is far too large" + _got(inp)
    if kind == "value_error":
        msg = err["msg"].removeprefix("Value error, ")
        return msg + (_got(inp) if not isinstance(inp, (Mapping, list)) else "")
    texts = {
        "greater_than": lambda: f"must be greater than {_num(ctx.get('gt'))}",
        "greater_than_equal": lambda: f"must be at least {_num(ctx.get('ge'))}",
        "less_than": lambda: f"must be less than {_num(ctx.get('lt'))}",
        "less_than_equal": lambda: f"must be at most {_num(ctx.get('le'))}",
        "finite_number": lambda: "must be a finite number",
        "int_from_float": lambda: "must be a whole number",
        "int_parsing": lambda: "must be a whole number",
        "int_type": lambda: "must be a whole number",
        "float_parsing": lambda: "must be a number",
        "float_type": lambda: "must be a number",
        "bool_parsing": lambda: "must be true or false",
        "bool_type": lambda: "must be true or false",
        "string_type": lambda: "must be text",
        "string_too_short": lambda: (
            "must not be empty"
            if ctx.get("min_length") == 1
            else f"must have at least {ctx.get('min_length')} characters"
        ),
        "string_too_long": lambda: f"must have at most {ctx.get('max_length')} characters",
        "string_pattern_mismatch": lambda: f"invalid name: names {_ID_RULE}",
        "too_short": lambda: (
            f"must have at least {ctx.get('min_length')} entr{'y' if ctx.get('min_length') == 1 else 'ies'}"
        ),
        "too_long": lambda: f"must have at most {ctx.get('max_length')} entries",
        "list_type": lambda: "must be a list",
        "dict_type": lambda: "must be a mapping of keys to values",
        "model_type": lambda: "must be a mapping of keys to values",
        "model_attributes_type": lambda: "must be a mapping of keys to values",
        "literal_error": lambda: f"must be one of {ctx.get('expected')}",
        "date_type": lambda: "must be a date (YYYY-MM-DD)",
        "date_parsing": lambda: "must be a date (YYYY-MM-DD)",
        "date_from_datetime_parsing": lambda: "must be a date (YYYY-MM-DD)",
        "date_from_datetime_inexact": lambda: "must be a date (YYYY-MM-DD)",
    }
    make = texts.get(kind)
    msg = make() if make else err["msg"].replace("Input should be", "must be")
    always = kind in (
        "list_type",
        "dict_type",
        "model_type",
        "model_attributes_type",
        "string_type",
        "float_type",
        "int_type",
        "bool_type",
        "date_type",
    )
    return _one_line(msg + _got(inp, always=always))


def _suggest(loc) -> str:
    """' (did you mean 'x'?)' from the valid keys at the unknown key's place, or the list of them if short."""
    key = str(loc[-1])
    valid = _valid_keys(loc[:-1])
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    if close:
        return f" (did you mean '{close[0]}'?)"
    if 0 < len(valid) <= 8:
        return f" (valid keys: {', '.join(valid)})"
    return ""


def _valid_keys(loc) -> list[str]:
    """The keys the schema allows at a pydantic location (empty when unknown)."""
    tp: Any = Scenario
    for seg in loc:
        seg = str(seg)
        members = [m for m in _union_args(tp) if m is not type(None)]
        if len(members) > 1 and _branch(members, seg) is not None:
            tp = _branch(members, seg)[0]
            continue
        tp = _descend(tp, seg)
        if tp is None:
            return []
    return _fields_of(tp)


def _fields_of(tp) -> list[str]:
    """Field names (aliases first) of a model or of every model in a union."""
    out: list[str] = []
    for m in _union_args(tp):
        if _is_model(m):
            out.extend(f.alias or name for name, f in m.model_fields.items() if (f.alias or name) not in out)
    return out
