"""Random streams keyed by (seed, replication, part name), for common random numbers.

Two scenarios run with the same seed draw identical numbers in every part they share, whatever
else differs, because a part's stream depends only on its name, never on creation order.
"""
from __future__ import annotations

import hashlib

import numpy as np

from .scenario.distributions import Sampler


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

    def sampler(self, name: str, spec) -> Sampler:
        """A batched sampler of `spec` drawing from the stream called `name`."""
        return Sampler(spec, self.rng(name))


class Choice:
    """Categorical draws (item mix, priority mix) from one stream, in batches."""

    __slots__ = ("_values", "_p", "_rng", "_buf", "_i")

    def __init__(self, values, weights, rng: np.random.Generator):
        self._values = list(values)
        w = np.asarray(weights, dtype=float)
        self._p = w / w.sum()
        self._rng = rng
        self._buf: list[int] = []
        self._i = 0

    def __call__(self):
        """One draw."""
        if len(self._values) == 1:
            return self._values[0]
        if self._i >= len(self._buf):
            self._buf = self._rng.choice(len(self._values), size=512, p=self._p).tolist()
            self._i = 0
        v = self._values[self._buf[self._i]]
        self._i += 1
        return v
