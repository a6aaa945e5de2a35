"""`purlsim run --out` and `compare --out` write their plots as PNG, listed in the manifest, drawn from the run's own data."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import REPO
from PIL import Image
from typer.testing import CliRunner

import sim
from sim import plots, pngs
from sim.cli import app
from sim.experiments.ensemble import run_stats
from sim.experiments.streamed import run_to_dir
from sim.metrics.comparison import of_results

FACTORY = REPO / "scenarios" / "factory_only.yaml"
STOCKPILE = REPO / "scenarios" / "stockpile_first.yaml"
RUN_PNGS = {
    "latency_ecdf.png",
    "time_breakdown.png",
    "backfill_gap.png",
    "delivery_timeline.png",
    "stock_levels.png",
    "ukraine_stock.png",  # baseline_2025 keeps Ukraine's PAC-3 stock
}
REPS, SEED = 3, 4


def cli(*args):
    """The command line in this process: (exit code, stdout)."""
    r = CliRunner().invoke(app, [str(a) for a in args])
    if r.exception is not None and not isinstance(r.exception, SystemExit):
        raise r.exception
    return r.exit_code, " ".join(r.stdout.split())


def verify(directory):
    """`purlsim verify DIR` in its own process, as a shell runs it."""
    return subprocess.run(
        [sys.executable, "-m", "sim.cli", "verify", str(directory)], capture_output=True, text=True, timeout=120
    )


def assert_valid_pngs(directory, names):
    """Every name is a PNG that decodes, listed in the manifest with its size."""
    files = json.loads((directory / "manifest.json").read_text())["files"]
    for name in names:
        path = directory / name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
        with Image.open(path) as img:
            img.verify()
        with Image.open(path) as img:
            assert img.format == "PNG" and img.width > 400 and img.height > 300, name
        assert files[name]["bytes"] == path.stat().st_size, name


@pytest.fixture(scope="module")
def run_out(tmp_path_factory):
    """(directory, stdout) of `purlsim run stockpile_first --reps 3 --out DIR`."""
    out = tmp_path_factory.mktemp("run") / "out"
    code, text = cli("run", STOCKPILE, "--reps", REPS, "--seed", SEED, "--workers", 1, "-q", "--out", out)
    assert code == 0, text
    return out, text


@pytest.fixture(scope="module")
def compare_out(tmp_path_factory):
    """(directory, stdout) of `purlsim compare factory_only stockpile_first --reps 3 --out DIR`."""
    out = tmp_path_factory.mktemp("compare") / "out"
    code, text = cli("compare", FACTORY, STOCKPILE, "--reps", REPS, "--seed", SEED, "--workers", 1, "-q", "--out", out)
    assert code == 0, text
    return out, text


def test_run_out_writes_its_plots_as_png_listed_in_the_manifest(run_out):
    out, text = run_out
    assert {p.name for p in out.glob("*.png")} == RUN_PNGS
    assert_valid_pngs(out, RUN_PNGS)
    assert "Plots: latency_ecdf.png" in text
    r = verify(out)
    assert r.returncode == 0 and "intact" in r.stdout, r.stderr


def test_run_out_no_plots_writes_none(tmp_path):
    code, text = cli("run", STOCKPILE, "--reps", 1, "--workers", 1, "-q", "--out", tmp_path / "o", "--no-plots")
    assert code == 0 and not list((tmp_path / "o").glob("*.png")) and "Plots:" not in text


def test_compare_out_writes_the_table_and_plots_listed_in_the_manifest(compare_out):
    out, text = compare_out
    names = {p.name for p in out.iterdir()}
    # The standard plots of several runs: Ukraine's stock is a plot of one run only.
    assert names == {"comparison.csv", "comparison.json", "comparison.png", "manifest.json"} | (
        RUN_PNGS - {"ukraine_stock.png"}
    )
    assert_valid_pngs(out, names - {"comparison.csv", "comparison.json", "manifest.json"})
    assert "Plots: " in text
    assert cli("verify", out) == (0, f"{out}: intact")
    # keeping tables for the plots does not change the comparison: it is what sim.compare gives
    table = pd.read_csv(out / "comparison.csv")
    expected = sim.compare([FACTORY, STOCKPILE], reps=REPS, seed=SEED)
    for figure in ("rmst", "ttd_p50", "delivered_share"):
        assert list(table[f"diff_{figure}"].dropna()) == pytest.approx(list(expected[f"diff_{figure}"].dropna()))
        assert list(table[figure]) == pytest.approx(list(expected[figure]), nan_ok=True)


def test_plots_of_a_run_directory_are_drawn_from_the_same_data_as_in_memory(run_out):
    out, _ = run_out
    sc = sim.load_scenario(STOCKPILE)
    back = pngs.read_back(out, sc, SEED, REPS)
    mem = sim.run(sc, reps=REPS, seed=SEED)
    assert back.reps == REPS
    for kind, cols in pngs.COLUMNS.items():
        mine = mem.event_log if kind == "events" else getattr(mem, kind)
        pd.testing.assert_frame_equal(
            getattr(back, "event_log" if kind == "events" else kind).reset_index(drop=True),
            mine[cols].reset_index(drop=True),
            check_dtype=False,
            check_categorical=False,
        )
    for fn in (plots.delivery_timeline, plots.stock_levels, plots.latency_ecdf, plots.backfill_gap):
        a, b = fn(back), fn(mem)
        for ax_a, ax_b in zip(a.axes, b.axes, strict=True):
            ya = [np.asarray(l.get_ydata(), dtype=float) for l in ax_a.get_lines()]
            yb = [np.asarray(l.get_ydata(), dtype=float) for l in ax_b.get_lines()]
            assert len(ya) == len(yb) > 0 and all(np.array_equal(x, y) for x, y in zip(ya, yb)), fn.__name__
    # the backfill gap (from the donation decision, read back with `decided_day`) is the same too
    a, b = plots.backfill_gap(back).axes[0], plots.backfill_gap(mem).axes[0]
    assert [p.get_width() for p in a.patches] == pytest.approx([p.get_width() for p in b.patches])
    assert [list(l.get_xdata()) for l in a.get_lines()] == [list(l.get_xdata()) for l in b.get_lines()]


def test_read_back_keeps_only_the_first_replications(run_out):
    out, _ = run_out
    sc = sim.load_scenario(STOCKPILE)
    back = pngs.read_back(out, sc, SEED, REPS, max_reps=2)
    mem = sim.run(sc, reps=2, seed=SEED)  # replication r draws the same numbers whatever reps is
    assert back.reps == 2 and set(back.deliveries["rep"]) == {0, 1} and set(back.levels["rep"]) == {0, 1}
    for figure in ("ttd_p50", "rmst", "delivered_share", "delivered_mean"):
        assert back.summary()[figure].to_numpy() == pytest.approx(mem.summary()[figure].to_numpy(), nan_ok=True)
    pd.testing.assert_frame_equal(back.backfill_summary(), mem.backfill_summary())
    assert not set(back.event_log["kind"].astype(str)) & {s[0] for s in sim.tables.STAGES}


def test_a_run_with_more_replications_than_plotted_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(pngs, "PLOT_REPS", 2)
    code, text = cli("run", STOCKPILE, "--reps", REPS, "--workers", 1, "-q", "--out", tmp_path / "o")
    assert code == 0 and f"drawn from the first 2 of {REPS} replications" in text


def test_the_run_plots_named_for_the_pool_are_the_standard_plots_of_one_run():
    assert [s.name for s in plots.STANDARD if s.name != "comparison"] == pngs.RUN_PLOTS
    assert set(pngs.COST_ORDER) <= set(pngs.RUN_PLOTS)


def test_plots_drawn_in_a_worker_pool_while_the_summary_is_made_are_the_bytes_drawn_here(tmp_path):
    from concurrent.futures import ProcessPoolExecutor

    sc = sim.load_scenario(REPO / "scenarios" / "baseline_2025.yaml")
    here = run_to_dir(sc, tmp_path / "here", reps=REPS, seed=SEED, plots=True)
    with ProcessPoolExecutor(2) as pool:
        pooled = run_to_dir(sc, tmp_path / "pool", reps=REPS, seed=SEED, executor=pool, plots=True)
    assert pooled.pngs == here.pngs == [f"{n}.png" for n in pngs.RUN_PLOTS]
    for name in here.pngs:
        assert (tmp_path / "pool" / name).read_bytes() == (tmp_path / "here" / name).read_bytes(), name
    assert pooled.latency.equals(here.latency)


def test_a_failure_while_the_workers_draw_leaves_no_output_directory(tmp_path, monkeypatch):
    from concurrent.futures import ProcessPoolExecutor

    import sim.experiments.streamed as streamed

    def broken(*args, **kw):
        raise RuntimeError("summary failed")

    monkeypatch.setattr(streamed.metrics, "lot_summary", broken)
    out = tmp_path / "out"
    with ProcessPoolExecutor(2) as pool:
        with pytest.raises(RuntimeError, match="summary failed"):
            run_to_dir(sim.load_scenario(STOCKPILE), out, reps=REPS, seed=SEED, executor=pool, plots=True)
    assert not out.exists() and not list(tmp_path.glob("*.png")) and not list(tmp_path.rglob("*.png"))


def test_the_library_writes_plots_only_when_asked(tmp_path):
    done = run_to_dir(sim.load_scenario(STOCKPILE), tmp_path / "lib", reps=1, seed=SEED)
    assert done.pngs == [] and not list((tmp_path / "lib").glob("*.png"))


def test_run_stats_keeps_the_tables_of_the_first_replications_only():
    sc = sim.load_scenario(STOCKPILE)
    plain = run_stats([sc], 5, [SEED], chunk_size=2)
    kept = run_stats([sc], 5, [SEED], chunk_size=2, keep_reps=3)  # the boundary falls inside a chunk
    for name in ("lots", "requests", "backfill"):  # the observations the metrics count (sim.metrics.STATS)
        pd.testing.assert_frame_equal(plain[0][name], kept[0][name])
    assert "results" not in plain[0]
    res, mem = kept[0]["results"], sim.run(sc, reps=3, seed=SEED)
    assert res.reps == 3
    pd.testing.assert_frame_equal(res.deliveries, mem.deliveries, check_categorical=False)
    pd.testing.assert_frame_equal(res.levels, mem.levels, check_categorical=False)
    pd.testing.assert_frame_equal(res.backfills, mem.backfills, check_categorical=False)


def test_compare_plots_use_the_table_and_its_names(tmp_path, monkeypatch):
    sc = sim.load_scenario(STOCKPILE)
    runs = [sim.run(sc, reps=2, seed=1), sim.run(sc, reps=2, seed=1)]
    table = of_results(runs)
    drawn = []
    monkeypatch.setattr(plots, "write_pngs", lambda obj, directory, table=None: drawn.append((obj, table)) or [])
    pngs.write_compare_pngs(tmp_path, table, runs, ["stockpile_first", "copy"])
    ((results, given),) = drawn
    assert given is table, "the comparison plot is drawn from the compare table, over all replications"
    assert [r.scenario.name for r in results] == ["stockpile_first", "copy"]


def _through_pandas(df: pd.DataFrame, schema):
    """A chunk's frame as part of its joined table, as the join was first written (the reference here)."""
    import pyarrow as pa

    return pa.Table.from_pandas(df, preserve_index=False).cast(schema)


def _same_frames(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    for col in a.columns:
        if isinstance(a[col].dtype, pd.CategoricalDtype):
            assert list(a[col].cat.categories) == list(b[col].cat.categories), col


@pytest.mark.parametrize("name", sorted(p.stem for p in (REPO / "scenarios").glob("*.yaml")))
def test_the_joined_tables_and_the_plots_read_from_the_chunks_are_the_frames_pandas_gives(tmp_path, name):
    # The join and the plotting workers read chunks with Arrow (read_joined): the joined files
    # must hold what each chunk's frame, cast to the joined schema, holds, and the frames the
    # workers read from the chunks before the join must be the joined files' own, down to
    # categories and dtypes. On every shipped scenario (their columns differ: no backfills,
    # labels all missing in a chunk), and with the last plotted replication inside a chunk
    # (max_reps=4 of chunks [0, 1, 2] and [3, 4]).
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sim.experiments import streamed
    from sim.experiments.ensemble import run_chunk_output

    sc = sim.load_scenario(REPO / "scenarios" / f"{name}.yaml")
    partial = tmp_path / "partial"
    for i, reps in enumerate([[0, 1, 2], [3, 4]]):
        chunk = partial / "chunks" / f"{i:06d}"
        chunk.mkdir(parents=True)
        for kind, df in run_chunk_output(sc, SEED, reps)["tables"].items():
            df.to_parquet(chunk / f"{kind}.parquet", index=False)
    sources = streamed._sources([partial / "chunks" / f"{i:06d}" for i in range(2)])
    joined = tmp_path / "joined"
    joined.mkdir()
    streamed._combine(sources, joined)
    for kind, (files, schema) in sources.items():
        reference = pa.concat_tables(_through_pandas(pd.read_parquet(f), schema) for f in files)
        _same_frames(pq.read_table(joined / f"{kind}.parquet").to_pandas(), reference.to_pandas())
    from_chunks = pngs.read_back(joined / "absent", sc, SEED, 5, max_reps=4, sources=sources)
    from_joined = pngs.read_back(joined, sc, SEED, 5, max_reps=4)
    assert from_chunks.reps == from_joined.reps == 4
    assert set(from_chunks.deliveries["rep"]) == {0, 1, 2, 3}
    for kind in ("deliveries", "event_log", "levels", "backfills"):
        _same_frames(getattr(from_chunks, kind), getattr(from_joined, kind))


def test_chunks_read_with_arrow_give_the_arrays_of_the_join_through_pandas_when_their_types_differ(tmp_path):
    # Chunks store a column as whatever its values made it: integers in one and floats in the
    # next, labels as a category or as text, a column with no value at all, dates with none.
    # read_joined must give the table each chunk's frame, cast to the joined schema, gives.
    import pyarrow as pa

    from sim.experiments import streamed
    from sim.output import read_joined

    chunks = [
        pd.DataFrame(
            {
                "rep": [0, 1, 1],
                "n": [1, 2, 3],
                "item": pd.Categorical(["b", "a", "b"]),
                "note": [None, None, None],
                "day": pd.to_datetime(["2025-07-01", "2025-07-02", None]),
            }
        ),
        pd.DataFrame(
            {
                "rep": [2, 3],
                "n": [0.5, np.nan],
                "item": ["c", None],
                "note": ["x", None],
                "day": pd.to_datetime([None, None]),
            }
        ),
    ]
    files = []
    for i, df in enumerate(chunks):
        files.append(tmp_path / f"{i}.parquet")
        df.to_parquet(files[-1], index=False)
    schema = streamed._unified_schema(files)
    assert schema.field("n").type == pa.float64()  # the case is one where the types differ
    cols, filters = ["rep", "n", "item", "note", "day"], [("rep", "<", 3)]
    via_pandas = pa.concat_tables(
        _through_pandas(pd.read_parquet(f, columns=cols, filters=filters), pa.schema([schema.field(c) for c in cols]))
        for f in files
    )
    via_arrow = read_joined(files, cols, filters, schema)
    assert via_arrow.schema.equals(via_pandas.schema, check_metadata=False)
    assert via_arrow.equals(via_pandas)
    a = via_arrow.to_pandas()
    _same_frames(a, via_pandas.to_pandas())
    assert list(a["item"].cat.categories) == ["a", "b", "c"] and a["rep"].tolist() == [0, 1, 1, 2]
