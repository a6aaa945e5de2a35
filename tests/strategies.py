"""Hypothesis strategies: random VALID scenarios, as the plain mappings a YAML file would hold.

`scenarios()` draws a whole scenario: a catalogue, production lines (unit time or monthly rate,
ramps, long lead, other customers), US stock with floors, allied stockpiles with min_keep and
co-funded backfill, a transport network whose routes all reach the destination and a route rule
for every origin and item, a sourcing policy, disruptions of every kind with valid windows, and
requests (packages, some naming a donor, and/or a stream), node handling (tonnes a day or aircraft
on the ground, with dated changes) and NSATU's coordination step. Every draw passes
`sim.scenario.validate_mapping`; sizes stay small so one example runs in well under a second.

Not drawn, because the loader refuses them (tests/bad_scenarios covers both): a request stream
whose mean inter-arrival time is zero (it would never let time pass), and a user route named
`direct` (the built-in no-transport route).

Profiles (environment variable PURLSIM_HYPOTHESIS_PROFILE): `fast` (default: `make test`) and
`long` (thousands of examples, for a night run). Use them as decorators: `@profile()`.
"""

from __future__ import annotations

import datetime as dt
import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

START = dt.date(2025, 1, 1)
MODES = ("sea", "air", "rail", "road")
PRIORITIES = ("urgent", "routine")
SOURCES = ("us_stock", "stockpile", "production")
GLOBAL_SCOPES = ("approvals", "us_releases", "donations", "releases", "all")
GATE_SCOPES = ("us_releases", "donations", "releases", "all")

# The fast profile is derandomized: `make test` tries the same examples on every run, so CI never
# turns red on a draw that no code change caused; the long profile explores new ones.
settings.register_profile(
    "purlsim-fast",
    max_examples=30,
    deadline=None,
    print_blob=True,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
settings.register_profile(
    "purlsim-long",
    max_examples=2000,
    deadline=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example],
)
PROFILE = os.environ.get("PURLSIM_HYPOTHESIS_PROFILE", "fast")


def profile(fast_examples: int | None = None) -> settings:
    """Settings of the chosen profile; `fast_examples` overrides the fast profile's example count."""
    if PROFILE == "long":
        return settings(settings.get_profile("purlsim-long"))
    base = settings.get_profile("purlsim-fast")
    return settings(base, max_examples=fast_examples or base.max_examples)


# --- small pieces --------------------------------------------------------------------------


def floats(lo: float, hi: float) -> st.SearchStrategy[float]:
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


@st.composite
def moment(draw, lo: float, hi: float):
    """A day in [lo, hi] written as a number of days or (whole days) as a date."""
    day = draw(floats(lo, hi))
    if draw(st.booleans()):
        return day
    return START + dt.timedelta(days=int(day))  # floor: never after `day`


@st.composite
def window(draw, horizon: float):
    """(start, end) with end >= start in days; may begin on the start date itself or run past the horizon."""
    a = draw(floats(0, horizon * 1.1))
    b = draw(floats(a, horizon * 1.2 + 1))
    form = draw(st.sampled_from(["days", "dates", "early"]))
    if form == "days":
        return a, b
    if form == "early":  # a window in force from day 0, written as the start date (earlier dates are refused)
        return START, b
    return START + dt.timedelta(days=int(a)), START + dt.timedelta(days=int(b) + 1)


@st.composite
def dist(draw, lo: float, hi: float, allow_zero: bool = True):
    """A duration or quantity: a plain number or any distribution, with its values roughly in [lo, hi].

    allow_zero=False keeps every draw strictly positive (inter-arrival times).
    """
    kind = draw(
        st.sampled_from(["number", "fixed", "exponential", "uniform", "triangular", "lognormal", "normal", "empirical"])
    )
    floor = 0.0 if allow_zero else lo
    if kind == "number":
        return draw(floats(max(lo, 1e-3), hi))
    if kind == "fixed":
        return {"dist": "fixed", "value": draw(floats(floor if allow_zero else max(lo, 1e-3), hi))}
    if kind == "exponential":
        return {"dist": "exponential", "mean": draw(floats(max(lo, 1e-3), hi))}
    if kind == "uniform":
        a = draw(floats(floor if allow_zero else max(lo, 1e-3), hi))
        return {"dist": "uniform", "low": a, "high": draw(floats(max(a, 1e-3), hi * 1.5 + 1e-3))}
    if kind == "triangular":
        a = draw(floats(floor if allow_zero else max(lo, 1e-3), hi))
        m = draw(floats(a, hi))
        return {"dist": "triangular", "low": a, "mode": m, "high": draw(floats(max(m, 1e-3), hi * 1.5 + 1e-3))}
    if kind in ("lognormal", "normal"):
        return {"dist": kind, "mean": draw(floats(max(lo, 1e-3), hi)), "sd": draw(floats(1e-3, hi))}
    values = draw(st.lists(floats(floor if allow_zero else max(lo, 1e-3), hi), min_size=1, max_size=4))
    out = {"dist": "empirical", "values": values}
    if draw(st.booleans()):
        out["weights"] = draw(st.lists(floats(0.01, 5), min_size=len(values), max_size=len(values)))
    return out


def delay(hi: float = 10.0):
    """A delay that may be zero."""
    return st.one_of(st.just(0.0), dist(0.0, hi))


# --- the whole scenario ----------------------------------------------------------------------


@st.composite
def scenarios(draw, max_horizon: float = 240.0) -> dict:
    """A random valid scenario mapping (see the module doc)."""
    horizon = draw(floats(5.0, max_horizon))
    n_items = draw(st.integers(1, 3))
    items = [f"i{k}" for k in range(n_items)]
    sc: dict = {
        # Any text but control characters (refused in names: they would drive the terminal).
        "name": draw(st.text(st.characters(blacklist_categories=("Cc",)), min_size=0, max_size=20)),
        "start": START.isoformat() if draw(st.booleans()) else START,
        "horizon_days": horizon,
        "seed": draw(st.integers(0, 2**32)),
        "items": {i: {"name": f"item {i}", "unit_cost_musd": draw(floats(0, 50))} for i in items},
    }
    dest = "ua"
    nodes = {dest: {"kind": "destination", "country": "UA"}}
    hubs = [f"hub{k}" for k in range(draw(st.integers(0, 3)))]
    for h in hubs:
        nodes[h] = {"kind": draw(st.sampled_from(["hub", "port", "airfield", "depot"]))}

    # Production lines: 0-2 per item, at one or two plants.
    plants = [f"plant{k}" for k in range(draw(st.integers(1, 2)))]
    production = {}
    for i in items:
        for k in range(draw(st.integers(0, 2))):
            line = {"item": i, "node": draw(st.sampled_from(plants)), "servers": draw(st.integers(1, 3))}
            if draw(st.booleans()):
                line["unit_days"] = draw(dist(0.05, 3.0))
            else:
                line["rate_per_month"] = draw(floats(5, 200))
            if draw(st.booleans()):
                line["long_lead_days"] = draw(delay(20))
            if draw(st.booleans()):
                line["other_customers_share"] = draw(floats(0, 0.9))
            if draw(st.booleans()):
                line["other_backlog_units"] = draw(st.integers(0, 20))
            ramps = []
            for _ in range(draw(st.integers(0, 2))):
                ramp = {"at": draw(moment(0, horizon))}
                what = draw(st.sampled_from(["servers", "rate", "both"]))
                if what in ("servers", "both"):
                    ramp["servers"] = draw(st.integers(1, 4))
                if what in ("rate", "both"):
                    ramp["rate_per_month"] = draw(floats(5, 200))
                ramps.append(ramp)
            if ramps:
                line["ramps"] = ramps
            production[f"line_{i}_{k}"] = line
    for p in {line["node"] for line in production.values()} | set(plants[:1]):
        nodes[p] = {"kind": "plant", "country": "US"}
    if production:
        sc["production"] = production

    # US stock.
    us_items = draw(st.lists(st.sampled_from(items), unique=True, max_size=n_items))
    if us_items:
        nodes["usdepot"] = {"kind": "depot"}
        sc["us_stock"] = {
            "node": "usdepot",
            "handling_days": draw(delay(3)),
            "items": {
                i: {"on_hand": draw(st.integers(0, 80)), "reserve_floor": draw(st.integers(0, 60))} for i in us_items
            },
        }

    # Allied stockpiles.
    allies = [f"ally{k}" for k in range(draw(st.integers(0, 3)))]
    stockpiles = {}
    for a in allies:
        node = f"{a}_node"
        nodes[node] = {"kind": "depot"}
        held = {}
        for i in draw(st.lists(st.sampled_from(items), unique=True, max_size=n_items)):
            on_hand = draw(st.integers(0, 60))
            held[i] = {"on_hand": on_hand, "min_keep": draw(st.integers(0, on_hand)), "prep_days": draw(delay(10))}
        pile = {"node": node, "items": held}
        others = [b for b in allies if b != a]
        payers = draw(st.lists(st.sampled_from(others), unique=True, max_size=len(others))) if others else []
        if payers:
            share = 1.0 / (len(payers) + draw(st.integers(0, 2)))
            pile["backfill_paid_by"] = {b: share for b in payers}
        stockpiles[a] = pile
    if stockpiles:
        sc["stockpiles"] = stockpiles

    # Transport: each origin gets 0-2 routes of its own through the hubs to the destination.
    origins = sorted(
        {n for n, v in nodes.items() if v["kind"] in ("plant",)}
        | ({"usdepot"} if us_items else set())
        | {f"{a}_node" for a in allies}
    )
    legs: dict = {}
    routes: dict = {}
    choose: list = []

    def leg_between(a: str, b: str) -> str:
        reuse = [lid for lid, leg in legs.items() if leg["from"] == a and leg["to"] == b]
        if reuse and draw(st.booleans()):
            return draw(st.sampled_from(reuse))
        lid = f"leg{len(legs)}"
        leg = {"from": a, "to": b, "mode": draw(st.sampled_from(MODES)), "days": draw(dist(0.1, 8.0))}
        if draw(st.booleans()):
            leg["capacity"] = draw(st.integers(1, 3))
        if draw(st.integers(0, 3)) == 0:
            leg["departures"] = {"every_days": draw(floats(0.5, 10)), "first": draw(moment(0, 10))}
        legs[lid] = leg
        return lid

    for o in origins:
        own = []
        for _ in range(draw(st.integers(0, 2))):
            path = [o] + draw(st.lists(st.sampled_from(hubs), unique=True, max_size=2)) if hubs else [o]
            path.append(dest)
            rid = f"route{len(routes)}"
            routes[rid] = {"legs": [leg_between(a, b) for a, b in zip(path, path[1:])]}
            own.append(rid)
        options = own + ["direct"]
        if draw(st.booleans()):
            for i in draw(st.lists(st.sampled_from(items), unique=True, max_size=n_items)):
                choose.append({"origin": o, "item": i, "route": draw(st.sampled_from(options))})
            choose.append({"origin": o, "route": draw(st.sampled_from(options))})  # catch-all after the specific rules
        else:
            for i in items:
                choose.append({"origin": o, "item": i, "route": draw(st.sampled_from(options))})
    sc["transport"] = {"destination": dest, "nodes": nodes, "legs": legs, "routes": routes, "choose": choose}

    # Policy.
    policy = {
        "sources": draw(st.lists(st.sampled_from(SOURCES), unique=True, min_size=1, max_size=3)),
        "stockpile_priorities": draw(st.lists(st.sampled_from(PRIORITIES), unique=True, max_size=2)),
        "donor_choice": draw(st.sampled_from(["listed_order", "most_surplus", "fastest_route"])),
        "split": draw(st.booleans()),
        "backfill": draw(st.sampled_from(["donors_first", "fifo", "none"])),
        "backfill_order_delay_days": draw(delay(20)),
    }
    if allies and draw(st.booleans()):
        policy["donors"] = draw(st.lists(st.sampled_from(allies), min_size=1, max_size=4))  # repeats allowed
    sc["policy"] = policy

    sc["approval"] = {"enabled": draw(st.booleans()), "delay_days": draw(delay(15))}
    funding = {"enabled": draw(st.booleans()), "initial_musd": draw(floats(0, 500))}
    contributions = [
        {"by": f"payer{k}", "amount_musd": draw(floats(0.1, 500)), "at": draw(moment(0, horizon * 1.1))}
        for k in range(draw(st.integers(0, 5)))
    ]
    if draw(st.booleans()) and contributions:  # one exactly at the horizon: the edge of "arrived"
        contributions[0]["at"] = horizon
    if contributions:
        funding["contributions"] = contributions
    sc["funding"] = funding

    # Disruptions of every kind.
    line_ids, leg_ids, route_ids = list(production), list(legs), list(routes)
    disruptions = []
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["pause", "outage", "capacity", "gate"]))
        if kind == "pause":
            scopes = (
                list(GLOBAL_SCOPES)
                + [f"line:{x}" for x in line_ids]
                + [f"leg:{x}" for x in leg_ids]
                + [f"route:{x}" for x in route_ids]
            )
            start, end = draw(window(horizon))
            disruptions.append({"kind": "pause", "scope": draw(st.sampled_from(scopes)), "start": start, "end": end})
        elif kind == "outage":
            scopes = [f"leg:{x}" for x in leg_ids] + [f"hub:{x}" for x in nodes]
            start, end = draw(window(horizon))
            outage = {"kind": "outage", "scope": draw(st.sampled_from(scopes)), "start": start, "end": end}
            on_transit = draw(st.sampled_from([None, "wait", "arrive", "lost"]))  # None: the default (wait)
            if on_transit is not None:
                outage["on_transit"] = on_transit
            disruptions.append(outage)
        elif kind == "capacity":
            scopes = [f"line:{x}" for x in line_ids] + [f"leg:{x}" for x in leg_ids]
            if not scopes:
                continue
            scope = draw(st.sampled_from(scopes))
            d = {"kind": "capacity", "scope": scope, "at": draw(moment(0, horizon))}
            if scope.startswith("line:"):
                what = draw(st.sampled_from(["servers", "rate", "both"]))
                if what in ("servers", "both"):
                    d["servers"] = draw(st.integers(1, 4))
                if what in ("rate", "both"):
                    d["rate_per_month"] = draw(floats(5, 200))
            else:
                d["capacity"] = draw(st.integers(1, 4))
            disruptions.append(d)
        else:
            disruptions.append(
                {
                    "kind": "gate",
                    "at": draw(moment(0, horizon)),
                    "p_continue": draw(st.sampled_from([0.0, 1.0]) | floats(0, 1)),
                    "scope": draw(st.sampled_from(GATE_SCOPES)),
                }
            )
    if disruptions:
        sc["disruptions"] = disruptions

    # Requests: packages and/or a stream.
    requests: dict = {}
    packages = []
    for k in range(draw(st.integers(0, 5))):
        pkg = {"id": f"pkg{k}", "at": draw(moment(0, horizon)), "priority": draw(st.sampled_from(PRIORITIES))}
        donor = None
        if allies and draw(st.integers(0, 3)) == 0:
            a = draw(st.sampled_from(allies))
            giving = [i for i, v in stockpiles[a]["items"].items() if v["on_hand"] - v["min_keep"] > 0]
            if giving:
                donor = a
        pool = giving if donor else items
        pkg["lines"] = [
            {"item": draw(st.sampled_from(pool)), "qty": draw(st.integers(1, 30))}
            for _ in range(draw(st.integers(1, 3)))
        ]
        if donor:
            pkg["donor"] = donor
        if draw(st.booleans()):
            pkg["funded_by"] = draw(st.lists(st.sampled_from(["nl", "de", "ca", "no"]), unique=True, max_size=2))
        if draw(st.booleans()):
            pkg["skip_approval"] = draw(st.booleans())
        packages.append(pkg)
    if packages:
        requests["packages"] = packages
    if not packages or draw(st.booleans()):
        stream_items = draw(st.lists(st.sampled_from(items), unique=True, min_size=1, max_size=n_items))
        prio = {
            p: draw(floats(0, 3))
            for p in draw(st.lists(st.sampled_from(PRIORITIES), unique=True, min_size=1, max_size=2))
        }
        if sum(prio.values()) <= 0:
            prio["routine"] = 1.0
        stream = {
            "interarrival_days": draw(dist(0.5, 10.0, allow_zero=False)),
            "items": {i: {"weight": draw(floats(0.1, 5)), "qty": draw(dist(1.0, 12.0))} for i in stream_items},
            "priority": prio,
        }
        if draw(st.booleans()):
            s0, s1 = draw(window(horizon))
            stream["start"] = s0 if not isinstance(s0, dt.date) or s0 >= START else 0.0
            if draw(st.booleans()):
                stream["end"] = s1
        if draw(st.booleans()):
            stream["max_requests"] = draw(st.integers(1, 80))
        requests["stream"] = stream
    sc["requests"] = requests

    # Node handling at hubs some route passes between two legs, and NSATU's coordination (drawn
    # last, so the draws above stay what they were before these sections existed).
    passed = sorted({legs[lid]["to"] for r in routes.values() for lid in r["legs"][:-1]})
    for h in passed:
        if draw(st.integers(0, 2)):
            continue
        per_day = draw(st.booleans())
        handling: dict = (
            {"tonnes_per_day": draw(floats(0, 300))}
            if per_day
            else {"on_ground": draw(st.integers(0, 3)), "ground_hours": draw(delay(12))}
        )
        days = sorted(draw(st.lists(floats(0, horizon * 1.1), unique=True, max_size=2)))
        if days:
            field = "tonnes_per_day" if per_day else "on_ground"
            handling["changes"] = [
                {"from": d, field: draw(floats(0, 300)) if per_day else draw(st.integers(0, 3))} for d in days
            ]
        nodes[h]["handling"] = handling
        if per_day:  # goods passing a node handled in tonnes need a weight
            for i in items:
                sc["items"][i].setdefault("weight_t", draw(floats(0, 3)))
    if draw(st.integers(0, 3)) == 0:
        sc["coordination"] = {"days": draw(dist(0.05, 5.0, allow_zero=False)), "servers": draw(st.integers(1, 3))}
    return sc
