"""purlsim: a discrete-event simulator of weapons deliveries to Ukraine under NATO's PURL scheme.

import sim
scenario = sim.load_scenario("scenarios/baseline.yaml")
results = sim.run(scenario, reps=20, seed=1)
results.summary()

The names below are imported on first use (PEP 562), so `import sim` and the commands that need
none of them (`purlsim --help`, `validate`, `schema`) do not pay for scipy, pandas or the model.
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what mypy and editors see; at run time __getattr__ imports on first use
    from .errors import InvariantError, Problem, ScenarioError
    from .experiments.compare import compare
    from .experiments.ensemble import run
    from .experiments.optimize import optimize
    from .experiments.select import select
    from .experiments.sensitivity import sensitivity
    from .experiments.sweep import sweep
    from .experiments.uncertainty import uncertainty
    from .results import Results
    from .scenario import Scenario, load_scenario

__version__ = "0.1.0"

# Each public name and the module it comes from.
_SOURCES = {
    "load_scenario": ".scenario",
    "run": ".experiments.ensemble",
    "Results": ".results",
    "Scenario": ".scenario",
    "ScenarioError": ".errors",
    "InvariantError": ".errors",
    "Problem": ".errors",
    "compare": ".experiments.compare",
    "sweep": ".experiments.sweep",
    "select": ".experiments.select",
    "sensitivity": ".experiments.sensitivity",
    "uncertainty": ".experiments.uncertainty",
    "optimize": ".experiments.optimize",
}
__all__ = [  # literal, for linters and `from sim import *`; the same names as _SOURCES (a test checks)
    "load_scenario",
    "run",
    "Results",
    "Scenario",
    "ScenarioError",
    "InvariantError",
    "Problem",
    "compare",
    "sweep",
    "select",
    "sensitivity",
    "uncertainty",
    "optimize",
]


def __getattr__(name: str) -> Any:
    """A public name, imported from its module the first time it is asked for (then cached here)."""
    source = _SOURCES.get(name)
    if source is not None:
        value = getattr(importlib.import_module(source, __name__), name)
    elif not name.startswith("_") and importlib.util.find_spec(f"{__name__}.{name}") is not None:
        # A subpackage (`sim.metrics`): `import sim` used to import them all, and code relies on it.
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later look-ups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
