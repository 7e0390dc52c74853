"""Many runs at once through ``AsyncTruebit`` against a sandbox in its own process on 127.0.0.1:
none is lost, and the client's peak memory stays bounded. Bounded in count and time: 300 runs at once are
three times the client's 100 connections, so most wait for a connection and every one waits for one of
the sandbox's 4 execution slots, which is the property; more would only take longer."""

from __future__ import annotations

import asyncio
import time
import tracemalloc
from collections.abc import Iterator

import pytest

from truebit_facade import AsyncTruebit, FunctionResult, TruebitError

NS = "3a2b5129"


@pytest.fixture(scope="module")
def sandbox_process() -> Iterator[tuple[str, str]]:
    from truebit_facade.sandbox import sandbox_process

    with sandbox_process("--hold", "2", "--max-concurrent", "4") as (url, key):
        yield url, key


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_many_concurrent_runs_lose_nothing(sandbox_process: tuple[str, str]) -> None:
    url, key = sandbox_process
    n = 300
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
    print(f"\n{n} concurrent runs: {len(ok)} results, {len(errors)} typed errors, {elapsed:.1f} s, "
          f"client peak traced memory {peak / 2**20:.1f} MiB")  # fmt: skip
    assert not errors, errors[:3]
    assert peak < 64 * 2**20  # measured: about 7 MiB
