"""The package's wiring: no import cycles, and imports point down the layers only.

Layers, bottom first (docs/ARCHITECTURE.md): a module may import its own floor and those below.
An upward or circular import makes a module impossible to read, test or move on its own.
"""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "emotion_core"
# floor of each top-level part of the package; a part not named here fails the test below
FLOORS = {
    "labels": 0, "errors": 0, "settings": 0, "atomic": 0, "quiet": 0, "config": 0, "run_records": 0, "runs": 0,
    "data": 1, "models": 1,
    "training": 2, "evaluation": 2, "explain": 2,
    "photos": 3, "audit": 3, "ship": 3, "bench": 3, "reference": 3, "compare": 3, "mistakes": 3, "plots": 3,
    "cli": 4, "__main__": 4,
    "__init__": 0,  # the package itself holds only its version
    # the one image decoder lives with the photos but imports only the bottom floor: data reads faces through it
    "photos.decode": 1,
}


def _module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph():
    """{module: {imported emotion_core modules}}, counting imports inside functions too."""
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph = {}
    for name, path in modules.items():
        found = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("emotion_core"):
                submodules = {f"{node.module}.{a.name}" for a in node.names} & set(modules)
                found.update(submodules or {node.module})  # `from pkg import module` needs only that module
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name.startswith("emotion_core"))
        graph[name] = {m for m in found if m in modules and m != name}
    return graph


def _floor(module):
    parts = module.split(".")[1:] or ["__init__"]
    return FLOORS.get(".".join(parts[:2]), FLOORS[parts[0]])


def _cycles(graph):
    """Every module that lies on a cycle (Tarjan's strongly connected components)."""
    index, low, stack, on_stack, cyclic, counter = {}, {}, [], set(), [], [0]

    def visit(node):
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cyclic.append(sorted(component))

    for node in graph:
        if node not in index:
            visit(node)
    return cyclic


def test_the_cycle_finder_finds_a_cycle():
    """Ensure the test below is meaningful: a hand-made cycle is found, a chain is not."""
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles():
    assert _cycles(import_graph()) == []


def test_every_part_of_the_package_has_a_floor():
    assert {m.split(".")[1] for m in import_graph() if "." in m} <= set(FLOORS)
    assert all(_floor(b) <= 1 for b in import_graph()["emotion_core.photos.decode"])  # its special floor holds


def test_imports_point_down_the_layers_only():
    graph = import_graph()
    upward = sorted(f"{a} -> {b}" for a, targets in graph.items() for b in targets
                    if _floor(b) > _floor(a) and a.split(".")[-1] != "__init__")
    assert upward == []
