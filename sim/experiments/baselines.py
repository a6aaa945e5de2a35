"""Delivery-time baselines: record a scenario's headline figures once, check later runs against them.

This module measures, records and re-runs; the file format and fingerprints are in
`baseline_file`, the comparison of a record with a baseline in `baseline_check` (both
re-exported here, so `baselines.load`, `baselines.compare` etc. work as one API).

A baseline is one JSON file per scenario (keys sorted, numbers rounded to 6 significant digits,
so a re-record reads well in a git diff). It holds what is needed to re-run the scenario exactly
(its path, overrides, seed, reps), fingerprints of what the figures depend on (a hash of the fully
resolved scenario after `extends:` and overrides, a hash of the code that decides results, the
versions of Python, purlsim, numpy, pandas and simpy and the platform), the tolerances in force, and per
metric the mean over replications, its standard error and the per-replication values.

Metrics, all from the metric layer (sim.metrics); `value` is the figure `Results.summary()`
shows, `per_rep` each replication's own estimate of it (what the paired test compares):
- `items.<item|ALL>.ttd_p50|ttd_p90|rmst|delivered_share|share_30d|share_90d|share_180d`: the
  headline time to delivery, counting every unit (censoring-aware, by quantity; ALL by value),
  over the default cohort and tau (a quantile not reached is stored as null);
- `items.<item|ALL>.delivered_lots|undelivered_lots`: lots per replication (all requests);
- `backfill.<donor/item|ALL>.replaced_gap_mean|donations|open`: the donor's gap in days from the
  donation decision, among replaced donations; donations and donations not replaced by the
  horizon, per replication.

The code hash covers only the code that decides results: the model (`sim/model/`), scenario loading
(`sim/scenario/`, less the editor schema's `file_schema.py` and `descriptions.py`), the random
streams (`sim/streams.py`), the recorder, tables and metrics (`sim/recorder.py`, `sim/tables.py`,
`sim/metrics/`, with `sim/results.py` and `sim/stats.py` they compute through) and the ensemble
runner (`sim/experiments/ensemble.py`); see `RESULT_CODE`. Editing a plot, the report, the CLI,
the pytest plugin or this module leaves every baseline in exact mode.

Checking re-runs the scenario with the baseline's seed, reps and overrides and compares, in one of
two modes:
- `exact` (default when the scenario hash, the code hash, the versions and the platform are all
  unchanged): every stored number must come back equal within 1e-9 (relative and absolute),
  after the same rounding as the file. Any difference there means the run is not reproducible.
- `tolerance` (default otherwise): a metric has moved only if BOTH
  (a) |new - old| > allowed, where allowed = max(atol, rtol * |old|) for that metric, and
  (b) the shift is statistically significant: a two-sided paired t-test on the per-replication
      differences (replication i of the check against replication i of the baseline; both use
      the same seed, and purlsim's common random numbers pair them), with Holm's correction over
      all metrics of the baseline, at family-wise level `alpha` (default 0.05).
  So a shift the replications cannot resolve is not flagged, and a real shift is. Pairing is
  valid whatever the correlation between runs: replications are independent, so the
  differences are too; when a change de-synchronises the random streams the test simply loses
  the power common random numbers gave it. With fewer than two paired replications no test is
  possible and (a) alone decides. A latency or gap metric with no value on one side (no lot of
  that item delivered at all) is not compared: the count metrics of the same group show it;
  a count metric missing on one side counts as zero in every replication.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .. import metrics
from ..errors import ScenarioError
from ..results import Results
from ..scenario.schema import Scenario
from .baseline_check import (
    Check,
    Moved,
    compare,
    default_mode,
    fmt,
    fmt_allowed,
    fmt_change,
    fmt_p,
    holm,
    paired_p,
)
from .baseline_file import (
    BACKFILL_METRICS,
    COUNT_METRICS,
    DEFAULT_ALPHA,
    DEFAULT_METRIC_TOLERANCES,
    DEFAULT_REPS,
    EXACT_TOL,
    FORMAT,
    ITEM_COUNT_METRICS,
    LATENCY_METRICS,
    NOT_RESULT_CODE,
    RESULT_CODE,
    SECTIONS,
    SHARE_METRICS,
    SIG_DIGITS,
    Baseline,
    BaselineError,
    Metric,
    Tolerance,
    Tolerances,
    _plain,
    check_tolerance_options,
    code_hash,
    dumps,
    load,
    load_resolved,
    resolved_mapping,
    result_code_files,
    save,
    scenario_hash,
    versions,
)
from .ensemble import run as run_ensemble

# --- measuring --------------------------------------------------------------------------------


def _round(x) -> float | None:
    """x to SIG_DIGITS significant digits; None for NaN, infinity or None."""
    if x is None:
        return None
    x = float(x)
    if not math.isfinite(x):
        return None
    return float(f"{x:.{SIG_DIGITS}g}") + 0.0


def _metric(per_rep: pd.Series, reps: int, fill: float, value: float | None = None) -> Metric:
    """One metric from its per-replication values; `value` the headline figure (default: their mean)."""
    values = per_rep.reindex(range(reps)).astype(float).fillna(fill).to_numpy()
    ok = values[np.isfinite(values)]
    n = int(ok.size)
    value = (float(ok.mean()) if n else None) if value is None else value
    se = float(ok.std(ddof=1) / math.sqrt(n)) if n >= 2 else None
    return Metric(value=_round(value), se=_round(se), n=n, per_rep=[_round(v) for v in values])


def measure(results: Results) -> tuple[dict, dict]:
    """The baseline metrics of a run: (items, backfill), each {group: {metric: Metric}}, from sim.metrics."""
    reps = results.reps
    summary, per_rep = results.summary(), results.per_rep()
    counts = metrics.delivered.per_rep(results.observations()["lots"])
    items = {}
    for name in summary.index:
        p = per_rep[per_rep["item"] == name].set_index("rep")
        c = counts[counts["item"] == name].set_index("rep")
        items[str(name)] = {m: _metric(p[m], reps, math.nan, float(summary.loc[name, m])) for m in LATENCY_METRICS}
        items[str(name)].update({m: _metric(c[m], reps, 0.0) for m in ITEM_COUNT_METRICS})
    backfill = {}
    b = results.observations()["backfill"]
    if len(b):
        groups = [(f"{donor}/{item}", g) for (donor, item), g in b.groupby(["donor", "item"], sort=True)]
        for name, g in groups + [("ALL", b)]:
            done = g[g["replaced"]]
            per = {
                "replaced_gap_mean": done.groupby("rep")["time"].mean(),
                "donations": g.groupby("rep").size(),
                "open": g[~g["replaced"]].groupby("rep").size(),
            }
            backfill[name] = {m: _metric(s, reps, 0.0 if m in COUNT_METRICS else math.nan) for m, s in per.items()}
    return items, backfill


# --- recording --------------------------------------------------------------------------------


def locate(path: Path | str, root: Path | None = None) -> Path:
    """A scenario path as given, or under `root` when relative and root is not the working directory."""
    path = Path(path)
    if path.is_absolute() or root is None or Path(root).resolve() == Path.cwd().resolve():
        return path
    return Path(root) / path


def stored_path(path: Path, root: Path | None = None) -> str:
    """How a baseline names its scenario: relative to the working directory when inside it, else absolute;
    relative to `root` whenever one is given (the pytest fixture gives the test file's folder, so
    `../scenarios/x.yaml` stays relative and the baseline holds in any checkout)."""
    root_abs = os.path.abspath(root or Path.cwd())
    path_abs = os.path.abspath(path)
    try:
        rel = os.path.relpath(path_abs, root_abs)
    except ValueError:  # another drive
        return Path(path_abs).as_posix()
    if root is None and (rel == os.pardir or rel.startswith(os.pardir + os.sep)):
        return Path(path_abs).as_posix()
    return Path(rel).as_posix()


def record(
    scenario_path: Path | str,
    *,
    reps: int = DEFAULT_REPS,
    seed: int | None = None,
    overrides: Mapping[str, Any] | None = None,
    tolerances: Tolerances | None = None,
    root: Path | None = None,
) -> Baseline:
    """Run a scenario and return its baseline (not written; see `save`). Raises ScenarioError or BaselineError."""
    if int(reps) < 1:
        raise BaselineError(f"reps: must be at least 1 (got {reps})")
    if seed is not None and int(seed) < 0:
        raise BaselineError(f"seed: must not be negative (got {seed})")
    path = locate(scenario_path, root)
    plain: dict[str, Any] = _plain(dict(overrides or {}))
    scenario, digest = load_resolved(path, plain)
    return _record_loaded(scenario, digest, path, reps, seed, plain, tolerances or Tolerances(), root)


def _record_loaded(
    scenario: Scenario,
    digest: str,
    path: Path,
    reps: int,
    seed: int | None,
    overrides: dict,
    tolerances: Tolerances,
    root: Path | None,
) -> Baseline:
    results = run_ensemble(scenario, reps=int(reps), seed=seed, record_events=False)
    items, backfill = measure(results)
    return Baseline(
        scenario=stored_path(path, root),
        scenario_name=scenario.name,
        scenario_hash=digest,
        code_hash=code_hash(),
        overrides=overrides,
        seed=results.seed,
        reps=int(reps),
        versions=versions(),
        tolerances=tolerances,
        items=items,
        backfill=backfill,
    )


@dataclass
class Prepared:
    """A loaded baseline and its scenario, validated and ready to re-run."""

    file: Path
    baseline: Baseline
    scenario: Scenario
    scenario_hash: str
    path: Path
    root: Path | None


def prepare(file: Path, root: Path | None = None) -> Prepared:
    """Load a baseline file and its scenario (with the stored overrides); raises BaselineError on any problem."""
    baseline = load(file)
    path = locate(baseline.scenario, root)
    if not path.is_file():
        raise BaselineError(
            f"{file}: the scenario {baseline.scenario} no longer exists (restore it, or delete this baseline)"
        )
    try:
        scenario, digest = load_resolved(path, baseline.overrides)
    except ScenarioError as exc:
        raise BaselineError([f"{file}: its scenario no longer loads: {p}" for p in exc.problems]) from None
    return Prepared(Path(file), baseline, scenario, digest, path, root)


def rerun(prep: Prepared, tolerances: Tolerances | None = None) -> Baseline:
    """Re-record a prepared baseline's scenario with its seed, reps and overrides (and its tolerances)."""
    b = prep.baseline
    return _record_loaded(
        prep.scenario, prep.scenario_hash, prep.path, b.reps, b.seed, b.overrides, tolerances or b.tolerances, prep.root
    )


def check(
    file: Path,
    root: Path | None = None,
    mode: str | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    alpha: float | None = None,
) -> Check:
    """Re-run one baseline's scenario and compare; raises BaselineError on bad input."""
    check_tolerance_options(rtol, atol, alpha)
    prep = prepare(file, root)
    return compare(prep.baseline, rerun(prep), mode, prep.file, rtol, atol, alpha)


def baseline_files(directory: Path) -> list[Path]:
    """The baseline files (*.json) in a directory, sorted; raises BaselineError if it is missing."""
    directory = Path(directory)
    if not directory.is_dir():
        raise BaselineError(f"{directory}: baseline directory not found")
    return sorted(p for p in directory.glob("*.json") if p.is_file())


def find_for_scenario(directory: Path, scenario: Path, root: Path | None = None) -> list[Path]:
    """Baseline files in `directory` recorded for this scenario file (any overrides); raises on a corrupt `<stem>.json`."""
    target = locate(scenario, root).resolve()
    found = []
    for f in baseline_files(directory):
        try:
            b = load(f)
        except BaselineError:
            if f.stem == Path(scenario).stem:
                raise
            continue
        if locate(b.scenario, root).resolve() == target:
            found.append(f)
    return found


def default_file(directory: Path, scenario: str | Path, name: str | None = None) -> Path:
    """Where a scenario's baseline goes: `<dir>/<name or scenario stem>.json`."""
    return Path(directory) / f"{name or Path(scenario).stem}.json"


__all__ = [
    "_metric",
    "BACKFILL_METRICS",
    "Baseline",
    "baseline_files",
    "BaselineError",
    "Check",
    "check",
    "check_tolerance_options",
    "code_hash",
    "compare",
    "COUNT_METRICS",
    "DEFAULT_ALPHA",
    "default_file",
    "DEFAULT_METRIC_TOLERANCES",
    "default_mode",
    "DEFAULT_REPS",
    "dumps",
    "EXACT_TOL",
    "find_for_scenario",
    "fmt",
    "fmt_allowed",
    "fmt_change",
    "fmt_p",
    "FORMAT",
    "holm",
    "ITEM_COUNT_METRICS",
    "LATENCY_METRICS",
    "load",
    "load_resolved",
    "locate",
    "measure",
    "Metric",
    "Moved",
    "NOT_RESULT_CODE",
    "paired_p",
    "prepare",
    "Prepared",
    "record",
    "rerun",
    "resolved_mapping",
    "RESULT_CODE",
    "result_code_files",
    "save",
    "scenario_hash",
    "SECTIONS",
    "SHARE_METRICS",
    "SIG_DIGITS",
    "stored_path",
    "Tolerance",
    "Tolerances",
    "versions",
]
