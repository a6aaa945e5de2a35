"""What every part is built with besides its own section of the scenario: a small, fixed context."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only: the parts import this module, never the other way round
    from ..recorder import Recorder
    from ..scenario.fields import Moment
    from ..streams import Streams
    from .kernel import Kernel
    from .switchboard import Switchboard


@dataclass(frozen=True, slots=True)
class Context:
    """The clock, the random streams, the recorder and the switchboard of one replication.

    `day` turns a scenario moment (a date or a day number) into days from the start, and
    `horizon` is where the run stops; both are the scenario's, so a part needs no more of it
    than its own section.
    """

    env: Kernel
    streams: Streams
    recorder: Recorder
    switch: Switchboard
    day: Callable[[Moment], float]
    horizon: float
