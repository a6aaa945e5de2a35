"""Delivery-time baselines: record a scenario's latency statistics once, check later runs against them.

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

import datetime as dt
import hashlib
import json
import math
import os
import platform
import sys
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Literal, Mapping

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from scipy import stats as _st

from .. import metrics
from ..errors import ScenarioError
from ..results import Results
from ..scenario.loader import _resolve, apply_overrides, validate_mapping
from ..scenario.schema import Scenario
from ..scenario.workload import MAX_REPS, MAX_SEED
from .ensemble import run as run_ensemble

FORMAT = "purlsim-baseline/2"  # /1 held latency over delivered lots only: re-record those
DEFAULT_REPS = 30
DEFAULT_DIR = "tests/baselines"
SIG_DIGITS = 6
EXACT_TOL = 1e-9
LATENCY_METRICS = tuple(metrics.FIGURES)
SHARE_METRICS = ("delivered_share", "share_30d", "share_90d", "share_180d")
ITEM_COUNT_METRICS = ("delivered_lots", "undelivered_lots")
BACKFILL_METRICS = ("replaced_gap_mean", "donations", "open")
COUNT_METRICS = frozenset(ITEM_COUNT_METRICS + ("donations", "open"))
SECTIONS = ("items", "backfill")
DEFAULT_ALPHA = 0.05
DEFAULT_METRIC_TOLERANCES = {
    **{m: {"rtol": 0.01, "atol": 1.0} for m in LATENCY_METRICS if m not in SHARE_METRICS},  # days
    **{m: {"rtol": 0.0, "atol": 0.01} for m in SHARE_METRICS},       # shares: one percentage point
    "delivered_lots": {"rtol": 0.05, "atol": 0.5},
    "undelivered_lots": {"rtol": 0.05, "atol": 0.5},
    "replaced_gap_mean": {"rtol": 0.02, "atol": 1.0},                 # days
    "donations": {"rtol": 0.05, "atol": 0.5},
    "open": {"rtol": 0.05, "atol": 0.5},
}


class BaselineError(ValueError):
    """A baseline cannot be recorded or checked (bad file, missing scenario, bad option); one line per problem."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


# --- the file format ------------------------------------------------------------------------

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)


class Metric(_Strict):
    """One metric: mean over replications, its standard error, replications with a value, per-replication values."""

    value: float | None
    se: float | None
    n: int = Field(ge=0)
    per_rep: list[float | None]


class Tolerance(_Strict):
    """Allowed shift of one metric: max(atol, rtol * |old|)."""

    rtol: float = Field(ge=0)
    atol: float = Field(ge=0)


class Tolerances(_Strict):
    """Per-metric tolerances and the family-wise significance level of the paired test."""

    alpha: float = Field(DEFAULT_ALPHA, gt=0, lt=1)
    metrics: dict[str, Tolerance] = Field(
        default_factory=lambda: {k: Tolerance(**v) for k, v in DEFAULT_METRIC_TOLERANCES.items()})

    def with_overrides(self, rtol: float | None = None, atol: float | None = None,
                       alpha: float | None = None) -> "Tolerances":
        """A copy with rtol/atol replaced for every metric and alpha replaced, where given."""
        check_tolerance_options(rtol, atol, alpha)
        metrics = {m: Tolerance(rtol=t.rtol if rtol is None else rtol, atol=t.atol if atol is None else atol)
                   for m, t in self.metrics.items()}
        return Tolerances(alpha=self.alpha if alpha is None else alpha, metrics=metrics)


class Baseline(_Strict):
    """The content of one baseline file."""

    format: Literal["purlsim-baseline/2"] = FORMAT
    scenario: str = Field(min_length=1)
    scenario_name: str
    scenario_hash: str
    code_hash: str
    overrides: dict[str, Any] = Field(default_factory=dict)
    seed: int = Field(ge=0, le=MAX_SEED)
    reps: int = Field(ge=1, le=MAX_REPS)  # a file asking 10**12 replications is refused, not run
    versions: dict[str, str]
    tolerances: Tolerances
    items: dict[str, dict[str, Metric]]
    backfill: dict[str, dict[str, Metric]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self):
        problems = []
        for section in SECTIONS:
            for group, group_metrics in getattr(self, section).items():
                for name, metric in group_metrics.items():
                    if len(metric.per_rep) != self.reps:
                        problems.append(f"{section}.{group}.{name}.per_rep: has {len(metric.per_rep)} values, "
                                        f"reps is {self.reps}")
                    if name not in self.tolerances.metrics:
                        problems.append(f"{section}.{group}.{name}: no tolerance for metric '{name}' "
                                        f"in tolerances.metrics")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def metrics(self) -> dict[tuple[str, str, str], Metric]:
        """Every metric keyed by (section, group, metric name)."""
        return {(s, g, m): rec for s in SECTIONS for g, ms in getattr(self, s).items() for m, rec in ms.items()}


def check_tolerance_options(rtol: float | None, atol: float | None, alpha: float | None) -> None:
    """Raise BaselineError if a tolerance is negative or not finite, or alpha is outside (0, 1)."""
    problems = []
    for name, v in (("rtol", rtol), ("atol", atol)):
        if v is not None and not (math.isfinite(v) and v >= 0):
            problems.append(f"--{name}: must be a finite number >= 0 (got {v})")
    if alpha is not None and not (0 < alpha < 1):
        problems.append(f"--alpha: must be between 0 and 1, exclusive (got {alpha})")
    if problems:
        raise BaselineError(problems)


def dumps(baseline: Baseline) -> str:
    """The baseline as JSON text: keys sorted, two-space indent, lists of numbers on one line."""
    return _dump(baseline.model_dump(mode="json"), 0) + "\n"


def _dump(obj, level: int) -> str:
    pad, end = "  " * (level + 1), "  " * level
    if isinstance(obj, dict):
        if not obj:
            return "{}"
        body = ",\n".join(f"{pad}{json.dumps(str(k), ensure_ascii=False)}: {_dump(obj[k], level + 1)}"
                          for k in sorted(obj, key=str))
        return "{\n" + body + "\n" + end + "}"
    if isinstance(obj, (list, tuple)):
        if all(not isinstance(v, (dict, list, tuple)) for v in obj):
            return "[" + ", ".join(_dump(v, level) for v in obj) + "]"
        return "[\n" + ",\n".join(pad + _dump(v, level + 1) for v in obj) + "\n" + end + "]"
    return json.dumps(obj, ensure_ascii=False, allow_nan=False)


def save(baseline: Baseline, path: Path) -> None:
    """Write a baseline file atomically (write a sibling, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(dumps(baseline), encoding="utf-8")
    os.replace(tmp, path)


def load(path: Path) -> Baseline:
    """Read and validate a baseline file; raises BaselineError naming the file and every problem."""
    path = Path(path)
    try:
        found = path.is_file()
    except (OSError, ValueError):  # a name too long
        found = False
    if not found:
        raise BaselineError(f"{path}: baseline file not found")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        raise BaselineError(f"{path}: corrupt baseline file: nested too deeply") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: cannot read baseline file: {exc}") from None
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{path}: corrupt baseline file: not valid JSON "
                            f"(line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    if not isinstance(data, dict):
        raise BaselineError(f"{path}: corrupt baseline file: the top level must be an object")
    if data.get("format") == "purlsim-baseline/1":
        raise BaselineError(f"{path}: a baseline of the old format 'purlsim-baseline/1' (latency over delivered lots "
                            f"only); re-record it: purlsim baseline record")
    if data.get("format") != FORMAT:
        raise BaselineError(f"{path}: not a purlsim baseline of format {FORMAT!r} (format is {data.get('format')!r})")
    try:
        return Baseline.model_validate(data)
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            loc = ".".join(str(p) for p in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            problems.append(f"{path}: corrupt baseline file: {loc + ': ' if loc else ''}{msg}")
        raise BaselineError(problems) from None


# --- fingerprints -----------------------------------------------------------------------------

def _plain(obj):
    """A JSON-ready copy: dates as ISO strings, mapping keys as strings, tuples as lists."""
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    if isinstance(obj, (dt.date, dt.datetime)):
        return obj.isoformat()
    return obj


def resolved_mapping(path: Path, overrides: Mapping[str, Any] | None = None) -> dict:
    """The scenario file's mapping with its `extends:` chain merged and overrides applied."""
    data = _resolve(Path(path), str(path), ())
    if overrides:
        data, _ = apply_overrides(data, dict(overrides), str(path))
    return _plain(data)


def scenario_hash(path: Path, overrides: Mapping[str, Any] | None = None) -> str:
    """sha256 of the fully resolved scenario (after extends and overrides); comments and key order do not count."""
    return _hash_mapping(resolved_mapping(path, overrides))


def _hash_mapping(data: Mapping) -> str:
    text = json.dumps(_plain(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def load_resolved(path: Path, overrides: Mapping[str, Any] | None = None) -> tuple[Scenario, str]:
    """The validated scenario (as `sim.load_scenario` gives it) and its hash, from one read of the files."""
    shown = str(path)
    data = _resolve(Path(path), shown, ())
    created: set[str] = set()
    if overrides:
        data, created = apply_overrides(data, dict(overrides), shown)
    return validate_mapping(data, shown, created), _hash_mapping(data)


# The code that decides results (see the module docstring): a change anywhere else in `sim` (plots,
# report, CLI, this module) leaves a baseline in exact mode.
RESULT_CODE = ("model", "scenario", "metrics", "streams.py", "recorder.py", "tables.py", "results.py", "stats.py",
               "experiments/ensemble.py")
# In sim/scenario/ but only describing the format to editors: no result depends on them.
NOT_RESULT_CODE = ("scenario/descriptions.py", "scenario/file_schema.py")


def result_code_files() -> list[Path]:
    """The source files of `sim` that decide a run's results, the ones `code_hash` covers."""
    root = Path(__file__).resolve().parent.parent
    files = set()
    for part in RESULT_CODE:
        target = root / part
        files |= set(target.rglob("*.py")) if target.is_dir() else {target}
    return sorted(f for f in files if f.relative_to(root).as_posix() not in NOT_RESULT_CODE)


def code_hash() -> str:
    """sha256 of the source that decides results (`result_code_files`), to tell whether that code changed."""
    root = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for f in result_code_files():
        h.update(f.relative_to(root).as_posix().encode() + b"\0" + f.read_bytes() + b"\0")
    return "sha256:" + h.hexdigest()


def versions() -> dict[str, str]:
    """Versions the figures depend on: Python, purlsim, numpy, pandas, simpy, and the platform."""
    out = {"python": platform.python_version(), "platform": f"{sys.platform}-{platform.machine()}"}
    for dist in ("purlsim", "numpy", "pandas", "simpy"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "unknown"
    return out


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
            per = {"replaced_gap_mean": done.groupby("rep")["time"].mean(), "donations": g.groupby("rep").size(),
                   "open": g[~g["replaced"]].groupby("rep").size()}
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


def record(scenario_path: Path | str, *, reps: int = DEFAULT_REPS, seed: int | None = None,
           overrides: Mapping[str, Any] | None = None, tolerances: Tolerances | None = None,
           root: Path | None = None) -> Baseline:
    """Run a scenario and return its baseline (not written; see `save`). Raises ScenarioError or BaselineError."""
    if int(reps) < 1:
        raise BaselineError(f"reps: must be at least 1 (got {reps})")
    if seed is not None and int(seed) < 0:
        raise BaselineError(f"seed: must not be negative (got {seed})")
    path = locate(scenario_path, root)
    overrides = _plain(dict(overrides or {}))
    scenario, digest = load_resolved(path, overrides)
    return _record_loaded(scenario, digest, path, reps, seed, overrides, tolerances or Tolerances(), root)


def _record_loaded(scenario: Scenario, digest: str, path: Path, reps: int, seed: int | None, overrides: dict,
                   tolerances: Tolerances, root: Path | None) -> Baseline:
    results = run_ensemble(scenario, reps=int(reps), seed=seed, record_events=False)
    items, backfill = measure(results)
    return Baseline(scenario=stored_path(path, root), scenario_name=scenario.name,
                    scenario_hash=digest, code_hash=code_hash(), overrides=overrides,
                    seed=results.seed, reps=int(reps), versions=versions(), tolerances=tolerances,
                    items=items, backfill=backfill)


# --- checking ---------------------------------------------------------------------------------

@dataclass
class Moved:
    """One metric that moved beyond what is allowed (old/new None where the metric is missing on that side)."""

    metric: str
    old: float | None
    new: float | None
    allowed: float | None
    p: float | None = None

    @property
    def change(self) -> float | None:
        return None if self.old is None or self.new is None else self.new - self.old


@dataclass
class Check:
    """The outcome of checking one baseline file."""

    file: Path
    old: Baseline
    new: Baseline
    mode: str
    moved: list[Moved] = field(default_factory=list)
    compared: int = 0

    @property
    def ok(self) -> bool:
        return not self.moved

    @property
    def scenario_changed(self) -> bool:
        return self.old.scenario_hash != self.new.scenario_hash

    @property
    def code_changed(self) -> bool:
        return self.old.code_hash != self.new.code_hash

    def version_changes(self) -> list[str]:
        """'name old -> new' for every version that differs from the baseline's."""
        keys = sorted(set(self.old.versions) | set(self.new.versions))
        return [f"{k} {self.old.versions.get(k, '-')} -> {self.new.versions.get(k, '-')}"
                for k in keys if self.old.versions.get(k) != self.new.versions.get(k)]

    def describe(self) -> str:
        """Plain-text account: what changed since the baseline, and every moved metric."""
        head = f"{self.file} ({self.old.scenario}), {self.mode} mode"
        lines = [head]
        if self.scenario_changed:
            lines.append("  scenario file changed since the baseline (resolved-scenario hash differs)")
        if self.code_changed:
            lines.append("  purlsim code changed since the baseline")
        for v in self.version_changes():
            lines.append(f"  version changed: {v}")
        if not self.moved:
            lines.append(f"  results unchanged within what is allowed ({self.compared} metrics compared)")
        else:
            lines.append(f"  results moved: {len(self.moved)} of {self.compared} metrics beyond what is allowed")
            for m in self.moved:
                lines.append(f"    {m.metric}: {fmt(m.old)} -> {fmt(m.new)} (change {fmt_change(m)}, "
                             f"allowed {fmt_allowed(m, self.mode)}, p {fmt_p(m.p)})")
        return "\n".join(lines)


def fmt(x: float | None) -> str:
    """A number for reports (6 significant digits), '-' for missing."""
    return "-" if x is None else f"{x:.6g}"


def fmt_change(m: Moved) -> str:
    """The change with its sign, and relative change where defined."""
    if m.change is None:
        return "appeared" if m.old is None else "disappeared"
    rel = f" ({m.change / abs(m.old):+.1%})" if m.old else ""
    return f"{m.change:+.4g}{rel}"


def fmt_allowed(m: Moved, mode: str) -> str:
    """The allowed shift: '1e-9' in exact mode, '±x' in tolerance mode."""
    if mode == "exact":
        return f"exact ({EXACT_TOL:g})"
    return "-" if m.allowed is None else f"±{m.allowed:.4g}"


def fmt_p(p: float | None) -> str:
    """A Holm-adjusted p-value, or '-' when not tested."""
    return "-" if p is None or p != p else f"{p:.2g}"


def default_mode(old: Baseline, new: Baseline) -> str:
    """'exact' when scenario, code, versions and platform are unchanged, else 'tolerance'."""
    same = (old.scenario_hash == new.scenario_hash and old.code_hash == new.code_hash
            and old.versions == new.versions)
    return "exact" if same else "tolerance"


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= EXACT_TOL + EXACT_TOL * abs(a)


def _zero_metric(reps: int) -> Metric:
    return Metric(value=0.0, se=0.0, n=reps, per_rep=[0.0] * reps)


def paired_p(old: list[float | None], new: list[float | None]) -> float:
    """Two-sided p-value of a paired t-test on new - old over replications with both values; NaN if < 2 pairs."""
    o = np.array([math.nan if v is None else v for v in old], dtype=float)
    n = np.array([math.nan if v is None else v for v in new], dtype=float)
    k = min(o.size, n.size)
    d = (n[:k] - o[:k])
    d = d[~np.isnan(d)]
    if d.size < 2:
        return math.nan
    mean, sd = float(d.mean()), float(d.std(ddof=1))
    if sd == 0.0:
        return 0.0 if mean != 0.0 else 1.0
    t = mean / (sd / math.sqrt(d.size))
    return float(2 * _st.t.sf(abs(t), d.size - 1))


def holm(pvalues: list[float]) -> list[float]:
    """Holm step-down adjusted p-values (family-wise error control); NaN stays NaN and is not counted."""
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.size, math.nan)
    idx = np.flatnonzero(~np.isnan(p))
    m = idx.size
    running = 0.0
    for rank, i in enumerate(idx[np.argsort(p[idx], kind="stable")]):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out.tolist()


def compare(old: Baseline, new: Baseline, mode: str | None = None, file: Path | None = None,
            rtol: float | None = None, atol: float | None = None, alpha: float | None = None) -> Check:
    """Compare a fresh record with a baseline (see the module docstring for both modes)."""
    if mode not in (None, "exact", "tolerance"):
        raise BaselineError(f"--mode: must be 'exact' or 'tolerance' (got {mode!r})")
    tol = old.tolerances.with_overrides(rtol, atol, alpha)
    mode = mode or default_mode(old, new)
    check = Check(file=Path(file or old.scenario), old=old, new=new, mode=mode)
    olds, news = old.metrics(), new.metrics()
    keys = sorted(set(olds) | set(news))
    if mode == "exact":
        for key in keys:
            check.compared += 1
            o, n = olds.get(key), news.get(key)
            same = (o is not None and n is not None and _close(o.value, n.value) and o.n == n.n
                    and len(o.per_rep) == len(n.per_rep) and all(map(_close, o.per_rep, n.per_rep)))
            if not same:
                check.moved.append(Moved(".".join(key), o and o.value, n and n.value, EXACT_TOL))
        return check
    candidates = []
    for key in keys:
        name = key[2]
        o, n = olds.get(key), news.get(key)
        if name in COUNT_METRICS:
            o = o or _zero_metric(old.reps)
            n = n or _zero_metric(new.reps)
        if o is None or n is None or o.value is None or n.value is None:
            continue  # latency with no delivered lot on one side: the group's counts tell it
        check.compared += 1
        t = tol.metrics.get(name) or Tolerance(**DEFAULT_METRIC_TOLERANCES.get(name, {"rtol": 0.0, "atol": 0.0}))
        allowed = max(t.atol, t.rtol * abs(o.value))
        candidates.append((key, o, n, allowed, paired_p(o.per_rep, n.per_rep)))
    adjusted = holm([c[4] for c in candidates])
    for (key, o, n, allowed, _), p in zip(candidates, adjusted):
        beyond = abs(n.value - o.value) > allowed
        significant = math.isnan(p) or p < tol.alpha
        if beyond and significant:
            check.moved.append(Moved(".".join(key), o.value, n.value, allowed, None if math.isnan(p) else p))
    return check


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
        raise BaselineError(f"{file}: the scenario {baseline.scenario} no longer exists "
                            f"(restore it, or delete this baseline)")
    try:
        scenario, digest = load_resolved(path, baseline.overrides)
    except ScenarioError as exc:
        raise BaselineError([f"{file}: its scenario no longer loads: {p}" for p in exc.problems]) from None
    return Prepared(Path(file), baseline, scenario, digest, path, root)


def rerun(prep: Prepared, tolerances: Tolerances | None = None) -> Baseline:
    """Re-record a prepared baseline's scenario with its seed, reps and overrides (and its tolerances)."""
    b = prep.baseline
    return _record_loaded(prep.scenario, prep.scenario_hash, prep.path, b.reps, b.seed, b.overrides, tolerances or b.tolerances, prep.root)


def check(file: Path, root: Path | None = None, mode: str | None = None, rtol: float | None = None,
          atol: float | None = None, alpha: float | None = None) -> Check:
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


def default_file(directory: Path, scenario: Path, name: str | None = None) -> Path:
    """Where a scenario's baseline goes: `<dir>/<name or scenario stem>.json`."""
    return Path(directory) / f"{name or Path(scenario).stem}.json"
