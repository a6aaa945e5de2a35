"""Reading scenario files: YAML in, a validated `Scenario` out, or one ScenarioError listing every problem.

Steps: YAML 1.2 read safely with its limits enforced while parsing (`yaml12`), `extends:` resolved
depth-first (a path relative to the file's folder, or `purlsim:NAME` for a scenario shipped in the
package, see `shipped`) with cycle detection and deep merge (mappings merge, everything else replaces),
dotted overrides applied to the merged mapping, then pydantic validation (its errors worded by
`wording`), then cross-reference checks (`references`).
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Mapping, Set
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from ..errors import Problem, ScenarioError
from . import shipped, uncertain
from .references import check_references
from .schema import Scenario
from .wording import _descend, _suggest, _unannotate, _union_args, pydantic_problems
from .yaml12 import (
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_EXPANDED,
    Marks,
    load_yaml,
    load_yaml_marked,
    measure,
    one_line,
    yaml_problem,
)

__all__ = [
    "MAX_ALIASES",
    "MAX_DEPTH",
    "MAX_EXPANDED",
    "MAX_FILE_BYTES",
    "load_scenario",
    "validate_mapping",
    "deep_merge",
    "apply_overrides",
    "parse_override_value",
    "input_files",
    "read_merged",
    "pydantic_problems",
]

MAX_FILE_BYTES = 20 * 1024 * 1024


def _read_yaml(path: Path, shown: str) -> tuple[dict, Marks]:
    """Parse one YAML file into a mapping and the places of its keys, or raise ScenarioError naming the file."""
    try:
        refused = (
            "file not found"
            if not path.exists()
            else "not a file"
            if not path.is_file()
            else f"file larger than {MAX_FILE_BYTES // 2**20} MiB"
            if path.stat().st_size > MAX_FILE_BYTES
            else None
        )
        if refused is None:
            text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem(shown, "", f"not UTF-8 text (byte {exc.start}: {exc.reason})")]) from None
    except (OSError, ValueError) as exc:  # a name too long, a directory not searchable, a NUL in the path
        reason = exc.strerror.lower() if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ScenarioError([Problem(shown, "", f"cannot read file: {reason}")]) from None
    if refused is not None:
        raise ScenarioError([Problem(shown, "", refused)])
    try:
        data, marks = load_yaml_marked(text)
    except yaml.YAMLError as exc:
        raise ScenarioError([Problem(shown, "", yaml_problem(exc, text))]) from None
    except RecursionError:
        raise ScenarioError([Problem(shown, "", "YAML nested too deeply")]) from None
    except (ValueError, TypeError, OverflowError) as exc:  # a constructor PyYAML does not guard
        raise ScenarioError([Problem(shown, "", one_line(f"YAML error: {exc}"))]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ScenarioError([Problem(shown, "", "the top level must be a mapping of sections")])
    problem = measure(data)
    if problem:
        raise ScenarioError([Problem(shown, "", problem)])
    return data, marks


# Where each key of a merged scenario was written: dotted path -> (file shown, line, column).
Places = dict[str, tuple[str, int, int]]


def _lay_over(places: Places, shown: str, marks: Marks) -> None:
    """Record the keys of file `shown` over those of the files it extends, as deep_merge lays their values.

    A key whose value is not a mapping replaces the whole value below it: the places of the
    base's keys under it go (they are no longer in the merged scenario).
    """
    replaced = {path for path, (_, _, is_mapping) in marks.items() if not is_mapping}
    if replaced:
        for path in [p for p in places if _under_any(p, replaced)]:
            del places[path]
    for path, (line, column, _) in marks.items():
        places[path] = (shown, line, column)


def _under_any(path: str, prefixes: set[str]) -> bool:
    """True when a strict ancestor of dotted `path` is in `prefixes`."""
    head, dot, _ = path.rpartition(".")
    while dot:
        if head in prefixes:
            return True
        head, dot, _ = head.rpartition(".")
    return False


def locate(problems: list[Problem], places: Places, shown: str, override_paths=()) -> list[Problem]:
    """Each problem of the merged scenario `shown` at the file, line and column of its key (or of the
    nearest enclosing key written in a file); a problem with a value given by an override keeps no place."""
    out = []
    for p in problems:
        overridden = any(p.path == o or p.path.startswith(f"{o}.") for o in override_paths)
        if p.file != shown or not p.path or overridden or p.line is not None:
            out.append(p)
            continue
        path = p.path
        while path and path not in places:
            path = path.rpartition(".")[0]
        if path:
            file, line, column = places[path]
            p = Problem(file, p.path, p.message, line, column)
        out.append(p)
    return out


def deep_merge(base: Mapping, over: Mapping) -> dict:
    """A copy of `base` with `over` laid on top: mappings merge key by key, anything else replaces."""
    out = copy.deepcopy(dict(base))
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _resolve(
    path: Path, shown: str, stack: tuple[Path, ...], files: list[Path] | None = None, places: Places | None = None
) -> dict:
    """The file's mapping with its `extends:` chain merged underneath it; `files` collects every file read,
    `places` where each key of the merged mapping was written (see `locate`)."""
    try:
        real = path.resolve()
    except (OSError, ValueError, RuntimeError):
        real = path.absolute()
    if real in stack:
        chain = " -> ".join(p.name for p in (*stack, real))
        raise ScenarioError([Problem(shown, "extends", f"extends cycle: {chain}")])
    data, marks = _read_yaml(path, shown)
    if files is not None:
        files.append(real)
    parent = data.pop("extends", None)
    at = marks.get("extends", (None, None))[:2]
    if parent is None:
        base = {}
    elif not isinstance(parent, str) or not parent.strip():
        raise ScenarioError([Problem(shown, "extends", "must be a file path (a string)", *at)])
    elif shipped.is_reference(parent):
        try:
            parent_path = shipped.resolve_reference(parent)
        except ValueError as exc:
            raise ScenarioError([Problem(shown, "extends", str(exc), *at)]) from None
        base = _resolve(parent_path, parent, (*stack, real), files, places)
    else:
        parent_path = path.parent / parent
        try:
            found = parent_path.is_file()
        except (OSError, ValueError):
            found = False
        if not found:
            raise ScenarioError([Problem(shown, "extends", f"file not found: {parent}", *at)])
        base = _resolve(parent_path, str(parent_path), (*stack, real), files, places)
    if places is not None:
        marks.pop("extends", None)
        _lay_over(places, shown, marks)
    return deep_merge(base, data) if parent is not None else data


def parse_override_value(text: str) -> Any:
    """A CLI value `k=v`: v is read as YAML, so numbers, booleans, lists and {dist: ...} work."""
    try:
        value = load_yaml(text)
    except (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError):
        return text
    if isinstance(value, (dict, list)) and measure(value):
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
        if not isinstance(dotted, str):
            problems.append(
                Problem(
                    shown, str(dotted), "an override path must be text (a dotted path such as production.line.servers)"
                )
            )
            continue
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
                problems.append(
                    Problem(
                        shown,
                        dotted,
                        f"override path does not exist (no '{'.'.join(parts[: i + 1])}')"
                        + (_suggest(tuple(parts[: i + 1])) or _suggest_entry(part, node)),
                    )
                )
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


def _suggest_entry(part: str, node) -> str:
    """' (did you mean 'x'?)' from the entries the scenario has where the schema names none (a line, a leg, an index)."""
    if isinstance(node, list):
        return f" (the list has {len(node)} entries, 0 to {len(node) - 1})" if node else " (the list is empty)"
    if not isinstance(node, dict):
        return ""
    close = difflib.get_close_matches(part, [str(k) for k in node], n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


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
    for seg in parts:
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
    places: Places = {}
    data = _resolve(path, shown, (), places=places)
    created: set[str] = set()
    if overrides is not None and not isinstance(overrides, Mapping):
        raise ScenarioError([Problem(shown, "", "overrides must be a mapping of dotted paths to values")])
    if overrides:
        data, created = apply_overrides(data, overrides, shown)
        # An override fixes the inputs it sets; the ranges were checked on the file as written.
        data = uncertain.without(data, overrides)
    try:
        return validate_mapping(data, shown, created, check_uncertain=not overrides)
    except ScenarioError as exc:
        raise ScenarioError(locate(exc.problems, places, shown, list(overrides or ()))) from None


def validate_mapping(
    data: dict, shown: str = "<scenario>", override_paths: Set[str] = frozenset(), check_uncertain: bool = True
) -> Scenario:
    """Validate an already-merged mapping into a Scenario; raises ScenarioError listing every problem.

    check_uncertain: also check the paths and ranges of the `uncertain:` section (sim.scenario.uncertain).
    """
    if not isinstance(data, Mapping):
        raise ScenarioError([Problem(shown, "", "the top level must be a mapping of sections")])
    # A mapping built in code (not from YAML) gets the same size/depth/cycle guard as a file.
    refused = measure(data)
    if refused:
        raise ScenarioError([Problem(shown, "", refused)])
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(pydantic_problems(exc, shown, override_paths, data)) from None
    except RecursionError:
        raise ScenarioError([Problem(shown, "", "scenario nested too deeply")]) from None
    problems = check_references(scenario, shown)
    if not problems and scenario.uncertain and check_uncertain:
        problems = uncertain.check(data, shown, apply_overrides, validate_mapping)
    if problems:
        raise ScenarioError(problems)
    return scenario


def read_merged(path) -> dict:
    """A file's mapping with its `extends:` chain merged in, not yet validated; raises ScenarioError."""
    return _resolve(Path(path), str(path), ())


def input_files(path) -> list[Path]:
    """Every file a scenario is read from (itself and its `extends:` chain), resolved; raises ScenarioError."""
    files: list[Path] = []
    _resolve(Path(path), str(path), (), files)
    return files
