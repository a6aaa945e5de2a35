"""No lost results: outputs appear whole or not at all, carry a manifest, and `purlsim verify` checks it.

- `sim.output.staged_dir` writes into a hidden sibling and renames it into place when complete;
  an exception inside leaves nothing new, and an old output replaced with force stays whole;
- `purlsim run --out` refuses an existing directory without --force (exit 2, old content kept)
  and replaces it whole with --force;
- a `purlsim run` killed with SIGKILL while it writes leaves nothing that looks complete;
- `manifest.json` lists every file with its size and SHA-256; `purlsim verify` passes on an intact
  output and exits 1 after a byte is flipped, a file removed or added, or the manifest damaged.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from sim import output
from sim.cli import app

SMALL = """\
name: small
start: 2025-01-01
horizon_days: 200
items: {a: {name: item a, unit_cost_musd: 1}}
requests: {stream: {interarrival_days: {dist: exponential, mean: 1.0}, items: {a: {weight: 1}}}}
approval: {enabled: false}
funding: {enabled: false}
production: {line: {item: a, node: plant, servers: 2, unit_days: {dist: exponential, mean: 1.5}}}
transport:
  destination: ua
  nodes: {ua: {kind: destination}, plant: {kind: plant}}
  choose: [{origin: plant, route: direct}]
"""
# ~30k requests a replication; run with --reps 2: simulated in about two seconds, then about 1.5 s
# of writing tables and plots into the staging directory (measured), a window wide enough to kill
# the run in (the test polls every 10 ms, and says so if the run ended first).
BIG = (
    SMALL.replace("name: small", "name: big")
    .replace("horizon_days: 200", "horizon_days: 3000")
    .replace("mean: 1.0}", "mean: 0.1}")
    .replace(
        "servers: 2, unit_days: {dist: exponential, mean: 1.5}",
        "servers: 12, unit_days: {dist: exponential, mean: 1.0}",
    )
)


def purlsim(*args, timeout=300) -> subprocess.CompletedProcess:
    """The command line in its own process, as a user runs it (real exit codes and signals)."""
    return subprocess.run(
        [sys.executable, "-m", "sim.cli", *map(str, args)], capture_output=True, text=True, timeout=timeout
    )


def cli(*args):
    """The same command line in this process (no interpreter start-up): (exit code, stdout, stderr)."""
    r = CliRunner().invoke(app, [str(a) for a in args])
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r.exit_code, r.stdout, r.stderr


def _sha(p: Path) -> str:
    return hashlib.sha256(p.read_bytes()).hexdigest()


def _tree(d: Path) -> dict[str, bytes]:
    return {p.relative_to(d).as_posix(): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def _manifests_outside_staging(root: Path, allowed: set[Path] = frozenset()) -> list[Path]:
    """manifest.json files under root that are not inside a `.NAME.partial-*` staging directory."""
    return [
        m
        for m in root.rglob("manifest.json")
        if not any(part.startswith(".") and ".partial-" in part for part in m.relative_to(root).parts)
        and m not in allowed
    ]


@pytest.fixture(scope="module")
def scenario_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("scenarios")
    (d / "small.yaml").write_text(SMALL)
    (d / "big.yaml").write_text(BIG)
    return d


@pytest.fixture(scope="module")
def intact(tmp_path_factory, scenario_files):
    """One finished `purlsim run --out`, never modified (tests copy it)."""
    out = tmp_path_factory.mktemp("runs") / "out"
    code, _, err = cli(
        "run", scenario_files / "small.yaml", "--reps", "3", "--workers", "1", "-q", "--csv", "--out", out
    )
    assert code == 0, err
    return out


def _copy(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True)
    for name, data in _tree(src).items():
        (dst / name).parent.mkdir(parents=True, exist_ok=True)
        (dst / name).write_bytes(data)
    return dst


# --- the library: staged_dir ------------------------------------------------------------------


def test_staged_dir_appears_only_when_complete(tmp_path):
    out = tmp_path / "out"
    with output.staged_dir(out) as tmp:
        (tmp / "a.csv").write_text("x\n1\n")
        (tmp / "sub").mkdir()
        (tmp / "sub" / "b.bin").write_bytes(bytes(range(256)))
        assert not out.exists()  # nothing at the destination while writing
        assert tmp.parent == out.parent and tmp.name.startswith(".out.partial-")  # a hidden sibling: same filesystem
    assert out.is_dir() and not tmp.exists()  # renamed into place, staging gone
    manifest = json.loads((out / "manifest.json").read_text())
    assert set(manifest["files"]) == {"a.csv", "sub/b.bin"}  # every file, nothing else
    for name, meta in manifest["files"].items():
        assert meta["bytes"] == (out / name).stat().st_size and meta["sha256"] == _sha(out / name)  # exact
    # Checksums match, but these are not the tables of a purlsim output: verify does not call it intact.
    [problem] = output.verify(out)
    assert "lists none of the table sets a purlsim output has" in problem


def test_an_exception_inside_leaves_nothing(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with output.staged_dir(out) as tmp:
            (tmp / "a.csv").write_text("half")
            raise RuntimeError("crash mid-write")
    assert not out.exists() and list(tmp_path.iterdir()) == []  # no output, no staging left behind


def test_force_keeps_the_old_output_whole_when_the_new_one_fails(tmp_path, intact):
    out = _copy(intact, tmp_path / "out")
    before = _tree(out)
    with pytest.raises(RuntimeError):
        with output.staged_dir(out, force=True) as tmp:
            (tmp / "deliveries.csv").write_text("half")
            raise RuntimeError("crash mid-write")
    assert _tree(out) == before and output.verify(out) == []  # byte for byte the old output


def test_staged_dir_refuses_an_existing_output_without_force(tmp_path, intact):
    out = _copy(intact, tmp_path / "out")
    with pytest.raises(output.OutputExists):
        with output.staged_dir(out):
            pass


# --- the command line: refuse, replace whole, verify -----------------------------------------


def test_existing_out_is_refused_without_force_and_kept(tmp_path, scenario_files, intact):
    out = _copy(intact, tmp_path / "out")
    (out / "notes.txt").write_text("an analyst's notes")
    before = _tree(out)
    code, _, err = cli("run", scenario_files / "small.yaml", "--workers", "1", "-q", "--out", out)
    assert code == 2  # refused: the usage-error exit code
    assert "exists" in err and "--force" in err and "Traceback" not in err  # says why and what to do
    assert _tree(out) == before  # untouched, byte for byte


def test_force_replaces_the_old_output_whole(tmp_path, scenario_files, intact):
    out = _copy(intact, tmp_path / "out")
    (out / "notes.txt").write_text("left over from the old content")
    code, _, err = cli(
        "run",
        scenario_files / "small.yaml",
        "--reps",
        "2",
        "--seed",
        "9",
        "--workers",
        "1",
        "-q",
        "--out",
        out,
        "--force",
    )
    assert code == 0, err
    assert not (out / "notes.txt").exists()  # nothing of the old content survives
    assert json.loads((out / "summary.json").read_text())["seed"] == 9  # it is the new run
    assert cli("verify", out)[0] == 0
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging or old copy left beside it


def test_verify_passes_on_an_intact_output(intact):
    r = purlsim("verify", intact)  # in its own process: the exit code a shell sees
    assert r.returncode == 0 and "intact" in r.stdout


def test_manifest_lists_every_file_with_size_and_checksum(intact):
    manifest = json.loads((intact / "manifest.json").read_text())
    on_disk = {p.relative_to(intact).as_posix() for p in intact.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(manifest["files"]) == on_disk  # every file, and only those
    assert {"deliveries.parquet", "deliveries.csv", "summary.json"} <= on_disk  # the tables are there
    for name, meta in manifest["files"].items():
        assert meta == {"bytes": (intact / name).stat().st_size, "sha256": _sha(intact / name)}  # exact


@pytest.mark.parametrize("victim", ["deliveries.csv", "deliveries.parquet", "summary.json"])
def test_verify_fails_after_one_flipped_byte(tmp_path, intact, victim):
    out = _copy(intact, tmp_path / "out")
    data = bytearray((out / victim).read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit of one byte; same size, so only the checksum can tell
    (out / victim).write_bytes(bytes(data))
    if victim == "deliveries.csv":  # once in its own process: the exit code a shell sees
        r = purlsim("verify", out)
        code, err = r.returncode, r.stderr
    else:
        code, _, err = cli("verify", out)
    assert code == 1  # damaged: exit 1
    assert victim in err and "Traceback" not in err  # names the file, no traceback


@pytest.mark.parametrize("damage", ["remove", "add", "manifest_byte", "manifest_shape", "no_manifest"])
def test_verify_fails_on_other_damage(tmp_path, intact, damage):
    out = _copy(intact, tmp_path / "out")
    if damage == "remove":
        (out / "levels.csv").unlink()
    elif damage == "add":
        (out / "stray.csv").write_text("not written by this run\n")
    elif damage == "manifest_byte":
        text = (out / "manifest.json").read_text()
        i = text.index('"sha256": "') + len('"sha256": "')
        (out / "manifest.json").write_text(text[:i] + ("0" if text[i] != "0" else "1") + text[i + 1 :])
    elif damage == "manifest_shape":
        (out / "manifest.json").write_text(json.dumps({"format": "purlsim-output/1", "files": ["deliveries.csv"]}))
    else:
        (out / "manifest.json").unlink()
    code, _, err = cli("verify", out)
    assert code == 1 and err.strip() and "Traceback" not in err  # damaged: exit 1, a message, no traceback


# --- SIGKILL mid-write ---------------------------------------------------------------------------


def _kill_while_writing(cmd: list, parent: Path, name: str) -> subprocess.Popen:
    """Start cmd, wait until its staging directory holds a file, SIGKILL it; return the finished process."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 240
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            staging = [p for p in parent.iterdir() if p.name.startswith(f".{name}.partial-")]
            if staging and any(p.is_file() for p in staging[0].rglob("*")):
                os.kill(proc.pid, signal.SIGKILL)  # mid-write: the staging directory is being filled
                break
            time.sleep(0.01)
    finally:
        if proc.poll() is None and time.monotonic() >= deadline:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    return proc


@pytest.mark.parametrize("existing", [False, True], ids=["fresh", "force_over_existing"])
def test_a_run_killed_mid_write_leaves_nothing_that_looks_complete(tmp_path, scenario_files, intact, existing):
    parent = tmp_path / "runs"
    parent.mkdir()
    out = parent / "out"
    old = None
    if existing:
        _copy(intact, out)
        old = _tree(out)
    cmd = [
        sys.executable,
        "-m",
        "sim.cli",
        "run",
        str(scenario_files / "big.yaml"),
        "--reps",
        "2",
        "--workers",
        "1",
        "-q",
        "--out",
        str(out),
    ] + (["--force"] if existing else [])
    proc = _kill_while_writing(cmd, parent, "out")
    assert proc.returncode == -signal.SIGKILL, (
        f"the run ended ({proc.returncode}) before it could be killed mid-write: make BIG bigger"
    )
    if existing:
        # Never half overwritten: the old output is still there, whole and verifiable.
        assert _tree(out) == old  # byte for byte
        assert purlsim("verify", out).returncode == 0
        assert _manifests_outside_staging(parent, {out / "manifest.json"}) == []  # no other manifest
    else:
        assert not out.exists() or purlsim("verify", out).returncode == 1  # nothing that verifies
        assert not out.exists()  # stronger, by design: nothing at --out until the rename
        assert _manifests_outside_staging(parent) == []  # no manifest anywhere but inside a staging dir
