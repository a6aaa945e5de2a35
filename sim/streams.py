"""Random streams keyed by (seed, replication, part name), for common random numbers.

Two scenarios run with the same seed draw identical numbers in every part they share, whatever
else differs, because a part's stream depends only on its name, never on creation order.
"""

from __future__ import annotations

import hashlib
from itertools import chain, repeat

import numpy as np

from .scenario.distributions import BATCH, Sampler


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
    """Categorical draws (item mix, priority mix) from one stream, in batches; `draw` is the hot path's way in."""

    __slots__ = ("draw",)

    def __init__(self, values, weights, rng: np.random.Generator):
        values = list(values)
        if len(values) == 1:
            self.draw = repeat(values[0]).__next__  # a certain outcome draws nothing
            return
        w = np.asarray(weights, dtype=float)
        p = w / w.sum()

        def batches():
            while True:
                yield [values[i] for i in rng.choice(len(values), size=BATCH, p=p).tolist()]

        self.draw = chain.from_iterable(batches()).__next__
