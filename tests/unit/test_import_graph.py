"""The client core's import graph has no circles: each shared piece lives below the modules that share
it (``Failure`` beside ``Answer`` in ``_wire``; the errors results raise in ``_base_errors``, below
``_models``; the resources know their client only as a Protocol). Every import counts, also those
inside functions and under ``TYPE_CHECKING``: a circle there is a circle in the design. Read from the
source with ``ast``, so nothing is imported."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "truebit_facade"

#: Circles another change is breaking, each named with why it is still here. Empty is the goal.
KNOWN: dict[frozenset[str], str] = {
    frozenset({"_backends", "_transport"}): "clip() moves into _backends with the transport rewrite",
}


def _core_graph() -> dict[str, set[str]]:
    """``module -> modules it imports``, for the package's own top-level modules."""
    modules = {f.stem for f in PACKAGE.glob("*.py")}
    graph: dict[str, set[str]] = {m: set() for m in modules}
    for module in modules:
        tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module is None:  # from . import _flow as flow
                    graph[module] |= {a.name for a in node.names if a.name in modules}
                elif node.module in modules:
                    graph[module].add(node.module)
            elif (
                isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("truebit_facade.")
            ):
                name = node.module.split(".")[1]
                if name in modules:
                    graph[module].add(name)
        graph[module].discard(module)
    graph.pop("__init__", None)  # the namespace on top imports everything, and nothing imports it
    for targets in graph.values():
        targets.discard("__init__")
    return graph


def _circles(graph: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[frozenset[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(frozenset(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_client_core_has_no_import_circles() -> None:
    new = [sorted(c) for c in _circles(_core_graph()) if c not in KNOWN]
    assert new == [], f"import circles in truebit_facade/: {new}; move the shared piece below both"


def test_the_check_sees_a_circle() -> None:
    assert _circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [frozenset("abc")]
    graph = _core_graph()
    assert "_wire" in graph["_flow"] and "_flow" in graph["_async_client"]  # from . import _flow


@pytest.mark.parametrize("module", ["_flow", "_driver", "_failures", "_answers", "_wire"])
def test_the_flow_is_pure(module: str) -> None:
    """No I/O, clock or concurrency in the state machine and its loop: only the clients have them."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {
        n.module.split(".")[0]
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom) and n.module and not n.level
    }
    assert not imported & {"asyncio", "httpx", "httpcore", "os", "socket", "threading", "time"}, imported
