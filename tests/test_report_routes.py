"""The report's Network section and its route_italy vs North Sea comparison, checked against the tables by hand.

The report of baseline_2025 (North Sea: Bremerhaven, rail across Germany and Poland) and
route_italy (Trieste, rail to Rzeszow), 4 replications, seed 7. Every figure of the "Routes side
by side" section is recomputed here from `deliveries` and the scenario files alone: tonnes are
delivered units times `weight_t`; a node's load is the tonnes of delivered rows whose route has
a leg from or to it, per replication, divided by the months of the horizon (30.4 days each),
with a Student-t 95% interval from scipy across the 4 replications (the independent unit; 4 is
enough here: the check is that the section shows these numbers, not how narrow they are); the
busiest month is the calendar month of delivery with the most tonnes, summed and divided by the
replications. Latency figures are those of `sim.compare` run on its own on the two files.
"""

from __future__ import annotations

import html
import re
import tempfile
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import sim
from sim.report import write_report
from sim.report_routes import route_variants

ROOT = Path(__file__).resolve().parents[1]
NORTH, ITALY = ROOT / "scenarios" / "baseline_2025.yaml", ROOT / "scenarios" / "route_italy.yaml"
REPS, SEED = 4, 7
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """(results, report text) of baseline_2025 and route_italy."""
    rl = [sim.run(sim.load_scenario(p), reps=REPS, seed=SEED) for p in (NORTH, ITALY)]
    path = write_report(rl, tmp_path_factory.mktemp("routes") / "report.html")
    return rl, path


def section(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end)]


def cells(text: str, first: str) -> list[list[str]]:
    """The cells of every table row whose first cell is `first`."""
    rows = re.findall(r"<tr>(.*?)</tr>", text)
    found = [[html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", r)] for r in rows]
    return [c for c in found if c and c[0] == first]


def interval(values) -> str:
    """Mean (t-interval) of per-replication values, as the section prints tonnes."""
    v = np.asarray(values, dtype=float)
    m, half = v.mean(), stats.t.ppf(0.975, len(v) - 1) * v.std(ddof=1) / np.sqrt(len(v))
    return f"{m:,.0f} ({m - half:,.0f} to {m + half:,.0f})"


def by_hand(res, node: str | None):
    """(tonnes per replication, mean tonnes in the busiest month) of delivered goods through `node` (None: all)."""
    sc = res.scenario
    d = res.deliveries[res.deliveries["delivered_day"].notna()].copy()
    weight = {k: v.weight_t for k, v in sc.items.items()}
    d["t"] = d["qty"].astype(float) * d["item"].astype(object).map(weight).astype(float)
    d = d[d["t"].notna()]
    if node is not None:
        t = sc.transport
        touches = {
            rid for rid, r in t.routes.items() if any(node in (t.legs[lid].from_, t.legs[lid].to) for lid in r.legs)
        }
        d = d[d["route"].astype(object).isin(touches)]
    per_rep = d.groupby("rep")["t"].sum().reindex(range(res.reps), fill_value=0.0).to_numpy()
    months = d["delivered_date"].dt.strftime("%Y-%m")
    busiest = d.groupby(months)["t"].sum().max() / res.reps if len(d) else 0.0
    return per_rep, busiest


def test_route_italy_is_paired_with_the_north_sea_route_and_make_run_reports_both():
    scs = [
        sim.load_scenario(ROOT / "scenarios" / f"{n}.yaml") for n in ("baseline_2025", "factory_only", "route_italy")
    ]
    assert route_variants(scs) == [(0, 2)]  # factory_only changes the policy, not the network
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    listed = re.search(r"REPORT_SCENARIOS := ((?:.|\\\n)*?)\n(?!\t)", make).group(1)
    files = [ROOT / f for f in re.findall(r"scenarios/\S+\.yaml", listed)]
    pairs = route_variants([sim.load_scenario(f) for f in files])
    assert [(files[i].stem, files[j].stem) for i, j in pairs] == [("baseline_2025", "route_italy")]


def test_tonnage_matches_the_deliveries_table(report):
    (north, italy), path = report
    text = section(path.read_text(encoding="utf-8"), 'id="routes"', 'id="network"')
    [row] = cells(text, "all modes")
    assert row[1:] == [interval(by_hand(north, None)[0]), interval(by_hand(italy, None)[0])]
    assert by_hand(north, None)[0].sum() > 0


def test_hub_loads_match_the_deliveries_table(report):
    (north, italy), path = report
    text = section(path.read_text(encoding="utf-8"), 'id="routes"', 'id="network"')
    months = north.scenario.horizon_days / 30.4
    for node, kind in (("rzeszow", "hub"), ("bremerhaven", "port"), ("us_port", "port")):
        [row] = cells(text, f"{node} ({kind})")
        expect = []
        for res in (north, italy):
            per_rep, busiest = by_hand(res, node)
            expect += [interval(per_rep / months), f"{busiest:,.0f}"]
        assert row[1:] == expect, node
    # Trieste is on the Italian network only; the Italian route takes the North Sea's sea tonnage.
    [row] = cells(text, "trieste (port)")
    per_rep, busiest = by_hand(italy, "trieste")
    assert row[1:] == ["not on a route", "-", interval(per_rep / months), f"{busiest:,.0f}"]
    # Through Bremerhaven the Italian network carries only the artillery LEN-R takes from 2026
    # (sea_romania: sealift to Bremerhaven, then rail to Campia Turzii), shells alone.
    d = italy.deliveries
    via = d[d["delivered_day"].notna() & d["route"].astype(object).isin(["sea_north", "sea_north_gp", "sea_romania"])]
    assert set(via["route"].astype(object)) <= {"sea_romania"} and set(via["item"].astype(object)) <= {"shell_155"}
    assert per_rep.sum() > 0


def test_latency_is_the_paired_comparison_of_the_two(report):
    _, path = report
    text = section(path.read_text(encoding="utf-8"), 'id="routes"', 'id="network"')
    table = sim.compare([NORTH, ITALY], reps=REPS, seed=SEED)
    rows = [r for r in cells(text, "All items (by value)")]
    assert len(rows) == 1 and rows[0][1] == "baseline_2025" and rows[0][8] == "reference"
    all_rows = re.findall(r"<tr>(.*?)</tr>", text.split("<h4>Time to delivery</h4>", 1)[1])
    at = next(k for k, r in enumerate(all_rows) if "All items (by value)" in r)
    variant = [html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", all_rows[at + 1])]
    row = table[(table["item"] == "ALL") & (table["scenario"] == "route_italy")].iloc[0]
    d, lo, hi = row["diff_rmst"], row["diff_rmst_lo"], row["diff_rmst_hi"]
    digits = 0 if min(abs(d), abs(lo), abs(hi)) >= 10 else 1
    assert variant[1] == "route_italy"
    assert variant[6] == f"{d:+,.{digits}f} ({lo:+,.{digits}f} to {hi:+,.{digits}f})"
    assert variant[8] == row["verdict"]


def test_no_route_section_without_a_route_variant(tmp_path):
    rl = [
        sim.run(sim.load_scenario(ROOT / "scenarios" / f"{n}.yaml"), reps=2, seed=1)
        for n in ("baseline_2025", "factory_only")
    ]
    text = write_report(rl, tmp_path / "r.html").read_text(encoding="utf-8")
    assert 'id="routes"' not in text
    network = section(text, 'id="network"', 'id="plots"')
    # one network (factory_only shares it): its diagram and its route map, and a note for the other
    assert network.count("<img ") == 2 and "factory_only uses the network of baseline_2025" in network


@pytest.mark.skipif(not CHROMIUM.exists(), reason="/usr/bin/chromium is not installed (CI installs it in .ci/run)")
def test_the_network_pictures_and_the_route_section_render_in_chromium(report):
    from playwright.sync_api import sync_playwright

    _, path = report
    with sync_playwright() as p, tempfile.TemporaryDirectory() as profile:
        ctx = p.chromium.launch_persistent_context(
            profile,
            executable_path=str(CHROMIUM),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
            headless=True,
            viewport={"width": 1000, "height": 800},
        )
        try:
            page = ctx.new_page()
            page.goto(path.as_uri(), wait_until="load")
            got = page.evaluate("""() => ({
                headings: Array.from(document.querySelectorAll('h2')).map(h => h.innerText),
                maps: Array.from(document.images).filter(i => /^(network diagram|route map) of /.test(i.alt))
                    .map(i => ({alt: i.alt, ok: i.complete && i.naturalWidth > 0 && i.naturalHeight > 0})),
                tables: Array.from(document.querySelectorAll('#routes ~ * table, #routes ~ div table')).length,
                scroll: document.documentElement.scrollWidth})""")
        finally:
            ctx.close()
    assert got["headings"][-4:] == ["Routes side by side", "Network", "Plots", "Method"]
    assert sorted(m["alt"] for m in got["maps"]) == [
        "network diagram of baseline_2025",
        "network diagram of route_italy",
        "route map of baseline_2025",
        "route map of route_italy",
    ]
    assert all(m["ok"] for m in got["maps"])
    assert got["scroll"] <= 1000, "nothing scrolls sideways at 1,000 px"
