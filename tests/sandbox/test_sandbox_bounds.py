"""Every resource a task can claim is bounded: proposals, memories, tables, bulk memory, WASI answers,
outputs the wire can carry, input sizes and the bytes of stored executions; on a real sandbox on
127.0.0.1 where it matters, each test bounded in time.

Memory is measured as the peak resident set (``VmHWM``, reset through ``/proc/PID/clear_refs``) of
this process and of every process it started, so the bound holds wherever the run happens.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from truebit_facade.sandbox import TaskLimits, TaskRegistry, default_registry
from truebit_facade.sandbox._engine import (
    MAX_TABLES,
    MIN_TABLE_ELEMENTS,
    TABLE_ELEMENT_BYTES,
    store_limits,
)

from . import hostile_tasks as hostile
from .sandbox_helpers import EXECUTE, STATS, STATUS, SandboxFactory, body, client_for

NS = "626f756e"
MIB = 1 << 20
#: The most a hostile run below may add to the peak RSS of any process of the sandbox. Unbounded, the
#: table grow alone took 762 MiB.
RSS_BOUND_MIB = 32


# -- measuring memory ----------------------------------------------------------------------------------


def _family() -> list[int]:
    """This process and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                stat = Path(f"/proc/{entry}/stat").read_text()
                children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(int(entry))
    found, todo = [], [os.getpid()]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise LookupError(key)


@contextlib.contextmanager
def peak_rss_growth_mib() -> Iterator[list[float]]:
    """Yields a list that receives, after the block, the largest growth of peak RSS (MiB) of this
    process or a descendant during the block."""
    baseline: dict[int, int] = {}
    for pid in _family():
        try:
            Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS
            baseline[pid] = _kib(pid, "VmRSS")
        except OSError:
            if pid == os.getpid():
                pytest.skip("peak RSS cannot be reset here (/proc/self/clear_refs)")
    growth: list[float] = []
    yield growth
    peak = 0
    for pid in _family():
        with contextlib.suppress(OSError, LookupError):
            peak = max(peak, _kib(pid, "VmHWM") - baseline.get(pid, 0))
    growth.append(peak / 1024)


def _run(client: httpx.Client, task: str, input: str = "x", **overrides: Any) -> dict[str, Any]:
    answer = client.post(EXECUTE, json=body(task, input, namespace=NS, **overrides))
    assert answer.status_code == 200, answer.text
    data: dict[str, Any] = answer.json()
    assert data["verificationStatus"] == "Success", data
    return data


def _solution(data: dict[str, Any]) -> tuple[str, str]:
    solution = data["clearTextSolution"]
    return solution["executionStatus"], solution["output"]


# -- proposals -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("proposal", sorted(hostile.SWITCHED_OFF))
def test_a_module_using_a_switched_off_proposal_is_refused_with_the_reason(proposal: str) -> None:
    with pytest.raises(ValueError) as refused:
        TaskRegistry().add_function_task(NS, proposal, hostile.using(proposal))
    message = str(refused.value)
    assert message.startswith("not a valid WebAssembly module: ")
    assert "proposals Truebit's toolchains emit" in message and "\n" not in message


_WITH_PROPOSAL_ON = """
import sys, wasmtime
from tests.sandbox.hostile_tasks import SWITCHED_OFF, using
from truebit_facade.sandbox import _engine
NEEDS = {
    "relaxed_simd": ["wasm_simd"], "shared_memory": ["wasm_threads"], "threads": ["wasm_threads"],
    "gc": ["wasm_function_references"],
    "stack_switching": ["wasm_function_references", "wasm_exceptions"],
}
for name in SWITCHED_OFF:
    config = wasmtime.Config()
    for feature in _engine.DISABLED:
        setattr(config, feature, False)
    for feature in (*_engine.ENABLED, *NEEDS.get(name, []), "wasm_" + name):
        if feature in vars(wasmtime.Config):
            setattr(config, feature, True)
    config.gc_support = True  # off in the runners' engine: what refuses externref
    wasmtime.Module.validate(wasmtime.Engine(config), wasmtime.wat2wasm(using(name)))
    print(name, flush=True)
"""


def test_each_refused_module_is_valid_once_its_proposal_is_on() -> None:
    """The refusals above are the switches, not broken test modules (in a child process: wasmtime
    aborts the process on a configuration it refuses)."""
    root = Path(__file__).parents[2]
    done = subprocess.run(
        [sys.executable, "-c", _WITH_PROPOSAL_ON], cwd=root, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == list(hostile.SWITCHED_OFF)


def test_24_memories_are_refused_at_registration_and_by_the_command(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"multiple memories"):
        TaskRegistry().add_function_task(NS, "memories", hostile.many_memories(24, 256))
    (tmp_path / "memories.wat").write_text(hostile.many_memories(24, 256))
    (tmp_path / "tasks.toml").write_text(f'[[task]]\nnamespace = "{NS}"\nname = "m"\npath = "memories.wat"\n')
    command = [
        sys.executable,
        "-m",
        "truebit_facade.sandbox",
        "--port",
        "0",
        "--tasks",
        str(tmp_path / "tasks.toml"),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 2, done.stderr[-2000:]
    assert "multiple memories" in done.stderr and "Traceback" not in done.stderr


# -- store limits ----------------------------------------------------------------------------------------


def test_store_limits_derive_from_the_task_limits() -> None:
    one_mib = store_limits(TaskLimits(memory_pages=16))
    assert (one_mib.memory_bytes, one_mib.memories, one_mib.instances, one_mib.tables) == (MIB, 1, 1, 4)
    assert one_mib.table_elements == MIB // (TABLE_ELEMENT_BYTES * MAX_TABLES)
    assert one_mib.table_bytes <= one_mib.memory_bytes
    default = store_limits(TaskLimits())
    assert default.table_bytes <= default.memory_bytes == 2048 * 65536
    assert store_limits(TaskLimits(memory_pages=1)).table_elements == MIN_TABLE_ELEMENTS


def _bounds_registry() -> TaskRegistry:
    registry = default_registry()
    add = registry.add_function_task
    add(NS, "grow-100m", hostile.table_grower(100_000_000), memory_pages=16)
    add(NS, "grow-1000", hostile.table_grower(1000), memory_pages=16)
    add(NS, "table-100m", hostile.declared_tables(1, 100_000_000), memory_pages=16)
    add(NS, "tables-5", hostile.declared_tables(5, 1), memory_pages=16)
    add(
        NS, "tables-4", hostile.declared_tables(4, MIB // (TABLE_ELEMENT_BYTES * MAX_TABLES)), memory_pages=16
    )
    add(NS, "fill-100m", hostile.bulk("fill", 100 * MIB), memory_pages=16)
    add(NS, "copy-100m", hostile.bulk("copy", 100 * MIB), memory_pages=16)
    add(NS, "fill-1m", hostile.bulk("fill", MIB - 65536), memory_pages=16)  # the rest of memory
    add(NS, "fill-60m", hostile.bulk("fill", 60 * MIB), memory_pages=1024)  # within its limit
    return registry


@pytest.fixture(scope="module")
def bounds_client() -> Iterator[httpx.Client]:
    from truebit_facade.sandbox import Sandbox, SandboxConfig

    with Sandbox(SandboxConfig(hold_seconds=10.0), _bounds_registry()) as sandbox, client_for(sandbox) as c:
        assert _solution(c.post(EXECUTE, json=body()).json()) == ("succeed", "17711")  # warm
        yield c


def test_a_table_grow_of_100m_entries_is_refused_without_allocating(bounds_client: httpx.Client) -> None:
    """One ``table.grow`` of 100M entries on a task limited to 1 MiB: the grow answers -1 (the module
    traps on it), and no process of the sandbox grows by more than the bound."""
    with peak_rss_growth_mib() as growth:
        data = _run(bounds_client, "grow-100m")
    status, output = _solution(data)
    assert status == "failed" and output.startswith("trap: ") and "unreachable" in output, output
    print(f"table.grow 100M entries: peak RSS +{growth[0]:.1f} MiB (bound {RSS_BOUND_MIB} MiB)")
    assert growth[0] < RSS_BOUND_MIB
    assert _solution(_run(bounds_client, "grow-1000")) == ("succeed", "grown")


def test_declared_tables_past_the_bounds_fail_with_the_memory_limit(bounds_client: httpx.Client) -> None:
    with peak_rss_growth_mib() as growth:
        status, output = _solution(_run(bounds_client, "table-100m"))
    assert status == "failed"
    assert output == "memory limit: table minimum size of 100000000 elements exceeds table limits"
    assert growth[0] < RSS_BOUND_MIB
    status, output = _solution(_run(bounds_client, "tables-5"))
    assert (status, output) == ("failed", "memory limit: resource limit exceeded: table count too high at 5")
    assert _solution(_run(bounds_client, "tables-4")) == ("succeed", "1 ")  # at the bounds: fine


@pytest.mark.parametrize("task", ["fill-100m", "copy-100m"])
def test_bulk_memory_past_the_memory_limit_traps_without_allocating(
    bounds_client: httpx.Client, task: str
) -> None:
    """``memory.grow`` past the 1 MiB limit answers -1; a ``memory.fill`` / ``memory.copy`` of 100 MiB
    then traps before writing a byte (it can only touch memory that exists)."""
    with peak_rss_growth_mib() as growth:
        status, output = _solution(_run(bounds_client, task, gasLimit="1000000000000"))
    assert (status, output) == ("failed", "trap: out of bounds memory access")
    print(f"{task}: peak RSS +{growth[0]:.1f} MiB (bound {RSS_BOUND_MIB} MiB)")
    assert growth[0] < RSS_BOUND_MIB
    # Within the memory it works, and the grow past the limit was refused (-1 as a u32).
    assert _solution(_run(bounds_client, "fill-1m")) == ("succeed", f"{(1 << 32) - 1} 1 ")


def test_the_meter_sees_memory_a_task_may_use(bounds_client: httpx.Client) -> None:
    """The measurement above can fail: a task allowed 64 MiB that grows and fills 60 MiB shows."""
    with peak_rss_growth_mib() as growth:
        assert _solution(_run(bounds_client, "fill-60m")) == ("succeed", "16 1 ")
    print(f"fill of 60 MiB within a 64 MiB limit: peak RSS +{growth[0]:.1f} MiB")
    assert growth[0] > 50


# -- outputs the wire can carry ----------------------------------------------------------------------


def test_an_output_that_is_not_utf8_fails_for_every_node(make_sandbox: SandboxFactory) -> None:
    registry = default_registry()
    registry.add_function_task(NS, "reverse", hostile.reverser())
    text = "héllo wörld ✓"
    reversed_bytes = text.encode()[::-1]
    with pytest.raises(UnicodeDecodeError) as bad:
        reversed_bytes.decode("utf-8")
    offset = bad.value.start
    expected = f"output.txt is not valid UTF-8 (byte 0x{reversed_bytes[offset]:02x} at offset {offset})"
    with client_for(make_sandbox(registry, hold_seconds=10.0)) as client:
        data = _run(client, "reverse", text, totalSolutions=3, requiredSolutions=3)
        assert _solution(data) == ("failed", expected)
        assert client.get(STATUS + data["executionId"]).json() == data
        assert _solution(_run(client, "reverse", "plain text")) == ("succeed", "txet nialp")


# -- WASI answers --------------------------------------------------------------------------------------


_EFAULT = 21


def _wasi_sandbox(make_sandbox: SandboxFactory, quota: int = 64 * MIB) -> httpx.Client:
    registry = default_registry()
    registry.add_function_task(NS, "stdio", hostile.huge_stdio_write())
    registry.add_function_task(NS, "inodes", hostile.inodes())
    registry.add_function_task(NS, "past-end", hostile.past_end_file_writer(5, 100_000, quota - 1 - 8 - 64))
    sandbox = make_sandbox(registry, hold_seconds=10.0, default_limits=TaskLimits(scratch_bytes=quota))
    return client_for(sandbox)


def test_a_stdio_write_of_length_2_32_minus_1_is_efault(make_sandbox: SandboxFactory) -> None:
    with _wasi_sandbox(make_sandbox) as client:
        status, output = _solution(_run(client, "stdio"))
    # stderr, stdout; each: a 2^32-1 buffer, then one ending past memory: EFAULT, nwritten untouched.
    assert status == "succeed"
    assert output.split() == [str(_EFAULT), "7777"] * 4


def test_a_file_write_from_past_the_end_of_memory_changes_nothing(make_sandbox: SandboxFactory) -> None:
    """``fd_write`` and ``fd_pwrite`` from a buffer running past memory: EFAULT, the file keeps its 8
    bytes, and the quota is not charged: a write of everything the quota has left then succeeds."""
    quota = 200_000
    rest = quota - 1 - 8 - 64  # input.txt holds 1 byte, the report (output.txt) fewer than 64
    with _wasi_sandbox(make_sandbox, quota) as client:
        status, output = _solution(_run(client, "past-end"))
    assert status == "succeed", output
    assert output.split() == [str(_EFAULT), "8", str(_EFAULT), "8", "0", str(8 + rest)]


def test_inodes_are_small_stable_integers(make_sandbox: SandboxFactory) -> None:
    with _wasi_sandbox(make_sandbox) as client:
        outputs = {_solution(_run(client, "inodes", input=str(n)))[1] for n in range(3)}
    assert len(outputs) == 1  # the same in every run
    out, a, b, input_txt, a_by_name, a_renamed, directory, stdout = map(int, outputs.pop().split())
    assert len({out, a, b, input_txt, directory}) == 5 and max(out, a, b, input_txt, directory) < 16
    assert a_by_name == a_renamed == a  # by fd, by name, after a rename: one file, one inode
    assert (directory, input_txt, out, a, b, stdout) == (1, 2, 3, 4, 5, 0)  # a counter, in creation order


def test_pointers_past_2_gib_are_pointers_not_negative_numbers() -> None:
    """wasmtime hands i32 arguments over signed; WASI means them unsigned."""
    from truebit_facade.sandbox._wasm import WasmRunner

    task = TaskRegistry().add_function_task(NS, "high", hostile.high_address_writer(), memory_pages=32769)
    with WasmRunner() as runner, peak_rss_growth_mib() as growth:
        result = runner.run(task, "x", gas_limit=10**6, limits=task.limits(TaskLimits()))
    assert (result.execution_status, result.output.split()) == ("succeed", ["0", "5", "0", "5"]), (
        result.reason
    )
    assert growth[0] < RSS_BOUND_MIB  # 2 GiB of memory, nearly all never touched


# -- inputs and stored executions ------------------------------------------------------------------------


def test_big_inputs_are_a_400_before_any_charge(make_sandbox: SandboxFactory) -> None:
    sandbox = make_sandbox(
        max_input_bytes=4096, default_limits=TaskLimits(scratch_bytes=3000), api_keys={"k": 1}
    )
    with client_for(sandbox, "k") as client:
        for text, bound in (
            ("x" * 5000, "max_input_bytes"),
            ("é✓" * 900, "max_input_bytes"),
            ("x" * 3500, "scratch_bytes"),
        ):
            answer = client.post(EXECUTE, json=body("echo", text))
            assert answer.status_code == 400, answer.text
            message = answer.json()["message"]
            assert (
                message.startswith("input too large: ") and f"({bound})" in message and "xxx" not in message
            )
        assert sandbox.dispatcher.credits["k"] == 1
        assert _solution(client.post(EXECUTE, json=body("echo", "x" * 1400)).json())[0] == "succeed"
    with client_for(make_sandbox()) as client:  # the defaults: a 2 MB input is over the body limit
        assert client.post(EXECUTE, json=body("echo", "x" * 2_000_000)).status_code == 400


def test_stored_bytes_are_bounded_and_evictions_counted(make_sandbox: SandboxFactory) -> None:
    bound = MIB
    sandbox = make_sandbox(max_stored_bytes=bound)
    ids = []
    with client_for(sandbox) as client:
        for n in range(12):  # each execution holds its 200 KB input twice: request and output
            data = client.post(EXECUTE, json=body("echo", str(n) * 200_000)).json()
            assert _solution(data)[0] == "succeed"
            ids.append(data["executionId"])
        stats = client.get(STATS).json()
        assert stats["maxStoredBytes"] == bound
        assert 0 < stats["storedBytes"] <= bound
        assert stats["evictedTotal"] >= 12 - bound // 400_000
        assert client.get(STATUS + ids[0]).status_code == 404  # the oldest went first
        latest = client.get(STATUS + ids[-1])
        assert latest.status_code == 200 and latest.json()["clearTextSolution"]["output"] == "11" * 200_000


# -- real toolchains: what they emit runs under these proposals -----------------------------------------

_C = r"""
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
int main(void) {
    FILE *in = fopen("input.txt", "rb");
    if (!in) return 1;
    char *buf = malloc(1 << 20), *copy = malloc(1 << 20);
    size_t n = fread(buf, 1, 1 << 20, in);
    fclose(in);
    memcpy(copy, buf, n);
    for (size_t i = 0; i < n; i++) buf[i] = copy[n - 1 - i];
    int fd = open("output.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, buf, n) != (ssize_t)n) return 2;
    close(fd);
    return 0;
}
"""

_CPP = r"""
#include <fstream>
#include <map>
#include <sstream>
#include <string>
int main() {
    std::ifstream in("input.txt");
    std::map<std::string, int> counts;
    std::string word;
    while (in >> word) counts[word]++;
    std::ofstream out("output.txt");
    for (const auto &entry : counts) out << entry.first << ' ' << entry.second << '\n';
    return 0;
}
"""

_RUST = r"""
use std::fs;
fn main() {
    let input = fs::read_to_string("input.txt").expect("input.txt");
    let words: Vec<String> = input.split_whitespace().map(|w| w.to_uppercase()).collect();
    fs::write("output.txt", words.join("-")).expect("output.txt");
}
"""

#: What newer clang and rustc turn on by default (they validate only with bulk memory on).
_NEW_DEFAULTS = ["-mbulk-memory", "-msign-ext", "-mmutable-globals", "-mnontrapping-fptoint", "-mmultivalue"]


def _build(tmp_path: Path, kind: str, features: bool) -> bytes:
    sysroot = Path("/usr/lib/wasm32-wasi")
    if kind in ("c", "cpp"):
        compiler = "clang" if kind == "c" else "clang++"
        if not sysroot.exists() or subprocess.run(["which", compiler], capture_output=True).returncode:
            pytest.skip("no clang with wasi-libc (Debian: clang lld wasi-libc libc++-14-dev-wasm32 ...)")
        source = tmp_path / f"task.{kind}"
        source.write_text(_C if kind == "c" else _CPP)
        flags = [*_NEW_DEFAULTS, "-mreference-types"] if features else []
        extra = ["-fno-exceptions"] if kind == "cpp" else []
        command = [compiler, "--target=wasm32-wasi", "--sysroot=/usr", "-O2", *extra, *flags]
    else:
        rustc = "/usr/bin/rustc"
        if not Path("/usr/lib/rustlib/wasm32-wasi").exists() or not Path(rustc).exists():
            pytest.skip("no rustc with the wasm32-wasi std (Debian: rustc libstd-rust-dev-wasm32)")
        source = tmp_path / "task.rs"
        source.write_text(_RUST)
        flags = ["-C", "target-feature=+bulk-memory,+sign-ext,+nontrapping-fptoint"] if features else []
        command = [rustc, "--target", "wasm32-wasi", "-O", "-C", "strip=symbols", *flags]
    output = tmp_path / f"{kind}-{features}.wasm"
    done = subprocess.run(
        [*command, "-o", str(output), str(source)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return output.read_bytes()


_TEXT = "the quick brown fox jumps over the lazy dog the end"


def _expected(kind: str) -> str:
    if kind == "c":
        return _TEXT[::-1]
    if kind == "cpp":
        counts: dict[str, int] = {}
        for word in _TEXT.split():
            counts[word] = counts.get(word, 0) + 1
        return "".join(f"{word} {n}\n" for word, n in sorted(counts.items()))
    return "-".join(word.upper() for word in _TEXT.split())


@pytest.mark.parametrize("features", [False, True], ids=["defaults", "new-defaults"])
@pytest.mark.parametrize("kind", ["c", "cpp", "rust"])
def test_programs_of_real_toolchains_run_under_the_enabled_proposals(
    tmp_path: Path, kind: str, features: bool
) -> None:
    from truebit_facade.sandbox._wasm import WasmRunner

    registry = TaskRegistry()
    task = registry.add_function_task(NS, kind, _build(tmp_path, kind, features))
    with WasmRunner() as runner:
        result = runner.run(task, _TEXT, gas_limit=10**10, limits=TaskLimits(memory_pages=256))
        reversed_utf8 = runner.run(task, "héllo", gas_limit=10**10, limits=TaskLimits(memory_pages=256))
    assert (result.execution_status, result.output) == ("succeed", _expected(kind)), result.reason
    if kind == "c":  # byte-reversing a UTF-8 text
        assert reversed_utf8.output.startswith("output.txt is not valid UTF-8 (byte 0x")


def test_the_runner_reports_stderr_bytes_escaped_not_replaced() -> None:
    from truebit_facade.sandbox._wasm import WasmRunner

    wat = textwrap.dedent(
        """
        (module
          (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          (data (i32.const 100) "bad \\ff\\fe byte")
          (func (export "_start")
            (i32.store (i32.const 0) (i32.const 100)) (i32.store (i32.const 4) (i32.const 11))
            (drop (call $w (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))
            (call $exit (i32.const 3))))
        """
    )
    task = TaskRegistry().add_function_task(NS, "stderr", wat)
    with WasmRunner() as runner:
        result = runner.run(task, "x", gas_limit=10**6, limits=TaskLimits())
    assert result.output == "exited with code 3: bad \\xff\\xfe byte"


# -- the store's byte bound, without HTTP ------------------------------------------------------------------


def test_the_store_evicts_oldest_first_by_bytes_and_keeps_the_one_just_finished(tmp_path: Path) -> None:
    import json

    from truebit_facade.sandbox._store import ExecutionStore

    request, result = {"input": "r" * 300}, {"output": "o" * 300}
    row = len(json.dumps(request)) + len(json.dumps(result))
    store = ExecutionStore(str(tmp_path / "s.db"), max_bytes=3 * row)
    for n in range(5):
        store.create(f"e{n}", "function", request)
    store.create("running", "function", request)  # counted, never evicted
    for n in range(5):
        store.finish(f"e{n}", "Success", result)
    usage = store.usage()
    assert usage["storedBytes"] <= 3 * row and usage["maxStoredBytes"] == 3 * row
    assert [n for n in range(5) if store.get(f"e{n}") is not None] == [3, 4]  # oldest out first
    assert usage["evictedTotal"] == 3 and store.get("running") == ("Running", None)
    # One execution larger than the whole bound is still readable right after it finishes.
    store.create("huge", "function", {"input": "h" * (4 * row)})
    store.finish("huge", "Success", result)
    assert store.get("huge") is not None
    store.close()
    reopened = ExecutionStore(str(tmp_path / "s.db"), max_bytes=3 * row)
    assert reopened.get("huge") is None and reopened.usage()["storedBytes"] <= 3 * row  # bound on open
    reopened.close()


def test_a_database_written_before_sizes_gets_them(tmp_path: Path) -> None:
    import sqlite3

    from truebit_facade.sandbox._store import ExecutionStore

    path = tmp_path / "old.db"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE executions (id TEXT PRIMARY KEY, kind TEXT NOT NULL, status TEXT NOT NULL,"
        " request TEXT NOT NULL, result TEXT, created_at REAL NOT NULL, finished_at REAL)"
    )
    for n in range(4):
        old.execute(
            "INSERT INTO executions VALUES (?, 'function', 'Success', ?, ?, ?, ?)",
            (f"o{n}", '{"input": "' + "é" * 100 + '"}', '{"output": "x"}', n, n),
        )
    old.commit()
    old.close()
    one = len(('{"input": "' + "é" * 100 + '"}').encode()) + len('{"output": "x"}')
    store = ExecutionStore(str(path), max_bytes=2 * one)
    assert store.usage() == {"storedBytes": 2 * one, "maxStoredBytes": 2 * one, "evictedTotal": 2}
    assert store.get("o0") is None and store.get("o3") is not None
    store.close()
