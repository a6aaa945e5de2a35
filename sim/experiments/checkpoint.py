"""Finished blocks of a long study kept on disk, so that a study stopped by Ctrl-C resumes where it was.

A study (a Sobol or Morris design, a second-order run) evaluates its design points in blocks,
always the same blocks in the same order. With a checkpoint directory, each finished block's
values are written there as `block_NNNNN.npy` (to a temporary name, then renamed: a block file
is whole or absent), beside `study.json`, which says what the study is (scenario digest, method,
sizes, figure, seed...). On resume a block already there is read instead of run; values are the
same numbers either way, so a resumed study equals an uninterrupted one exactly. The ideas are
those of the streamed run (sim.experiments.streamed): a hidden `.NAME.partial` sibling of the
output, refused unless resuming, checked against what is asked, removed once the output is written.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

FORMAT = "purlsim-study-partial/1"
STUDY_FILE = "study.json"


class StudyPartialError(ValueError):
    """A partial study is in the way (resume not asked for) or is not the study asked for."""


def scenario_digest(scenario) -> str:
    """SHA-256 of the resolved scenario (as sim.experiments.streamed's; not imported from there: it loads pyarrow)."""
    import hashlib

    text = json.dumps(scenario.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def partial_for(out: Path) -> Path:
    """Where the finished blocks of a study writing `out` are kept."""
    out = Path(out)
    return out.parent / f".{out.name}.partial"


class Checkpoint:
    """The finished blocks of one study in `root` (None: keep nothing, run every block)."""

    def __init__(self, root: Path | None, study: dict[str, Any], resume: bool = False):
        self.root = None if root is None else Path(root)
        self.study = json.loads(json.dumps({"format": FORMAT, **study}))  # as it reads back
        self.resumed = 0  # blocks read back instead of run
        if self.root is None:
            return
        meta = self.root / STUDY_FILE
        if self.root.exists():
            if not resume:
                raise StudyPartialError(
                    f"{self.root}: an unfinished study is there; finish it with --resume or remove it to start over"
                )
            try:
                found = json.loads(meta.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                found = None
            if found != self.study:
                raise StudyPartialError(
                    f"{self.root}: the unfinished study there is not this one (scenario, method, sizes, figure or "
                    f"seed differ); run it as it was started, or remove it to start over"
                )
        else:
            self.root.mkdir(parents=True)
            tmp = meta.with_suffix(".tmp")
            tmp.write_text(json.dumps(self.study, indent=2, sort_keys=True), encoding="utf-8")
            os.replace(tmp, meta)

    def _file(self, i: int) -> Path:
        assert self.root is not None
        return self.root / f"block_{i:05d}.npy"

    def block(self, i: int, compute: Callable[..., np.ndarray], *args) -> np.ndarray:
        """Block i's values: read back if finished before, else compute(*args), kept."""
        if self.root is None:
            return compute(*args)
        path = self._file(i)
        if path.is_file():
            try:
                values = np.load(path, allow_pickle=False)
                self.resumed += 1
                return values
            except (OSError, ValueError):
                pass  # a damaged block is computed again
        values = np.asarray(compute(*args), dtype=np.float64)
        tmp = path.with_name(path.name + ".tmp")
        with open(tmp, "wb") as fh:
            np.save(fh, values, allow_pickle=False)
        os.replace(tmp, path)
        return values

    def finished(self) -> int:
        """How many blocks are kept."""
        return 0 if self.root is None or not self.root.is_dir() else len(list(self.root.glob("block_*.npy")))

    def discard(self) -> None:
        """Remove the kept blocks (the study's output is written)."""
        if self.root is not None and self.root.exists():
            shutil.rmtree(self.root)
