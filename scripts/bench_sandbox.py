"""`make bench` (sandbox part): the worker pool against baselines measured in the same run.

Every figure is a ratio or a percentile with its goal; nothing here asserts. The sandboxes run in
processes of their own on 127.0.0.1, so this script's client never shares the server's GIL.

    status-read p99, three host-call loops running      goal <= 10 ms   (ratio to the idle sandbox)
    fibonacci p99, three host-call loops running        goal <= 150 ms  (ratio to the idle sandbox)
    executions/s, 1 and 3 nodes, concurrency 1 and 8    pool vs in-process runs (the old path, served
                                                        by this script: --serve-in-process); goal:
                                                        in-process / pool <= 1.15 at concurrency 1
    pytest plugin fixture time per test                 goal <= 50 ms   (ratio to a sandbox of its
                                                        own per test, the old fixture)

The host-call loop is a task writing one byte to stderr in a tight loop (a ``printf`` loop), under a
5 s wall-clock limit, restarted as it ends. Options: --quick (fewer samples).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from truebit_facade.sandbox import sandbox_process

ROOT = Path(__file__).resolve().parent.parent
EXECUTE = "/task/function/execute-by-name"
STATUS = "/task/function/execution-status/"

PRINTER_WAT = """(module
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "x")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 1))
    (loop $again (drop (call $write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8))) (br $again))))
"""
#: The loops' wall clock: they are restarted as they end, and end within it once the bench is done.
LOOP_SECONDS = 5.0
#: The pool sandbox's workers: the three loops' and one more, so that other tasks need not wait.
WORKERS = 4


def _body(task: str = "fibonacci", value: str = "22", nodes: int = 1, **extra: Any) -> dict[str, Any]:
    return {
        "namespace": "bench" if task == "printer" else "3a2b5129",
        "taskName": task,
        "async": False,
        "input": value,
        "totalSolutions": nodes,
        "requiredSolutions": nodes,
        "taskRequesterTimestamp": int(time.time()),
        **extra,
    }


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def _row(name: str, value: str, ratio: float | None, goal: str, ok: bool) -> str:
    shown = f"ratio {ratio:6.2f}" if ratio is not None else " " * 12
    return f"{name:<58} {value:>16}  {shown}  (goal {goal})  {'ok' if ok else 'MISSED'}"


# --- the in-process baseline: the runner in the server's own threads, as before the pool ----------


class _InProcessRuns:
    """What the dispatcher expects of its runner, running WebAssembly in the server's own process."""

    def __init__(self) -> None:
        from truebit_facade.sandbox._wasm import WasmRunner

        self.runner = WasmRunner().start()
        self.pool = self

    def run(self, task: Any, input_text: str, *, gas_limit: int, limits: Any) -> Any:
        return self.runner.run(task, input_text, gas_limit=gas_limit, limits=limits)

    def warm(self) -> None:
        pass

    def interrupt(self) -> None:
        self.runner.interrupt()

    def close(self) -> None:
        self.runner.close()

    def stats(self) -> dict[str, Any]:
        return {"inProcess": True}


def serve_in_process(port: int, tasks_file: str) -> None:
    import uvicorn

    from truebit_facade.sandbox import SandboxConfig, create_app, default_registry

    registry = default_registry()
    registry.load_tasks_file(tasks_file)
    app = create_app(SandboxConfig(hold_seconds=60, max_concurrent_executions=8), registry)
    app.state.dispatcher.runner = _InProcessRuns()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", http="h11", loop="asyncio")


@contextmanager
def in_process_sandbox(tasks_file: str) -> Iterator[str]:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    cmd = [sys.executable, __file__, "--serve-in-process", str(port), tasks_file]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/_sandbox/stats", timeout=1)
                break
            except httpx.TransportError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the in-process baseline sandbox did not start") from None
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


# --- measurements ---------------------------------------------------------------------------------


async def _rate(url: str, key: str, nodes: int, concurrency: int, n: int) -> float:
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(
        base_url=url, headers={"x-api-key": key}, limits=limits, timeout=60
    ) as client:
        await client.post(EXECUTE, json=_body(nodes=nodes))  # compiled, connection open
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            async with gate:
                response = await client.post(EXECUTE, json=_body(value=str(i % 90), nodes=nodes))
                assert response.json()["verificationStatus"] == "Success", response.text

        began = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(n)))
        return n / (time.perf_counter() - began)


def bench_rates(pool_url: str, base_url: str, key: str, quick: bool) -> list[str]:
    """Executions/s of both sandboxes in interleaved rounds; the ratio is the median of the rounds'
    (this machine is shared: a round's two figures are taken seconds apart, under the same load)."""
    out = []
    for nodes in (1, 3):
        for concurrency in (1, 8):
            n = (50 if quick else 100) * (2 if concurrency > 1 else 1)
            pool, base = [], []
            for _ in range(3):
                pool.append(asyncio.run(_rate(pool_url, key, nodes, concurrency, n)))
                base.append(asyncio.run(_rate(base_url, key, nodes, concurrency, n)))
            ratio = statistics.median(b / p for b, p in zip(base, pool, strict=True))
            goal = "<= 1.15" if concurrency == 1 else "reported"
            out.append(
                _row(
                    f"executions/s, {nodes} node(s), concurrency {concurrency} (in-process/pool)",
                    f"{statistics.median(pool):4.0f} vs {statistics.median(base):4.0f}",
                    ratio,
                    goal,
                    ratio <= 1.15 or concurrency > 1,
                )
            )
    return out


def _latencies(url: str, key: str, reads: int, fibs: int) -> tuple[list[float], list[float]]:
    with httpx.Client(base_url=url, headers={"x-api-key": key}, timeout=60) as client:
        done = client.post(EXECUTE, json=_body()).json()["executionId"]
        status, fib = [], []
        for i in range(max(reads, fibs)):
            if i < reads:
                began = time.perf_counter()
                client.get(STATUS + done).raise_for_status()
                status.append(time.perf_counter() - began)
            if i < fibs:
                began = time.perf_counter()
                answer = client.post(EXECUTE, json=_body(value=str(20 + i % 10))).json()
                fib.append(time.perf_counter() - began)
                assert answer["verificationStatus"] == "Success", answer
            time.sleep(0.002)
    return status, fib


@contextmanager
def host_call_loops(url: str, key: str, count: int = 3) -> Iterator[None]:
    """``count`` printer tasks kept running (restarted if one ends) for the duration."""
    stop = threading.Event()

    def keep() -> None:
        with httpx.Client(base_url=url, headers={"x-api-key": key}, timeout=LOOP_SECONDS + 30) as client:
            while not stop.is_set():
                client.post(EXECUTE, json=_body("printer", "x"))

    with httpx.Client(base_url=url, timeout=30) as client:
        started = client.get("/_sandbox/stats").json()["startedByTask"].get("bench/printer@1", 0)
        threads = [threading.Thread(target=keep, daemon=True) for _ in range(count)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 30
        while (
            client.get("/_sandbox/stats").json()["startedByTask"].get("bench/printer@1", 0) < started + count
        ):
            assert time.monotonic() < deadline, "the host-call loops did not start"
            time.sleep(0.05)
    time.sleep(0.3)
    try:
        yield
    finally:
        stop.set()
        for thread in threads:
            thread.join(LOOP_SECONDS * 3)


def bench_latency(url: str, key: str, quick: bool, label: str) -> tuple[list[str], dict[str, float]]:
    reads, fibs = (200, 50) if quick else (300, 80)
    idle_status, idle_fib = _latencies(url, key, reads, fibs)
    with host_call_loops(url, key):
        busy_status, busy_fib = _latencies(url, key, reads, fibs)
    figures = {
        "status_idle": _p(idle_status, 0.99),
        "status_busy": _p(busy_status, 0.99),
        "fib_idle": _p(idle_fib, 0.99),
        "fib_busy": _p(busy_fib, 0.99),
    }
    rows = [
        _row(
            f"{label}: status-read p99, 3 host-call loops (vs idle)",
            f"{figures['status_busy'] * 1e3:6.1f} ms",
            figures["status_busy"] / figures["status_idle"],
            "<= 10 ms",
            figures["status_busy"] <= 0.010,
        ),
        _row(
            f"{label}: fibonacci p99, 3 host-call loops (vs idle)",
            f"{figures['fib_busy'] * 1e3:6.1f} ms",
            figures["fib_busy"] / figures["fib_idle"],
            "<= 150 ms",
            figures["fib_busy"] <= 0.150,
        ),
    ]
    return rows, figures


_TIMING_CONFTEST = """
import json, os, time
import pytest
_t = {}
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    s = time.perf_counter(); yield; _t.setdefault(item.nodeid, [0.0, 0.0])[0] = time.perf_counter() - s
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_teardown(item):
    s = time.perf_counter(); yield; _t.setdefault(item.nodeid, [0.0, 0.0])[1] = time.perf_counter() - s
def pytest_sessionfinish(session):
    with open(os.environ["FIXTURE_TIMES"], "w") as f:
        json.dump(_t, f)
"""

_PLUGIN_TESTS = """
import httpx, pytest
@pytest.mark.parametrize("i", range({n}))
def test_plugin(truebit_sandbox, i):
    assert httpx.get(truebit_sandbox.url + "/_sandbox/stats").status_code == 200
"""

_OWN_SANDBOX_TESTS = """
import httpx, pytest
from truebit_facade.sandbox import Sandbox, SandboxConfig, default_registry
@pytest.fixture
def own_sandbox():
    with Sandbox(SandboxConfig(hold_seconds=2.0), default_registry()) as sandbox:
        yield sandbox
@pytest.mark.parametrize("i", range({n}))
def test_own(own_sandbox, i):
    assert httpx.get(own_sandbox.url + "/_sandbox/stats").status_code == 200
"""


def _fixture_times(source: str, n: int) -> list[float]:
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "conftest.py").write_text(_TIMING_CONFTEST)
        Path(tmp, "test_fixture_cost.py").write_text(source.replace("{n}", str(n)))
        out = Path(tmp, "times.json")
        env = {**os.environ, "FIXTURE_TIMES": str(out)}
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:asyncio", tmp]
        subprocess.run(
            cmd, check=True, env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        times = json.loads(out.read_text())
    return [setup + teardown for setup, teardown in times.values()]


def bench_fixture(quick: bool) -> list[str]:
    n = 10 if quick else 20
    plugin = _fixture_times(_PLUGIN_TESTS, n)
    own = _fixture_times(_OWN_SANDBOX_TESTS, n)
    per_test = statistics.median(plugin[1:])
    return [
        _row(
            f"pytest plugin fixture time per test, median of {n - 1} (vs own)",
            f"{per_test * 1e3:6.1f} ms",
            per_test / statistics.median(own[1:]),
            "<= 50 ms",
            per_test <= 0.050,
        ),
        f"{'':<4}first test (starts the session's loop and worker pool): {plugin[0] * 1e3:.0f} ms; "
        f"a sandbox of its own per test: median {statistics.median(own[1:]) * 1e3:.0f} ms",
    ]


def _mark(began: float, what: str) -> None:
    if os.environ.get("BENCH_TIMES"):
        print(f"    [{what} done at {time.monotonic() - began:.0f} s]", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--serve-in-process", nargs=2, metavar=("PORT", "TASKS"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve_in_process:
        serve_in_process(int(args.serve_in_process[0]), args.serve_in_process[1])
        return 0
    began = time.monotonic()
    print(
        f"sandbox bench on {os.cpu_count()} CPU(s), Python {sys.version.split()[0]}; the pool sandbox has "
        f"{WORKERS} workers (the loops' three and one), the in-process one 8 run threads",
        flush=True,
    )
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "printer.wat").write_text(PRINTER_WAT)
        tasks = Path(tmp, "tasks.toml")
        tasks.write_text(
            '[[task]]\nnamespace = "bench"\nname = "printer"\npath = "printer.wat"\n'
            f"wall_clock_seconds = {LOOP_SECONDS}\ngas_limit = 4000000000000000000\n"
        )
        args_pool = (
            "--tasks",
            str(tasks),
            "--max-concurrent",
            "8",
            "--hold",
            "60",
            "--workers",
            str(WORKERS),
        )
        with sandbox_process(*args_pool) as (pool_url, key), in_process_sandbox(str(tasks)) as base_url:
            rows, _ = bench_latency(pool_url, key, args.quick, "pool")
            print("\n".join(rows), flush=True)
            _mark(began, "latency")
            print("\n".join(bench_rates(pool_url, base_url, key, args.quick)), flush=True)
            _mark(began, "rates")
            # The old path under the same load, for the record (few samples: it is slow).
            with host_call_loops(base_url, key):
                status, fib = _latencies(base_url, key, 30, 8)
            _mark(began, "in-process under load")
            print(
                f"{'':<4}in-process, 3 host-call loops: status-read p99 {_p(status, 0.99) * 1e3:.0f} ms, "
                f"fibonacci p99 {_p(fib, 0.99) * 1e3:.0f} ms",
                flush=True,
            )
    print("\n".join(bench_fixture(args.quick)), flush=True)
    print(f"{'':<4}(bench_sandbox took {time.monotonic() - began:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
