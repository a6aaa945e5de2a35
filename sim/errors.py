"""Errors a user can cause and errors only a bug can cause, kept apart."""
from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a scenario: where (file and dotted path) and what."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.path}: " if self.path else ""
        # One problem, one line: a message with a newline would look like two problems.
        return re.sub(r"\s*[\r\n]+\s*", " ", f"{self.file}: {where}{self.message}")


class ScenarioError(ValueError):
    """A scenario (or an option naming a scenario field) is invalid; carries every problem found."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class InvariantError(AssertionError):
    """A conservation or non-negativity invariant failed at the end of a run: always a bug."""
