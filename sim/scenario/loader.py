"""Reading scenario files: YAML in, a validated `Scenario` out, or one ScenarioError listing every problem.

Steps: safe YAML (no object tags, aliases capped), `extends:` resolved depth-first with cycle
detection and deep merge (mappings merge, everything else replaces), dotted overrides applied to
the merged mapping, then pydantic validation, then cross-reference checks.
"""
from __future__ import annotations

import copy
import difflib
import types
import typing
from pathlib import Path
from typing import Any, Mapping

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import Problem, ScenarioError
from .references import check_references
from .schema import Scenario

MAX_ALIASES = 1000
MAX_FILE_BYTES = 20 * 1024 * 1024
MAX_DEPTH = 64


class _SafeLoader(yaml.SafeLoader):
    """SafeLoader that refuses alias bombs: at most MAX_ALIASES aliases per document."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            self._aliases = getattr(self, "_aliases", 0) + 1
            if self._aliases > MAX_ALIASES:
                mark = self.peek_event().start_mark
                raise yaml.YAMLError(
                    f"more than {MAX_ALIASES} YAML aliases (line {mark.line + 1}): refused as a possible alias bomb"
                )
        return super().compose_node(parent, index)


def _read_yaml(path: Path, shown: str) -> dict:
    """Parse one YAML file into a mapping, or raise ScenarioError naming the file."""
    if not path.is_file():
        raise ScenarioError([Problem(shown, "", "file not found")])
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ScenarioError([Problem(shown, "", f"file larger than {MAX_FILE_BYTES // 2**20} MiB")])
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError([Problem(shown, "", f"cannot read file: {exc}")]) from None
    try:
        data = yaml.load(text, Loader=_SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise ScenarioError([Problem(shown, "", f"YAML syntax error: {where}{exc.problem or exc}")]) from None
    except yaml.YAMLError as exc:
        raise ScenarioError([Problem(shown, "", f"YAML error: {exc}")]) from None
    except RecursionError:
        raise ScenarioError([Problem(shown, "", f"YAML nested too deeply")]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError([Problem(shown, "", "the top level must be a mapping of sections")])
    if _depth(data) > MAX_DEPTH:
        raise ScenarioError([Problem(shown, "", f"nested deeper than {MAX_DEPTH} levels")])
    return data


def _depth(obj, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(obj, dict):
        return max((_depth(v, level + 1) for v in obj.values()), default=level)
    if isinstance(obj, list):
        return max((_depth(v, level + 1) for v in obj), default=level)
    return level


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
    if not isinstance(parent, str):
        raise ScenarioError([Problem(shown, "extends", "must be a file path (a string)")])
    parent_path = (path.parent / parent)
    if not parent_path.is_file():
        raise ScenarioError([Problem(shown, "extends", f"file not found: {parent}")])
    base = _resolve(parent_path, str(parent_path), (*stack, real))
    return deep_merge(base, data)


def parse_override_value(text: str) -> Any:
    """A CLI value `k=v`: v is read as YAML, so numbers, booleans, lists and {dist: ...} work."""
    try:
        return yaml.load(text, Loader=_SafeLoader)
    except yaml.YAMLError:
        return text


def apply_overrides(data: dict, overrides: Mapping[str, Any], shown: str) -> tuple[dict, set[str]]:
    """Set each dotted path in a copy of `data`; returns the copy and the paths that were new keys."""
    out = copy.deepcopy(data)
    problems, created = [], set()
    for dotted, value in overrides.items():
        parts = dotted.split(".")
        node: Any = out
        ok = True
        for i, part in enumerate(parts[:-1]):
            node, ok = _step(node, part)
            if not ok:
                problems.append(Problem(shown, dotted, f"override path does not exist (no '{'.'.join(parts[: i + 1])}')"))
                break
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
    if isinstance(node, dict) and part in node:
        return node[part], True
    if isinstance(node, list) and part.isdigit() and int(part) < len(node):
        return node[int(part)], True
    return None, False


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
    """Validate an already-merged mapping into a Scenario."""
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(pydantic_problems(exc, shown, override_paths)) from None
    except RecursionError:
        raise ScenarioError([Problem(shown, "", "scenario nested too deeply")]) from None
    problems = check_references(scenario, shown)
    if problems:
        raise ScenarioError(problems)
    return scenario


# --- turning pydantic errors into one readable line per problem -------------------------------

_BRANCH_PREFIXES = ("function-", "tagged-union", "constrained-", "lax-", "json-or-python", "chain")
_TYPE_TAGS = {"float", "int", "str", "bool", "date", "list", "dict", "none", "is-instance"}
_DIST_TAGS = {"fixed", "exponential", "uniform", "triangular", "lognormal", "normal", "empirical"}
_DISRUPTION_TAGS = {"pause", "outage", "capacity", "gate"}


def _clean_loc(loc) -> tuple[list[str], str | None]:
    """Dotted path parts without pydantic's union-branch markers, and the branch taken (if any)."""
    parts, branch = [], None
    for seg in loc:
        s = str(seg)
        if s.startswith(_BRANCH_PREFIXES) or s in _TYPE_TAGS:
            branch = branch or s
            continue
        parts.append(s)
    return parts, branch


def pydantic_problems(exc: ValidationError, shown: str, override_paths=frozenset()) -> list[Problem]:
    """One Problem per path, choosing the union branch that matches the input's type."""
    by_path: dict[str, list[tuple[str | None, dict]]] = {}
    for err in exc.errors(include_url=False):
        parts, branch = _clean_loc(err["loc"])
        by_path.setdefault(".".join(parts), []).append((branch, err))
    problems = []
    for path, errs in by_path.items():
        err = _best(errs)
        problems.append(Problem(shown, path, _message(err, path, override_paths)))
    # A path whose parent also failed says nothing new; keep the deepest.
    return problems


def _best(errs):
    """Among a union's branch errors pick the one that speaks to what the user wrote."""
    if len(errs) == 1:
        return errs[0][1]
    inp = errs[0][1].get("input")
    numeric = isinstance(inp, (int, float)) and not isinstance(inp, bool)
    for branch, err in errs:
        is_num_branch = branch is not None and (branch in {"float", "int"} or branch.startswith("constrained-"))
        if numeric and is_num_branch:
            return err
        if isinstance(inp, dict) and not is_num_branch and err["type"] != "model_type":
            return err
    return errs[0][1]


def _message(err: dict, path: str, override_paths) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        if path in override_paths:
            return "override path does not exist" + _suggest(err["loc"])
        key = str(err["loc"][-1])
        return f"unknown key '{key}'" + _suggest(err["loc"])
    if kind == "missing":
        return "required field is missing"
    if kind == "union_tag_invalid":
        tag = err.get("ctx", {}).get("tag")
        expected = err.get("ctx", {}).get("expected_tags", "")
        return f"unknown kind '{tag}' (expected one of {expected})"
    if kind == "union_tag_not_found":
        return f"needs a '{err.get('ctx', {}).get('discriminator', 'kind').strip(chr(39))}' key"
    msg = err["msg"]
    if kind == "value_error" and msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    inp = err.get("input")
    if isinstance(inp, (str, int, float)) and not isinstance(inp, bool) and len(repr(inp)) < 60:
        msg += f" (got {inp!r})"
    return msg


def _suggest(loc) -> str:
    """' (did you mean 'x'?)' using the valid keys at the unknown key's place in the schema."""
    key = str(loc[-1])
    valid = _valid_keys(loc[:-1])
    close = difflib.get_close_matches(key, valid, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _valid_keys(loc) -> list[str]:
    tp: Any = Scenario
    for seg in loc:
        tp = _descend(tp, str(seg))
        if tp is None:
            return []
    return _fields_of(tp)


def _fields_of(tp) -> list[str]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return [f.alias or name for name, f in tp.model_fields.items()]
    out = []
    for arg in _union_args(tp):
        out.extend(_fields_of(arg))
    return out


def _union_args(tp):
    tp = _unannotate(tp)
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return [_unannotate(a) for a in typing.get_args(tp)]
    return [tp]


def _unannotate(tp):
    while typing.get_origin(tp) is typing.Annotated:
        tp = typing.get_args(tp)[0]
    return tp


def _descend(tp, seg: str):
    tp = _unannotate(tp)
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = _union_args(tp)
        for arg in args:  # a discriminator tag names the branch
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                tag_field = arg.model_fields.get("dist") or arg.model_fields.get("kind")
                if tag_field is not None and seg in typing.get_args(_unannotate(tag_field.annotation)):
                    return arg
            if seg in _TYPE_TAGS or seg.startswith(_BRANCH_PREFIXES):
                return tp
        for arg in args:
            found = _descend(arg, seg)
            if found is not None:
                return found
        return None
    if origin is dict:
        return typing.get_args(tp)[1]
    if origin is list:
        return typing.get_args(tp)[0] if seg.isdigit() else None
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        for name, f in tp.model_fields.items():
            if seg in (name, f.alias):
                return f.annotation
    return None
