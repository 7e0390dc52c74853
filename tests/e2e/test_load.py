"""Many runs at once through ``AsyncTruebit`` against a sandbox in its own process on 127.0.0.1:
none is lost, and the client's peak memory stays bounded. Bounded in count (1000) and time."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Iterator

import httpx
import pytest

from truebit_facade import AsyncTruebit, FunctionResult, TruebitError

NS = "3a2b5129"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def sandbox_process() -> Iterator[tuple[str, str]]:
    from truebit_facade.sandbox import DEV_API_KEY

    port = _free_port()
    cmd = [sys.executable, "-m", "truebit_facade.sandbox", "--port", str(port), "--log-level", "warning",
           "--hold", "2", "--max-concurrent", "4"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{url}/task/function/execution-status/x", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None and time.monotonic() < deadline, "the sandbox did not start"
                time.sleep(0.05)
        yield url, DEV_API_KEY
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_thousand_concurrent_runs_lose_nothing(sandbox_process: tuple[str, str]) -> None:
    url, key = sandbox_process
    n = 1000
    inputs = [str(i % 91) for i in range(n)]

    async def main() -> list[FunctionResult | TruebitError]:
        async with AsyncTruebit(api_key=key, base_url=url, max_connections=100) as tb:
            return await tb.functions.run_many(NS, "fibonacci", inputs, concurrency=n)

    tracemalloc.start()
    started = time.perf_counter()
    results = asyncio.run(main())
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert len(results) == n
    errors = [r for r in results if isinstance(r, TruebitError)]
    lost = [e for e in errors if not e.execution_id]  # an error must say which execution to fetch
    assert not lost, lost[:3]
    fib = [0, 1]
    for _ in range(89):
        fib.append(fib[-1] + fib[-2])
    ok = [r for r in results if isinstance(r, FunctionResult)]
    assert all(
        r.output == str(fib[int(i)])
        for r, i in zip(results, inputs, strict=True)
        if isinstance(r, FunctionResult)
    )
    print(f"\n1000 concurrent runs: {len(ok)} results, {len(errors)} typed errors, {elapsed:.1f} s, "
          f"client peak traced memory {peak / 2**20:.1f} MiB")  # fmt: skip
    assert not errors, errors[:3]
    assert peak < 200 * 2**20
