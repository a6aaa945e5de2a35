"""Ensembles: one random stream per part, identical results on every executor and chunking,
streamed output with interruption and resume, and the statistics across replications."""

from __future__ import annotations

import importlib
import json
import math
import re
import sys
import time

import numpy as np
import pandas as pd
import pytest
import yaml
from conftest import REPO
from typer.testing import CliRunner

import sim
from sim import metrics
from sim.cli import app
from sim.executors import ExecutorError, dask_executor, executor_workers, open_executor, process_pool
from sim.experiments.ensemble import run_stats
from sim.experiments.streamed import PartialRunError, finished_chunks, partial_dir, run_to_dir
from sim.model import Model
from sim.output import verify
from sim.scenario.loader import deep_merge, validate_mapping
from sim.scenario.schema import DAYS_PER_MONTH
from sim.stats import paired_difference, t_interval
from sim.streams import Streams

BASELINE = REPO / "scenarios" / "baseline.yaml"
TABLES = ("deliveries", "events", "levels", "backfills")

# A small stochastic scenario that exercises every kind of table: a request stream (urgent and
# routine), an ally's stockpile that donates to urgent requests and is backfilled by a line with
# random unit times, two transport legs, and a short horizon that leaves some lots undelivered.
DONOR = {
    "name": "donor_stream",
    "start": "2025-01-01",
    "horizon_days": 300,
    "seed": 7,
    "items": {"x": {"name": "Interceptor X", "unit_cost_musd": 1.0}},
    "requests": {
        "stream": {
            "interarrival_days": {"dist": "exponential", "mean": 12},
            "priority": {"urgent": 0.5, "routine": 0.5},
            "items": {"x": {"weight": 1, "qty": {"dist": "triangular", "low": 1, "mode": 2, "high": 6}}},
        }
    },
    "approval": {"enabled": False},
    "funding": {"enabled": False},
    "production": {"x_line": {"item": "x", "node": "plant", "unit_days": {"dist": "exponential", "mean": 6}}},
    "stockpiles": {
        "de": {
            "node": "depot_de",
            "items": {"x": {"on_hand": 8, "min_keep": 0, "prep_days": {"dist": "uniform", "low": 1, "high": 4}}},
        }
    },
    "transport": {
        "destination": "ua",
        "nodes": {"plant": {"kind": "plant"}, "depot_de": {"kind": "depot"}, "ua": {"kind": "destination"}},
        "legs": {
            "road": {"from": "depot_de", "to": "ua", "mode": "road", "days": {"dist": "uniform", "low": 1, "high": 3}},
            "air": {"from": "plant", "to": "ua", "mode": "air", "days": {"dist": "uniform", "low": 2, "high": 5}},
        },
        "routes": {"r_depot": {"legs": ["road"]}, "r_air": {"legs": ["air"]}},
        "choose": [{"origin": "plant", "route": "r_air"}, {"origin": "depot_de", "route": "r_depot"}],
    },
    "policy": {"sources": ["stockpile", "production"], "stockpile_priorities": ["urgent"], "backfill": "donors_first"},
}


def donor_scenario(**over):
    """DONOR with `over` merged on top, validated."""
    return validate_mapping(deep_merge(DONOR, over), "<donor>")


@pytest.fixture(scope="module")
def baseline():
    return sim.load_scenario(BASELINE)


@pytest.fixture(scope="module")
def pool():
    """Two local worker processes, shared by the tests of this module."""
    with process_pool(2) as p:
        yield p


@pytest.fixture(scope="module")
def dask_client():
    """A real Dask LocalCluster on loopback: two single-threaded worker processes."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
    )
    client = distributed.Client(cluster)
    client.run(importlib.import_module, "sim.experiments.ensemble")  # import once per worker, outside the timed tests
    yield client
    client.close()
    cluster.close()


def assert_same_tables(a, b):
    for kind in TABLES:
        pd.testing.assert_frame_equal(getattr(a, kind), getattr(b, kind), check_exact=True, obj=kind)


# --- seeds and streams -------------------------------------------------------------------------


def test_every_stochastic_part_draws_from_its_own_named_stream(monkeypatch, baseline):
    asked: list[str] = []
    real = Streams.rng

    def spy(self, name):  # the real stream, and a note of who asked for it
        asked.append(name)
        return real(self, name)

    monkeypatch.setattr(Streams, "rng", spy)
    names = {}
    for label, sc in (("baseline", baseline), ("donor", donor_scenario())):
        asked.clear()
        Model(sc, seed=1, rep=0).run()
        names[label] = list(asked)
        # One stream per part: no name asked for twice in a replication (two parts sharing a
        # stream would shift each other's draws, and common random numbers would break).
        assert len(asked) == len(set(asked)), label
    assert {
        "requests.stream.interarrival",
        "requests.stream.item",
        "requests.stream.priority",
        "approval.delay",
        "us_stock.handling",
        "transport.legs.sealift.days",
    } <= set(names["baseline"])
    # A fixed duration draws nothing, so it makes no stream (streams are made at their first draw):
    # the PAC-3 line's unit time follows from its rate alone.
    assert "production.pac3_line.unit" not in names["baseline"]
    assert {
        "stockpiles.de.x.prep",
        "production.x_line.unit",
        "transport.legs.road.days",
        "transport.legs.air.days",
    } <= set(names["donor"])
    assert "backfill.order_delay" not in names["donor"]  # the default delay, 0, is fixed: no stream


def test_the_model_has_no_other_source_of_randomness():
    pattern = re.compile(r"np\.random\.(?!Generator)|^\s*import random|^\s*from random |default_rng|random\.seed", re.M)
    offenders = [p.name for p in (REPO / "sim" / "model").glob("*.py") if pattern.search(p.read_text())]
    assert offenders == []


def test_a_part_draws_the_same_numbers_whatever_else_differs(baseline):
    # Common random numbers: a change to the sealift schedule changes delivery days but not one
    # draw of the request stream, which has its own stream keyed by (seed, replication, name).
    other = sim.load_scenario(BASELINE, {"transport.legs.sealift.departures.every_days": 7})
    a, b = sim.run(baseline, reps=3, seed=4, record_events=False), sim.run(other, reps=3, seed=4, record_events=False)

    def requests(res):
        d = res.deliveries
        return (
            d.groupby(["rep", "request_id", "item"], observed=True)
            .agg(qty=("qty", "sum"), requested_day=("requested_day", "first"), priority=("priority", "first"))
            .reset_index()
            .astype({"item": str, "priority": str})
        )

    pd.testing.assert_frame_equal(requests(a), requests(b))
    assert not np.array_equal(
        a.deliveries["delivered_day"].to_numpy(), b.deliveries["delivered_day"].to_numpy(), equal_nan=True
    )  # the scenarios do differ downstream
    c = sim.run(baseline, reps=3, seed=5, record_events=False)
    assert not requests(a)["requested_day"].equals(requests(c)["requested_day"])  # and the seed matters


# --- executors and chunking ---------------------------------------------------------------------


def test_results_are_identical_in_process_on_two_workers_and_on_dask(baseline, pool, dask_client):
    dask = dask_client.get_executor()
    assert not hasattr(dask, "_max_workers") and executor_workers(dask) == 2
    for sc, reps in ((baseline, 6), (donor_scenario(), 12)):  # the donor scenario has backfills too
        one = sim.run(sc, reps=reps, seed=3)  # in this process, one chunk after another
        for executor, chunk in ((pool, None), (pool, 1), (dask, None), (dask, 5)):
            assert_same_tables(one, sim.run(sc, reps=reps, seed=3, executor=executor, chunk_size=chunk))


def test_cli_on_an_existing_dask_cluster_writes_what_one_process_writes(tmp_path, dask_client):
    path = tmp_path / "donor.yaml"
    path.write_text(yaml.safe_dump(DONOR))
    address = dask_client.scheduler.address
    res = CliRunner().invoke(
        app,
        [
            "run",
            str(path),
            "--reps",
            "8",
            "--seed",
            "2",
            "--dask",
            address,
            "--csv",
            "--out",
            str(tmp_path / "dask"),
            "-q",
        ],
    )
    assert res.exit_code == 0, res.output
    run_to_dir(sim.load_scenario(path), tmp_path / "one", reps=8, seed=2, csv=True)
    for name in ("deliveries.csv", "backfills.csv", "events.csv", "summary.json"):
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "one" / name).read_bytes(), name


def test_executor_options_are_checked():
    with pytest.raises(ExecutorError, match="--workers"):
        with open_executor(workers=0):
            pass
    t = time.perf_counter()
    with pytest.raises(ExecutorError, match="cannot reach a Dask scheduler"):
        with dask_executor("tcp://127.0.0.1:9", connect_timeout=1):
            pass
    assert time.perf_counter() - t < 10
    with open_executor(workers=1) as ex:
        assert ex is None  # one worker runs in this process


def test_dask_is_optional_and_its_absence_is_explained(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if `purlsim[dask]` were not installed
    with pytest.raises(ExecutorError, match=r"pip install 'purlsim\[dask\]'"):
        with open_executor(dask="local"):
            pass
    with open_executor(workers=2, tasks=4) as ex:  # local processes never need it
        assert executor_workers(ex) == 2


def test_run_rejects_no_replications_and_negative_seeds(baseline):
    with pytest.raises(ValueError, match="reps"):
        sim.run(baseline, reps=0)
    with pytest.raises(ValueError, match="seed"):
        sim.run(baseline, reps=1, seed=-1)


# --- streaming to disk, interruption and resume --------------------------------------------------


def _interrupt_after(n_calls):
    calls = []

    def progress(n):
        calls.append(n)
        if len(calls) == n_calls:
            raise KeyboardInterrupt  # what Ctrl-C raises in the main thread, here between two chunks

    return progress


def test_an_interrupted_then_resumed_run_equals_an_uninterrupted_one(tmp_path, pool):
    sc = donor_scenario()
    whole = run_to_dir(sc, tmp_path / "whole", reps=12, seed=5, chunk_size=3, csv=True)

    out = tmp_path / "stopped"
    with pytest.raises(KeyboardInterrupt):
        run_to_dir(sc, out, reps=12, seed=5, chunk_size=3, progress=_interrupt_after(2))
    partial = partial_dir(out)
    assert not out.exists() and sorted(finished_chunks(partial)) == [0, 1]
    assert not list(partial.rglob("manifest.json"))  # nothing there looks finished

    resumed = run_to_dir(sc, out, reps=12, seed=5, executor=pool, resume=True, csv=True)  # another executor, too
    assert resumed.resumed_reps == 6 and resumed.chunk_size == 3
    assert not partial.exists() and verify(out) == []
    for kind in TABLES:
        pd.testing.assert_frame_equal(
            pd.read_parquet(out / f"{kind}.parquet"),
            pd.read_parquet(tmp_path / "whole" / f"{kind}.parquet"),
            check_exact=True,
        )
    for name in [f"{k}.csv" for k in TABLES] + ["summary.json"]:
        assert (out / name).read_bytes() == (tmp_path / "whole" / name).read_bytes(), name
    pd.testing.assert_frame_equal(resumed.latency, whole.latency, check_exact=True)

    # And both equal the ensemble held in memory, table for table and in their summaries.
    mem = sim.run(sc, reps=12, seed=5)
    for kind in TABLES:
        pd.testing.assert_frame_equal(
            pd.read_parquet(out / f"{kind}.parquet"),
            getattr(mem, kind),
            check_dtype=False,
            check_categorical=False,
            obj=kind,
        )
    pd.testing.assert_frame_equal(whole.latency, mem.summary(), check_exact=True)
    pd.testing.assert_frame_equal(whole.backfill, mem.backfill_summary(), check_exact=True)
    assert len(mem.backfills) and mem.summary().loc["ALL", "undelivered_lots"] > 0  # both parts were exercised
    summary = json.loads((out / "summary.json").read_text())
    assert "censor" in summary["statistics_method"] and "bootstrap" in summary["statistics_method"]


def test_resume_refuses_a_different_run_and_a_new_run_refuses_to_overwrite(tmp_path):
    sc, out = donor_scenario(), tmp_path / "o"
    with pytest.raises(KeyboardInterrupt):
        run_to_dir(sc, out, reps=9, seed=5, chunk_size=3, progress=_interrupt_after(1))
    with pytest.raises(PartialRunError, match="seed: 5 there, 6 now"):
        run_to_dir(sc, out, reps=9, seed=6, resume=True)
    with pytest.raises(PartialRunError, match="reps: 9 there, 10 now"):
        run_to_dir(sc, out, reps=10, seed=5, resume=True)
    with pytest.raises(PartialRunError, match="chunk_size: 3 there, 4 now"):
        run_to_dir(sc, out, reps=9, seed=5, chunk_size=4, resume=True)
    with pytest.raises(PartialRunError, match="scenario"):
        run_to_dir(donor_scenario(horizon_days=301), out, reps=9, seed=5, resume=True)
    with pytest.raises(PartialRunError, match="--resume"):
        run_to_dir(sc, out, reps=9, seed=5)
    assert sorted(finished_chunks(partial_dir(out))) == [0]  # refusals touched nothing
    done = run_to_dir(sc, out, reps=9, seed=5, chunk_size=2, force=True)  # --force starts over
    assert done.resumed_reps == 0 and verify(out) == []


# --- statistics ----------------------------------------------------------------------------------


def test_undelivered_lots_are_counted_and_never_dropped(make_scenario):
    # One line, 1 server at 10 a month. The small package (2 units) is made first and delivered on
    # day 2 * unit; the big one (500 units) cannot be finished within the 100-day horizon.
    sc = make_scenario(
        [
            {"id": "small", "at": 0, "lines": [{"item": "shell", "qty": 2}]},
            {"id": "big", "at": 1, "lines": [{"item": "shell", "qty": 500}]},
        ],
        horizon_days=100,
    )
    res = sim.run(sc, reps=3, seed=0)
    assert len(res.deliveries) == 6 and res.deliveries["delivered_day"].isna().sum() == 3
    row = res.summary().loc["shell"]
    unit = DAYS_PER_MONTH / 10
    # tau by rule is 60 d (horizon 100), so both requests are in the cohort; every unit counts:
    # 2 delivered after 2 units' time, 500 censored (counting tau in the restricted mean).
    assert row["rmst_tau"] == 60 and row["lots"] == 2 and row["qty"] == 502
    assert row["delivered_share"] == pytest.approx(2 / 502)
    assert row["rmst"] == pytest.approx((2 * 2 * unit + 500 * 60) / 502)
    assert row["ttd_p50"] == math.inf and row["followup_days"] == pytest.approx(99)  # never reaches half
    assert row["rmst_lo"] == pytest.approx(row["rmst"]) and row["rmst_hi"] == pytest.approx(row["rmst"])  # no spread
    # Among delivered lots only, the old figures: one lot per replication, 2 units' time each.
    assert row["undelivered_lots"] == 1 and row["delivered_lots"] == 1
    for stat in ("mean", "p50", "p90", "p95", "max"):
        assert row[f"delivered_{stat}"] == pytest.approx(2 * unit)


def test_t_interval_and_paired_difference_by_hand():
    m, lo, hi = t_interval([1.0, 2.0, 3.0, 4.0])
    half = 3.182446305284263 * math.sqrt(5 / 3) / 2  # t(0.975, 3) * s / sqrt(n)
    assert (m, lo, hi) == pytest.approx((2.5, 2.5 - half, 2.5 + half))
    assert math.isnan(t_interval([7.0])[1]) and math.isnan(t_interval([])[0])
    d, lo, hi, n = paired_difference([1.0, 2.0, 3.0, np.nan], [2.0, 4.0, 5.0, 9.0])
    assert n == 3 and d == pytest.approx(5 / 3)  # the pair with a NaN is left out
    assert (lo, hi) == pytest.approx(t_interval([1.0, 2.0, 2.0])[1:])


def test_confidence_intervals_shrink_as_one_over_root_reps(baseline, pool):
    # A bootstrap interval over n replications is about 2 t(n-1) s / sqrt(n) wide, so 4x the
    # replications should give about 0.5 * t(99)/t(24) = 0.48 times the width. Replication r's streams depend only on (seed, r, part), so the four
    # blocks of 25 replications of one 100-replication ensemble are four independent 25-replication
    # ensembles: their mean width estimates the 25-replication width without the sampling error of
    # a single s at n = 25 (relative SE 0.14 alone, more for the skewed per-replication figures of
    # this scenario). [0.35, 0.65] leaves room for what remains; a width not divided by sqrt(n)
    # would give a ratio near 1, a width divided by n near 0.25.
    [stats] = run_stats([baseline], 100, [11], pool)
    lots, horizon = stats["lots"], baseline.horizon_days
    whole = metrics.lot_summary(stats, 100, horizon)
    blocks = [
        metrics.lot_summary({"lots": lots[lots["rep"] // 25 == b].assign(rep=lambda o: o["rep"] % 25)}, 25, horizon)
        for b in range(4)
    ]

    def width(s, item, stat):
        return s.loc[item, f"{stat}_hi"] - s.loc[item, f"{stat}_lo"]

    for item in ("ALL", "gmlrs", "shell_155"):
        for stat in ("rmst", "delivered_share"):
            w25 = np.mean([width(b, item, stat) for b in blocks])
            assert w25 > 0 and 0.35 <= width(whole, item, stat) / w25 <= 0.65, (item, stat)
