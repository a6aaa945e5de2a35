"""purlsim: a discrete-event simulator of weapons deliveries to Ukraine under NATO's PURL scheme.

import sim
scenario = sim.load_scenario("scenarios/baseline.yaml")
results = sim.run(scenario, reps=20, seed=1)
results.summary()
"""

from .errors import InvariantError, Problem, ScenarioError
from .experiments.compare import compare
from .experiments.ensemble import run
from .experiments.select import select
from .experiments.sensitivity import sensitivity
from .experiments.sweep import sweep
from .experiments.uncertainty import uncertainty
from .results import Results
from .scenario import Scenario, load_scenario

__version__ = "0.1.0"
__all__ = [
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
]
