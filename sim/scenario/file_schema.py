"""The JSON Schema of a scenario file as written, for editors and validators (`purlsim schema`).

It differs from the schema of the validated `Scenario` (pydantic's) in what a file may leave out:
- any file may set `extends:` (a path, or `purlsim:NAME` for a shipped scenario);
- any file may be partial, because it may extend another or be extended (the shipped
  `common/base.yaml` has no `requests`): along mappings, which merge key by key, nothing is
  required. An entry of a list (a package, a disruption, a ramp) replaces the parent's list
  whole, so within lists every required field stays required.
What only the loader checks (one of unit_days/rate_per_month, references between sections,
windows, the merged scenario's required fields) stays with `purlsim validate`.

Every field carries a description: its meaning and unit (`descriptions.MEANINGS`, or the
pydantic description), whether it is required, the allowed range and the default, the last
three read from the schema itself. The package ships the result as `sim/data/scenario.schema.json`;
a test keeps that file equal to `schema_text()`.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from .descriptions import MEANINGS
from .schema import MAX_HORIZON_DAYS, Scenario

DRAFT = "https://json-schema.org/draft/2020-12/schema"
TITLE = "purlsim scenario file (format v1)"
PARTIAL = "Partial"
DISTRIBUTIONS = ("Fixed", "Exponential", "Uniform", "Triangular", "Lognormal", "Normal", "Empirical")
_REF = "#/$defs/"
_ID_PATTERN = "^[A-Za-z0-9_][A-Za-z0-9_\\-]*$"
# Ranges a field validator enforces, which pydantic's schema cannot see.
_VALIDATED = {
    ("Scenario", "horizon_days"): {"maximum": MAX_HORIZON_DAYS},
    ("Gate", "p_continue"): {"minimum": 0, "maximum": 1},
}


def file_schema() -> dict:
    """The JSON Schema (draft 2020-12) of a scenario file as written, partial files and `extends:` included."""
    doc = Scenario.model_json_schema(by_alias=True)
    defs = doc.pop("$defs")
    defs["Scenario"] = doc
    doc["properties"] = {"extends": {"type": "string", "minLength": 1}, **doc["properties"]}
    for name, model in defs.items():
        for field, prop in model.get("properties", {}).items():
            prop.update(_VALIDATED.get((name, field), {}))
            meaning = prop.get("description") or MEANINGS[f"{name}.{field}"]
            required = " Required." if field in model.get("required", ()) and name != "Scenario" else ""
            prop["description"] = f"{meaning}{required} {_allowed(prop)}{_default(prop)}"
    partials = {PARTIAL + name: _partial(model) for name, model in defs.items()}
    root = partials.pop(PARTIAL + "Scenario")
    del defs["Scenario"]
    every = {**defs, **partials}
    used = _reachable(root, every)
    out: dict[str, Any] = {"$schema": DRAFT, "title": TITLE}
    out.update({k: v for k, v in root.items() if k != "title"})
    out["description"] = (
        "A purlsim scenario file. It may be partial: it may extend another (extends:) or be "
        "extended. `purlsim validate FILE` checks the merged scenario."
    )
    out["$defs"] = {k: every[k] for k in sorted(used)}
    return out


def schema_text() -> str:
    """`file_schema()` as the text `purlsim schema` prints and the package ships."""
    return json.dumps(file_schema(), indent=2, ensure_ascii=False) + "\n"


def _partial(node: Any) -> Any:
    """A copy where nothing reached through mappings is required (list entries stay complete)."""
    if isinstance(node, list):
        return [_partial(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "required":
            continue
        if key in ("properties", "patternProperties"):  # keys here are field names, not keywords
            out[key] = {name: _partial(sub) for name, sub in value.items()}
        elif key == "items":  # a list replaces its parent's whole: its entries are complete
            out[key] = copy.deepcopy(value)
        elif key == "$ref" and value.startswith(_REF):
            out[key] = _REF + PARTIAL + value[len(_REF) :]
        elif key == "oneOf":  # partial alternatives may overlap (a bare {mean: 9}): any one that fits
            out["anyOf"] = _partial(value)
        elif key == "discriminator":
            continue  # an OpenAPI keyword; its mapping names the complete alternatives
        else:
            out[key] = _partial(value)
    return out


def _reachable(root: dict, defs: dict) -> set[str]:
    """Names of the definitions that `root` refers to, directly or through other definitions."""
    seen: set[str] = set()
    todo = [root]
    while todo:
        node = todo.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(_REF) and ref[len(_REF) :] not in seen:
                seen.add(ref[len(_REF) :])
                todo.append(defs[ref[len(_REF) :]])
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return seen


def _num(v: float) -> str:
    return f"{int(v):,}" if float(v).is_integer() and abs(v) < 1e7 else f"{v:g}"


def _bounds(
    node: dict,
    low: str = "minimum",
    high: str = "maximum",
    x_low: str = "exclusiveMinimum",
    x_high: str = "exclusiveMaximum",
) -> str:
    parts = [f"{op} {_num(node[k])}" for k, op in ((x_low, ">"), (low, ">="), (x_high, "<"), (high, "<=")) if k in node]
    return " and ".join(parts)


def _count(node: dict, low: str, high: str, what: str) -> str:
    lo, hi = node.get(low), node.get(high)
    if lo is not None and hi is not None:
        return f" of {_num(lo)} to {_num(hi)} {what}"
    if lo is not None:
        return f" of at least {_num(lo)} {what}"
    return f" of at most {_num(hi)} {what}" if hi is not None else ""


def _one(node: dict) -> str:
    """One alternative of a field's type in words, with its range."""
    ref = node.get("$ref", "")
    if ref.startswith(_REF):
        name = ref[len(_REF) :]
        return f"a {name.lower()} distribution" if name in DISTRIBUTIONS else f"a {name} section"
    if "oneOf" in node or "anyOf" in node:
        alts: list[dict] = node.get("oneOf") or node["anyOf"]
        if all(a.get("$ref", "")[len(_REF) :] in DISTRIBUTIONS for a in alts):
            return "a distribution ({dist: " + " | ".join(a["$ref"][len(_REF) :].lower() for a in alts) + ", ...})"
        return " or ".join(_one(a) for a in alts)
    if "const" in node:
        return f"'{node['const']}'"
    if "enum" in node:
        return "one of " + ", ".join(str(v) for v in node["enum"])
    kind = node.get("type")
    if kind == "null":
        return "null (none)"
    if kind == "boolean":
        return "true or false"
    if kind in ("number", "integer"):
        bounds = _bounds(node)
        return ("a whole number" if kind == "integer" else "a number") + (f" {bounds}" if bounds else "")
    if kind == "string":
        if node.get("format") == "date":
            return "a date (YYYY-MM-DD)"
        if node.get("pattern") == _ID_PATTERN:
            return f"an id (letters, digits, _ and -, at most {node.get('maxLength', 64)} characters)"
        return "text" + _count(node, "minLength", "maxLength", "characters")
    if kind == "array":
        return "a list" + _count(node, "minItems", "maxItems", "entries") + " of " + _one(node.get("items", {}))
    if kind == "object":
        values = node.get("patternProperties") or {}
        inner = _one(next(iter(values.values()))) if values else _one(node.get("additionalProperties") or {})
        key = "id" if values else "key"
        return "a map" + _count(node, "minProperties", "maxProperties", "entries") + f" of {key} to {inner}"
    return "any value"


def _allowed(prop: dict) -> str:
    return f"Allowed: {_one(prop)}."


def _default(prop: dict) -> str:
    value = prop.get("default")
    if value is None or isinstance(value, dict) or (isinstance(value, list) and value):
        return ""
    return f" Default: {json.dumps(value)}."
