"""``run_many`` interrupted, on the sandbox: a first Ctrl-C (sync) or cancellation (async) starts no new
call and lets each call in flight get its current request's answer, so no execution id is lost: the
interruption carries ``results`` with one entry per started call, as many as the sandbox started.
A second one abandons the calls in flight and says how many."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
import threading
import time
from typing import Any

import httpx
import pytest

from tests.support import abandon_held, silent_server
from truebit_facade import AsyncTruebit, CallInterruptedError, FunctionResult, Truebit
from truebit_facade.sandbox import FaultConfig, Sandbox, SandboxConfig

NS = "3a2b5129"
N = 24


@pytest.fixture
def truebit_sandbox_config() -> SandboxConfig:
    # Every execute answer comes 0.6 s late (the execution has started): a wide window for the signal.
    faults = FaultConfig(rates={"slow_after": 1.0}, slow_seconds=0.6, endpoints=("function-execute",))
    return SandboxConfig(hold_seconds=1, faults=faults)


def _started(sb: Sandbox) -> int:
    deadline = time.monotonic() + 10
    while True:
        stats = httpx.get(f"{sb.url}/_sandbox/stats").json()
        if (stats["active"] == 0 and stats["queued"] == 0) or time.monotonic() > deadline:
            return int(stats["startedTotal"])
        time.sleep(0.02)


def _check(results: list[Any], started: int) -> None:
    known = [r for r in results if r is not None]
    assert known and len(known) < N
    for r in known:
        assert isinstance(r, FunctionResult | CallInterruptedError), r
        assert r.execution_id  # the id of every execution that started is known
    assert len(known) == started


@pytest.mark.timeout(60)
def test_a_first_ctrl_c_lets_the_calls_in_flight_get_their_answers(truebit_sandbox: Sandbox) -> None:
    sb = truebit_sandbox
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # explicit, not inherited
    try:
        with Truebit(api_key=sb.api_key, base_url=sb.url) as tb:
            threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
            with pytest.raises(KeyboardInterrupt) as info:
                tb.functions.run_many(NS, "echo", [f"many-{i}" for i in range(N)], concurrency=4)
                time.sleep(5)  # not reached unless the run ended first (then the signal lands here)
    finally:
        signal.signal(signal.SIGINT, previous)
    _check(info.value.results, _started(sb))  # type: ignore[attr-defined]
    assert any("collect the unfinished with wait()" in note for note in info.value.__notes__)


@pytest.mark.timeout(60)
def test_a_first_cancellation_does_the_same_for_the_async_client(truebit_sandbox: Sandbox) -> None:
    sb = truebit_sandbox

    async def main() -> Any:
        async with AsyncTruebit(api_key=sb.api_key, base_url=sb.url) as tb:
            task = asyncio.ensure_future(
                tb.functions.run_many(NS, "echo", [f"amany-{i}" for i in range(N)], concurrency=4)
            )
            await asyncio.sleep(0.3)
            task.cancel()
            with pytest.raises(asyncio.CancelledError) as info:
                await task
            return info.value

    error = asyncio.run(main())
    _check(error.results, _started(sb))


@pytest.mark.timeout(60)
def test_a_second_cancellation_abandons_and_says_how_many(
    truebit_sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    sb = truebit_sandbox

    async def main() -> Any:
        async with AsyncTruebit(api_key=sb.api_key, base_url=sb.url) as tb:
            task = asyncio.ensure_future(
                tb.functions.run_many(NS, "echo", [f"bmany-{i}" for i in range(N)], concurrency=4)
            )
            await asyncio.sleep(0.3)
            task.cancel()
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError) as info:
                await task
            return info.value

    with caplog.at_level(logging.WARNING, logger="truebit_facade"):
        error = asyncio.run(main())
    notes = getattr(error, "__notes__", [])
    assert any("abandoned 4 calls in flight" in note for note in notes), notes
    # asyncio.run() would drop the note with the CancelledError: the warning says it too.
    assert any("abandoned 4 calls in flight" in r.getMessage() for r in caplog.records)


_CHILD = """
import json, signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
from truebit_facade import Truebit
url = sys.argv[1]
with Truebit(api_key="k", base_url=url) as tb:
    try:
        tb.functions.run_many("3a2b5129", "echo", ["a", "b", "c", "d"], concurrency=2)
    except KeyboardInterrupt as exc:
        print(json.dumps({"at": time.monotonic(), "note": " ".join(getattr(exc, "__notes__", []))}), flush=True)
"""


@pytest.mark.timeout(120)
def test_a_second_ctrl_c_ends_a_blocking_run_many_without_waiting_for_its_calls() -> None:
    # A server that reads every request and never answers: each held call would wait for the
    # client's bound of the hold (60 + 15 s). Abandoned, they must not keep the process alive.
    import sys

    with silent_server() as (url, held):
        out = abandon_held([sys.executable, "-c", _CHILD, url], held, 2)
    said = json.loads(out.splitlines()[-1])
    assert "abandoned 2 calls" in said["note"], said
