"""Errors a user can cause and errors only a bug can cause, kept apart."""

from __future__ import annotations

import re
from dataclasses import dataclass

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides that reorder text.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` with every character that could drive a terminal written as an escape (ESC as \\x1b)."""
    return _UNPRINTABLE.sub(lambda m: f"\\x{ord(m[0]):02x}" if ord(m[0]) < 0x100 else f"\\u{ord(m[0]):04x}", str(text))


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario: where (file, dotted path, and the key's line and column when known) and what.

    Printed `FILE:LINE:COL: path: message` (the form compilers and editors jump to), or
    `FILE: path: message` when the problem has no place in a file (a --set value, a whole file).
    """

    file: str
    path: str
    message: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        at = f":{self.line}:{self.column}" if self.line is not None else ""
        # One problem, one line: a message with a newline would look like two problems.
        return printable(re.sub(r"\s*[\r\n]+\s*", " ", f"{self.file}{at}: {where}{self.message}"))


class ScenarioError(ValueError):
    """A scenario (or an option naming a scenario field) is invalid; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class InvariantError(AssertionError):
    """A conservation or non-negativity invariant failed at the end of a run: always a bug."""
