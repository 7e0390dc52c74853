"""The call's state machine and the loop that drives it do no I/O: no sockets, clock, threads or
event loop in ``_flow``, ``_driver`` and the wire modules (only the clients have them), read from the
source with ``ast``, so nothing is imported. (The package's import circles: tests/test_import_graph.py.)"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "truebit_facade"
IMPURE = {"asyncio", "httpx", "httpcore", "os", "socket", "threading", "time", "anyio"}


def _top_level_imports(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    found |= {
        n.module.split(".")[0]
        for n in ast.walk(tree)
        if isinstance(n, ast.ImportFrom) and n.module and not n.level
    }
    return found


@pytest.mark.parametrize("module", ["_flow", "_driver", "_failures", "_answers", "_wire", "_arguments"])
def test_the_call_machinery_is_pure(module: str) -> None:
    assert not _top_level_imports(module) & IMPURE


def test_the_check_sees_an_impure_import() -> None:
    assert "threading" in _top_level_imports("_runtime") and "httpx" in _top_level_imports("_async_client")
