"""Registering a function task compiles nothing in the server's process, even while it serves.

The interface check reads the module's sections (``_module_sections``); these tests hold it to what
wasmtime itself reads from real programs, and register a module of tens of thousands of functions
(built here) into a running sandbox while status reads go on.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import wasmtime

from truebit_facade.sandbox import default_registry
from truebit_facade.sandbox._engine import new_engine
from truebit_facade.sandbox._module_sections import read_interface
from truebit_facade.sandbox._modules import to_wasm

from .sandbox_helpers import EXECUTE, STATUS, SandboxFactory, body, client_for
from .test_sandbox_workers import huge

_ROOT = Path(__file__).resolve().parents[2]
_MODULES = sorted((_ROOT / "tests" / "wasm_programs").glob("*.wasm")) + sorted(
    (_ROOT / "truebit_facade" / "sandbox" / "tasks").glob("*.wat")
)
_MIXED = """(module
  (type $pair (func (param i64 f32) (result i32 i32)))
  (import "wasi_snapshot_preview1" "a" (func (type $pair)))
  (import "wasi_snapshot_preview1" "m" (memory 1 2))
  (import "env" "t" (table 1 funcref))
  (import "env" "g" (global (mut i32)))
  (func (export "x") (type $pair) (i32.const 0) (i32.const 0))
  (export "again" (func 0))
  (global (export "y") i32 (i32.const 0))
  (func (export "_start")))"""

#: Functions in the module registered while serving (the compile of 40,000 took 2-16 s here).
HUGE_FUNCTIONS = 40_000
#: How long one status read may take while it registers (they take about a millisecond).
READ_BOUND = 2.0


@pytest.mark.parametrize(
    "source", [*_MODULES, _MIXED], ids=lambda s: s.name if isinstance(s, Path) else "mixed"
)
def test_the_interface_read_from_sections_is_wasmtimes(source: Path | str) -> None:
    wasm = to_wasm(source)
    module = wasmtime.Module(new_engine(), wasm)
    functions = {
        e.name: (len(e.type.params), len(e.type.results))
        for e in module.exports
        if isinstance(e.type, wasmtime.FuncType)
    }
    assert read_interface(wasm) == (tuple(i.module for i in module.imports), functions)


@pytest.mark.parametrize(
    ("wasm", "message"),
    [
        (b"\0asm\x02\0\0\0", "no WebAssembly 1 header"),
        (b"\0asm\x01\0\0\0\x07\x05\x01\x08_st", "ends too early"),
        (b"\0asm\x01\0\0\0\x07\x04\x01\x01\xff\x00", "not UTF-8"),
        (b"\0asm\x01\0\0\0\x07\x0a\x01\x06_start\x00\x00", "names no function"),
    ],
)
def test_a_binary_that_does_not_read_is_a_value_error(wasm: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        read_interface(wasm)


def test_registering_a_huge_module_while_serving_compiles_nothing_and_reads_go_on(
    make_sandbox: SandboxFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 40,000-function module (built here) registered into a running sandbox: no wasmtime module is
    built in this (the server's) process, and every status read made meanwhile answers within
    ``READ_BOUND``. (Its runs compile it in a worker, within their wall clock: test_sandbox_workers.)"""
    compiles = 0
    compile_module = wasmtime.Module.__init__

    def counting(self: Any, engine: Any, wasm: Any) -> None:
        nonlocal compiles
        compiles += 1
        compile_module(self, engine, wasm)

    sandbox = make_sandbox(default_registry())
    with client_for(sandbox) as client:
        execution_id = client.post(EXECUTE, json=body()).json()["executionId"]
        reads: list[tuple[int, float]] = []
        registering = threading.Event()
        registered = threading.Event()

        def read_status() -> None:
            with httpx.Client(base_url=sandbox.url, headers={"x-api-key": sandbox.api_key}) as reader:
                while not (registered.is_set() and reads):
                    began = time.monotonic()
                    status = reader.get(STATUS + execution_id).status_code
                    if registering.is_set():
                        reads.append((status, time.monotonic() - began))

        thread = threading.Thread(target=read_status)
        thread.start()
        monkeypatch.setattr(wasmtime.Module, "__init__", counting)
        registering.set()
        try:
            task = sandbox.registry.add_function_task("big", "huge", huge(HUGE_FUNCTIONS))
        finally:
            monkeypatch.undo()
            registered.set()
            thread.join(30)
        assert compiles == 0
        assert reads, "no status read was made while registering"
        assert all(status == 200 for status, _ in reads)
        assert max(took for _, took in reads) < READ_BOUND
    assert sandbox.registry.resolve_function("big", "huge") is task
