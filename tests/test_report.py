"""The HTML report: one self-contained file, written atomically, that a real browser renders with every image and table."""

from __future__ import annotations

import base64
import html
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

import sim
from sim.cli import app
from sim.report import write_atomic, write_report

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = [ROOT / "scenarios" / "factory_only.yaml", ROOT / "scenarios" / "stockpile_first.yaml"]
REPS, SEED = 3, 5
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def purlsim(*args, cwd=ROOT):
    """Run the purlsim command line (its console entry point) in a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-c", "from sim.cli import main; main()", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(output path, completed process) of `purlsim report` on two shipped scenarios."""
    out = tmp_path_factory.mktemp("report") / "report.html"
    proc = purlsim("report", *SCENARIOS, "--reps", REPS, "--seed", SEED, "--workers", 1, "--out", out)
    return out, proc


def test_report_command_writes_one_self_contained_file(built):
    out, proc = built
    assert proc.returncode == 0, proc.stderr
    assert f"Wrote {out}" in proc.stdout
    assert [p.name for p in out.parent.iterdir()] == ["report.html"], "no temporary files left behind"
    text = out.read_text(encoding="utf-8")
    for path in SCENARIOS:
        sc = sim.load_scenario(path)
        assert f"<h3>{sc.name}</h3>" in text
        assert html.escape(sc.description.strip()) in text
    # nothing is fetched: no scripts, style sheets, frames or remote addresses; images are inline SVGs
    assert not re.search(r"<(script|link|iframe|object|embed)\b", text, re.I)
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//|file:)""", text, re.I)
    assert not re.search(r"url\(", text, re.I)
    srcs = re.findall(r'<img src="([^"]+)"', text)
    assert len(srcs) >= 6
    for src in srcs:
        head, _, data = src.partition(",")
        assert head == "data:image/svg+xml;base64"
        svg = base64.b64decode(data)
        assert svg.startswith(b"<?xml") and b"<svg" in svg[:400]
        # the SVG itself fetches nothing either (its DTD and namespace addresses are names, not requests)
        assert not re.search(rb"""(src|href)\s*=\s*["'](https?:|//|file:)""", svg)


def test_report_has_the_tables_and_the_sentences_of_compare(built):
    out, _ = built
    text = out.read_text(encoding="utf-8")
    expected = sim.compare(SCENARIOS, reps=REPS, seed=SEED)
    said = expected[expected["sentence"] != ""]
    assert len(said)
    # every sentence but the "no significant difference" ones as it is, largest paired difference first
    alone = said[said["verdict"] != "no significant difference"]
    alone = alone.assign(size=alone["diff_rmst"].abs().fillna(0)).sort_values("size", ascending=False, kind="stable")
    at = [text.index(f"<li>{html.escape(s)}</li>") for s in alone["sentence"]]
    significant = alone["verdict"].isin(["faster", "slower"]).to_numpy()
    assert at == sorted(at) and significant[: significant.sum()].all(), "significant first, largest first"
    # and the others grouped in one bullet naming each item
    same = said[said["verdict"] == "no significant difference"]
    grouped = re.findall(r"<li>(No significant difference.*?)</li>", text)
    assert len(grouped) == (1 if len(same) else 0)
    for name in same["item_name"]:
        assert html.escape(name) in grouped[0]
    assert 'id="comparison"' in text
    # per scenario the headline and the view among delivered lots, the stockpile's backfill, the
    # comparison, the record the two share (their parent's, shown once), and per scenario its lift
    # by leg and the queues at its hubs (the Network section)
    assert text.count("<table>") == 2 * 2 + 1 + 1 + 1 + 2 * 2
    assert text.count("<h4>Among delivered lots</h4>") == 2
    assert "from the donation decision" in text


@pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="/usr/bin/chromium is not installed (CI installs Debian's "
    "chromium in .ci/run); the browser rendering check needs it",
)
def test_report_renders_in_headless_chromium_with_every_image_and_table(built):
    from playwright.sync_api import sync_playwright

    out, _ = built
    n_imgs = out.read_text(encoding="utf-8").count("<img ")
    outside = []
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            args=CHROMIUM_FLAGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
        )
        try:

            def guard(route):
                """Let the file and data: URLs through; record and block anything else."""
                if not route.request.url.startswith(("file:", "data:")):
                    outside.append(route.request.url)
                    return route.abort()
                return route.continue_()

            ctx.route("**/*", guard)
            page = ctx.new_page()
            page.goto(out.as_uri(), wait_until="load")
            images = page.evaluate("""() => Array.from(document.images).map(i =>
                ({alt: i.alt, complete: i.complete, w: i.naturalWidth, h: i.naturalHeight}))""")
            tables = page.evaluate("""() => Array.from(document.querySelectorAll('table')).map(t =>
                ({rows: t.tBodies[0].rows.length, head: Array.from(t.tHead.rows[0].cells).map(c => c.innerText)}))""")
            headings = page.evaluate("() => Array.from(document.querySelectorAll('h2')).map(h => h.innerText)")
        finally:
            ctx.close()
    assert outside == [], "the report asked for something outside the file"
    assert len(images) == n_imgs >= 6
    for img in images:
        assert img["complete"] and img["w"] > 0 and img["h"] > 0, img["alt"]
    assert headings == [
        "Summary",
        "Scenarios",
        "Time to delivery",
        "Against the record",
        "Comparison",
        "Network",
        "Plots",
        "Method",
    ]
    summary = [t for t in tables if t["head"][:2] == ["item", "units / rep"]]
    assert len(summary) == 2 and all(t["rows"] >= 2 for t in summary)
    tau = 30 * (2 * sim.load_scenario(SCENARIOS[0]).horizon_days // 90)
    comparison = [t for t in tables if f"mean to {tau:,.0f} d minus first" in t["head"]]
    n_items = len(sim.compare(SCENARIOS, reps=REPS, seed=SEED))
    assert len(comparison) == 1 and comparison[0]["rows"] == n_items


def fastest_by_hand(table):
    """Per item of a compare table: (item name, fastest scenario, lead in days, low, high), from its rows alone.

    The fastest has the lowest restricted mean; its lead is paired against the first scenario,
    or, when the first is fastest, against the runner-up (whose row holds runner-up minus first).
    """
    first = table["scenario"].iloc[0]
    out = []
    for _, g in table.groupby("item", sort=False):
        g = g[g["qty"] > 0].sort_values("rmst", kind="stable")
        if len(g) < 2 or g["rmst"].iloc[0] == g["rmst"].iloc[1]:
            continue
        top = g.iloc[0]
        if top["scenario"] != first:
            lead = (-top["diff_rmst"], -top["diff_rmst_hi"], -top["diff_rmst_lo"], first)
        else:
            nxt = g.iloc[1]
            lead = (nxt["diff_rmst"], nxt["diff_rmst_lo"], nxt["diff_rmst_hi"], nxt["scenario"])
        out.append((top["item_name"], top["scenario"], *lead))
    return out


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (CI installs it in .ci/run)")
def test_first_screen_answers_first_and_nothing_scrolls_sideways_at_1000_px(built, tmp_path):
    from PIL import Image
    from playwright.sync_api import sync_playwright

    out, _ = built
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            args=CHROMIUM_FLAGS,
            headless=True,
            viewport={"width": 1000, "height": 800},
            device_scale_factor=2,  # a HiDPI screen
        )
        try:
            page = ctx.new_page()
            page.goto(out.as_uri(), wait_until="load")
            shot = tmp_path / "first_screen.png"
            page.screenshot(path=str(shot))  # the first screen only, as a reader opens it
            m = page.evaluate("""() => {
                const a = document.querySelector('#answer'), r = a.getBoundingClientRect();
                const over = Array.from(document.querySelectorAll('.wide')).filter(e => e.scrollWidth > e.clientWidth);
                const right = Math.max(...Array.from(document.querySelectorAll('main *')).map(e => e.getBoundingClientRect().right));
                return {text: a.innerText, top: r.top, scroll: document.documentElement.scrollWidth,
                        inner: innerWidth, overflowing: over.length, right: right,
                        imgs: Array.from(document.images).map(i => i.currentSrc.slice(0, 26))};
            }""")
        finally:
            ctx.close()
    with Image.open(shot) as im:
        assert im.size == (2000, 1600)
        grey = np.asarray(im.convert("L").resize((100, 80)))
        assert len(np.unique(grey)) > 10, "the screenshot shows a page, not a blank"
    # no horizontal scroll bar at 1,000 px: nothing is wider than the window, no table scrolls inside its box
    assert m["inner"] == 1000 and m["scroll"] <= 1000 and m["right"] <= 1000
    assert m["overflowing"] == 0
    assert set(m["imgs"]) == {"data:image/svg+xml;base64,"}, "figures are vector images, crisp at 2x"
    # the summary opens the page and answers: per item the fastest option, by how much, how sure
    assert 0 <= m["top"] < 250
    text = " ".join(m["text"].split())
    assert text.startswith("Summary Fastest option per item on the restricted mean time to delivery")
    table = sim.compare(SCENARIOS, reps=REPS, seed=SEED)
    rows = fastest_by_hand(table)
    assert rows
    for name, best, lead, lo, hi, against in rows:
        if lo > 0:
            digits = 0 if min(abs(lead), abs(lo), abs(hi)) >= 10 else 1
            assert (
                f"{name}: {best} is fastest, {lead:,.{digits}f} days ahead of {against} "
                f"(paired 95% CI {lo:,.{digits}f} to {hi:,.{digits}f} days: significant)"
            ) in text
        else:
            assert name in text.split("No option significantly faster:")[1]
    assert "Donor gaps" in text and "germany, PAC-3 MSE interceptor: median " in text


def test_single_scenario_report_has_no_comparison(tmp_path):
    # The PAC-3 line at a fifth of its shipped rate, so that this case never reaches its median.
    slow = {"production.pac3_line.rate_per_month": 10}
    res = sim.run(sim.load_scenario(ROOT / "scenarios" / "baseline.yaml", slow), reps=1, seed=1)
    path = write_report([res], tmp_path / "one.html")
    text = path.read_text(encoding="utf-8")
    assert 'id="comparison"' not in text and "<h3>baseline</h3>" in text
    assert 'id="record"' not in text  # baseline.yaml declares no record
    # ECDF, where the time goes, timeline, stock levels (no donations); the network and its route map
    assert text.count("<img ") == 6


def cells(text, first):
    """The cells of every HTML table row whose first cell is `first`, one list per row."""
    rows = re.findall(r"<tr>(.*?)</tr>", text)
    found = [[html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", r)] for r in rows]
    return [c for c in found if c and c[0] == first]


def test_headline_table_counts_every_unit_and_says_when_the_median_is_not_reached(tmp_path):
    # The PAC-3 line at a fifth of its shipped rate, so that this case never reaches its median.
    slow = {"production.pac3_line.rate_per_month": 10}
    res = sim.run(sim.load_scenario(ROOT / "scenarios" / "baseline.yaml", slow), reps=1, seed=1)
    text = write_report([res], tmp_path / "one.html").read_text(encoding="utf-8")
    # by hand, PAC-3 MSE: every lot requested at least tau before the horizon, delivered or not
    h = res.horizon_days
    tau = 30 * (2 * h // 90)
    d = res.deliveries
    d = d[(d["item"] == "pac3_mse") & (d["qty"] > 0) & (d["requested_day"] <= h - tau)]
    done = d["delivered_day"].notna()
    time = (d["delivered_day"].where(done, h) - d["requested_day"]).to_numpy()
    qty = d["qty"].to_numpy(dtype=float)
    s, at_risk, curve = 1.0, qty.sum(), []
    for t in np.unique(time):  # the Kaplan-Meier steps, weighted by units
        s *= 1 - qty[(time == t) & done.to_numpy()].sum() / at_risk
        at_risk -= qty[time == t].sum()
        curve.append((t, s))
    assert min(v for _, v in curve) > 0.5, "this case never reaches the median: the table must say '>'"
    edges = np.minimum([0.0] + [t for t, _ in curve] + [tau], tau)
    rmst = float(np.sum(np.array([1.0] + [v for _, v in curve]) * np.diff(edges)))
    (row,) = cells(text, "PAC-3 MSE interceptor")[:1]
    assert row[1:6] == [
        f"{qty.sum():,.0f}",
        f"{qty[done.to_numpy()].sum() / qty.sum():.0%}",
        f">{time.max():,.0f}",
        f">{time.max():,.0f}",
        f"{rmst:,.0f}",
    ]
    assert f"mean to {tau:,.0f} d" in text and "Among delivered lots" in text
    # the view among delivered lots: the mean latency of the delivered lots, all requests
    dl = res.deliveries
    dl = dl[(dl["item"] == "pac3_mse") & dl["delivered_day"].notna()]
    delivered_rows = cells(text, "PAC-3 MSE interceptor")[1]
    assert delivered_rows[3] == f"{dl['latency_days'].mean():,.0f}"


def report_in_process(*args):
    """`purlsim report ...` through the same Typer app, in this process (faster than a new interpreter)."""
    return CliRunner().invoke(app, ["report", *map(str, args)])


def test_bad_scenarios_exit_2_listing_every_problem_and_writing_nothing(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(f"extends: {ROOT / 'scenarios' / 'baseline.yaml'}\nhorizon_days: -5\n")
    out = tmp_path / "r.html"
    result = report_in_process(tmp_path / "missing.yaml", bad, "--out", out)
    assert result.exit_code == 2
    assert f"{tmp_path / 'missing.yaml'}: file not found" in result.stderr
    assert f"{bad}:2:1: horizon_days:" in result.stderr  # the file, line and column of the key
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]


@pytest.mark.parametrize(
    "args, message",
    [
        (["--reps", "0"], "--reps: must be at least 1"),
        (["--seed", "-1"], "--seed: must not be negative"),
        (["--workers", "0"], "--workers: must be at least 1"),
    ],
)
def test_bad_options_exit_2(tmp_path, args, message):
    result = report_in_process(SCENARIOS[0], *args, "--out", tmp_path / "r.html")
    assert result.exit_code == 2 and message in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_out_that_is_a_directory_exits_2(tmp_path):
    result = report_in_process(SCENARIOS[0], "--reps", 1, "--out", tmp_path)
    assert result.exit_code == 2 and "is a directory" in result.stderr


def test_write_atomic_replaces_or_keeps_the_old_file(tmp_path):
    path = tmp_path / "r.html"
    write_atomic(path, "old")
    write_atomic(path, "new")
    assert path.read_text() == "new"
    with pytest.raises(UnicodeEncodeError):
        write_atomic(path, "half written \udc80")  # cannot be encoded: fails mid-write
    assert path.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]


def test_the_record_of_the_2025_replay_is_scored_once_for_its_variants(built):
    # Both scenarios extend baseline_2025 and inherit its record: one table, under the first.
    text = built[0].read_text(encoding="utf-8")
    assert (
        text.count('id="record"') == 1 and text.count("<h3>factory_only</h3>") == 4
    )  # scenario, headline, record, network
    shipped = cells(text, "value_shipped_22_oct")
    assert len(shipped) == 1
    on_record, met, fitted = shipped[0][1], shipped[0][5], shipped[0][7]
    assert on_record == ">= 2000 $M" and met in ("yes", "no") and fitted == "yes: circular"
    stockout = cells(text, "pac3_stockout_january_2026")[0]
    assert stockout[7] == "no"  # Ukraine's stock and use were not fitted to January 2026


def test_every_count_in_a_table_header_says_whether_it_is_per_replication(built):
    out, _ = built
    text = out.read_text(encoding="utf-8")
    headers = [html.unescape(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", text)]
    counts = [h for h in headers if re.search(r"\b(units|lots|donations)\b|\bopen at\b", h)]  # not "open gap" (days)
    assert len(counts) >= 6
    assert [h for h in counts if "/ rep" not in h and "total" not in h] == []


def test_the_report_runner_reports_results_already_run_without_running_them(tmp_path):
    from sim.experiments.compare import report

    a, b = (sim.run(sim.load_scenario(p), reps=2, seed=SEED) for p in SCENARIOS)
    path = report([a, b], tmp_path / "r.html")
    text = path.read_text(encoding="utf-8")
    assert text.index('id="answer"') < text.index('id="scenarios"'), "the summary comes first"
    assert "paired against factory_only over 2 replications" in text
    with pytest.raises(ValueError, match="seed and replications"):
        report([a, sim.run(sim.load_scenario(SCENARIOS[1]), reps=2, seed=SEED + 1)], tmp_path / "x.html")
    with pytest.raises(ValueError, match="Results only"):
        report([a, SCENARIOS[1]], tmp_path / "y.html")
