"""Replications for the theory checks, reduced to a few numbers inside the worker process.

Each function runs ONE replication (the same `run_replication` that `sim.run` runs per
replication, invariants included) and returns small summaries, so that millions of customers
never cross a process boundary. `sim.run` would also build the DataFrames, which costs about as
much again as the simulation itself for these single-unit queues (measured: 2.9 s model vs 4.4 s
sim.run per 100k customers), and the theory checks need only a handful of numbers per replication.

Waits are recovered exactly from the deliveries of a first-come-first-served line: with c servers,
customer i (in arrival order, 0-based) starts service at

    start_i = a_i                                  for i < c
    start_i = max(a_i, D_(i-c+1))                  for i >= c

where D_(k) is the k-th smallest departure of the whole run. (When i waits, it starts at the
instant the (i-c+1)-th of the i earlier customers leaves; later customers start after i and so
leave after it starts, so the global order statistic is the right one.) Then wait = start - a and
service = ready - start. That is a derivation, not a measurement, so the tests hold it to the
queue-length series by an exact sample-path identity before they trust it.
"""

from __future__ import annotations

import numpy as np

from sim.model import run_replication


def _step_integral(times: np.ndarray, values: np.ndarray, lo: float, hi: float) -> float:
    """Integral over [lo, hi] of the right-continuous step function that is values[k] from times[k]."""
    nxt = np.append(times[1:], hi)
    a = np.clip(times, lo, hi)
    b = np.clip(nxt, lo, hi)
    return float(np.sum(values * (b - a)))


def _queue_series(levels: dict, line_id: str) -> tuple[np.ndarray, np.ndarray]:
    series = np.asarray(levels["series"], dtype=object)
    mask = series == f"queue:line:{line_id}"
    t = np.asarray(levels["day"], dtype=float)[mask]
    v = np.asarray(levels["value"], dtype=float)[mask]
    order = np.argsort(t, kind="stable")  # recorded in time order already; stable keeps same-time order
    return t[order], v[order]


def line_replication(scenario, seed: int, rep: int, warmup: float, end: float, sample_every: int = 0) -> dict:
    """One replication of a single-line, route-`direct` scenario, summarised over (warmup, end].

    Returns counts and sums over customers requested in the window (latency, derived wait and
    service, latency minus the mean unit time), the integral of the queue-length series over
    the window, the same quantity rebuilt from the derived waits, and optionally every
    `sample_every`-th derived service time.
    """
    ((line_id, line),) = scenario.production.items()
    c = line.servers
    tables = run_replication(scenario, seed, rep, record_events=False)
    d = tables["deliveries"]
    a = np.asarray(d["requested_day"], dtype=float)
    ready = np.asarray(d["ready_day"], dtype=float)
    delivered = np.asarray(d["delivered_day"], dtype=float)
    order = np.argsort(a, kind="stable")
    a, ready, delivered = a[order], ready[order], delivered[order]

    departures = np.sort(ready)  # NaN (not finished at the horizon) sorts last
    start = a.copy()
    if a.size > c:
        start[c:] = np.maximum(a[c:], departures[: a.size - c])
    win = (a > warmup) & (a <= end)
    lat = delivered[win] - a[win]
    wait = start[win] - a[win]
    service = ready[win] - start[win]

    t, q = _queue_series(tables["levels"], line_id)
    area = _step_integral(t, q, warmup, end)
    # The same area from the customers' side: each customer adds the part of its wait inside the window.
    upto = a <= end
    clipped = np.clip(np.minimum(start[upto], end) - np.maximum(a[upto], warmup), 0.0, None)

    out = {
        "rep": rep,
        "n": int(win.sum()),
        "undelivered": int(np.isnan(lat).sum()),
        "window": end - warmup,
        "latency_sum": float(np.nansum(lat)),
        "wait_sum": float(np.nansum(wait)),
        "service_sum": float(np.nansum(service)),
        "service_sq_sum": float(np.nansum(service**2)),
        "min_service": float(np.nanmin(service)) if service.size else np.nan,
        "min_wait": float(np.nanmin(wait)) if wait.size else np.nan,
        "queue_area": area,
        "clipped_wait_sum": float(clipped.sum()),
        "undefined_starts": int(np.isnan(start[upto]).sum()),
    }
    if sample_every:
        out["service_sample"] = service[::sample_every].copy()
    return out


def tandem_sim_replication(scenario, seed: int, rep: int, warmup: float, end: float, every: int) -> dict:
    """Latencies of every `every`-th customer requested in (warmup, end], in arrival order."""
    tables = run_replication(scenario, seed, rep, record_events=False)
    d = tables["deliveries"]
    a = np.asarray(d["requested_day"], dtype=float)
    delivered = np.asarray(d["delivered_day"], dtype=float)
    order = np.argsort(a, kind="stable")
    a, delivered = a[order], delivered[order]
    win = (a > warmup) & (a <= end)
    lat = delivered[win] - a[win]
    return {"rep": rep, "n": int(win.sum()), "undelivered": int(np.isnan(lat).sum()), "sample": lat[::every].copy()}


def tandem_ciw_replication(
    seed: int, lam: float, mu1: float, mu2: float, horizon: float, warmup: float, end: float, every: int
) -> dict:
    """The same tandem in Ciw: Poisson(lam) into station 1 (1 server, Exp(mu1)), then station 2 (1 server, Exp(mu2))."""
    import ciw

    network = ciw.create_network(
        arrival_distributions=[ciw.dists.Exponential(rate=lam), None],
        service_distributions=[ciw.dists.Exponential(rate=mu1), ciw.dists.Exponential(rate=mu2)],
        routing=[[0.0, 1.0], [0.0, 0.0]],
        number_of_servers=[1, 1],
    )
    ciw.seed(seed)
    q = ciw.Simulation(network)
    q.simulate_until_max_time(horizon)
    arrived, left = {}, {}
    for r in q.get_all_records():
        if r.record_type != "service":
            continue
        if r.node == 1:
            arrived[r.id_number] = r.arrival_date
        elif r.node == 2:
            left[r.id_number] = r.exit_date
    ids = sorted(arrived, key=arrived.get)
    a = np.array([arrived[i] for i in ids])
    out = np.array([left.get(i, np.nan) for i in ids])
    win = (a > warmup) & (a <= end)
    lat = out[win] - a[win]
    return {"seed": seed, "n": int(win.sum()), "undelivered": int(np.isnan(lat).sum()), "sample": lat[::every].copy()}
