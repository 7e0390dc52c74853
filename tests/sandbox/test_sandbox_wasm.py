"""The WebAssembly runner and the task registry, without HTTP."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from truebit_facade.sandbox import (
    EXAMPLES_NAMESPACE,
    FunctionTask,
    TaskLimits,
    TaskNotFound,
    TaskRegistry,
    default_registry,
)
from truebit_facade.sandbox._wasm import RunResult, WasmRunner

LIMITS = TaskLimits()


@pytest.fixture(scope="module")
def registry() -> TaskRegistry:
    return default_registry()


@pytest.fixture(scope="module")
def runner() -> Iterator[WasmRunner]:
    with WasmRunner() as r:
        yield r


def fib(n: int) -> int:
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def run(
    runner: WasmRunner, registry: TaskRegistry, name: str, text: str, gas: int = 10**9, **limits: float
) -> RunResult:
    task = registry.resolve_function(EXAMPLES_NAMESPACE, name)
    return runner.run(task, text, gas_limit=gas, limits=TaskLimits(**limits) if limits else LIMITS)  # type: ignore[arg-type]


def test_fibonacci_is_right_for_every_n_from_0_to_90(runner: WasmRunner, registry: TaskRegistry) -> None:
    for n in range(91):
        result = run(runner, registry, "fibonacci", str(n))
        assert (result.execution_status, result.output) == ("succeed", str(fib(n))), n
    assert run(runner, registry, "fibonacci", "22").output == "17711"
    assert run(runner, registry, "fibonacci", "90").output == "2880067194370816120"


@pytest.mark.parametrize("text", [" 22\n", "\t22 \r\n", "022"])
def test_fibonacci_accepts_surrounding_whitespace(
    runner: WasmRunner, registry: TaskRegistry, text: str
) -> None:
    assert run(runner, registry, "fibonacci", text).output == "17711"


@pytest.mark.parametrize("text", ["", "91", "-1", "abc", "2 2", "1234567890", "x" * 5000])
def test_fibonacci_rejects_bad_input(runner: WasmRunner, registry: TaskRegistry, text: str) -> None:
    result = run(runner, registry, "fibonacci", text)
    assert result.execution_status == "failed"
    assert result.output.startswith("exited with code 2: fibonacci: input must be an integer")


@pytest.mark.parametrize(
    "text", ['{"a": [1, 2, {"b": null}], "c": "\u00e9\u4e2d"}', "plain text", "x" * 200_000]
)
def test_echo_returns_the_input(runner: WasmRunner, registry: TaskRegistry, text: str) -> None:
    result = run(runner, registry, "echo", text)
    assert (result.execution_status, result.output) == ("succeed", text)


def test_echo_of_empty_input_fails_with_empty_output(runner: WasmRunner, registry: TaskRegistry) -> None:
    result = run(runner, registry, "echo", "")
    assert result.execution_status == "failed"
    assert result.output.startswith("empty output")


def test_loop_is_stopped_by_gas(runner: WasmRunner, registry: TaskRegistry) -> None:
    result = run(runner, registry, "loop", "", gas=5_000_000)
    assert result.execution_status == "failed"
    assert result.output == "out of gas: the gas limit of 5000000 steps was exhausted"
    assert result.gas_used == 5_000_000


def test_loop_is_stopped_by_the_wall_clock_limit(runner: WasmRunner, registry: TaskRegistry) -> None:
    started = time.monotonic()
    result = run(runner, registry, "loop", "", gas=2**64, wall_clock_seconds=0.2)
    elapsed = time.monotonic() - started
    assert result.execution_status == "failed"
    assert result.output.startswith("time limit")
    assert 0.15 < elapsed < 2.0


def test_trap_fails(runner: WasmRunner, registry: TaskRegistry) -> None:
    result = run(runner, registry, "trap", "anything")
    assert (result.execution_status, result.output) == ("failed", "trap: integer divide by zero")


def test_gas_limit_is_respected(runner: WasmRunner, registry: TaskRegistry) -> None:
    enough = run(runner, registry, "fibonacci", "90")
    assert enough.succeeded
    exact = run(runner, registry, "fibonacci", "90", gas=enough.gas_used)
    assert exact.succeeded and exact.gas_used == enough.gas_used
    # wasmtime checks fuel at function entries and loop headers, so a budget a few steps short of a
    # run's total may still finish; a clearly short one fails, and no run uses more than its budget.
    short = run(runner, registry, "fibonacci", "90", gas=enough.gas_used // 2)
    assert short.execution_status == "failed" and short.output.startswith("out of gas")
    assert short.gas_used == enough.gas_used // 2
    assert run(runner, registry, "fibonacci", "90", gas=0).output.startswith("out of gas")


def test_memory_limit(runner: WasmRunner) -> None:
    registry = TaskRegistry()
    wat = """(module (memory (export "memory") 64)
      (func (export "_start") (if (i32.lt_s (memory.grow (i32.const 1)) (i32.const 0)) (then unreachable))))"""
    task = registry.add_function_task("ns", "grow", wat)
    ok = runner.run(task, "", gas_limit=10**6, limits=TaskLimits(memory_pages=65))
    assert ok.output == "empty output: the task wrote no output.txt"  # it ran, grew, wrote nothing
    capped = runner.run(task, "", gas_limit=10**6, limits=TaskLimits(memory_pages=64))
    assert capped.output == "trap: wasm `unreachable` instruction executed"  # memory.grow refused
    too_small = runner.run(task, "", gas_limit=10**6, limits=TaskLimits(memory_pages=10))
    assert too_small.execution_status == "failed"


def test_a_module_is_compiled_once(runner: WasmRunner, registry: TaskRegistry) -> None:
    task = registry.resolve_function(EXAMPLES_NAMESPACE, "fibonacci")
    assert runner.compiled(task) is runner.compiled(task)


def test_a_closed_runner_refuses_to_run(registry: TaskRegistry) -> None:
    runner = WasmRunner().start()
    runner.close()
    with pytest.raises(RuntimeError):
        runner.run(
            registry.resolve_function(EXAMPLES_NAMESPACE, "fibonacci"), "1", gas_limit=10**6, limits=LIMITS
        )


# -- registry ------------------------------------------------------------------------------------


def test_versions_and_labels() -> None:
    registry = default_registry()
    echo = (Path(__file__).parents[2] / "truebit_facade" / "sandbox" / "tasks" / "echo.wat").read_text()
    v2 = registry.add_function_task(EXAMPLES_NAMESPACE, "fibonacci", echo, labels=["beta"])
    assert v2.version == 2 and v2.task_id.startswith("rs_") and len(v2.task_id) == 67
    assert registry.resolve(EXAMPLES_NAMESPACE, "fibonacci") is v2  # latest = highest version
    assert registry.resolve(EXAMPLES_NAMESPACE, "fibonacci", label="latest") is v2
    assert registry.resolve(EXAMPLES_NAMESPACE, "fibonacci", label="stable").version == 1
    assert registry.resolve(EXAMPLES_NAMESPACE, "fibonacci", version=1, label="stable").version == 1
    v7 = registry.add_function_task(EXAMPLES_NAMESPACE, "fibonacci", echo, version=7, labels=["stable"])
    assert registry.resolve(EXAMPLES_NAMESPACE, "fibonacci", label="stable") is v7  # labels move
    assert registry.add_function_task(EXAMPLES_NAMESPACE, "fibonacci", echo).version == 8
    with pytest.raises(ValueError, match="already has version 7"):
        registry.add_function_task(EXAMPLES_NAMESPACE, "fibonacci", echo, version=7)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"namespace": "nope"}, "unknown namespace"),
        ({"name": "nope"}, "no task"),
        ({"version": 9}, "no version 9"),
        ({"label": "nope"}, "no label"),
        ({"version": 1, "label": "beta"}, "names version"),
    ],
)
def test_resolve_errors(kwargs: dict[str, object], message: str) -> None:
    registry = default_registry()
    registry.add_function_task(
        EXAMPLES_NAMESPACE,
        "fibonacci",
        registry.resolve_function(EXAMPLES_NAMESPACE, "echo").wasm,
        labels=["beta"],
    )
    args = {"namespace": EXAMPLES_NAMESPACE, "name": "fibonacci", **kwargs}
    with pytest.raises(TaskNotFound, match=message):
        registry.resolve(args.pop("namespace"), args.pop("name"), **args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("(module", "not a valid WebAssembly module"),
        (b"\0asm\x01\0\0\0garbage", "not a valid WebAssembly module"),
        ("(module)", "must export a function _start"),
        (
            '(module (import "env" "f" (func)) (func (export "_start")))',
            "may import only wasi_snapshot_preview1",
        ),
    ],
)
def test_invalid_modules_are_refused(source: str | bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TaskRegistry().add_function_task("ns", "bad", source)


def test_wasm_binary_and_path_sources(tmp_path: Path) -> None:
    registry = default_registry()
    wasm = registry.resolve_function(EXAMPLES_NAMESPACE, "echo").wasm
    (tmp_path / "echo.wasm").write_bytes(wasm)
    from_bytes = registry.add_function_task("ns", "a", wasm)
    from_path = registry.add_function_task("ns", "b", tmp_path / "echo.wasm")
    assert from_bytes.wasm == from_path.wasm == wasm


TASKS_TOML = """
[[task]]
namespace = "62faaf33"
name = "fib"
path = "{tasks}/fibonacci.wat"
labels = ["stable"]
gas_limit = "1000000"
memory_pages = 4
wall_clock_seconds = 2

[[task]]
namespace = "62faaf33"
name = "fib"
path = "{tasks}/echo.wat"
version = 5
"""


def test_tasks_file_toml_and_json(tmp_path: Path) -> None:
    tasks = Path(__file__).parents[2] / "truebit_facade" / "sandbox" / "tasks"
    toml_file = tmp_path / "tasks.toml"
    toml_file.write_text(TASKS_TOML.format(tasks=tasks))
    registry = TaskRegistry()
    first, second = registry.load_tasks_file(toml_file)
    assert isinstance(first, FunctionTask) and isinstance(second, FunctionTask)
    assert (first.version, first.gas_limit_default, first.memory_pages, first.wall_clock_seconds) == (
        1,
        10**6,
        4,
        2.0,
    )
    assert second.version == 5
    assert registry.resolve("62faaf33", "fib", label="stable") is first
    assert registry.resolve("62faaf33", "fib") is second

    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "t.wat").write_text((tasks / "trap.wat").read_text())
    json_file = tmp_path / "tasks.json"
    json_file.write_text(json.dumps({"tasks": [{"namespace": "n", "name": "t", "path": "sub/t.wat"}]}))
    (task,) = registry.load_tasks_file(json_file)
    assert (task.namespace, task.name, task.version) == ("n", "t", 1)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"tasks": [{"namespace": "n", "name": "t"}]}', "missing 'path'"),
        ('{"tasks": [{"namespace": "n", "name": "t", "path": "x.wat", "colour": 1}]}', "unknown keys"),
        ('{"tasks": [{"namespace": "n", "name": "t", "path": "missing.wat"}]}', "No such file"),
        ('{"tasks": 3}', "expected a list"),
        ("{", "cannot parse"),
    ],
)
def test_tasks_file_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "tasks.json"
    path.write_text(content)
    with pytest.raises(ValueError, match=message):
        TaskRegistry().load_tasks_file(path)
