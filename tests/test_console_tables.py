"""The CLI's headline tables: readable at 80 columns, intervals rounded like their estimates, `> N` when not reached."""

from __future__ import annotations

import math

from conftest import REPO
from rich.console import Console

from sim.console_tables import estimate, headline_table, label


def test_estimates_and_intervals_are_rounded_alike_and_unreached_levels_say_so():
    row = {
        "rmst": 201.6,
        "rmst_lo": 196.7,
        "rmst_hi": 206.2,
        "ttd_p50": math.inf,
        "ttd_p50_lo": 380.2,
        "ttd_p50_hi": math.inf,
        "ttd_p90": math.inf,
        "ttd_p90_lo": math.inf,
        "ttd_p90_hi": math.inf,
        "delivered_share": 0.537,
        "delivered_share_lo": 0.51,
        "delivered_share_hi": 0.574,
    }
    assert estimate(row, "rmst") == "202 (197-206)"
    assert estimate(row, "ttd_p50", bound=514.0) == ">514 (380 to >514)"
    assert estimate(row, "ttd_p90", bound=514.0) == ">514 (>514)"
    assert estimate(row, "delivered_share", "share") == "54% (51-57)"
    assert estimate({"rmst": 3.0}, "rmst") == "3"  # one replication: no bracket


def test_the_headline_table_fits_80_columns_without_cutting_names_or_intervals():
    import sim

    sc = sim.load_scenario(REPO / "scenarios" / "baseline_2025.yaml")
    res = sim.run(sc, reps=4, seed=1)
    summary = res.summary()
    console = Console(width=80, record=True, color_system=None)
    console.print(headline_table(summary, "t", sc, console.width))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    flat = " ".join(text.split())
    # Rich wraps cells; read each row's cells back joined: every item's name and interval is there whole.
    cells = " ".join(part.strip() for line in text.splitlines() for part in line.split("│"))
    joined = " ".join(cells.split())
    for item in summary.index:
        for word in label(item, sc).split():
            assert word in flat, (item, word)
        r = summary.loc[item].to_dict()
        interval = estimate(r, "rmst").split(" (")[1].rstrip(")")
        assert f"({interval})" in joined, (item, interval)  # never folded mid-number
    # Two items whose names wrap alike still differ: the catalogue names are distinct.
    assert len({label(i, sc) for i in summary.index}) == len(summary.index)
