"""`purlsim run --dask local` leaves no process behind when it exits."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")
ROOT = Path(__file__).resolve().parents[1]


def in_group(pgid: int) -> list[int]:
    """The live processes of process group `pgid` (Linux /proc; zombies count as gone)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rpartition(")")[2].split()  # after the command name, which may hold spaces
        if fields[0] != "Z" and int(fields[2]) == pgid:
            found.append(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_dask_local_leaves_no_process_behind(tmp_path):
    # Its own process group: the LocalCluster's scheduler, nanny and worker processes all join it,
    # so any of them still alive after the command exits is found by the group id.
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    argv = [sys.executable, "-m", "sim.cli", "run", "scenarios/baseline.yaml", "--reps", "4", "--dask", "local"]
    proc = subprocess.Popen(
        [*argv, "--workers", "2", "-q"], cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.PIPE, text=True
    )
    seen = set()
    while proc.poll() is None:  # the cluster's processes are there while it runs: the check below can fail
        seen.update(p for p in in_group(proc.pid) if p != proc.pid)
        time.sleep(0.05)
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0 and "All items" in out
    assert seen, "saw no cluster process while the command ran"
    deadline = time.monotonic() + 5  # the kernel reaps an orphan's exit at once; a live one stays
    while in_group(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert in_group(proc.pid) == []
