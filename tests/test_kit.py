"""The model as a kit: a new source, disruption kind and donor rule plug in through their registries.

Each example below is the worked example of docs/extending.md, cut down: it is registered for
the one test (monkeypatch) and the scenario's policy is copied with the new name, because the
scenario schema, which a real extension edits, is not edited by a test. Expected days are worked
out by hand on conftest.MINIMAL: the line makes a unit in 3 days; route `direct` takes no time.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pytest
from conftest import build, package

from sim.errors import InvariantError
from sim.model import Model, disruptions, sources
from sim.model.donations import DONOR_CHOICE
from sim.model.finished import fail
from sim.recorder import DONOR_PREP
from sim.scenario.fields import Frozen, Moment
from sim.vocabulary import window_end, window_start

SIM = Path(__file__).resolve().parent.parent / "sim"


def run(scenario, **policy):
    """One replication's deliveries (by lot) and events, with the policy fields replaced unvalidated."""
    if policy:
        scenario = scenario.model_copy(update={"policy": scenario.policy.model_copy(update=policy)})
    model = Model(scenario, seed=0, rep=0)
    tables = model.run()  # runs every part's end-of-run check, the new part's included
    d, e = tables["deliveries"], tables["events"]
    n = len(model.recorder.lots)
    rows = [{c: (d[c].uniques[d[c].codes[k]] if hasattr(d[c], "codes") else d[c][k]) for c in d} for k in range(n)]
    return rows, e


# --- a new source -------------------------------------------------------------------------------


class Gift:
    """A fixed gift of `units` at `node`, ready `days` after it is decided; it waits on the donation scopes."""

    name = "gift"
    release_scopes = ("donations", "releases", "all")
    serves_named_donor = False

    def __init__(self, ctx, node: str, units: int, days: float):
        self.env, self.node, self.left, self.days, self.given = ctx.env, node, units, days, 0

    def may_supply(self, item):
        return item == "shell"

    def offers(self, request, item, wanted):
        return [("", self.left)]

    def take(self, request, item, donor, qty):
        self.left -= qty
        self.given += qty
        return self.node

    def ready_steps(self, lot, ship=None):
        lot.enter(DONOR_PREP, self.env.now)  # every wait is marked in a phase (the invariants check it)
        yield self.env.delay(self.days)

    def check(self, finished):
        if sum(lot.qty for lot in finished.lots if lot.source == "gift") != self.given:
            fail("gift: lots do not add up to what was given")


def test_a_source_that_forgets_to_mark_its_wait_is_caught(monkeypatch):
    """The phases of a lot must add up to its time in system: an unmarked wait breaks an invariant."""

    class Unmarked(Gift):
        def ready_steps(self, lot, ship=None):
            yield self.env.delay(self.days)

    monkeypatch.setitem(sources.SOURCES, "gift", lambda model: Unmarked(model.ctx, "depot", units=4, days=2))
    with pytest.raises(InvariantError, match="phases do not add up"):
        run(build([package("p1", qty=10)]), sources=["gift", "production"])


def test_a_new_source_plugs_in_with_its_own_release_scopes(monkeypatch):
    """10 shells asked at day 0; the gift gives 4 from the depot (ready at day 2), the line makes 6.

    A pause of `us_releases` over [0, 30) holds the line's lot (ready at 6 x 3 = 18) until day 30,
    but not the gift, which waits on the donation scopes only: delivered at day 2.
    """
    monkeypatch.setitem(sources.SOURCES, "gift", lambda model: Gift(model.ctx, "depot", units=4, days=2))
    pause = {"kind": "pause", "scope": "us_releases", "start": 0, "end": 30}
    scenario = build([package("p1", qty=10)], disruptions=[pause])
    rows, _ = run(scenario, sources=["gift", "production"])
    got = [(r["source"], r["qty"], r["ready_day"], r["delivered_day"]) for r in rows]
    assert got == [("gift", 4, 2.0, 2.0), ("production", 6, 18.0, 30.0)]


def test_without_the_new_source_the_line_makes_everything(monkeypatch):
    """The same request without the gift: 10 x 3 = 30 days on the line, held by the pause to day 30 anyway."""
    monkeypatch.setitem(sources.SOURCES, "gift", lambda model: Gift(model.ctx, "depot", units=4, days=2))
    rows, _ = run(build([package("p1", qty=10)]), sources=["production"])
    assert [(r["source"], r["qty"], r["delivered_day"]) for r in rows] == [("production", 10, 30.0)]


# --- a new disruption kind --------------------------------------------------------------------


class Blackout(Frozen):
    """A scope closed for `days` from `at` (a spec, as sim/scenario/disruption_specs.py would hold it)."""

    kind: Literal["blackout"] = "blackout"
    scope: str
    at: Moment
    days: float


def schedule_blackout(parts, d: Blackout) -> None:
    """Close the scope at `at`, reopen it `days` later (urgent, as every disruption acts first)."""

    def window():
        env = parts.env
        yield env.urgent_delay(parts.day(d.at) - env.now)
        parts.switch.close(d.scope)
        parts.rec.event(env.now, window_start(d.kind), where=d.scope)
        yield env.urgent_delay(d.days)
        parts.switch.open(d.scope)
        parts.rec.event(env.now, window_end(d.kind), where=d.scope)

    parts.env.task(window())


def test_a_new_disruption_kind_plugs_in(monkeypatch):
    """2 shells at day 0 are ready at day 6; a blackout of us_releases from day 5 for 10 days holds them to 15."""
    monkeypatch.setitem(disruptions.KINDS, Blackout, schedule_blackout)
    scenario = build([package("p1", qty=2)])
    scenario = scenario.model_copy(update={"disruptions": [Blackout(scope="us_releases", at=5, days=10)]})
    rows, events = run(scenario)
    assert [(r["ready_day"], r["delivered_day"]) for r in rows] == [(6.0, 15.0)]
    kinds = list(zip(events["day"], events["kind"]))
    assert (5, "blackout_start") in kinds and (15, "blackout_end") in kinds
    assert (6.0, "held") in kinds and (15.0, "released") in kinds


# --- a new donor rule -----------------------------------------------------------------------------


def _two_donors():
    allies = {
        "a": {"node": "depot", "items": {"shell": {"on_hand": 5}}},
        "b": {"node": "depot", "items": {"shell": {"on_hand": 3}}},
    }
    return build([package("p1", qty=3, priority="urgent")], stockpiles=allies)


def test_a_new_donor_rule_plugs_in(monkeypatch):
    """Surpluses a: 5, b: 3. The listed order gives a; a rule 'smallest surplus first' gives b."""
    rows, _ = run(_two_donors(), sources=["stockpile", "production"])
    assert [(r["source"], r["donor"], r["qty"]) for r in rows] == [("stockpile", "a", 3)]
    monkeypatch.setitem(
        DONOR_CHOICE,
        "smallest_first",
        lambda donors, item, src: sorted(donors, key=lambda a: src.piles.surplus(a, item)),
    )
    rows, _ = run(_two_donors(), sources=["stockpile", "production"], donor_choice="smallest_first")
    assert [(r["source"], r["donor"], r["qty"]) for r in rows] == [("stockpile", "b", 3)]


# --- the registries are what the model dispatches on ----------------------------------------------


def test_every_shipped_kind_and_source_is_registered():
    """Every disruption spec of the schema has a scheduler, and every source name of the policy a builder."""
    from typing import get_args

    from sim.scenario.disruption_specs import Disruption
    from sim.scenario.schema import Policy

    assert set(get_args(get_args(Disruption)[0])) == set(disruptions.KINDS)
    names = get_args(get_args(Policy.model_fields["sources"].annotation)[0])
    assert set(names) == set(sources.SOURCES)


def test_no_module_of_sim_is_over_400_lines():
    """Modules of one concern: none over 400 lines."""
    long = {str(p.relative_to(SIM)): n for p in SIM.rglob("*.py") if (n := len(p.read_text().splitlines())) > 400}
    assert long == {}


def test_the_benchmarks_scenarios_are_valid():
    """The benchmarks' own scenarios follow the format as it changes (nothing else loads them in the suite)."""
    import sim

    for path in sorted((SIM.parent / "benchmarks" / "scenarios").glob("*.yaml")):
        sim.load_scenario(path)  # raises ScenarioError with every problem
