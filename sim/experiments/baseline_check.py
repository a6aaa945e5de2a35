"""Checking a fresh record against a baseline: exact mode, or tolerances with a paired t-test and Holm's correction."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import stats as _st

from .baseline_file import (
    COUNT_METRICS,
    DEFAULT_METRIC_TOLERANCES,
    EXACT_TOL,
    Baseline,
    BaselineError,
    Metric,
    Tolerance,
)

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
        return [
            f"{k} {self.old.versions.get(k, '-')} -> {self.new.versions.get(k, '-')}"
            for k in keys
            if self.old.versions.get(k) != self.new.versions.get(k)
        ]

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
                lines.append(
                    f"    {m.metric}: {fmt(m.old)} -> {fmt(m.new)} (change {fmt_change(m)}, "
                    f"allowed {fmt_allowed(m, self.mode)}, p {fmt_p(m.p)})"
                )
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
    same = old.scenario_hash == new.scenario_hash and old.code_hash == new.code_hash and old.versions == new.versions
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
    d = n[:k] - o[:k]
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


def compare(
    old: Baseline,
    new: Baseline,
    mode: str | None = None,
    file: Path | None = None,
    rtol: float | None = None,
    atol: float | None = None,
    alpha: float | None = None,
) -> Check:
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
            same = (
                o is not None
                and n is not None
                and _close(o.value, n.value)
                and o.n == n.n
                and len(o.per_rep) == len(n.per_rep)
                and all(map(_close, o.per_rep, n.per_rep))
            )
            if not same:
                check.moved.append(Moved(".".join(key), o.value if o else None, n.value if n else None, EXACT_TOL))
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
        candidates.append((key, o.value, n.value, allowed, paired_p(o.per_rep, n.per_rep)))
    adjusted = holm([c[4] for c in candidates])
    for (key, old_value, new_value, allowed, _), p in zip(candidates, adjusted):
        beyond = abs(new_value - old_value) > allowed
        significant = math.isnan(p) or p < tol.alpha
        if beyond and significant:
            check.moved.append(Moved(".".join(key), old_value, new_value, allowed, None if math.isnan(p) else p))
    return check
