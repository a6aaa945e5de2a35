"""The baseline file: its format (pydantic models, JSON text, atomic save, strict load) and the fingerprints it holds."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import os
import platform
import sys
from collections.abc import Mapping
from importlib import metadata
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from .. import metrics
from ..errors import ScenarioError
from ..scenario.loader import _resolve, apply_overrides, locate, validate_mapping
from ..scenario.schema import Scenario
from ..scenario.workload import DEFAULT_REPS, MAX_REPS, MAX_SEED  # noqa: F401 - DEFAULT_REPS is re-exported to baselines

FORMAT: Final = "purlsim-baseline/2"  # /1 held latency over delivered lots only: re-record those
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
    **{m: {"rtol": 0.0, "atol": 0.01} for m in SHARE_METRICS},  # shares: one percentage point
    "delivered_lots": {"rtol": 0.05, "atol": 0.5},
    "undelivered_lots": {"rtol": 0.05, "atol": 0.5},
    "replaced_gap_mean": {"rtol": 0.02, "atol": 1.0},  # days
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
        default_factory=lambda: {k: Tolerance(**v) for k, v in DEFAULT_METRIC_TOLERANCES.items()}
    )

    def with_overrides(
        self, rtol: float | None = None, atol: float | None = None, alpha: float | None = None
    ) -> Tolerances:
        """A copy with rtol/atol replaced for every metric and alpha replaced, where given."""
        check_tolerance_options(rtol, atol, alpha)
        metrics = {
            m: Tolerance(rtol=t.rtol if rtol is None else rtol, atol=t.atol if atol is None else atol)
            for m, t in self.metrics.items()
        }
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
                        problems.append(
                            f"{section}.{group}.{name}.per_rep: has {len(metric.per_rep)} values, reps is {self.reps}"
                        )
                    if name not in self.tolerances.metrics:
                        problems.append(
                            f"{section}.{group}.{name}: no tolerance for metric '{name}' in tolerances.metrics"
                        )
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
        body = ",\n".join(
            f"{pad}{json.dumps(str(k), ensure_ascii=False)}: {_dump(obj[k], level + 1)}" for k in sorted(obj, key=str)
        )
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
        raise BaselineError(
            f"{path}: corrupt baseline file: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})"
        ) from None
    if not isinstance(data, dict):
        raise BaselineError(f"{path}: corrupt baseline file: the top level must be an object")
    if data.get("format") == "purlsim-baseline/1":
        raise BaselineError(
            f"{path}: a baseline of the old format 'purlsim-baseline/1' (latency over delivered lots "
            f"only); re-record it: purlsim baseline record"
        )
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
    places: dict = {}
    data = _resolve(Path(path), shown, (), places=places)
    created: set[str] = set()
    if overrides:
        data, created = apply_overrides(data, dict(overrides), shown)
    try:
        return validate_mapping(data, shown, created), _hash_mapping(data)
    except ScenarioError as exc:  # each problem at its file, line and column, as load_scenario gives them
        raise ScenarioError(locate(exc.problems, places, shown, list(overrides or ()))) from None


# The code that decides results (see the module docstring): a change anywhere else in `sim` (plots,
# report, CLI, this module) leaves a baseline in exact mode.
RESULT_CODE = (
    "model",
    "scenario",
    "metrics",
    "streams.py",
    "recorder.py",
    "tables.py",
    "results.py",
    "stats.py",
    "experiments/ensemble.py",
)
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
