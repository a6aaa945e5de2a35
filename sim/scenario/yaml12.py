"""Reading scenario YAML safely, as YAML 1.2 (core schema) reads it, with every size limit enforced while parsing.

PyYAML implements YAML 1.1, which reads `010` as 8, `6:40` as 400, `yes`/`off` as booleans and
`1e12` as text, lets a duplicate key silently replace the first, and builds sets, binary data or
Python objects from tags. Scenario files follow YAML 1.2 instead: this loader keeps PyYAML's
(pure Python) parser but resolves plain scalars by the 1.2 core schema, plus `YYYY-MM-DD` dates
that the format uses for moments; it refuses duplicate keys, merge keys (`<<`, gone in 1.2) and
every tag outside the core schema, and it counts aliases and values as they are read, so an
alias bomb or a file of ten million values is refused after the first million, not after all.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import ClassVar

import yaml
from yaml.composer import Composer
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode
from yaml.parser import Parser
from yaml.reader import Reader
from yaml.resolver import BaseResolver
from yaml.scanner import Scanner

MAX_ALIASES = 1000
MAX_DEPTH = 64
# Values in the document once every alias is expanded; a big real scenario has a few thousand.
MAX_EXPANDED = 1_000_000
# An integer this long is far outside every field's range; Python would refuse above 4300 digits.
MAX_INT_DIGITS = 1000

TAG = "tag:yaml.org,2002:"
_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
)
_DATE = re.compile(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}$")


class _Resolver12(BaseResolver):
    """Plain scalars resolved by the YAML 1.2 core schema (null, true/false, decimal/0o/0x ints, floats) and dates."""


_Resolver12.add_implicit_resolver(TAG + "null", re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
_Resolver12.add_implicit_resolver(TAG + "bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_Resolver12.add_implicit_resolver(TAG + "int", _INT, list("-+0123456789"))
_Resolver12.add_implicit_resolver(TAG + "float", _FLOAT, list("-+0123456789."))
_Resolver12.add_implicit_resolver(TAG + "timestamp", _DATE, list("0123456789"))


class _Constructor12(SafeConstructor):
    """Only the core schema's types (and dates); duplicate keys, merge keys and every other tag refused."""

    yaml_constructors: ClassVar[dict] = {}

    def construct_int12(self, node):
        text = self.construct_scalar(node)
        if not _INT.match(text):
            raise ConstructorError(None, None, f"'{text}' is not an integer", node.start_mark)
        if len(text) > MAX_INT_DIGITS:
            raise ConstructorError(
                None, None, f"an integer of {len(text):,} digits is far outside any field's range", node.start_mark
            )
        if text.startswith(("0o", "0x")):
            return int(text[2:], 8 if text[1] == "o" else 16)
        return int(text)  # decimal, even with leading zeros: 010 is ten (YAML 1.2), not octal

    def construct_float12(self, node):
        text = self.construct_scalar(node)
        if not _FLOAT.match(text):
            raise ConstructorError(None, None, f"'{text}' is not a number", node.start_mark)
        low = text.lower()
        if low.endswith(".inf"):
            return float("-inf") if low.startswith("-") else float("inf")
        if low == ".nan":
            return float("nan")
        return float(text)

    def construct_date(self, node):
        """A date such as 2025-13-45 is a problem at its line, not a crash."""
        try:
            return self.construct_yaml_timestamp(node)
        except (ValueError, OverflowError) as exc:
            raise ConstructorError(None, None, f"invalid date '{node.value}' ({exc})", node.start_mark) from None

    def construct_mapping(self, node, deep=False):
        if not isinstance(node, MappingNode):
            raise ConstructorError(None, None, f"expected a mapping, found {node.id}", node.start_mark)
        mapping: dict = {}
        first: dict = {}
        for key_node, value_node in node.value:
            if key_node.tag == TAG + "merge" or (key_node.value == "<<" and key_node.style is None):
                raise ConstructorError(
                    None,
                    None,
                    "merge keys ('<<') are not YAML 1.2: write the keys out "
                    "(anchors and aliases of whole values are allowed)",
                    key_node.start_mark,
                )
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                raise ConstructorError(
                    None, None, "a mapping key must be a plain value, not a list or mapping", key_node.start_mark
                )
            if key in mapping:
                line = first[key].line + 1
                raise ConstructorError(
                    None, None, f"duplicate key '{key}' (first given on line {line})", key_node.start_mark
                )
            first[key] = key_node.start_mark
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping

    def construct_refused(self, node):
        """Any tag outside the core schema (!!python/..., !!set, !!binary, !!omap, local tags) is refused."""
        tag = node.tag.replace(TAG, "!!")
        raise ConstructorError(
            None,
            None,
            f"tag '{tag}' is not allowed: scenario files hold plain YAML 1.2 data "
            "(text, numbers, true/false, null, dates, lists and mappings)",
            node.start_mark,
        )


for _tag, _make in {
    "null": SafeConstructor.construct_yaml_null,
    "bool": SafeConstructor.construct_yaml_bool,
    "int": _Constructor12.construct_int12,
    "float": _Constructor12.construct_float12,
    "timestamp": _Constructor12.construct_date,
    "str": SafeConstructor.construct_yaml_str,
    "seq": SafeConstructor.construct_yaml_seq,
    "map": SafeConstructor.construct_yaml_map,
}.items():
    # The stubs type a constructor's first argument as one of PyYAML's own loaders; ours is this class.
    _Constructor12.add_constructor(TAG + _tag, _make)  # type: ignore[type-var]
_Constructor12.add_constructor(None, _Constructor12.construct_refused)  # type: ignore[type-var]


class Loader12(Reader, Scanner, Parser, Composer, _Constructor12, _Resolver12):
    """The scenario loader: YAML 1.2 core schema, aliases and values counted while the file is read."""

    def __init__(self, stream):
        Reader.__init__(self, stream)
        Scanner.__init__(self)
        Parser.__init__(self)
        Composer.__init__(self)
        _Constructor12.__init__(self)
        _Resolver12.__init__(self)
        self._aliases = 0
        self._nodes = 0

    def compose_node(self, parent, index):
        mark = self.peek_event().start_mark
        if self.check_event(yaml.AliasEvent):
            self._aliases += 1
            if self._aliases > MAX_ALIASES:
                raise yaml.MarkedYAMLError(
                    problem=f"more than {MAX_ALIASES} aliases: refused as a possible alias bomb", problem_mark=mark
                )
        else:
            self._nodes += 1
            if self._nodes > MAX_EXPANDED:
                raise yaml.MarkedYAMLError(
                    problem=f"more than {MAX_EXPANDED:,} values: refused while reading", problem_mark=mark
                )
        return super().compose_node(parent, index)


def load_yaml(text: str):
    """The YAML 1.2 data of one document (raises yaml.YAMLError, RecursionError)."""
    return load_yaml_marked(text)[0]


# Where each key of a document is: dotted path -> (line, column, 1-based; True when its value is a mapping).
Marks = dict[str, tuple[int, int, bool]]


def load_yaml_marked(text: str) -> tuple[object, Marks]:
    """The YAML 1.2 data of one document and the line and column of every mapping key and list item in it."""
    loader = Loader12(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None, {}
        return loader.construct_document(node), _marks(node)
    finally:
        loader.dispose()


def _marks(root) -> Marks:
    """Dotted path -> (line, column, value is a mapping) of every key and list item, each node walked once.

    A node reached again through an alias keeps the place it was first written, so the walk is
    linear in the file however the aliases multiply it. List items are numbered as the error
    paths number them (`packages.0.lines`).
    """
    out: Marks = {}
    seen: set[int] = set()
    stack = [("", root)]
    while stack:
        prefix, node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            children = [(str(k.value), k.start_mark, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)]
        elif isinstance(node, yaml.SequenceNode):
            children = [(str(i), v.start_mark, v) for i, v in enumerate(node.value)]
        else:
            continue
        for key, mark, value in children:
            path = f"{prefix}.{key}" if prefix else key
            out.setdefault(path, (mark.line + 1, mark.column + 1, isinstance(value, MappingNode)))
            stack.append((path, value))
    return out


def one_line(text: str) -> str:
    """The text with every run of whitespace (newlines included) made one space."""
    return " ".join(str(text).split())


def yaml_problem(exc: yaml.YAMLError, text: str) -> str:
    """One line, with line and column, for any YAML error."""
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        what = exc.problem or exc.context or "invalid YAML"
        if exc.context and exc.problem:
            what = f"{exc.problem} ({exc.context})"
        # A constructor error is well-formed YAML holding a value we refuse (a bad date, a tag).
        kind = "YAML error" if isinstance(exc, ConstructorError) else "YAML syntax error"
        return one_line(f"{kind}: {where}{what}")
    if isinstance(exc, yaml.reader.ReaderError):
        before = text[: exc.position]
        line, column = before.count("\n") + 1, exc.position - (before.rfind("\n") + 1) + 1
        char = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        return f"YAML syntax error: line {line}, column {column}: character {char} is not allowed in YAML text"
    return one_line(f"YAML error: {exc}")


class _Refused(Exception):
    """Stops the walk of `measure` with the reason the document is refused."""


def measure(data) -> str | None:
    """Why the document is too big, too deep or self-referring once aliases are expanded (None if fine).

    Shared sub-documents are sized once (memoised by identity), so this is linear in the file, not
    in the expansion: nine levels of nine aliases are refused in microseconds instead of walked.
    Iterative, so a mapping built in code and nested a million deep is refused, not a RecursionError.
    """
    sizes: dict[int, int] = {}
    active: set[int] = set()
    # (object, level, iterator over its children or None when not yet entered, running total)
    stack: list[list] = [[data, 0, None, 1]]
    try:
        while stack:
            frame = stack[-1]
            obj, level, children, total = frame
            if children is None:
                if not isinstance(obj, (dict, list)):
                    stack.pop()
                    _add(stack, 1)
                    continue
                key = id(obj)
                if key in sizes:
                    stack.pop()
                    _add(stack, sizes[key])
                    continue
                if key in active:
                    raise _Refused("an alias refers to its own anchor (a recursive structure)")
                if level > MAX_DEPTH:
                    raise _Refused(f"nested deeper than {MAX_DEPTH} levels")
                active.add(key)
                frame[2] = iter(list(obj.values() if isinstance(obj, dict) else obj))
                continue
            if total > MAX_EXPANDED:
                raise _Refused(
                    f"more than {MAX_EXPANDED:,} values once aliases are expanded: refused as a possible alias bomb"
                )
            child = next(children, _END)
            if child is _END:
                stack.pop()
                active.discard(id(obj))
                sizes[id(obj)] = total
                _add(stack, total)
            else:
                stack.append([child, level + 1, None, 1])
    except _Refused as exc:
        return str(exc)
    return None


_END = object()


def _add(stack: list[list], n: int) -> None:
    """Count a finished child's size into its parent's running total."""
    if stack:
        stack[-1][3] += n
