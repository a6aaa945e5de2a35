"""Ukraine's side of a scenario: what it holds of each item and how fast it uses it (specs; sim.model.ukraine runs them)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .fields import Frozen, Id, Moment

PerDay = Annotated[float, Field(ge=0, le=1e9)]


class Surge(Frozen):
    """Extra use over a window (a winter of strikes on the energy grid)."""

    start: Moment = Field(description="Start of the surge: a date or days from start.")
    end: Moment = Field(description="End of the surge: a date or days from start.")
    per_day: PerDay = Field(description="Extra units used a day during the surge (>= 0).")


class UkraineItem(Frozen):
    """Ukraine's stock of one item and its use: a base rate a day plus surges; deliveries add to it."""

    on_hand: Annotated[float, Field(ge=0, le=1e9)] = Field(0.0, description="Units held at the start (>= 0).")
    per_day: PerDay = Field(0.0, description="Units used a day, every day (>= 0).")
    surges: list[Surge] = Field(default_factory=list, max_length=1000, description="Extra use over windows.")


class Ukraine(Frozen):
    """Ukraine's stock and use of the items it receives; no entry, no stock kept for that item."""

    items: dict[Id, UkraineItem] = Field(default_factory=dict, description="Stock and use per item.")

    def references(self, path: str) -> list[tuple[str, str, str]]:
        """(kind, name, path) of every item this section names."""
        return [("item", name, f"{path}.items.{name}") for name in self.items]
