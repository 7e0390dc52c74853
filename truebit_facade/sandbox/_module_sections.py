"""What a WebAssembly binary imports and exports, read from its sections without compiling it.

Registration runs in the server's process, and may run while it serves (an embedded sandbox's
registry takes new tasks while running). Compiling a module there costs time and memory in proportion
to its code, with no bound (seconds for tens of thousands of functions): the registry learns what it
checks (the modules it imports from, the signature of each exported function) from the type, import,
function and export sections instead, and skips the code section unread. The binary has already
passed wasmtime's validator (``_modules.to_wasm``: validation only, no code generated), with the
proposals ``_engine`` switches off refused, so every type is a function type and every value type one
byte; a binary that still does not read as expected is a ``ValueError``, never an ``IndexError``.

Only runs compile a module: in a worker process, within the run's wall clock (``_worker_pool``).
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Interface", "read_interface"]

_HEADER = b"\0asm\x01\0\0\0"
_TYPE, _IMPORT, _FUNCTION, _EXPORT = 1, 2, 3, 7
_FUNC_TYPE = 0x60
_FUNC, _TABLE, _MEMORY, _GLOBAL = range(4)
_HAS_MAX = 0x01


class Interface(NamedTuple):
    """``imports``: the module name of each import, in order; ``functions``: each exported function's
    name and its (parameter count, result count)."""

    imports: tuple[str, ...]
    functions: dict[str, tuple[int, int]]


class _Reader:
    """A cursor over ``data[start:end]``; reading past ``end`` is a ``ValueError``."""

    def __init__(self, data: bytes, start: int, end: int) -> None:
        self.data, self.at, self.end = data, start, end

    def byte(self) -> int:
        if self.at >= self.end:
            raise ValueError("not a valid WebAssembly module: a section ends too early")
        self.at += 1
        return self.data[self.at - 1]

    def leb(self) -> int:
        value = shift = 0
        while True:
            byte = self.byte()
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                return value

    def skip(self, count: int) -> None:
        if count > self.end - self.at:
            raise ValueError("not a valid WebAssembly module: a section ends too early")
        self.at += count

    def name(self) -> str:
        size = self.leb()
        start = self.at
        self.skip(size)
        try:
            return self.data[start : self.at].decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("not a valid WebAssembly module: a name is not UTF-8") from None

    def limits(self) -> None:
        flags = self.byte()
        self.leb()
        if flags & _HAS_MAX:
            self.leb()


def read_interface(wasm: bytes) -> Interface:
    """The imports and exported functions of the validated binary module ``wasm``."""
    if not wasm.startswith(_HEADER):
        raise ValueError("not a valid WebAssembly module: no WebAssembly 1 header")
    types: list[tuple[int, int]] = []
    function_types: list[int] = []  # the type index of each function, imported ones first
    imports: list[str] = []
    functions: dict[str, tuple[int, int]] = {}
    sections = _Reader(wasm, len(_HEADER), len(wasm))
    while sections.at < sections.end:
        section = sections.byte()
        size = sections.leb()
        reader = _Reader(wasm, sections.at, sections.at + size)
        sections.skip(size)
        if section == _TYPE:
            types = [_function_type(reader) for _ in range(reader.leb())]
        elif section == _IMPORT:
            for _ in range(reader.leb()):
                imports.append(reader.name())
                reader.name()
                _import_kind(reader, function_types)
        elif section == _FUNCTION:
            function_types.extend(reader.leb() for _ in range(reader.leb()))
        elif section == _EXPORT:
            for _ in range(reader.leb()):
                name, kind, index = reader.name(), reader.byte(), reader.leb()
                if kind == _FUNC:
                    functions[name] = _signature(types, function_types, index)
    return Interface(tuple(imports), functions)


def _function_type(reader: _Reader) -> tuple[int, int]:
    if reader.byte() != _FUNC_TYPE:
        raise ValueError("not a valid WebAssembly module: a type is not a function type")
    params = reader.leb()
    reader.skip(params)
    results = reader.leb()
    reader.skip(results)
    return params, results


def _import_kind(reader: _Reader, function_types: list[int]) -> None:
    """Read what one import is; an imported function's type index goes to ``function_types``."""
    kind = reader.byte()
    if kind == _FUNC:
        function_types.append(reader.leb())
    elif kind == _TABLE:
        reader.byte()
        reader.limits()
    elif kind == _MEMORY:
        reader.limits()
    elif kind == _GLOBAL:
        reader.skip(2)
    else:
        raise ValueError(f"not a valid WebAssembly module: unknown import kind {kind}")


def _signature(types: list[tuple[int, int]], function_types: list[int], index: int) -> tuple[int, int]:
    try:
        return types[function_types[index]]
    except IndexError:
        raise ValueError("not a valid WebAssembly module: an export names no function") from None
