"""Reading scenario files: YAML in, a validated `Scenario` out, or one ScenarioError listing every problem.

Steps: safe YAML (no object tags; aliases capped and the expanded document measured, so an alias
bomb is refused at once), `extends:` resolved depth-first with cycle detection and deep merge
(mappings merge, everything else replaces), dotted overrides applied to the merged mapping, then
pydantic validation, then cross-reference checks. Pydantic's errors are turned into one line per
problem: union branches that do not match what the user wrote are dropped, so a bad duration is
reported once, not once per kind of value the field could have taken.
"""
from __future__ import annotations

import copy
import datetime as dt
import difflib
import re
import types
import typing
from pathlib import Path
from typing import Any, Mapping

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import Problem, ScenarioError
from .distributions import DIST_NAMES, _Dist
from .references import check_references
from .schema import Scenario

MAX_ALIASES = 1000
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 64
# Values in the document once every alias is expanded; a big real scenario has a few thousand.
MAX_EXPANDED = 1_000_000


class _SafeLoader(yaml.SafeLoader):
    """SafeLoader that refuses alias bombs, reads 1e12 as a number and reports bad dates with their place."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._aliases = getattr(self, "_aliases", 0) + 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise yaml.MarkedYAMLError(
                    problem=f"more than {MAX_ALIASES} aliases: refused as a possible alias bomb", problem_mark=mark)
        return super().compose_node(parent, index)

    def construct_checked_timestamp(self, node):
        """A date such as 2025-13-45 is a problem at its line, not a crash."""
        try:
            return self.construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"invalid date '{node.value}' ({exc})", node.start_mark) from None


    def construct_refused(self, node):
        """Any tag SafeLoader does not know (e.g. !!python/object) is refused: scenarios are plain data."""
        tag = node.tag.replace("tag:yaml.org,2002:", "!!")
        raise yaml.constructor.ConstructorError(
            None, None, f"tag '{tag}' is not allowed: scenario files hold plain data, never objects", node.start_mark)


_SafeLoader.add_constructor("tag:yaml.org,2002:timestamp", _SafeLoader.construct_checked_timestamp)
_SafeLoader.add_constructor(None, _SafeLoader.construct_refused)
# YAML 1.1 (PyYAML) reads 1e12 as the string "1e12"; analysts mean a number, as YAML 1.2 does.
_SafeLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"))


def _one_line(text: str) -> str:
    """The text with every run of whitespace (newlines included) made one space."""
    return " ".join(str(text).split())


def _yaml_problem(exc: yaml.YAMLError, text: str) -> str:
    """One line, with line and column, for any YAML error."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            what = f"{exc.problem} ({exc.context})"
        # A constructor error is well-formed YAML holding a value we refuse (a bad date, a tag).
        kind = "YAML error" if isinstance(exc, yaml.constructor.ConstructorError) else "YAML syntax error"
        return _one_line(f"{kind}: {where}{what}")
    if isinstance(exc, yaml.reader.ReaderError):
        before = text[: exc.position]
        line, column = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        char = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        return f"YAML syntax error: line {line}, column {column}: character {char} is not allowed in YAML text"
    return _one_line(f"YAML error: {exc}")


def _read_yaml(path: Path, shown: str) -> dict:
    """Parse one YAML file into a mapping, or raise ScenarioError naming the file."""
    if not path.exists():
        raise ScenarioError([Problem(shown, "", "file not found")])
    if not path.is_file():
        raise ScenarioError([Problem(shown, "", "not a file")])
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ScenarioError([Problem(shown, "", f"file larger than {MAX_FILE_BYTES // 2**20} MiB")])
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem(shown, "", f"not UTF-8 text (byte {exc.start}: {exc.reason})")]) from None
    except OSError as exc:
        raise ScenarioError([Problem(shown, "", f"cannot read file: {exc.strerror or exc}")]) from None
    try:
        data = yaml.load(text, Loader=_SafeLoader)
    except yaml.YAMLError as exc:
        raise ScenarioError([Problem(shown, "", _yaml_problem(exc, text))]) from None
    except RecursionError:
        raise ScenarioError([Problem(shown, "", "YAML nested too deeply")]) from None
    except (ValueError, TypeError, OverflowError) as exc:  # a constructor PyYAML does not guard
        raise ScenarioError([Problem(shown, "", _one_line(f"YAML error: {exc}"))]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError([Problem(shown, "", "the top level must be a mapping of sections")])
    problem = _measure(data)
    if problem:
        raise ScenarioError([Problem(shown, "", problem)])
    return data


def _measure(data) -> str | None:
    """Why the document is too big, too deep or self-referring once aliases are expanded (None if fine).

    Shared sub-documents are sized once (memoised by identity), so this is linear in the file, not
    in the expansion: nine levels of nine aliases are refused in microseconds instead of walked.
    """
    sizes: dict[int, tuple[int, int]] = {}
    active: set[int] = set()

    def walk(obj, level: int) -> tuple[int, int]:
        if not isinstance(obj, (dict, list)):
            return 1, 0
        key = id(obj)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise _Refused("an alias refers to its own anchor (a recursive structure)")
        if level > MAX_DEPTH:
            raise _Refused(f"nested deeper than {MAX_DEPTH} levels")
        active.add(key)
        children = obj.values() if isinstance(obj, dict) else obj
        total, depth = 1, 0
        for child in children:
            n, d = walk(child, level + 1)
            total += n
            depth = max(depth, d + 1)
            if total > MAX_EXPANDED:
                raise _Refused(f"more than {MAX_EXPANDED:,} values once aliases are expanded: "
                               "refused as a possible alias bomb")
        active.discard(key)
        sizes[key] = (total, depth)
        return total, depth

    try:
        walk(data, 0)
    except _Refused as exc:
        return str(exc)
    return None


class _Refused(Exception):
    """Stops the walk of `_measure` with the reason the document is refused."""


def deep_merge(base: Mapping, over: Mapping) -> dict:
    """A copy of `base` with `over` laid on top: mappings merge key by key, anything else replaces."""
    out = copy.deepcopy(dict(base))
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _resolve(path: Path, shown: str, stack: tuple[Path, ...]) -> dict:
    """The file's mapping with its `extends:` chain merged underneath it."""
    real = path.resolve()
    if real in stack:
        chain = " -> ".join(p.name for p in (*stack, real))
        raise ScenarioError([Problem(shown, "extends", f"extends cycle: {chain}")])
    data = _read_yaml(path, shown)
    parent = data.pop("extends", None)
    if parent is None:
        return data
    if not isinstance(parent, str) or not parent.strip():
        raise ScenarioError([Problem(shown, "extends", "must be a file path (a string)")])
    parent_path = path.parent / parent
    if not parent_path.is_file():
        raise ScenarioError([Problem(shown, "extends", f"file not found: {parent}")])
    base = _resolve(parent_path, str(parent_path), (*stack, real))
    return deep_merge(base, data)


def parse_override_value(text: str) -> Any:
    """A CLI value `k=v`: v is read as YAML, so numbers, booleans, lists and {dist: ...} work."""
    try:
        value = yaml.load(text, Loader=_SafeLoader)
    except (yaml.YAMLError, ValueError, TypeError, RecursionError):
        return text
    if isinstance(value, (dict, list)) and _measure(value):
        return text  # refused as YAML: validation then reports it as a plain (wrong) string
    return value


def apply_overrides(data: dict, overrides: Mapping[str, Any], shown: str) -> tuple[dict, set[str]]:
    """Set each dotted path in a copy of `data`; returns the copy and the paths that were new keys.

    A section the file leaves out but the schema defines (`policy`, `approval`, ...) is created on
    the way, so any field can be overridden; an entry of a named collection (`production.nosuch`)
    is never invented.
    """
    out = copy.deepcopy(data)
    problems, created = [], set()
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        if not all(parts):
            problems.append(Problem(shown, dotted, "override path has an empty part"))
            continue
        node: Any = out
        ok = True
        for i, part in enumerate(parts[:-1]):
            nxt, ok = _step(node, part)
            if not ok and isinstance(node, dict) and part not in node and _is_section(parts[: i + 1]):
                node[part] = nxt = {}
                ok = True
            if not ok:
                problems.append(Problem(shown, dotted,
                                        f"override path does not exist (no '{'.'.join(parts[: i + 1])}')"
                                        + _suggest(tuple(parts[: i + 1]))))
                break
            node = nxt
        if not ok:
            continue
        last = parts[-1]
        if isinstance(node, list):
            if not (last.isdigit() and int(last) < len(node)):
                problems.append(Problem(shown, dotted, "override path does not exist (list index out of range)"))
                continue
            node[int(last)] = value
        elif isinstance(node, dict):
            if last not in node:
                created.add(dotted)
            node[last] = value
        else:
            problems.append(Problem(shown, dotted, "override path does not exist (not a section)"))
    if problems:
        raise ScenarioError(problems)
    return out, created


def _step(node, part):
    """(child, True) for a mapping key or list index present in `node`, else (None, False)."""
    if isinstance(node, dict) and part in node:
        return node[part], True
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)], True
    return None, False


def _is_section(parts) -> bool:
    """True when the dotted path names a field of a schema model whose value is itself a model."""
    tp: Any = Scenario
    for i, seg in enumerate(parts):
        base = _unannotate(tp)
        if not (isinstance(base, type) and issubclass(base, BaseModel)):
            return False
        tp = _descend(base, seg)
        if tp is None:
            return False
    members = [m for m in _union_args(tp) if m is not type(None)]
    return len(members) == 1 and isinstance(members[0], type) and issubclass(members[0], BaseModel)


def load_scenario(path, overrides: Mapping[str, Any] | None = None) -> Scenario:
    """Load, merge, override and validate a scenario file; raises ScenarioError listing every problem."""
    path = Path(path)
    shown = str(path)
    data = _resolve(path, shown, ())
    created: set[str] = set()
    if overrides:
        data, created = apply_overrides(data, overrides, shown)
    return validate_mapping(data, shown, created)


def validate_mapping(data: dict, shown: str = "<scenario>", override_paths: set[str] = frozenset()) -> Scenario:
    """Validate an already-merged mapping into a Scenario; raises ScenarioError listing every problem."""
    if not isinstance(data, Mapping):
        raise ScenarioError([Problem(shown, "", "the top level must be a mapping of sections")])
    # A mapping built in code (not from YAML) gets the same size/depth/cycle guard as a file.
    refused = _measure(data)
    if refused:
        raise ScenarioError([Problem(shown, "", refused)])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(pydantic_problems(exc, shown, override_paths, data)) from None
    except RecursionError:
        raise ScenarioError([Problem(shown, "", "scenario nested too deeply")]) from None
    problems = check_references(scenario, shown)
    if problems:
        raise ScenarioError(problems)
    return scenario


# --- turning pydantic errors into one readable line per problem -------------------------------
#
# Pydantic reports a value that fits no branch of a union once per branch, with the branch in the
# error's location ('constrained-float', 'date', 'tagged-union[...]', a distribution's name). We
# walk each location along the schema, drop those markers from the path, and keep only the
# branch that matches what the user wrote (a number, a date, a mapping); if none does, the field
# gets one line saying what it accepts.

_TYPE_MARKERS = {"float": float, "int": int, "str": str, "bool": bool, "date": dt.date,
                 "constrained-float": float, "constrained-int": int, "constrained-str": str}
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


def _is_model(tp) -> bool:
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
    keep, replaced = [], {}
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
        return f" (got {v})" if len(str(v)) < 30 else f" (got {float(v):g})"
    if isinstance(v, dt.date):
        return f" (got {v.isoformat()})"
    if isinstance(v, str):
        return f" (got {v!r})" if len(v) < 60 else f" (got a text of {len(v)} characters)"
    if always:
        return " (got a mapping)" if isinstance(v, Mapping) else " (got a list)" if isinstance(v, list) else ""
    return ""


# What a discriminator key selects, and its values, for messages about a missing or unknown tag.
_DISCRIMINATED = {"dist": ("distribution", DIST_NAMES), "kind": ("disruption", ("pause", "outage", "capacity", "gate"))}
def _num(x) -> str:
    """A bound as people write it: 0 not 0.0, 1000000 not 1e+06."""
    if isinstance(x, float) and x.is_integer() and abs(x) < 1e15:
        return str(int(x))
    return str(x)


_ID_RULE = "use only ASCII letters, digits, '_' and '-' (not first), at most 64 characters"


def _message(err: dict, path: str, override_paths, key_error: bool = False) -> str:
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
        return (f"unknown {_DISCRIMINATED.get(disc, (disc,))[0]} '{ctx.get('tag')}' "
                f"(expected one of {ctx.get('expected_tags', '')})")
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
        "string_too_short": lambda: "must not be empty" if ctx.get("min_length") == 1
        else f"must have at least {ctx.get('min_length')} characters",
        "string_too_long": lambda: f"must have at most {ctx.get('max_length')} characters",
        "string_pattern_mismatch": lambda: f"invalid name: names {_ID_RULE}",
        "too_short": lambda: f"must have at least {ctx.get('min_length')} "
        f"entr{'y' if ctx.get('min_length') == 1 else 'ies'}",
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
    always = kind in ("list_type", "dict_type", "model_type", "model_attributes_type", "string_type",
                      "float_type", "int_type", "bool_type", "date_type")
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
    out = []
    for m in _union_args(tp):
        if _is_model(m):
            out.extend(f.alias or name for name, f in m.model_fields.items() if (f.alias or name) not in out)
    return out
