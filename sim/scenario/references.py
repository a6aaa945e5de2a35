"""Cross-reference checks: everything a scenario names must be defined, and routes must connect."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from ..errors import Problem
from .disruption_specs import GATE_SCOPES, GLOBAL_SCOPES  # noqa: F401 (re-exported)
from .schema import Scenario, Transport
from .vehicle_specs import check_cargo
from .workload import lots_problem


def _hint(name, known) -> str:
    close = difflib.get_close_matches(str(name), list(known), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def check_references(s: Scenario, file: str) -> list[Problem]:
    """Every problem with names, routes and windows in an otherwise well-formed scenario."""
    out: list[Problem] = []

    def need(kind: str, name, known, path: str):
        if name not in known:
            out.append(Problem(file, path, f"{kind} '{name}' is not defined{_hint(name, known)}"))
            return False
        return True

    items, nodes, legs = s.items, s.transport.nodes, s.transport.legs
    routes = set(s.transport.routes) | {"direct"}
    allies = s.stockpiles

    seen_ids: set[str] = set()
    for i, pkg in enumerate(s.requests.packages):
        p = f"requests.packages.{i}"
        if pkg.id in seen_ids:
            out.append(Problem(file, f"{p}.id", f"duplicate package id '{pkg.id}'"))
        seen_ids.add(pkg.id)
        if s.day(pkg.at) > s.horizon_days:
            out.append(Problem(file, f"{p}.at", f"after the horizon (day {s.day(pkg.at):g} > {s.horizon_days:g})"))
        if pkg.required_by is not None and s.day(pkg.required_by) < s.day(pkg.at):
            out.append(Problem(file, f"{p}.required_by", "before the package's date (at)"))
        for j, line in enumerate(pkg.lines):
            need("item", line.item, items, f"{p}.lines.{j}.item")
        if pkg.donor is not None and need("ally", pkg.donor, allies, f"{p}.donor"):
            held = allies[pkg.donor].items
            for line in pkg.lines:
                stock = held.get(line.item)
                if stock is None or stock.on_hand - stock.min_keep <= 0:
                    out.append(
                        Problem(file, f"{p}.donor", f"donor '{pkg.donor}' has no stock of '{line.item}' it may give")
                    )
    for group, members in s.groups.items():
        if group in items:
            out.append(Problem(file, f"groups.{group}", f"'{group}' is an item: a group needs a name of its own"))
        for j, name in enumerate(members):
            need("item", name, items, f"groups.{group}.{j}")
        if len(set(members)) != len(members):
            out.append(Problem(file, f"groups.{group}", "an item is listed twice"))
    stream = s.requests.stream
    if stream is not None:
        for name in stream.items:
            need("item", name, items, f"requests.stream.items.{name}")
        if stream.end is not None and s.day(stream.end) < s.day(stream.start):
            out.append(Problem(file, "requests.stream.end", "ends before it starts"))
    if not s.requests.packages and s.requests.stream is None:
        out.append(Problem(file, "requests", "no packages and no stream: nothing is ever requested"))

    # Sections of goods sources name what they hold and where (their own `references`).
    known = {"item": items, "node": nodes}
    for kind, name, path in source_references(s):
        need(kind, name, known[kind], path)

    t = s.transport
    need("node", t.destination, nodes, "transport.destination")
    for lid, leg in legs.items():
        need("node", leg.from_, nodes, f"transport.legs.{lid}.from")
        need("node", leg.to, nodes, f"transport.legs.{lid}.to")
    for rid, route in t.routes.items():
        ok = all([need("leg", leg, legs, f"transport.routes.{rid}.legs.{k}") for k, leg in enumerate(route.legs)])
        if not ok:
            continue
        for k in range(1, len(route.legs)):
            a, b = legs[route.legs[k - 1]], legs[route.legs[k]]
            if a.to != b.from_:
                out.append(
                    Problem(
                        file,
                        f"transport.routes.{rid}.legs.{k}",
                        f"legs do not connect: '{route.legs[k - 1]}' ends at '{a.to}' "
                        f"but '{route.legs[k]}' starts at '{b.from_}'",
                    )
                )
        if legs[route.legs[-1]].to != t.destination:
            out.append(
                Problem(
                    file,
                    f"transport.routes.{rid}.legs",
                    f"route ends at '{legs[route.legs[-1]].to}', not at the destination '{t.destination}'",
                )
            )
    for k, rule in enumerate(t.choose):
        p = f"transport.choose.{k}"
        need("node", rule.origin, nodes, f"{p}.origin")
        if rule.item is not None:
            need("item", rule.item, items, f"{p}.item")
        if need("route", rule.route, routes, f"{p}.route") and rule.route != "direct":
            route = t.routes[rule.route]
            first = legs.get(route.legs[0])
            if first is not None and first.from_ != rule.origin:
                out.append(
                    Problem(
                        file,
                        f"{p}.route",
                        f"route '{rule.route}' starts at '{first.from_}', not at origin '{rule.origin}'",
                    )
                )
    if not out:
        out.extend(_check_shippable(s, file))
        origins = {(node, item) for path, section in source_sections(s) for node, item, _ in _origins(section, path)}
        check_cargo(s, lambda path, message: out.append(Problem(file, path, message)), origins, routes_for)
    if not out:
        out.extend(_check_handling(s, file))

    out.extend(_check_moments(s, file))
    if not out:
        too_big = lots_problem(s)
        if too_big:
            out.append(Problem(file, "requests", too_big))

    package_ids = {p.id: p for p in s.requests.packages}
    for name, target in s.record.items():
        for k, rid in enumerate(target.requests):
            need("request", rid, package_ids, f"record.{name}.requests.{k}")
        if target.kind == "stockout_days" and target.items and target.items[0] not in s.ukraine.items:
            out.append(
                Problem(
                    file, f"record.{name}.items.0", f"Ukraine keeps no stock of '{target.items[0]}' (ukraine.items)"
                )
            )

    pol = s.policy
    for k, donor in enumerate(pol.donors or []):
        need("ally", donor, allies, f"policy.donors.{k}")

    for k, d in enumerate(s.disruptions):
        p = f"disruptions.{k}"

        def scope(value, kinds, plain, p=p):
            _check_scope(value, kinds, plain, s, file, f"{p}.scope", out)

        for field, message in d.problems(s, scope):
            out.append(Problem(file, f"{p}.{field}" if field else p, message))
    return out


def _moments(s: Scenario):
    """(path, moment) of every moment a scenario gives."""
    for i, pkg in enumerate(s.requests.packages):
        yield f"requests.packages.{i}.at", pkg.at
        if pkg.required_by is not None:
            yield f"requests.packages.{i}.required_by", pkg.required_by
    if s.requests.stream is not None:
        yield "requests.stream.start", s.requests.stream.start
        if s.requests.stream.end is not None:
            yield "requests.stream.end", s.requests.stream.end
    for i, c in enumerate(s.funding.contributions):
        yield f"funding.contributions.{i}.at", c.at
    for lid, line in s.production.items():
        for i, ramp in enumerate(line.ramps):
            yield f"production.{lid}.ramps.{i}.at", ramp.at
    for lid, leg in s.transport.legs.items():
        if leg.departures is not None:
            yield f"transport.legs.{lid}.departures.first", leg.departures.first
    for nid, node in s.transport.nodes.items():
        for j, change in enumerate(node.handling.changes if node.handling is not None else []):
            yield f"transport.nodes.{nid}.handling.changes.{j}.from", change.from_
    for item, use in s.ukraine.items.items():
        for j, surge in enumerate(use.surges):
            yield f"ukraine.items.{item}.surges.{j}.start", surge.start
            yield f"ukraine.items.{item}.surges.{j}.end", surge.end
    for name, target in s.record.items():
        for field, moment in (("from", target.from_), ("by", target.by)):
            if moment is not None:
                yield f"record.{name}.{field}", moment
    for k, d in enumerate(s.disruptions):
        for name in ("start", "end", "at"):
            if hasattr(d, name):
                yield f"disruptions.{k}.{name}", getattr(d, name)


def _check_moments(s: Scenario, file: str) -> list[Problem]:
    """A moment given as a date before `start` is negative time: refused (numbers are checked by the schema)."""
    return [
        Problem(file, path, f"before the scenario start ({moment.isoformat()} < {s.start.isoformat()})")
        for path, moment in _moments(s)
        if s.day(moment) < 0
    ]


def _check_scope(scope: str, kinds, plain, s: Scenario, file: str, path: str, out: list[Problem]):
    if scope in plain:
        return
    kind, _, name = scope.partition(":")
    known: dict[str, Mapping[str, object]] = {
        "line": s.production,
        "leg": s.transport.legs,
        "route": s.transport.routes,
        "hub": s.transport.nodes,
    }
    if kind not in kinds or not name:
        options = list(plain) + [f"{k}:ID" for k in kinds]
        out.append(Problem(file, path, f"unknown scope '{scope}' (expected one of {', '.join(options)})"))
    elif name not in known[kind]:
        out.append(Problem(file, path, f"scope names unknown {kind} '{name}'{_hint(name, known[kind])}"))


def source_sections(s: Scenario):
    """(path, section) of every part of the scenario that names items and nodes it holds: a section,
    or each entry of a section that is a mapping, with `references` (and, where goods can leave
    from it, `origins`): US stock, lines, stockpiles, Ukraine's stock, ..."""
    for name in type(s).model_fields:
        value = getattr(s, name)
        if hasattr(value, "references"):
            yield name, value
        elif isinstance(value, dict):
            for key, entry in value.items():
                if hasattr(entry, "references"):
                    yield f"{name}.{key}", entry


def source_references(s: Scenario):
    """(kind, name, path) of every item and node the source sections name."""
    for path, section in source_sections(s):
        yield from section.references(path)


def _origins(section, path):
    """(node, item, path) of each place a source section's goods may leave from."""
    return getattr(section, "origins", lambda _: [])(path)


def _check_shippable(s: Scenario, file: str) -> list[Problem]:
    """Every place goods can start from must have a route for each item it can hold."""
    out = []
    for path, section in source_sections(s):
        for node, item, where in _origins(section, path):
            if route_for(s.transport, node, item) is None:
                out.append(Problem(file, where, f"no route in transport.choose from '{node}' for item '{item}'"))
    return out


def passed_nodes(transport: Transport, rid: str) -> list[str]:
    """The nodes route `rid` passes between two of its legs (where node handling applies), in order."""
    legs = transport.routes[rid].legs if rid in transport.routes else []
    return [transport.legs[lid].to for lid in legs[:-1]]


def _check_handling(s: Scenario, file: str) -> list[Problem]:
    """Node handling: changes in date order; only at a node some route passes; tonnes need every weight."""
    out, t = [], s.transport
    passed = {n for rid in t.routes for n in passed_nodes(t, rid)}
    weightless: dict[str, set[str]] = {}  # tonnes-handling node -> items without weight_t passing it
    for path, section in source_sections(s):
        for origin, item, _ in getattr(section, "origins", lambda _: [])(path):
            for nid in passed_nodes(t, route_for(t, origin, item) or "direct"):
                handling = t.nodes[nid].handling
                if handling is not None and handling.per_day and s.items[item].weight_t is None:
                    weightless.setdefault(nid, set()).add(item)
    for nid, node in t.nodes.items():
        if node.handling is None:
            continue
        p = f"transport.nodes.{nid}.handling"
        days = [s.day(c.from_) for c in node.handling.changes]
        for j in range(1, len(days)):
            if days[j] <= days[j - 1]:
                out.append(Problem(file, f"{p}.changes.{j}.from", "changes must be in date order, each after the last"))
        if nid not in passed:
            out.append(Problem(file, p, f"no route passes '{nid}' between two legs: handling there would never apply"))
        for item in sorted(weightless.get(nid, ())):
            out.append(
                Problem(file, f"items.{item}.weight_t", f"needed: goods of this item pass '{nid}', handled in tonnes")
            )
    return out


def route_for(transport: Transport, origin: str, item: str) -> str | None:
    """The route of the first rule without a date matching goods of `item` leaving `origin`: what
    they take before any dated rule applies (`transport`: the section)."""
    for rule in transport.choose:
        if rule.origin == origin and rule.item in (None, item) and rule.from_ is None:
            return rule.route
    return None


def routes_for(transport: Transport, origin: str, item: str) -> list[str]:
    """Every route goods of `item` leaving `origin` may take: the first undated match and the dated ones before it."""
    out = []
    for rule in transport.choose:
        if rule.origin == origin and rule.item in (None, item):
            out.append(rule.route)
            if rule.from_ is None:
                break
    return out
