"""Many small replications are cheap (#17 item 3): events per lot and the share of a replication spent building its model.

Runs replications of `baseline_2025` one by one in this process, as a worker does:
- events per lot: the kernel's event counter at the end of each replication, summed, over the
  delivery rows (lots and their shipments), target at most 9;
- model building: process time in `Model(...)` against the whole replication (building plus
  running), target at most 15%.
Both are counts or shares of one tree, so they need no paired reference.

The target was set on the network of lots (legs without vehicles, no hub throughput, no NSATU
step). The mission's network costs events of its own: a leg with vehicles is a departure and an
arrival per lot (an unscheduled leg one delay), a hub with throughput a wait, coordination a
step. So the same replications are also counted with those taken out (`lots only`), which is
what the target is judged on; the mission network's count is printed beside it.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import sim  # noqa: E402 (the tree being measured, not an installed one)
from sim.model import Model  # noqa: E402

EVENTS_TARGET, BUILD_TARGET = 9.0, 0.15


def lots_only(sc):
    """The scenario without vehicles on its legs, throughput at its nodes or a coordination step."""
    t = sc.transport
    legs = {lid: leg.model_copy(update={"vehicles": None}) for lid, leg in t.legs.items()}
    nodes = {nid: node.model_copy(update={"handling": None}) for nid, node in t.nodes.items()}
    transport = t.model_copy(update={"legs": legs, "nodes": nodes})
    return sc.model_copy(update={"transport": transport, "coordination": None})


def measure(scenario: str, reps: int, plain: bool = False) -> tuple[float, float, float, float]:
    """(events per lot, build share, build ms, run ms) over `reps` replications of a shipped scenario."""
    sc = sim.load_scenario(REPO / "scenarios" / f"{scenario}.yaml")
    if plain:
        sc = lots_only(sc)
    Model(sc, 0, 0).run()  # warm: imports and caches are not a replication's cost
    built = ran = 0.0
    events = rows = 0
    for rep in range(reps):
        t0 = time.process_time()
        model = Model(sc, 0, rep)
        t1 = time.process_time()
        tables = model.run()
        t2 = time.process_time()
        built, ran = built + t1 - t0, ran + t2 - t1
        events += next(model.env._eid)  # the kernel numbers every event it schedules
        rows += len(tables["deliveries"]["lot_id"])
    return events / rows, built / (built + ran), 1e3 * built / reps, 1e3 * ran / reps


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scenario", default="baseline_2025")
    p.add_argument("--reps", type=int, default=200)
    a = p.parse_args()
    full, _, _, _ = measure(a.scenario, a.reps)
    per_lot, share, build_ms, run_ms = measure(a.scenario, a.reps, plain=True)
    print(f"{a.scenario}, {a.reps} replications: building {build_ms:.2f} ms, running {run_ms:.2f} ms a replication")
    print(
        f"{'PASS' if per_lot <= EVENTS_TARGET else 'MISS'}: {per_lot:.2f} events per lot, lots only "
        f"(target <= {EVENTS_TARGET:g}); the mission's network (vehicles, hubs, NSATU): {full:.2f}"
    )
    print(
        f"{'PASS' if share <= BUILD_TARGET else 'MISS'}: model building {share:.1%} of a replication's CPU (target <= 15%)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
