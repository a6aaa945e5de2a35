"""Hostile input: mutated shipped scenarios are accepted or refused with ScenarioError, never anything else.

Two routes in, both from every shipped scenario (scenarios/*.yaml, `extends:` resolved):
- the merged mapping, mutated (keys deleted, renamed or added, values swapped for other types,
  huge, negative, NaN or infinite numbers, unicode, deep nesting, shared and self-referring
  sub-documents as YAML aliases make them) and handed to `validate_mapping`;
- the YAML text, mutated (anchors and aliases, merge keys, tags, stray syntax, huge numbers,
  truncation, an `extends:` cycle) and handed to `sim.load_scenario`, also with dotted overrides.
Then fixed cases: no tag constructs an object, an alias bomb is refused within 2 s, absurd sizes
(1e12 servers, a million-year horizon) are refused at once instead of being simulated.

Profiles: PURLSIM_HYPOTHESIS_PROFILE=fast (default) or long.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import re
import time
from pathlib import Path

import pytest
import yaml
from hypothesis import event, given
from hypothesis import strategies as st
from strategies import profile

import sim
from sim import ScenarioError
from sim.scenario import validate_mapping

REPO = Path(__file__).resolve().parents[1]
SHIPPED = sorted((REPO / "scenarios").glob("*.yaml"))
QUICK_S = 2.0  # "refused quickly": a refusal that takes longer is walking the expansion


def _resolved(path: Path) -> dict:
    """A shipped file with its `extends:` chain merged underneath (mappings merge, the rest replaces)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    parent = data.pop("extends", None)
    if parent is None:
        return data
    return _merge(_resolved(path.parent / parent), data)


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


BASES = {p.name: _resolved(p) for p in SHIPPED}


def test_the_shipped_scenarios_are_there_and_valid():
    assert SHIPPED, "no shipped scenarios found"  # the mutation tests below need something to mutate
    for name, data in BASES.items():
        validate_mapping(copy.deepcopy(data), name)  # each unmutated base is accepted


def _accepts_or_refuses(call):
    """Run `call`; a ScenarioError (with at least one problem) is a refusal, any other exception a bug."""
    try:
        call()
    except ScenarioError as exc:
        assert exc.problems, "a ScenarioError must list its problems"
        for p in exc.problems:
            assert str(p).strip() and "Traceback" not in str(p)  # each problem is a readable line
        return "refused"
    return "accepted"


# --- values and mutations ----------------------------------------------------------------------


def _nested(depth: int, leaf=1, as_list: bool = True):
    node = leaf
    for _ in range(depth):
        node = [node] if as_list else {"x": node}
    return node


def _self_referring():
    a: list = []
    a.append(a)
    return a


SCALARS = st.sampled_from(
    [
        None,
        True,
        False,
        0,
        -1,
        -0.0,
        1,
        1e12,
        -1e12,
        1e308,
        -1e308,
        10**30,
        -(10**30),
        2**63,
        5e-324,
        math.nan,
        math.inf,
        -math.inf,
        "",
        " ",
        "\x00",
        "\ufeff",
        "1e12",
        "NaN",
        "-inf",
        "2025-13-45",
        "٣",
        "𝟙𝟚𝟛",
        "Україна",
        "💥",
        "direct",
        "exponential",
        "../../etc/passwd",
        "a" * 5000,
        dt.date(1, 1, 1),
        dt.date(9999, 12, 31),
        dt.datetime(2025, 1, 1, 12, 30),
        b"\xff\x00",
    ]
)
VALUES = st.recursive(
    SCALARS | st.integers() | st.floats() | st.text(max_size=20) | st.booleans(),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.text(max_size=8) | SCALARS.filter(lambda v: isinstance(v, (str, int, float, bool)) or v is None),
            inner,
            max_size=3,
        )
    ),
    max_leaves=6,
)
HOSTILE = (
    VALUES
    | st.integers(60, 4000).map(_nested)
    | st.integers(60, 4000).map(lambda n: _nested(n, as_list=False))
    | st.just("self-ref").map(lambda _: _self_referring())
    | st.sampled_from(
        [
            {"dist": "exponential", "mean": -1},
            {"dist": "nope"},
            {"kind": "pause"},
            {"dist": "empirical", "values": []},
            {"dist": "lognormal", "mean": 1e308, "sd": 1e308},
        ]
    )
)


def _swap_type(v):
    """The same content as another type."""
    if isinstance(v, bool):
        return "yes" if v else 0
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return [v]
    if isinstance(v, list):
        return {str(i): x for i, x in enumerate(v)}
    if isinstance(v, dict):
        return list(v.values())
    if isinstance(v, dt.date):
        return v.isoformat() + "T"
    return None


def _slots(doc, max_depth: int = 12):
    """Every (path, container, key) place in the document, not below max_depth, each container once."""
    out, seen, todo = [], set(), [((), doc)]
    while todo:
        path, node = todo.pop()
        if id(node) in seen or len(path) > max_depth:
            continue
        seen.add(id(node))
        pairs = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
        for k, v in pairs:
            out.append((path, node, k))
            if isinstance(v, (dict, list)):
                todo.append((path + (k,), v))
    return out


@st.composite
def mutated(draw):
    """(name, mutated mapping, what was done) from a shipped scenario."""
    name = draw(st.sampled_from(sorted(BASES)))
    doc = copy.deepcopy(BASES[name])
    done = []
    for _ in range(draw(st.integers(1, 4))):
        slots = _slots(doc)
        if not slots:
            break
        path, parent, key = draw(st.sampled_from(slots))
        op = draw(st.sampled_from(["delete", "replace", "swap", "rename", "add", "share", "number"]))
        done.append((op, path + (key,)))
        if op == "delete":
            del parent[key]
        elif op == "replace":
            parent[key] = draw(HOSTILE)
        elif op == "swap":
            parent[key] = _swap_type(parent[key])
        elif op == "rename" and isinstance(parent, dict):
            parent[
                draw(st.text(max_size=12) | SCALARS.filter(lambda v: isinstance(v, (str, int, float)) or v is None))
            ] = parent.pop(key)
        elif op == "add" and isinstance(parent, dict):
            parent[draw(st.text(max_size=12))] = draw(HOSTILE)
        elif op == "add":
            parent.append(draw(HOSTILE))
        elif op == "share":  # one sub-document in two places, as a YAML alias makes it
            _, other_parent, other_key = draw(st.sampled_from(slots))
            parent[key] = other_parent[other_key]
        elif op == "number":
            parent[key] = draw(st.sampled_from([-1, 0, 1e12, -1e12, 1e300, 10**18, 0.5, -0.5, math.nan, math.inf]))
    return name, doc, done


@profile(fast_examples=150)
@given(mutated())
def test_mutated_mappings_are_accepted_or_refused_with_scenario_error(case):
    name, doc, done = case
    event(_accepts_or_refuses(lambda: validate_mapping(doc, name)))


# --- the YAML text route -----------------------------------------------------------------------

SNIPPETS = [
    "&a ",
    "*a",
    "*nope",
    "<<: *a\n",
    "!!python/object/apply:os.system ['true']",
    "!!python/name:os.system",
    "!!binary AAAA",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "!!timestamp 2025-99-99",
    "!!float nan",
    "!!int 1e3",
    "!foo ",
    "{",
    "}",
    "[",
    "]",
    ": :",
    "\t",
    "\ufeff",
    "\x00",
    "\x85",
    "- ",
    "? ",
    "%YAML 1.1\n---\n",
    "---\n",
    "...\n",
    "'",
    '"',
    "|\n",
    ">\n",
    "#",
    "1e12",
    "-1e12",
    "99999999999999999999999999",
    ".inf",
    ".nan",
    "~",
    "Україна",
    "💥",
    "\\u0000",
    "extends: /dev/zero\n",
    "extends: /etc/hostname\n",
    "extends: ../../../../../../etc/passwd\n",
]


@st.composite
def mutated_text(draw):
    name = draw(st.sampled_from(sorted(BASES)))
    text = yaml.safe_dump(BASES[name], sort_keys=False, allow_unicode=True)
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.sampled_from(["insert", "delete", "number", "anchor", "truncate", "duplicate", "self_extends"]))
        if op == "insert":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + draw(st.sampled_from(SNIPPETS) | st.text(max_size=8)) + text[at:]
        elif op == "delete":
            at = draw(st.integers(0, len(text)))
            text = text[:at] + text[at + draw(st.integers(1, 40)) :]
        elif op == "number":
            nums = list(re.finditer(r"(?<![\w.-])\d+(\.\d+)?(?![\w.-])", text))
            if nums:
                m = draw(st.sampled_from(nums))
                text = (
                    text[: m.start()]
                    + draw(
                        st.sampled_from(
                            [
                                "-1",
                                "0",
                                "1e12",
                                "-1e308",
                                "1e400",
                                "1_000_000_000_000",
                                "0x7fffffffffffffff",
                                "0o777",
                                ".nan",
                                "-.inf",
                            ]
                        )
                    )
                    + text[m.end() :]
                )
        elif op == "anchor":  # anchor one value and alias it from another key, or merge it in
            lines = [i for i, ln in enumerate(text.split("\n")) if re.match(r"^\s*[\w-]+: \S", ln)]
            if len(lines) >= 2:
                rows = text.split("\n")
                a, b = draw(st.sampled_from(lines)), draw(st.sampled_from(lines))
                rows[a] = re.sub(r": ", ": &anc ", rows[a], count=1)
                rows[b] = re.sub(
                    r": .*$",
                    ": " + draw(st.sampled_from(["*anc", "[*anc, *anc, *anc]", "{<<: *anc}"])),
                    rows[b],
                    count=1,
                )
                text = "\n".join(rows)
        elif op == "truncate":
            text = text[: draw(st.integers(0, len(text)))]
        elif op == "duplicate":
            rows = text.split("\n")
            i = draw(st.integers(0, len(rows) - 1))
            rows.insert(i, rows[i])
            text = "\n".join(rows)
        else:
            text = "extends: SELF\n" + text
    return name, text


@profile(fast_examples=100)
@given(mutated_text(), st.data())
def test_mutated_yaml_files_are_accepted_or_refused_with_scenario_error(tmp_path_factory, case, data):
    name, text = case
    path = tmp_path_factory.mktemp("mut") / "scenario.yaml"
    path.write_text(text.replace("extends: SELF", f"extends: {path.name}"), encoding="utf-8")
    event("file " + _accepts_or_refuses(lambda: sim.load_scenario(path)))
    # The same file with dotted overrides, some on paths that exist and some that do not.
    keys = [
        "horizon_days",
        "seed",
        "production.pac3_line.servers",
        "requests.stream.interarrival_days",
        "policy.sources.0",
        "transport.legs.sealift.capacity",
        "nope.nothing",
        "items",
        "requests.packages.99.at",
    ]
    overrides = data.draw(st.dictionaries(st.sampled_from(keys), VALUES, max_size=3))
    event("with overrides " + _accepts_or_refuses(lambda: sim.load_scenario(path, overrides)))


# --- fixed hostile cases -----------------------------------------------------------------------

MINIMAL = """\
name: minimal
start: 2025-01-01
horizon_days: 100
items: {a: {name: item a, unit_cost_musd: 1}}
requests: {stream: {interarrival_days: 5, items: {a: {weight: 1}}}}
funding: {enabled: false}
production: {line: {item: a, node: plant, servers: 1, unit_days: 1}}
transport:
  destination: ua
  nodes: {ua: {kind: destination}, plant: {kind: plant}}
  choose: [{origin: plant, route: direct}]
"""


def _write(tmp_path, text: str, name: str = "s.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_minimal_scenario_loads(tmp_path):
    sim.load_scenario(_write(tmp_path, MINIMAL))  # the base of the cases below is valid as written


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system ['touch {marker}']",
        "!!python/object/new:os.system ['touch {marker}']",
        "!!python/object:pathlib.Path {{}}",
        "!!python/name:os.system",
        "!!python/module:os",
    ],
)
def test_no_tag_constructs_an_object(tmp_path, tag):
    marker = tmp_path / "pwned"
    text = MINIMAL.replace("name: minimal", f"name: {tag.format(marker=marker)}")
    with pytest.raises(ScenarioError) as exc:
        sim.load_scenario(_write(tmp_path, text))
    assert "tag" in str(exc.value)  # refused as a tag, not by accident further on
    assert not marker.exists()  # and nothing ran


def test_alias_bomb_is_refused_quickly(tmp_path):
    # The "billion laughs": nine levels of nine aliases, 9^9 = 387M strings once expanded.
    rows = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for k in range(1, 10):
        rows.append(f"l{k}: &l{k} [" + ",".join([f"*l{k - 1}"] * 9) + "]")
    text = MINIMAL.replace("name: minimal", "name: minimal\nbomb:\n  " + "\n  ".join(rows))
    t0 = time.perf_counter()
    with pytest.raises(ScenarioError):
        sim.load_scenario(_write(tmp_path, text))
    assert time.perf_counter() - t0 < QUICK_S  # 2 s: refused by measuring, not by expanding 387M values


def test_many_aliases_and_a_self_referring_alias_are_refused_quickly(tmp_path):
    wide = MINIMAL + "x: &x 1\nmany: [" + ",".join(["*x"] * 5000) + "]\n"
    loop = MINIMAL + "loop: &loop [*loop]\n"
    for text in (wide, loop):
        t0 = time.perf_counter()
        with pytest.raises(ScenarioError):
            sim.load_scenario(_write(tmp_path, text))
        assert time.perf_counter() - t0 < QUICK_S  # 2 s: a cap, not a walk


def test_deep_nesting_is_refused_quickly(tmp_path):
    for deep in ("[" * 20000 + "]" * 20000, "{a: " * 5000 + "1" + "}" * 5000):
        t0 = time.perf_counter()
        with pytest.raises(ScenarioError):
            sim.load_scenario(_write(tmp_path, MINIMAL + f"deep: {deep}\n"))
        assert time.perf_counter() - t0 < QUICK_S  # 2 s: refused by a depth cap
    with pytest.raises(ScenarioError):
        validate_mapping({**yaml.safe_load(MINIMAL), "name": _nested(100000)})  # in a mapping too


@pytest.mark.parametrize(
    "field,value,path",
    [
        ("servers", "1e12", "production.line.servers"),
        ("servers", "1000000000000", "production.line.servers"),
        ("horizon_days", "365000000", "horizon_days"),  # a million years
        ("horizon_days", "3.65e8", "horizon_days"),
    ],
)
def test_absurd_sizes_are_refused_at_once(tmp_path, field, value, path):
    text = re.sub(rf"(?m)\b{field}: \S+?(?=[,}}\n])", f"{field}: {value}", MINIMAL)
    assert value in text  # the substitution happened
    t0 = time.perf_counter()
    with pytest.raises(ScenarioError) as exc:
        sim.load_scenario(_write(tmp_path, text))
    assert time.perf_counter() - t0 < QUICK_S  # 2 s: refused before anything is built or run
    assert any(p.path == path for p in exc.value.problems), exc.value  # the problem names the field


@pytest.mark.parametrize(
    "overrides",
    [
        {"production.line.servers": 1e12},
        {"horizon_days": 365e6},
        {"requests.stream.max_requests": 10**12},
        {"requests.stream.items.a.qty": 1e12},
    ],
)
def test_absurd_sizes_given_as_overrides_are_refused(tmp_path, overrides):
    t0 = time.perf_counter()
    with pytest.raises(ScenarioError):
        sim.load_scenario(_write(tmp_path, MINIMAL), overrides)
    assert time.perf_counter() - t0 < QUICK_S  # 2 s: refused before anything is built or run


# --- would run without end or change meaning silently: refused ---


def test_a_stream_that_never_advances_is_refused(tmp_path):
    for gap in ("{dist: fixed, value: 0}", "{dist: empirical, values: [0, 0]}"):
        text = MINIMAL.replace("interarrival_days: 5", f"interarrival_days: {gap}")
        with pytest.raises(ScenarioError, match="mean inter-arrival time must be above zero"):
            sim.load_scenario(_write(tmp_path, text))


def test_a_route_named_direct_is_refused(tmp_path):
    text = MINIMAL.replace(
        "  choose: [{origin: plant, route: direct}]",
        "  legs: {truck: {from: plant, to: ua, mode: road, days: 3}}\n"
        "  routes: {direct: {legs: [truck]}}\n"
        "  choose: [{origin: plant, route: direct}]",
    )
    with pytest.raises(ScenarioError, match="'direct' is reserved"):
        sim.load_scenario(_write(tmp_path, text))
