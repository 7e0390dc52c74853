"""The package uses httpx and httpcore through their public names only, so that the pin on them can
follow their releases (``httpx>=0.28,<1``): no import of a private module or name, no private
attribute of their modules, and no private attribute that their objects carry (the way the client
once reached ``transport._pool._network_backend``)."""

from __future__ import annotations

import ast
import functools
import inspect
from collections.abc import Iterator
from pathlib import Path

import httpcore
import httpx
import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "truebit_facade"
LIBRARIES = ("httpx", "httpcore")


def _sources() -> list[Path]:
    files = sorted(PACKAGE.rglob("*.py"))
    generated = (PACKAGE / "_generated").resolve()  # a symlink to generated_client/
    files += sorted(generated.rglob("*.py"))
    return files


def _private(name: str) -> bool:
    """``_x``, not ``__x__`` (dunder) nor ``_x_`` (enum's sunder names)."""
    return name.startswith("_") and not name.endswith("_")


@functools.cache
def _library_private_attributes() -> frozenset[str]:
    """Private names on the classes of httpx and httpcore and on instances of the ones a client
    would reach into."""
    names: set[str] = set()
    for module in (httpx, httpcore):
        for value in vars(module).values():
            if inspect.isclass(value):
                for klass in value.__mro__:
                    if klass.__module__.partition(".")[0] in LIBRARIES:
                        names.update(n for n in vars(klass) if _private(n))
    instances = [
        httpx.Client(),
        httpx.AsyncClient(),
        httpx.HTTPTransport(),
        httpx.AsyncHTTPTransport(),
        httpx.Response(200, content=b"x", request=httpx.Request("GET", "http://h")),
        httpcore.ConnectionPool(),
        httpcore.AsyncConnectionPool(),
        httpcore.HTTPProxy(proxy_url="http://p:1"),
    ]
    for obj in instances:
        names.update(n for n in vars(obj) if _private(n))
        close = getattr(obj, "close", None)
        if close is not None and not inspect.iscoroutinefunction(close):
            close()
    return frozenset(names)


def _own_attributes(trees: list[ast.Module]) -> set[str]:
    """Private names the package defines itself (on ``self``, as methods, class attributes or
    slots): using those is using its own objects."""
    own: set[str] = set()
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                own.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls", "copy", "error"):
                    own.add(node.attr)
            elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _private(node.value):
                own.add(node.value)  # __slots__ entries, names set through setattr
            elif isinstance(node, ast.AnnAssign | ast.Assign):
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    if isinstance(target, ast.Name):
                        own.add(target.id)
    return own


def _violations(path: Path, tree: ast.Module, theirs: frozenset[str]) -> Iterator[str]:
    aliases = set(LIBRARIES)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] in LIBRARIES:
                    aliases.add(alias.asname or parts[0])
                    if any(_private(p) for p in parts):
                        yield f"{path}:{node.lineno}: import {alias.name}"
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] in LIBRARIES:
                if any(_private(p) for p in parts):
                    yield f"{path}:{node.lineno}: from {node.module} import ..."
                for alias in node.names:
                    if _private(alias.name):
                        yield f"{path}:{node.lineno}: from {node.module} import {alias.name}"
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            if isinstance(node.value, ast.Name) and node.value.id in aliases:
                yield f"{path}:{node.lineno}: {node.value.id}.{node.attr}"
            elif node.attr in theirs:
                yield f"{path}:{node.lineno}: .{node.attr} (a private attribute of httpx or httpcore)"
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
        ):
            name = node.args[1].value
            if isinstance(name, str) and name in theirs:
                yield f"{path}:{node.lineno}: getattr(..., {name!r})"


def test_the_package_uses_only_public_names_of_httpx_and_httpcore() -> None:
    sources = _sources()
    trees = [ast.parse(p.read_text(encoding="utf-8"), str(p)) for p in sources]
    theirs = _library_private_attributes() - _own_attributes(trees)
    found = [v for p, t in zip(sources, trees, strict=True) for v in _violations(p, t, theirs)]
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    "code",
    [
        "import httpx._utils",
        "from httpx._config import create_ssl_context",
        "from httpx import _utils",
        "import httpcore as hc\nhc._backends",
        "def f(t):\n    return t._pool._network_backend",
        "def f(c):\n    return getattr(c, '_mounts')",
    ],
)
def test_the_rule_catches_each_kind_of_private_use(code: str) -> None:
    sources = _sources()
    own = _own_attributes([ast.parse(p.read_text(encoding="utf-8")) for p in sources])
    theirs = _library_private_attributes() - own
    assert list(_violations(Path("example.py"), ast.parse(code), theirs))
