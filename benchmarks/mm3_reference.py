"""The M/M/3 queue of benchmarks/scenarios/mm3.yaml written by hand in SimPy and in Ciw.

These are the yardsticks of the engine-overhead benchmark: the same arrivals and service
distributions, the minimum code each tool needs, and the records a user would keep (one wait
per customer). Random draws are batched with numpy, as purlsim does, so the comparison is of
event-handling overhead, not of random number generation.
"""

from __future__ import annotations

import numpy as np
import simpy

LAMBDA, MU, SERVERS = 27.0, 10.0, 3


def simpy_mm3(n: int, seed: int = 1) -> np.ndarray:
    """Latencies (wait + service) of n customers in a hand-written SimPy M/M/3."""
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(1 / LAMBDA, n).tolist()
    services = rng.exponential(1 / MU, n).tolist()
    env = simpy.Environment()
    servers = simpy.Resource(env, capacity=SERVERS)
    latency = [0.0] * n

    def customer(i):
        arrive = env.now
        with servers.request() as req:
            yield req
            yield env.timeout(services[i])
        latency[i] = env.now - arrive

    def source():
        for i in range(n):
            yield env.timeout(gaps[i])
            env.process(customer(i))

    env.process(source())
    env.run()
    return np.asarray(latency)


def ciw_mm3(n: int, seed: int = 1) -> np.ndarray:
    """Latencies of the first n customers through the same M/M/3 in Ciw."""
    import ciw

    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=LAMBDA)],
        service_distributions=[ciw.dists.Exponential(rate=MU)],
        number_of_servers=[SERVERS],
    )
    ciw.seed(seed)
    q = ciw.Simulation(network)
    # Ciw stops on a time, not a count: run to just past the expected time of n arrivals.
    q.simulate_until_max_customers(n, method="Finish")
    recs = q.get_all_records()
    return np.asarray([r.exit_date - r.arrival_date for r in recs])


def simpy_tandem2(n: int, seed: int = 1) -> np.ndarray:
    """Latencies of n customers through benchmarks/scenarios/tandem2.yaml written by hand in SimPy:
    a line and two one-at-a-time legs, each a PriorityResource serving urgent (0) before routine (1)."""
    rng = np.random.default_rng(seed)
    gaps = rng.exponential(0.5, n).tolist()
    urgent = (rng.random(n) < 0.3).tolist()
    stages = [rng.exponential(mean, n).tolist() for mean in (0.4, 0.35, 0.45)]
    env = simpy.Environment()
    servers = [simpy.PriorityResource(env, capacity=1) for _ in stages]
    latency = [0.0] * n

    def customer(i):
        arrive, prio = env.now, 0 if urgent[i] else 1
        for server, times in zip(servers, stages):
            with server.request(priority=prio) as req:
                yield req
                yield env.timeout(times[i])
        latency[i] = env.now - arrive

    def source():
        for i in range(n):
            yield env.timeout(gaps[i])
            env.process(customer(i))

    env.process(source())
    env.run()
    return np.asarray(latency)
