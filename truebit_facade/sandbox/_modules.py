"""WebAssembly modules of function tasks: from text or binary to a validated binary, and the interface
a task must have (a WASI preview-1 command). Validation uses the runners' engine (``_engine``), so a
module using a proposal the sandbox switches off is refused here, when it is registered. Nothing here
compiles a module (registration may happen while the server serves; only a run compiles, in a worker
within its wall clock): wasmtime validates without generating code, and the interface is read from the
binary's sections.

The binary (or the refusal) depends on the source alone, so it is remembered by SHA-256 (the last
:data:`_REMEMBERED`): a test suite building the same registry for every test converts each module once.
"""

from __future__ import annotations

import atexit
import collections
import hashlib
import os
import threading
from pathlib import Path
from typing import Any

from ._module_sections import read_interface

__all__ = ["check_interface", "to_wasm"]


def to_wasm(source: bytes | bytearray | str | os.PathLike[str]) -> bytes:
    """Binary WebAssembly from a module given as binary bytes, WAT text (``str`` or bytes), or a path.

    A ``str`` is always WebAssembly text; pass a :class:`pathlib.Path` for a file (``.wat`` or ``.wasm``,
    told apart by content). Raises ``ValueError`` if the module does not parse or validate.
    """
    from wasmtime import Module, WasmtimeError, wat2wasm

    if isinstance(source, os.PathLike):
        data: bytes | str = Path(source).read_bytes()
    elif isinstance(source, bytearray):
        data = bytes(source)
    else:
        data = source
    key = (
        b"to_wasm:"
        + hashlib.sha256(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data).digest()
    )
    known = _remembered(key)
    if known is not None:
        if isinstance(known, str):
            raise ValueError(known)
        return known
    try:
        if isinstance(data, bytes) and data.startswith(b"\0asm"):
            wasm = data
        else:
            text = data.decode("utf-8") if isinstance(data, bytes) else data
            wasm = bytes(wat2wasm(text))
        Module.validate(_validation_engine(), wasm)
    except (WasmtimeError, UnicodeDecodeError) as exc:
        message = f"not a valid WebAssembly module: {exc}{_proposal_hint(str(exc))}"
        _remember(key, message)
        raise ValueError(message) from None
    _remember(key, wasm)
    return wasm


#: What wasmtime's validator says when a module uses a proposal the engine has switched off.
_SWITCHED_OFF = (
    "not enabled",
    "must be enabled",
    "multiple memories",
    "required for",
    "requires",
    "feature",
    "disabled",
    "disallowed",
)


def _proposal_hint(message: str) -> str:
    if not any(words in message for words in _SWITCHED_OFF):
        return ""
    return (
        " (a function task may use only the WebAssembly proposals Truebit's toolchains emit:"
        " see 'Resource bounds' in docs/sandbox.md)"
    )


_REMEMBERED = 64
_answers: collections.OrderedDict[bytes, bytes | str] = collections.OrderedDict()


def _remembered(key: bytes) -> bytes | str | None:
    with _engine_lock:
        found = _answers.get(key)
        if found is not None:
            _answers.move_to_end(key)
        return found


def _remember(key: bytes, answer: bytes | str) -> None:
    with _engine_lock:
        _answers[key] = answer
        while len(_answers) > _REMEMBERED:
            _answers.popitem(last=False)


_engine_lock = threading.Lock()
_engine: Any = None


def _validation_engine() -> Any:
    """A wasmtime engine with the runner's features, used only to validate modules at registration."""
    global _engine
    with _engine_lock:
        if _engine is None:
            from ._engine import new_engine

            _engine = new_engine()
            atexit.register(_close_validation_engine)
        return _engine


def _close_validation_engine() -> None:
    # At exit, while wasmtime is still importable (see _wasm._release_all).
    global _engine
    with _engine_lock:
        engine, _engine = _engine, None
    if engine is not None:
        engine.close()


def check_interface(wasm: bytes) -> None:
    """A task is a WASI preview-1 command: it exports ``_start`` and imports nothing else. Read from the
    validated binary's sections (``_module_sections``): registering compiles nothing."""
    interface = read_interface(wasm)
    if interface.functions.get("_start") != (0, 0):
        raise ValueError("a function task must export a function _start: () -> ()")
    for module in interface.imports:
        if module != "wasi_snapshot_preview1":
            raise ValueError(f"a function task may import only wasi_snapshot_preview1, not {module!r}")
