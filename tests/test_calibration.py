"""Model validity: the 2025 replay (scenarios/baseline_2025.yaml) against the 2025 record.

Targets from issue 3 and scenarios/data/purl_facts.md (sections 3 and 5). The scenario runs with
its own seed and 50 replications; each statistic is the mean over replications of a
per-replication day count, compared with a band around the observed value. The bands are wide
on purpose: the record is one history (one draw of the process), and its dates are the days
events were reported, not logged arrival days. The sampling error of a 50-replication mean is a
few tenths of a day here, far inside the bands.

Caveat for readers of a pass: the Patriot hand-over times (stockpiles.germany prep_days) are
taken from the same 2025 reports ("launchers first, other parts in 2-3 months" [S], launchers
~40 d [E]), and the approval delay of 30-45 d [E] section 6 summarises the same first-package
record. These tests therefore check that the pieces add up (transit legs, the order of
approval, funding, sourcing and transport, the pause and hold logic), not that the model
predicts 2025 independently.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import sim

SCENARIO = Path(__file__).resolve().parent.parent / "scenarios" / "baseline_2025.yaml"
REPS = 50


@pytest.fixture(scope="module")
def replay():
    sc = sim.load_scenario(SCENARIO)
    return sc, sim.run(sc, reps=REPS)  # the scenario's default seed


def _package(sc, pid):
    return next(p for p in sc.requests.packages if p.id == pid)


def test_first_purl_arrivals_35_to_60_days_after_the_first_pledges(replay):
    sc, res = replay
    d = res.deliveries
    # PURL requests: every package without a named donor, and the account-funded stream.
    # Germany's bilateral donation of 1 Aug is not PURL.
    donated = {p.id for p in sc.requests.packages if p.donor is not None}
    purl = d[~d["request_id"].isin(donated)]
    first_pledge = min(sc.day(p.at) for p in sc.requests.packages if p.donor is None)  # 4 Aug
    first = purl.groupby("rep")["delivered_day"].min() - first_pledge
    assert len(first) == REPS and first.notna().all()
    # Observed ~45 d: pledged 4-5 Aug, approved 15-16 Sep, first equipment reported in Ukraine
    # on 18 Sep [S] section 3. 35-60 keeps about two weeks either side for a reported date and
    # one history; below 35 would mean the US released faster than any report says, above 60
    # would put first arrivals in October, after Rutte's report of shipments.
    assert 35.0 <= first.mean() <= 60.0, f"first PURL arrivals {first.mean():.1f} d after the first pledge"


def _germany_days(sc, res, item):
    d = res.deliveries
    pkg = _package(sc, "de_patriot_2025")
    rows = d[(d["request_id"] == pkg.id) & (d["item"] == item)]
    assert (rows["donor"] == "germany").all() and len(rows) == REPS  # one whole lot per replication
    return rows.groupby("rep")["delivered_day"].max() - sc.day(pkg.at)


def test_germanys_first_patriot_launchers_25_to_50_days_after_1_august(replay):
    sc, res = replay
    days = _germany_days(sc, res, "patriot_launcher")
    # Observed: decision 1 Aug, launchers in Ukraine by 9 Sep, i.e. <= 39 d [S] section 3.
    # "By" makes 39 an upper bound of the true day: the band starts well below it (25) and
    # allows ~11 d above it for the reporting lag.
    assert days.notna().all()
    assert 25.0 <= days.mean() <= 50.0, f"launchers {days.mean():.1f} d after 1 Aug"


def test_germanys_complete_patriot_systems_75_to_110_days_after_1_august(replay):
    sc, res = replay
    days = _germany_days(sc, res, "patriot_components")
    # Observed: systems complete on 2 Nov, 93 d after the decision [S] section 3. The band is
    # -18/+17 d around it: "other parts in 2-3 months" [S] section 2 is itself a 30-day window.
    assert days.notna().all()
    assert 75.0 <= days.mean() <= 110.0, f"components {days.mean():.1f} d after 1 Aug"
