"""Hostile input and faults (issue 15): every bad input a clear error, bounded work, nothing destroyed, nothing mixed.

Three parts:
- the hostile corpus in tests/hostile/ (expected.yaml pairs each file with all its problems),
  through `purlsim validate`, `purlsim run --out` and the Python API, as tests/bad_scenarios is;
- generated command lines (huge numbers, file names, outputs that must not be written, damaged
  manifests and baseline files), each with its exit code and message, forked from one process;
- fault injection with real processes: SIGKILL of the main process, a full disk (a small tmpfs,
  root only), a corrupt chunk on --resume, two runs into one output.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, run_cli_many
from test_bad_input import check_failure

import sim
from sim import outdir, output
from sim.executors import capped_workers, default_workers, executor_workers, open_executor
from sim.experiments.streamed import finished_chunks, partial_dir, run_to_dir
from sim.scenario import yaml12

HOSTILE = REPO / "tests" / "hostile"
# Read as YAML 1.2 like the scenarios themselves (PyYAML's 1.1 would make the key `yes` True).
EXPECTED: dict[str, list[list[str]]] = yaml12.load_yaml((HOSTILE / "expected.yaml").read_text(encoding="utf-8"))
CASES = sorted(EXPECTED)
BASE = HOSTILE / "_base.yaml"
ESC = "\x1b"
BIG = "1" + "0" * 399  # a 400-digit integer
PY = sys.executable
# The console entry point in a fresh process (`python -m sim.cli` would miss the commands of sim.commands).
PURLSIM = [PY, "-c", "from sim.cli import main; main()"]


def no_raw_control(res) -> None:
    """Nothing printed may hold a character that drives a terminal."""
    text = res.stdout + res.stderr
    assert not any(ch in text for ch in (ESC, "\x00", "\x9b", "\x07")), repr(text[:300])
    assert "Traceback" not in text


# --- the corpus ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    work = tmp_path_factory.mktemp("hostile_runs")
    argvs, keys, outs = [], [], {}
    for name in CASES:
        parent = work / f"{name}.parent"
        parent.mkdir()
        outs[name] = parent
        argvs += [["validate", HOSTILE / name], ["run", HOSTILE / name, "--out", parent / "out", "--workers", "1"]]
        keys += [("validate", name), ("run", name)]
    return {key: (res, outs[key[1]]) for key, res in zip(keys, run_cli_many(argvs, work))}


@pytest.mark.parametrize("name", CASES)
def test_hostile_corpus_through_cli_and_api(corpus, name):
    """validate and run --out: exit 2, exactly the expected lines, nothing raw, nothing written; the API agrees."""
    res_v, _ = corpus[("validate", name)]
    res_r, parent = corpus[("run", name)]
    lines = check_failure(res_v, None, HOSTILE / name, EXPECTED[name])
    assert check_failure(res_r, parent, HOSTILE / name, EXPECTED[name]) == lines
    no_raw_control(res_v)
    with pytest.raises(sim.ScenarioError) as info:
        sim.load_scenario(HOSTILE / name)
    assert [str(p) for p in info.value.problems] == lines


def test_the_hostile_corpus_is_fully_paired():
    files = {p.name for p in HOSTILE.glob("*.yaml") if not p.name.startswith("_") and p.name != "expected.yaml"}
    assert files == set(EXPECTED) and len(files) >= 45


# --- generated command lines -----------------------------------------------------------------


def _manifest(d: Path, doc) -> Path:
    d.mkdir(parents=True)
    (d / "manifest.json").write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return d


def _deep_json(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Every generated case: name -> (argv, expected exit code, [fragments], paths that must be unchanged)."""
    w = tmp_path_factory.mktemp("generated")
    scen = w / "s.yaml"
    scen.write_text(BASE.read_text().replace("# A small", "# a copy of the base: a small"))
    (w / "as_dir").mkdir()
    (w / "as_dir" / "s.yaml").write_text(scen.read_text())
    (w / "a_file").write_text("not a directory\n")
    (w / "theirs").mkdir()
    (w / "theirs" / "thesis.tex").write_text("years of work\n")
    (w / "notes.txt").write_text("my notes\n")
    esc_name = w / f"bad{ESC}[2Jname.yaml"
    esc_name.write_text("extends: _base.yaml\nhorizn_days: 3\n")
    shutil.copy(BASE, w / "_base.yaml")
    (w / "ext.yaml").write_text("extends: _base.yaml\nname: extended\n")
    long_name = w / ("a" * 300 + ".yaml")
    nested_baseline = w / "nested.json"
    nested_baseline.write_text(_deep_json(100_000))
    huge_reps = w / "huge_reps.json"
    huge_reps.write_text(
        json.dumps(
            {
                "format": "purlsim-baseline/2",
                "scenario": str(scen),
                "scenario_name": "x",
                "scenario_hash": "0",
                "code_hash": "0",
                "seed": 0,
                "reps": 10**12,
                "versions": {},
                "tolerances": {},
                "items": {},
            }
        )
    )
    nested = _manifest(w / "nested_out", '{"format": "purlsim-output/1", "files": ' + _deep_json(100_000) + "}")
    outside = _manifest(
        w / "outside_out",
        {
            "format": "purlsim-output/1",
            "files": {
                "../outside.txt": {"bytes": 9, "sha256": "0"},
                **{n: {"bytes": 0, "sha256": "0"} for n in output.REQUIRED["run"]},
            },
        },
    )
    (w / "outside.txt").write_text("outside\n")
    empty = _manifest(w / "empty_out", {"format": "purlsim-output/1", "files": {}})
    foreign = _manifest(w / "foreign_out", {"files": {"a.txt": {"bytes": 1, "sha256": "x"}}})
    out = lambda name: w / f"{name}.out"  # noqa: E731
    stream = "requests.stream={interarrival_days: 0.001, items: {shell: {weight: 1}}}"
    cases = {
        # 1. numbers: in --set and in options
        "set_seed_400_digits": (
            ["run", scen, "--set", f"seed={BIG}"],
            2,
            [f"{scen}: seed: must be at most 9223372036854775807 (got a number of about 400 digits)"],
        ),
        "set_horizon_400_digits": (
            ["validate", scen] and ["run", scen, "--set", f"horizon_days={BIG}"],
            2,
            [f"{scen}: horizon_days: is far too large"],
        ),
        "set_qty_400_digits": (
            ["run", scen, "--set", f"requests.packages.0.lines.0.qty={BIG}"],
            2,
            [f"{scen}: requests.packages.0.lines.0.qty: must be at most 1000000000"],
        ),
        "option_seed_400_digits": (["run", scen, "--seed", BIG], 2, ["--seed: must be at most 9223372036854775807"]),
        "option_reps_10_12_out": (
            ["run", scen, "--reps", str(10**12), "--out", out("reps")],
            2,
            ["--reps: must be at most 1,000,000 (got 1000000000000)"],
        ),
        "set_path_with_escape": (["run", scen, "--set", f"x{ESC}[2J=1"], 2, [f"{scen}: x\\x1b[2J: override path"]),
        # 4. work: replications x lots estimated before starting
        "reps_times_lots": (
            ["run", scen, "--set", stream, "--reps", "100000", "--out", out("work")],
            2,
            [f"{scen}: reps: about 36,500,100,000 lots in all"],
        ),
        "report_reps_times_lots": (
            ["report", scen, "--set", stream, "--reps", "100000", "--out", w / "r.html"],
            2,
            [f"{scen}: reps: about 36,500,100,000 lots in all"],
        ),
        "baseline_asks_10_12_reps": (["baseline", "check", huge_reps], 2, ["reps: Input should be less than or equal"]),
        # 5. the file system
        "file_name_too_long": (["validate", long_name], 2, [f"{long_name}: cannot read file: file name too long"]),
        "out_name_too_long": (["run", scen, "--out", w / ("o" * 300)], 2, ["file name too long"]),
        "out_parent_is_a_file": (["run", scen, "--out", w / "a_file" / "out"], 2, ["is not a directory"]),
        "out_dot_force": (["run", scen, "--out", ".", "--force"], 2, [".: not a name for an output directory"]),
        "baseline_dir_is_a_file": (
            ["baseline", "record", scen, "--dir", w / "a_file"],
            2,
            [f"{w / 'a_file'}: --dir is not a directory"],
        ),
        # 6. inputs and other people's files are never destroyed
        "run_out_is_the_scenario": (
            ["run", scen, "--out", scen, "--force"],
            2,
            [f"{scen}: is an input of this command (s.yaml); refusing to overwrite it"],
        ),
        "run_out_holds_the_scenario": (
            ["run", w / "as_dir" / "s.yaml", "--out", w / "as_dir", "--force"],
            2,
            ["holds an input of this command (s.yaml)"],
        ),
        "run_out_is_the_extended_base": (
            ["run", w / "ext.yaml", "--out", w / "_base.yaml", "--force"],
            2,
            ["is an input of this command (_base.yaml)"],
        ),
        "force_over_a_foreign_directory": (
            ["run", scen, "--out", w / "theirs", "--force"],
            2,
            ["is not a purlsim output"],
        ),
        "force_over_a_file": (["run", scen, "--out", w / "notes.txt", "--force"], 2, ["exists and is not a directory"]),
        "report_out_is_the_scenario": (
            ["report", scen, "--out", scen, "--reps", "1"],
            2,
            [f"{scen}: is an input of this command"],
        ),
        "report_over_a_text_file": (
            ["report", scen, "--out", w / "notes.txt", "--reps", "1"],
            2,
            ["exists and is not an HTML report"],
        ),
        "compare_out_is_an_input": (
            ["compare", scen, w / "as_dir" / "s.yaml", "--out", scen, "--force"],
            2,
            ["is an input of this command"],
        ),
        # 7. control characters in file names are escaped
        "file_name_with_escape": (["validate", esc_name], 2, ["bad\\x1b[2Jname.yaml:2:1: horizn_days: unknown key"]),
        # 8. nesting
        "baseline_nested_100000": (["baseline", "check", nested_baseline], 2, ["nested too deeply"]),
        "manifest_nested_100000": (["verify", nested], 1, ["unreadable manifest (nested too deeply)"]),
        # 9. verify
        "manifest_lists_outside": (["verify", outside], 1, ["lists '../outside.txt', which is outside"]),
        "manifest_empty": (["verify", empty], 1, ["lists none of the table sets a purlsim output has"]),
        "manifest_foreign": (["verify", foreign], 1, ["not a purlsim output manifest"]),
    }
    keep = [
        scen,
        w / "_base.yaml",
        w / "ext.yaml",
        w / "as_dir" / "s.yaml",
        w / "theirs" / "thesis.tex",
        w / "notes.txt",
        w / "a_file",
        w / "outside.txt",
    ]
    before = {p: p.read_bytes() for p in keep}
    names = sorted(cases)
    logs = tmp_path_factory.mktemp("generated_logs")
    results = run_cli_many([[str(a) for a in cases[n][0]] for n in names], logs, cwd=w)
    after = {p: p.read_bytes() if p.is_file() else None for p in keep}
    return {n: (cases[n], r) for n, r in zip(names, results)}, before, after, w


@pytest.mark.parametrize(
    "name",
    [
        "set_seed_400_digits",
        "set_horizon_400_digits",
        "set_qty_400_digits",
        "option_seed_400_digits",
        "option_reps_10_12_out",
        "set_path_with_escape",
        "reps_times_lots",
        "report_reps_times_lots",
        "baseline_asks_10_12_reps",
        "file_name_too_long",
        "out_name_too_long",
        "out_parent_is_a_file",
        "out_dot_force",
        "baseline_dir_is_a_file",
        "run_out_is_the_scenario",
        "run_out_holds_the_scenario",
        "run_out_is_the_extended_base",
        "force_over_a_foreign_directory",
        "force_over_a_file",
        "report_out_is_the_scenario",
        "report_over_a_text_file",
        "compare_out_is_an_input",
        "file_name_with_escape",
        "baseline_nested_100000",
        "manifest_nested_100000",
        "manifest_lists_outside",
        "manifest_empty",
        "manifest_foreign",
    ],
)
def test_generated_command_lines(generated, name):
    """Each generated command line: its exit code, its message, no traceback, nothing raw printed."""
    (argv, code, fragments), res = generated[0][name]
    no_raw_control(res)
    assert res.returncode == code, (res.returncode, res.stderr)
    lines = [ln for ln in res.stderr.splitlines() if ln.strip()]
    assert lines, "no message"
    for fragment in fragments:
        assert any(fragment in ln for ln in lines), (fragment, lines)


def test_generated_command_lines_destroy_nothing_and_leave_nothing(generated):
    """Inputs, foreign files and directories are byte for byte as before; no output, lock or staging is left."""
    _, before, after, w = generated
    assert after == before
    leftovers = [p.name for p in w.iterdir() if p.name.startswith(".") or p.suffix in (".out", ".html")]
    assert leftovers == [], leftovers
    assert sorted(p.name for p in (w / "theirs").iterdir()) == ["thesis.tex"]


# --- the Python API (class 11) and bounds that need no process --------------------------------


def test_api_refuses_with_scenario_errors(tmp_path):
    sc = sim.load_scenario(BASE)
    for bad in ({5: 1}, {("a",): 1}):
        with pytest.raises(sim.ScenarioError, match="an override path must be text"):
            sim.load_scenario(BASE, overrides=bad)
    with pytest.raises(sim.ScenarioError, match="overrides must be a mapping"):
        sim.load_scenario(BASE, overrides=["seed=1"])
    with pytest.raises(sim.ScenarioError, match="seed must be at most 9223372036854775807"):
        sim.run(sc, seed=10**400)
    with pytest.raises(sim.ScenarioError, match="at most 1,000,000 replications"):
        sim.run(sc, reps=10**12)
    with pytest.raises(sim.ScenarioError, match="must be a whole number"):
        sim.run(sc, reps=1.5)
    with pytest.raises(sim.ScenarioError, match="seed: must be at most"):
        sim.load_scenario(BASE, overrides={"seed": 10**400})
    with pytest.raises(sim.ScenarioError, match="at most 1,000,000 replications"):
        run_to_dir(sc, tmp_path / "o", reps=10**12)
    assert list(tmp_path.iterdir()) == []


def test_yaml_12_numbers(tmp_path):
    """010 is ten and 0x10 sixteen (YAML 1.2), 1e3 a number, 1_000 text; yes/no stay text."""
    assert yaml12.load_yaml("a: 010\nb: 0x10\nc: 0o10\nd: 1e3\ne: 1_000\nf: yes\ng: ~\nh: 2025-01-31\n") == {
        "a": 10,
        "b": 16,
        "c": 8,
        "d": 1000.0,
        "e": "1_000",
        "f": "yes",
        "g": None,
        "h": __import__("datetime").date(2025, 1, 31),
    }
    f = tmp_path / "octal.yaml"
    f.write_text(
        f"extends: {BASE}\nrequests:\n  packages:\n    - {{id: p1, at: 0, lines: [{{item: shell, qty: 010}}]}}\n"
    )
    assert sim.load_scenario(f).requests.packages[0].lines[0].qty == 10


def test_values_are_counted_while_parsing(tmp_path, monkeypatch):
    """A 20 MB extended file of ten million values is refused after the limit, not parsed whole first."""
    monkeypatch.setattr(yaml12, "MAX_EXPANDED", 10_000)  # the real limit (1,000,000) works the same, slower
    (tmp_path / "huge.yaml").write_text("x: [" + "0," * 9_999_999 + "0]\n")
    f = tmp_path / "s.yaml"
    f.write_text("extends: huge.yaml\n")
    t0 = time.perf_counter()
    with pytest.raises(sim.ScenarioError, match="more than 10,000 values: refused while reading"):
        sim.load_scenario(f)
    assert time.perf_counter() - t0 < 3.0


def test_a_million_deep_mapping_built_in_code_is_refused():
    data: dict = {}
    node = data
    for _ in range(1_000_000):
        node["x"] = node = {}
    with pytest.raises(sim.ScenarioError, match="nested deeper than 64 levels"):
        sim.scenario.validate_mapping(data)


def test_workers_are_capped_by_the_machine():
    cores = default_workers()
    assert capped_workers(1000) == cores and capped_workers(10**400) == cores and capped_workers(None) == cores
    with open_executor(workers=1000, tasks=1000) as ex:
        assert executor_workers(ex) <= cores


# --- faults with real processes ---------------------------------------------------------------

SLOW = (BASE.read_text() + "").replace(
    "packages:\n    - {id: p1, at: 0, lines: [{item: shell, qty: 30}]}",
    "stream: {interarrival_days: 0.02, items: {shell: {weight: 1}}}",
)


def _children(pid: int) -> set[int]:
    kids = set()
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids |= {int(k) for k in (task / "children").read_text().split()}
        except OSError:
            pass
    return kids


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc")
def test_sigkill_of_the_main_process_leaves_no_live_worker(tmp_path):
    f = tmp_path / "slow.yaml"
    f.write_text(SLOW.replace("extends: _base.yaml", ""))
    proc = subprocess.Popen(
        [*PURLSIM, "run", f, "--reps", "40", "--workers", "2", "-q", "--chunk-size", "1", "--out", tmp_path / "out"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline, workers = time.time() + 60, set()
    while time.time() < deadline and len(workers) < 2 and proc.poll() is None:
        workers = _children(proc.pid)
        time.sleep(0.05)
    assert len(workers) >= 2, "the pool never started"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    deadline = time.time() + 10
    while time.time() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.05)
    live = [w for w in workers if _alive(w)]
    for w in live:
        os.kill(w, signal.SIGKILL)
    assert live == [], "pool workers outlived the killed main process"


def _interrupt_after(n: int):
    seen = []

    def progress(k):
        seen.append(k)
        if len(seen) >= n:
            raise KeyboardInterrupt

    return progress


def test_a_corrupt_chunk_is_computed_again_on_resume(tmp_path):
    sc = sim.load_scenario(BASE)
    whole = run_to_dir(sc, tmp_path / "whole", reps=6, seed=3, chunk_size=1)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_to_dir(sc, out, reps=6, seed=3, chunk_size=1, progress=_interrupt_after(3))
    chunks = finished_chunks(partial_dir(out))
    assert len(chunks) == 3
    victim = chunks[1] / "deliveries.parquet"
    victim.write_bytes(b"PAR1 garbage" + victim.read_bytes()[12:])  # same size, broken content
    (chunks[2] / "lots.parquet").unlink()  # and one chunk missing a file
    done = run_to_dir(sc, out, reps=6, seed=3, resume=True)
    assert done.resumed_reps == 1  # only the intact chunk 0 was kept
    assert output.verify(out) == []
    for kind in ("deliveries", "events", "levels", "backfills"):
        assert (out / f"{kind}.parquet").read_bytes() == (tmp_path / "whole" / f"{kind}.parquet").read_bytes()
    assert not partial_dir(out).exists() and whole.reps == 6


def test_a_resume_removes_the_staging_a_killed_write_phase_left(tmp_path):
    sc = sim.load_scenario(BASE)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_to_dir(sc, out, reps=2, seed=1, chunk_size=1, progress=_interrupt_after(1))
    stale = tmp_path / ".out.partial-abc123"  # what SIGKILL in staged_dir leaves
    stale.mkdir()
    (stale / "deliveries.csv").write_text("half")
    run_to_dir(sc, out, reps=2, seed=1, resume=True)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_two_runs_into_one_output_cannot_mix(tmp_path):
    """While one run holds the output, a second --force run (another seed) is refused; the first finishes whole."""
    f = tmp_path / "slow.yaml"
    f.write_text(SLOW.replace("extends: _base.yaml", ""))
    out = tmp_path / "out"
    first = subprocess.Popen(
        [
            *PURLSIM,
            "run",
            f,
            "--reps",
            "12",
            "--seed",
            "1",
            "--workers",
            "1",
            "-q",
            "--chunk-size",
            "1",
            "--no-plots",
            "--out",
            out,
            "--force",
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.time() + 60
    while time.time() < deadline and not finished_chunks(partial_dir(out)) and first.poll() is None:
        time.sleep(0.05)
    second = subprocess.run(
        [
            *PURLSIM,
            "run",
            f,
            "--reps",
            "12",
            "--seed",
            "2",
            "--workers",
            "1",
            "-q",
            "--no-plots",
            "--out",
            out,
            "--force",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    _, err = first.communicate(timeout=300)
    assert first.returncode == 0, err
    assert second.returncode == 2 and "another purlsim run is writing it" in second.stderr, second.stderr
    assert "Traceback" not in second.stderr
    assert output.verify(out) == [] and json.loads((out / "summary.json").read_text())["seed"] == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "slow.yaml"]


def test_a_held_lock_refuses_resume_and_force_alike(tmp_path):
    sc = sim.load_scenario(BASE)
    out = tmp_path / "out"
    with outdir.locked(out):
        for kw in ({"force": True}, {"resume": True}, {}):
            with pytest.raises(outdir.OutputRefused, match="another purlsim run is writing it"):
                run_to_dir(sc, out, reps=1, **kw)
    assert list(tmp_path.iterdir()) == []


@pytest.fixture
def tiny_disk(tmp_path):
    """A 256 KiB tmpfs (CI runs as root); unmounted afterwards."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    mnt = tmp_path / "disk"
    mnt.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mnt)], capture_output=True, text=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {r.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_full_disk_leaves_no_partial_output_and_a_clear_message(tiny_disk, tmp_path):
    f = tmp_path / "slow.yaml"
    f.write_text(SLOW.replace("extends: _base.yaml", ""))
    res = subprocess.run(
        [*PURLSIM, "run", f, "--reps", "4", "--workers", "1", "-q", "--out", tiny_disk / "out"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert res.stderr.strip().startswith(f"{tiny_disk / 'out'}: cannot write: no space left on device"), res.stderr
    assert list(tiny_disk.iterdir()) == []  # no output, no partial run, no staging, no lock
    filler = tiny_disk / "filler"  # leave ~32 KiB: a report (~180 KiB) cannot fit
    filler.write_bytes(b"\0" * (224 * 1024))
    rep = subprocess.run(
        [*PURLSIM, "report", BASE, "--reps", "2", "--workers", "1", "-q", "--out", tiny_disk / "r.html"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert rep.returncode == 2 and "no space left on device" in rep.stderr and "Traceback" not in rep.stderr
    assert list(tiny_disk.iterdir()) == [filler]


def test_a_read_only_directory_is_a_clear_message(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("a read-only tmpfs needs root (as root, chmod does not make a directory read-only)")
    mnt = tmp_path / "ro"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(mnt)]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        res = subprocess.run(
            [*PURLSIM, "run", BASE, "--workers", "1", "-q", "--out", mnt / "out"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert res.returncode == 2 and "Traceback" not in res.stderr, res.stderr
        assert "read-only file system" in res.stderr and list(mnt.iterdir()) == []
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)
