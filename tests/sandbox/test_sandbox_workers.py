"""Function tasks run in worker processes: what a hostile or broken task can and cannot do to the server.

Each test runs a real sandbox on 127.0.0.1 (uvicorn in this process: the server's process is the test
process) with tasks written as an attacker or a buggy program would: tight loops on WASI calls, a
module too big to compile within its wall clock, an import the sandbox does not define, a memory
hog, and a worker killed from outside by a real signal. Bounds are promises with margins, never speed
measurements (``make bench`` measures those).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from truebit_facade.sandbox import Sandbox, TaskLimits, TaskRegistry, default_registry

from .sandbox_helpers import EXECUTE, STATS, STATUS, SandboxFactory, body, client_for, wait_terminal

#: How far past its wall-clock limit a run may end (the promise is 0.5 s; the rest is this test's own
#: polling and HTTP on a busy machine).
LIMIT_SLACK = 0.5 + 0.4

_FD_WRITE = '(import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))'
_CLOCK = '(import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))'

#: Writes one byte to stderr, forever (a ``printf`` loop).
PRINTER = f"""(module {_FD_WRITE}
  (memory (export "memory") 1)
  (data (i32.const 16) "x")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 1))
    (loop $again (drop (call $write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8))) (br $again))))"""

#: Reads the clock, forever (a busy wait).
CLOCK_READER = f"""(module {_CLOCK}
  (memory (export "memory") 1)
  (func (export "_start")
    (loop $again (drop (call $clock (i32.const 1) (i64.const 0) (i32.const 0))) (br $again))))"""

#: Imports a WASI function that does not exist.
UNKNOWN_IMPORT = """(module
  (import "wasi_snapshot_preview1" "no_such_function" (func $nope (param i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "_start") (drop (call $nope (i32.const 0)))))"""


def hog(mib: int) -> str:
    """Grows its memory to ``mib`` MiB and touches every page, then loops."""
    pages = mib * 16
    return f"""(module
  (memory (export "memory") 1)
  (func (export "_start") (local $at i32)
    (drop (memory.grow (i32.const {pages - 1})))
    (loop $touch
      (i32.store8 (local.get $at) (i32.const 1))
      (local.set $at (i32.add (local.get $at) (i32.const 4096)))
      (br_if $touch (i32.lt_u (local.get $at) (i32.const {pages * 65536}))))
    (loop $again (br $again))))"""


def huge(functions: int) -> str:
    """A valid module with ``functions`` small functions: seconds of compiling, nothing to run."""
    body = "\n".join(
        f"(func (param i32) (result i32) (i32.add (i32.mul (local.get 0) (i32.const {i}))"
        f" (i32.xor (local.get 0) (i32.const {i * 7}))))"
        for i in range(functions)
    )
    return f'(module (memory (export "memory") 1) {body} (func (export "_start")))'


def _registry(**tasks: tuple[str, float]) -> TaskRegistry:
    registry = default_registry()
    for name, (wat, seconds) in tasks.items():
        registry.add_function_task("w", name, wat, wall_clock_seconds=seconds, gas_limit_default=2**62)
    return registry


def _start(client: httpx.Client, name: str, **overrides: Any) -> str:
    response = client.post(EXECUTE, json=body(namespace="w", taskName=name, **{"async": True}, **overrides))
    assert response.status_code == 200, response.text
    execution_id: str = response.json()["executionId"]
    return execution_id


def _warm(sandbox: Sandbox, count: int) -> None:
    """Have ``count`` workers started and idle, and the server's first-request work done (it loads
    its validator then): a run's clock starts when it has its worker, and these tests measure from
    the request."""
    with client_for(sandbox) as client:
        assert client.post(EXECUTE, json=body()).json()["verificationStatus"] == "Success"
    pool = sandbox.dispatcher.runner.pool
    deadline = time.monotonic() + 60
    while pool.stats()["idle"] < count:
        thread = pool.warm(count)
        if thread is not None:
            thread.join(60)
        assert time.monotonic() < deadline, pool.stats()
        time.sleep(0.01)


def _rss(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")  # pragma: no cover


@pytest.fixture
def status_reads() -> Iterator[Any]:
    """A thread reading a status for as long as the test wants; yields a function starting it on a
    (client, execution id) and returning (answered read latencies, stop)."""
    threads: list[threading.Thread] = []
    stop = threading.Event()

    def start(url: str, execution_id: str) -> list[float]:
        latencies: list[float] = []

        def read() -> None:
            with httpx.Client(base_url=url, timeout=5.0) as reader:
                while not stop.is_set():
                    began = time.monotonic()
                    assert reader.get(STATUS + execution_id).status_code == 200
                    latencies.append(time.monotonic() - began)
                    time.sleep(0.01)

        thread = threading.Thread(target=read, daemon=True)
        threads.append(thread)
        thread.start()
        return latencies

    yield start
    stop.set()
    for thread in threads:
        thread.join(10)


def test_host_call_loops_end_at_their_wall_clock_and_the_server_keeps_answering(
    make_sandbox: SandboxFactory, status_reads: Any
) -> None:
    """Three tasks looping on WASI calls (stderr writes, clock reads) run at once; each ends failed
    with the time-limit reason within 0.5 s of its limit (plus this test's slack), status reads are
    answered all along, and a normal task run meanwhile succeeds."""
    limit = 1.5
    sandbox = make_sandbox(
        _registry(printer=(PRINTER, limit), clock=(CLOCK_READER, limit)), workers=3, hold_seconds=10.0
    )
    with client_for(sandbox) as client:
        _warm(sandbox, 3)
        began = time.monotonic()
        ids = [_start(client, "printer"), _start(client, "clock"), _start(client, "printer")]
        latencies = status_reads(sandbox.url, ids[0])
        ended: dict[str, float] = {}
        while len(ended) < len(ids):
            for execution_id in ids:
                if execution_id not in ended:
                    data = client.get(STATUS + execution_id).json()
                    if data["verificationStatus"] != "Running":
                        ended[execution_id] = time.monotonic() - began
            assert time.monotonic() - began < limit + 10, "the loops outlived their wall clock"
            time.sleep(0.02)
        finals = [wait_terminal(client, i) for i in ids]
        fib = client.post(EXECUTE, json=body()).json()
    for final in finals:
        solution = final["clearTextSolution"]
        assert solution["executionStatus"] == "failed"
        assert solution["output"].startswith(f"time limit: still running after {limit:g} s"), solution
    assert max(ended.values()) < limit + LIMIT_SLACK, ended
    assert len(latencies) >= 10  # answered while the loops ran
    assert max(latencies) < 2.0
    assert fib["clearTextSolution"]["output"] == "17711"


def test_a_huge_module_compiles_inside_its_wall_clock_and_others_go_on(make_sandbox: SandboxFactory) -> None:
    """A 50,000-function module takes about a second to compile here (with fuel metering, idle): with a 0.3 s limit its
    run fails with the time limit (compiling counts), while fibonacci runs succeed on the other
    worker. (Registering it compiles nothing: test_sandbox_registration.)"""
    limit = 0.3
    sandbox = make_sandbox(_registry(huge=(huge(50_000), limit)), workers=2, hold_seconds=10.0)
    with client_for(sandbox) as client:
        _warm(sandbox, 2)
        began = time.monotonic()
        huge_id = _start(client, "huge")
        outputs = [client.post(EXECUTE, json=body(input=str(n))).json() for n in range(5)]
        final = wait_terminal(client, huge_id, timeout=30)
        ended = time.monotonic() - began
        stats = client.get(STATS).json()["workers"]
    assert final["clearTextSolution"]["executionStatus"] == "failed"
    assert final["clearTextSolution"]["output"].startswith(f"time limit: still running after {limit:g} s")
    assert [o["verificationStatus"] for o in outputs] == ["Success"] * 5
    assert ended < limit + LIMIT_SLACK + 1.0  # five fibonacci round trips came first
    assert stats["timeLimitKills"] >= 1 or "compiling" in final["clearTextSolution"]["output"]


def test_an_unknown_import_fails_clearly_and_is_not_compiled_again(make_sandbox: SandboxFactory) -> None:
    sandbox = make_sandbox(_registry(nope=(UNKNOWN_IMPORT, 5.0)))
    with client_for(sandbox) as client:
        before = client.get(STATS).json()["workers"]
        first = client.post(EXECUTE, json=body(namespace="w", taskName="nope")).json()
        middle = client.get(STATS).json()["workers"]
        second = client.post(EXECUTE, json=body(namespace="w", taskName="nope")).json()
        after = client.get(STATS).json()["workers"]
    for data in (first, second):
        assert data["verificationStatus"] == "Success"  # every node fails it the same way
        solution = data["clearTextSolution"]
        assert solution["executionStatus"] == "failed"
        assert solution["output"].startswith("link error:"), solution
        assert "no_such_function" in solution["output"]
    assert middle["compiles"] - before["compiles"] == 1
    assert middle["linkFailures"] - before["linkFailures"] == 1
    assert after["compiles"] == middle["compiles"]  # the second run compiled nothing
    assert after["linkFailuresReused"] == middle["linkFailuresReused"] + 1


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGABRT])
def test_a_worker_killed_by_a_signal_fails_only_its_own_execution(
    make_sandbox: SandboxFactory, sig: signal.Signals
) -> None:
    sandbox = make_sandbox(_registry(spin=(PRINTER, 30.0)), workers=2, hold_seconds=10.0)
    with client_for(sandbox) as client:
        _warm(sandbox, 1)
        victim = _start(client, "spin")
        deadline = time.monotonic() + 20
        while not (busy := client.get(STATS).json()["workers"]["busyPids"]):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        other = _start(client, "spin", input="other")
        os.kill(busy[0], sig)
        final = wait_terminal(client, victim, timeout=10)
        after = client.post(EXECUTE, json=body()).json()
        assert client.get(STATUS + other).json()["verificationStatus"] == "Running"
    assert final["verificationStatus"] == "Error"
    output = final["clearTextSolution"]["output"]
    assert output.startswith("sandbox error: WorkerCrashed: the worker process running the task died")
    assert f"killed by {sig.name}" in output
    assert after["clearTextSolution"]["output"] == "17711"


def test_memory_lives_in_the_worker_and_the_backstop_ends_a_run(make_sandbox: SandboxFactory) -> None:
    """A task touching 160 MiB (allowed by its own limits) grows its worker, not the server; with a
    backstop of 128 MiB per worker the run fails with the memory-limit reason and the worker is
    replaced. The server's (this process's) resident memory grows by less than 40 MiB."""
    registry = default_registry()
    registry.add_function_task("w", "hog", hog(160), memory_pages=4096, wall_clock_seconds=20)
    sandbox = make_sandbox(registry, worker_memory_bytes=128 << 20, workers=1, hold_seconds=25.0)
    with client_for(sandbox) as client:
        _warm(sandbox, 1)
        server_before = _rss(os.getpid())
        began = time.monotonic()
        data = client.post(EXECUTE, json=body(namespace="w", taskName="hog")).json()
        elapsed = time.monotonic() - began
        server_after = _rss(os.getpid())
        fib = client.post(EXECUTE, json=body()).json()
        stats = client.get(STATS).json()["workers"]
    solution = data["clearTextSolution"]
    assert solution["executionStatus"] == "failed"
    assert solution["output"].startswith("memory limit: the worker running the task reached"), solution
    assert elapsed < 15  # ended by the backstop, not its 20 s wall clock
    assert stats["memoryKills"] >= 1
    assert server_after - server_before < 40 << 20
    assert fib["clearTextSolution"]["output"] == "17711"


def test_stopping_the_sandbox_kills_the_workers_running_its_tasks(make_sandbox: SandboxFactory) -> None:
    sandbox = make_sandbox(_registry(spin=(PRINTER, 60.0)), hold_seconds=10.0)
    with client_for(sandbox) as client:
        _warm(sandbox, 1)
        _start(client, "spin")
        deadline = time.monotonic() + 20
        while not (busy := client.get(STATS).json()["workers"]["busyPids"]):
            assert time.monotonic() < deadline
            time.sleep(0.02)
    began = time.monotonic()
    sandbox.stop()
    assert time.monotonic() - began < 5
    with pytest.raises(ProcessLookupError):
        for _ in range(100):  # reaped by the pool: gone within the stop
            os.kill(busy[0], 0)
            time.sleep(0.05)


def test_a_run_with_its_own_limits_in_the_worker(make_sandbox: SandboxFactory) -> None:
    """Limits travel with each run: two tasks with different memory limits on the same worker."""
    registry = default_registry()
    registry.add_function_task("w", "big", hog(8), memory_pages=256, wall_clock_seconds=0.5)
    registry.add_function_task("w", "small", hog(8), memory_pages=64, wall_clock_seconds=0.5)
    sandbox = make_sandbox(registry, workers=1, default_limits=TaskLimits(wall_clock_seconds=0.5))
    with client_for(sandbox) as client:
        big = client.post(EXECUTE, json=body(namespace="w", taskName="big")).json()
        small = client.post(EXECUTE, json=body(namespace="w", taskName="small")).json()
    assert big["clearTextSolution"]["output"].startswith("time limit")  # grew, then looped
    assert small["clearTextSolution"]["output"].startswith("trap:")  # memory.grow refused: out of bounds


def test_a_worker_loads_the_runner_without_the_client_or_the_server() -> None:
    """The worker's fast start (see ``_worker_process.BOOTSTRAP``): the runner's modules load without
    the packages' ``__init__``, so neither the client, httpx nor starlette is imported. A module of
    the runner that starts importing them makes workers slow to start (a second on a busy machine),
    which this test reports."""
    import subprocess
    import sys

    from truebit_facade.sandbox import _worker_process

    probe = _worker_process.BOOTSTRAP.replace(
        "serve(int(sys.argv[1]))",
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('truebit_facade', 'httpx', 'starlette')))",
    ).replace("except ImportError:", "except ImportError:\n    print('SLOW PATH')")
    root = os.path.dirname(os.path.dirname(_worker_process.__file__))
    out = subprocess.run([sys.executable, "-c", probe, "0", root], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "SLOW PATH" not in out.stdout, out.stdout
    assert "httpx" not in out.stdout and "starlette" not in out.stdout, out.stdout
    assert "'truebit_facade.sandbox._wasm'" in out.stdout
