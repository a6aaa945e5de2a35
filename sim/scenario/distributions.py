"""Distribution specs for anything that varies: a plain number, or {dist: NAME, ...}.

Each spec is data (pydantic, frozen); `sampler(rng)` turns it into a batched sampler so that
the hot path never calls numpy once per draw.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from itertools import chain, islice, repeat
from typing import Annotated, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

BATCH = 512
# Every parameter is at most this (days or units): far beyond any horizon or lot, and small enough
# that sums of draws stay exact in a float's 53 bits and never overflow.
MAX_PARAM = 1e9
MAX_LOGNORMAL_CV = 1000.0
TOTAL_CHUNK = 1 << 20  # draws summed at once by Sampler.total (8 MiB)


def bool_is_not_a_number(model: type[BaseModel], data):
    """Before validation: a YAML boolean (true, yes, on...) given for a field that is not a boolean
    becomes the text it stands for, so it is refused as "must be a number" at its own path instead
    of being taken as 1 or 0."""
    if not isinstance(data, dict):
        return data
    fixed = None
    for key, value in data.items():
        if isinstance(value, bool) and not _takes_bool(model, key):
            fixed = fixed if fixed is not None else dict(data)
            fixed[key] = "true" if value else "false"
    return data if fixed is None else fixed


def _takes_bool(model: type[BaseModel], key) -> bool:
    for name, field in model.model_fields.items():
        if key in (name, field.alias):
            return field.annotation is bool
    return True  # an unknown key: reported as such by `extra="forbid"`


class _Dist(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    @model_validator(mode="before")
    @classmethod
    def _bool_is_not_a_number(cls, data):
        return bool_is_not_a_number(cls, data)

    def mean(self) -> float:  # pragma: no cover - overridden
        raise NotImplementedError

    def _draw(self, rng: np.random.Generator, n: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError


class Fixed(_Dist):
    """Always the same value."""

    dist: Literal["fixed"] = "fixed"
    value: float = Field(ge=0, le=MAX_PARAM)

    def mean(self) -> float:
        return self.value

    def _draw(self, rng, n):
        return np.full(n, self.value)


class Exponential(_Dist):
    """Exponential with the given mean (memoryless waits, Poisson arrivals)."""

    dist: Literal["exponential"]
    mean_: float = Field(alias="mean", gt=0, le=MAX_PARAM)

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False)

    def mean(self) -> float:
        return self.mean_

    def _draw(self, rng, n):
        return rng.exponential(self.mean_, n)


class Uniform(_Dist):
    """Uniform on [low, high]."""

    dist: Literal["uniform"]
    low: float = Field(ge=0, le=MAX_PARAM)
    high: float = Field(gt=0, le=MAX_PARAM)

    @model_validator(mode="after")
    def _order(self):
        if self.high < self.low:
            raise ValueError("high must be >= low")
        return self

    def mean(self) -> float:
        return (self.low + self.high) / 2

    def _draw(self, rng, n):
        return rng.uniform(self.low, self.high, n)


class Triangular(_Dist):
    """Triangular on [low, high] with the given mode: the analyst's three-point estimate."""

    dist: Literal["triangular"]
    low: float = Field(ge=0, le=MAX_PARAM)
    mode: float = Field(ge=0, le=MAX_PARAM)
    high: float = Field(gt=0, le=MAX_PARAM)

    @model_validator(mode="after")
    def _order(self):
        if not (self.low <= self.mode <= self.high):
            raise ValueError("need low <= mode <= high")
        return self

    def mean(self) -> float:
        return (self.low + self.mode + self.high) / 3

    def _draw(self, rng, n):
        if self.low == self.high:
            return np.full(n, self.low)
        return rng.triangular(self.low, self.mode, self.high, n)


class Lognormal(_Dist):
    """Lognormal given by the mean and standard deviation of the variable itself (not its log)."""

    dist: Literal["lognormal"]
    mean_: float = Field(alias="mean", gt=0, le=MAX_PARAM)
    sd: float = Field(gt=0, le=MAX_PARAM)

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False)

    @model_validator(mode="after")
    def _spread(self):
        # log1p((sd/mean)**2) overflows for a huge ratio; a coefficient of variation of 1000 is already absurd.
        if self.sd > MAX_LOGNORMAL_CV * self.mean_:
            raise ValueError(f"sd must be at most {MAX_LOGNORMAL_CV:g} times the mean")
        return self

    def mean(self) -> float:
        return self.mean_

    def _draw(self, rng, n):
        sigma2 = math.log1p((self.sd / self.mean_) ** 2)
        mu = math.log(self.mean_) - sigma2 / 2
        return rng.lognormal(mu, math.sqrt(sigma2), n)


class Normal(_Dist):
    """Normal truncated below at zero (a duration or quantity cannot be negative): negatives are redrawn."""

    dist: Literal["normal"]
    mean_: float = Field(alias="mean", gt=0, le=MAX_PARAM)
    sd: float = Field(gt=0, le=MAX_PARAM)

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False)

    def mean(self) -> float:
        # Mean of the normal before truncation; exact when sd << mean, which is the intended use.
        return self.mean_

    def _draw(self, rng, n):
        out = rng.normal(self.mean_, self.sd, n)
        bad = out < 0
        while bad.any():
            out[bad] = rng.normal(self.mean_, self.sd, int(bad.sum()))
            bad = out < 0
        return out


class Empirical(_Dist):
    """Draws from observed values, optionally weighted."""

    dist: Literal["empirical"]
    values: list[Annotated[float, Field(ge=0, le=MAX_PARAM)]] = Field(min_length=1)
    weights: list[Annotated[float, Field(gt=0, le=MAX_PARAM)]] | None = None

    @model_validator(mode="after")
    def _lengths(self):
        if self.weights is not None and len(self.weights) != len(self.values):
            raise ValueError("weights must have one entry per value")
        return self

    def _p(self):
        if self.weights is None:
            return None
        w = np.asarray(self.weights, dtype=float)
        return w / w.sum()

    def mean(self) -> float:
        p = self._p()
        v = np.asarray(self.values, dtype=float)
        return float(v.mean() if p is None else (v * p).sum())

    def _draw(self, rng, n):
        return rng.choice(np.asarray(self.values, dtype=float), size=n, p=self._p())


DistSpec = Annotated[
    Fixed | Exponential | Uniform | Triangular | Lognormal | Normal | Empirical,
    Field(discriminator="dist"),
]
DIST_NAMES = ("fixed", "exponential", "uniform", "triangular", "lognormal", "normal", "empirical")


def as_dist(value) -> _Dist:
    """A plain number becomes Fixed; a spec passes through."""
    if isinstance(value, _Dist):
        return value
    return Fixed(value=float(value))


def _batches(draw, rng):
    """Batches of draws as lists; `rng` a Generator or its maker (called at the first batch).

    The sampler's `total` draws from the same generator between batches, so a maker handed to
    both must make one generator: Streams' makers cache it (streams.py)."""
    if not isinstance(rng, np.random.Generator):
        rng = rng()
    while True:
        yield draw(rng, BATCH).tolist()


class Sampler:
    """Hands out draws of one distribution from one random stream, refilled in batches.

    `draw` is the hot path's way in: a C-level iterator step over the current batch, so a draw
    costs no Python frame. Batches are drawn lazily, when the previous one runs out.
    """

    __slots__ = ("_spec", "_rng", "_stream", "draw", "fixed")

    def __init__(self, spec, rng):
        """`rng`: a Generator, or a callable making it on the first draw (a stream never drawn
        from is never made: most of a replication's set-up cost); unused for a fixed value."""
        self._spec = as_dist(spec)
        self._rng = rng
        self.fixed = self._spec.value if isinstance(self._spec, Fixed) else None
        self._stream: Iterator[float]
        if self.fixed is not None:
            self._stream = repeat(self.fixed)
        else:
            # No reference back to self: the sampler is freed by reference counting alone.
            self._stream = chain.from_iterable(_batches(self._spec._draw, rng))
        self.draw = self._stream.__next__

    @property
    def rng(self) -> np.random.Generator:
        """The stream's generator, made now if it was handed over as a maker."""
        if not isinstance(self._rng, np.random.Generator):
            self._rng = self._rng()
        return self._rng

    def mean(self) -> float:
        """The distribution's mean (for estimates, never for draws)."""
        return self._spec.mean()

    def __call__(self) -> float:
        """One draw."""
        return self.draw()

    def draws(self, n: int) -> np.ndarray:
        """n independent draws at once, in stream order (the times of n units made one after another)."""
        if self.fixed is not None:
            return np.full(n, self.fixed, dtype=float)
        return np.fromiter(islice(self._stream, n), dtype=float, count=n)

    def total(self, n: int) -> float:
        """Sum of n independent draws (the time to make n units one after another)."""
        if self.fixed is not None:
            return self.fixed * n
        if n <= 16:
            return sum(islice(self._stream, n))
        if n <= TOTAL_CHUNK:
            return float(self._spec._draw(self.rng, n).sum())
        # A lot of a billion units must not need a billion-element array at once.
        total, left = 0.0, n
        while left > 0:
            k = min(left, TOTAL_CHUNK)
            total += float(self._spec._draw(self.rng, k).sum())
            left -= k
        return total
