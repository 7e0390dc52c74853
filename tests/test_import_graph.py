"""The package's import circles are the named ones, no more: a new circle fails here, with its path.

The graph is read from the source with ``ast``: every ``import`` and ``from ... import`` of a
``truebit_facade`` module, at module level or inside a function (a deferred import still ties the two
modules together), but not under ``if TYPE_CHECKING:`` (those never run). ``from pkg import name`` is
an edge to ``pkg.name`` when that is a module, to the module a public name of the (lazy) package
comes from, else to ``pkg``. A circle is a strongly connected
component of that graph; each allowed one is listed with why it exists and which issue removes it.
"""

from __future__ import annotations

import ast
import importlib
import itertools
from collections.abc import Iterator
from pathlib import Path

PACKAGE = "truebit_facade"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE

#: Today's circles (each a set of modules, without the ``truebit_facade.`` prefix) and why they are
#: allowed. Shrink this as they are broken; a circle that is gone fails too, so the list stays exact.
# The package has no import circle. One added on purpose is named here with why (at most three: issue 20).
ALLOWED: dict[frozenset[str], str] = {}


#: Where each public name of the (lazy) package lives: ``from truebit_facade import X`` ties the
#: importer to that module, not to the package's nearly empty ``__init__``.
_LAZY_HOMES: dict[str, str] = {
    name: home.lstrip(".") for name, home in importlib.import_module(PACKAGE)._HOME_OF.items()
}


def _modules() -> dict[str, Path]:
    found = {}
    for path in ROOT.rglob("*.py"):
        if "_generated" in path.relative_to(ROOT).parts:
            continue  # generated code: its imports are its own and never reach back into the facade
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join([PACKAGE, *parts])] = path
    return found


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    """Every import statement that can run: all but those under ``if TYPE_CHECKING:``."""
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _edges(module: str, path: Path, known: set[str]) -> Iterator[tuple[str, int]]:
    """``(imported module, line)`` for each package module ``module`` imports."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in _imports(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name in known:
                    yield alias.name, node.lineno
            continue
        if node.level:
            base_parts = package.split(".")
            base = ".".join(base_parts[: len(base_parts) - node.level + 1])
            target = f"{base}.{node.module}" if node.module else base
        else:
            target = node.module or ""
        for alias in node.names:
            submodule = f"{target}.{alias.name}"
            home = _LAZY_HOMES.get(alias.name) if target == PACKAGE else None
            if submodule in known:
                yield submodule, node.lineno
            elif home is not None:  # a public name: the package loads it from its module on first use
                yield f"{PACKAGE}.{home}", node.lineno
            elif target in known:
                yield target, node.lineno


def import_graph() -> dict[str, dict[str, int]]:
    """module -> {imported module: line of the first such import}."""
    modules = _modules()
    known = set(modules)
    graph: dict[str, dict[str, int]] = {m: {} for m in modules}
    for module, path in modules.items():
        for target, line in _edges(module, path, known):
            if target != module:
                graph[module].setdefault(target, line)
    return graph


def circles(graph: dict[str, dict[str, int]]) -> list[frozenset[str]]:
    """The strongly connected components with more than one module (Tarjan's, without recursion)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    found: list[frozenset[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def _short(module: str) -> str:
    return module.removeprefix(PACKAGE + ".")


def describe(component: frozenset[str], graph: dict[str, dict[str, int]]) -> str:
    """One path around the circle, with the line of each import: ``a (l.3) -> b (l.9) -> a``."""
    start = min(component)
    paths = {start: [start]}
    queue = [start]
    while queue:
        node = queue.pop(0)
        for child in sorted(graph[node]):
            if child == start:
                path = [*paths[node], start]
                return (
                    " -> ".join(f"{_short(a)} (l.{graph[a][b]})" for a, b in itertools.pairwise(path))
                    + f" -> {_short(start)}"
                )
            if child in component and child not in paths:
                paths[child] = [*paths[node], child]
                queue.append(child)
    return ", ".join(sorted(component))  # pragma: no cover - a component always has a circle


def test_the_graph_is_read_from_the_source() -> None:
    graph = import_graph()
    # one of each kind of edge the reader must see: relative, deferred (in a function), absolute
    assert "truebit_facade.sandbox._calls" in graph["truebit_facade.sandbox._manifest"]
    assert "truebit_facade.sandbox._tasks_file" in graph["truebit_facade.sandbox._registry"]
    assert "truebit_facade.sandbox" in graph["truebit_facade.testing"]
    # a TYPE_CHECKING import is not an edge
    assert "truebit_facade.sandbox._registry" not in graph["truebit_facade.sandbox._tasks_file"]


def test_circles_are_found_with_their_path() -> None:
    graph = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3, "d": 4}, "d": {}}
    (component,) = circles(graph)
    assert component == {"a", "b", "c"}
    assert describe(component, graph) == "a (l.1) -> b (l.2) -> c (l.3) -> a"


def test_no_import_circle_beyond_the_named_ones() -> None:
    graph = import_graph()
    found = {frozenset(_short(m) for m in component): component for component in circles(graph)}
    new = [describe(found[c], graph) for c in found if c not in ALLOWED]
    gone = [", ".join(sorted(c)) for c in ALLOWED if c not in found]
    assert not new, "new import circles (break them, or name them in ALLOWED with why):\n" + "\n".join(new)
    assert not gone, "these allowed circles are gone: remove them from ALLOWED:\n" + "\n".join(gone)
