"""Random streams keyed by (seed, replication, part name), for common random numbers.

Two scenarios run with the same seed draw identical numbers in every part they share, whatever
else differs, because a part's stream depends only on its name, never on creation order.
A sampler's generator is made at its first draw (a fixed value never makes one): a stream's
numbers depend only on its key, so making it later draws the same numbers, and a replication
no longer pays for the streams it never draws from.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from itertools import chain, repeat

import numpy as np

from .scenario.distributions import BATCH, Sampler


@lru_cache(maxsize=4096)  # a pure function of the name, asked again in every replication
def _name_key(name: str) -> int:
    return int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "little")


class Streams:
    """The independent random streams of one replication."""

    def __init__(self, seed: int, rep: int):
        self.seed = int(seed)
        self.rep = int(rep)

    def rng(self, name: str) -> np.random.Generator:
        """A generator for the part called `name` in this replication."""
        seq = np.random.SeedSequence(entropy=self.seed, spawn_key=(self.rep, _name_key(name)))
        return np.random.Generator(np.random.PCG64(seq))

    def maker(self, name: str) -> _Maker:
        """A callable making the generator of `name` when first called (then the same one)."""
        return _Maker(self, name)

    def sampler(self, name: str, spec) -> Sampler:
        """A batched sampler of `spec` drawing from the stream called `name` (made at its first draw)."""
        return Sampler(spec, _Maker(self, name))


class _Maker:
    """The generator of one named stream, made at the first call and the same one after."""

    __slots__ = ("_streams", "_name", "_rng")

    def __init__(self, streams: Streams, name: str):
        self._streams, self._name = streams, name
        self._rng: np.random.Generator | None = None

    def __call__(self) -> np.random.Generator:
        if self._rng is None:
            self._rng = self._streams.rng(self._name)
        return self._rng


class Choice:
    """Categorical draws (item mix, priority mix) from one stream, in batches; `draw` is the hot path's way in."""

    __slots__ = ("draw",)

    def __init__(self, values, weights, rng):
        """`rng`: a Generator, or a callable making it at the first draw."""
        values = list(values)
        if len(values) == 1:
            self.draw = repeat(values[0]).__next__  # a certain outcome draws nothing
            return
        w = np.asarray(weights, dtype=float)
        p = w / w.sum()

        def batches():
            gen = rng if isinstance(rng, np.random.Generator) else rng()
            while True:
                yield [values[i] for i in gen.choice(len(values), size=BATCH, p=p).tolist()]

        self.draw = chain.from_iterable(batches()).__next__
