"""The import graph inside `sim/` flows one way: no module imports, even lazily, one that imports it back."""

from __future__ import annotations

import ast
from pathlib import Path

SIM = Path(__file__).resolve().parents[1] / "sim"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SIM.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _ours(name: str) -> bool:
    return name == "sim" or name.startswith("sim.")


def imports(path: Path) -> set[str]:
    """Every sim module `path` imports, at the top or inside a function (relative imports resolved)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if _ours(a.name)}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if _ours(target):
                found.add(target)
                found |= {f"{target}.{a.name}" for a in node.names}  # kept only where it is a module
    return found


def graph() -> dict[str, set[str]]:
    mods = {module_name(p): p for p in SIM.rglob("*.py")}
    edges = {}
    for name, path in mods.items():
        # An import of a package runs its __init__; of a name in a module, that module.
        edges[name] = {t for t in imports(path) if t in mods and t != name}
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_the_checker_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_every_sim_import_names_a_module_that_exists():
    # The graph below only sees modules that exist: an import of a moved module would hide there.
    mods = {module_name(p) for p in SIM.rglob("*.py")}
    missing = {}
    for path in SIM.rglob("*.py"):
        for target in imports(path):
            parent = target.rpartition(".")[0]
            if target not in mods and parent not in mods:
                missing.setdefault(module_name(path), []).append(target)
    assert missing == {}


def test_no_import_cycle_inside_sim():
    # A module importing its own package (whose __init__ gathers the package's modules) is how
    # Python runs packages, not a cycle of layers: those edges are left out.
    edges = {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in graph().items()}
    assert cycles(edges) == []


def test_plots_draw_and_compute_no_statistics():
    # Intervals, bootstraps and paired differences live in the analysis layer (sim.metrics,
    # sim.stats): a plot module may read their results, never import the estimators themselves.
    estimators = {"sim.stats", "sim.metrics.headline", "sim.metrics.delivered", "sim.metrics.backfill"}
    for path in sorted((SIM / "plots").glob("*.py")):
        found = imports(path)
        assert not found & estimators, (path.name, found & estimators)
        assert not [n for n in found if n.startswith("sim.experiments")], path.name
        calls = {
            node.func.attr
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        }
        assert not calls & {"paired", "comparison_table", "t_interval", "resamples"}, path.name
