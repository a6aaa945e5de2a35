"""Delivery times of our scenarios against their recorded baselines (the purlsim pytest plugin).

Paths are relative to this file. The first run fails and says how to record the baseline
(`pytest --purlsim-record`); later runs fail when delivery times move, with a table of what moved
and the command that re-records it if the change is intended (`pytest --purlsim-update`).
"""


def test_my_scenario_delivery_times(delivery_baseline):
    delivery_baseline.check("../scenarios/my_scenario.yaml", reps=10)
