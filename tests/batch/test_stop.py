"""Graceful stops in-process, on the sandbox (uvicorn on 127.0.0.1): ``Batch.stop()`` from another
thread, a real SIGINT to the main thread, cancelling the task that runs an ``AsyncBatch``, each at
random points and resumed; a second stop (or cancellation) abandons what is in flight and says how
many; and the ways a run can end all leave a true summary."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from truebit_facade import AsyncTruebit, PollPolicy, Truebit
from truebit_facade.batch import AsyncBatch, Batch, BatchItem
from truebit_facade.batch._stub import StubService
from truebit_facade.sandbox import Sandbox

from .conftest import FAST_POLL

NS = "3a2b5129"
POLL = PollPolicy(initial=0.05, maximum=0.2)
ROUNDS = 10


def _settled(sb: Sandbox) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        stats: dict[str, Any] = httpx.get(f"{sb.url}/_sandbox/stats").json()
        if (stats["active"] == 0 and stats["queued"] == 0) or time.monotonic() > deadline:
            return stats
        time.sleep(0.02)


def _items(n: int) -> Iterator[BatchItem]:
    return (BatchItem(f"k{i}", f"stop-{i:04d}") for i in range(n))


def _check_round(sb: Sandbox, before: int, summary: Any) -> None:
    after = _settled(sb)
    assert summary.in_doubt == 0 and summary.submitting == 0 and summary.abandoned_this_run == 0
    assert summary.submitted_this_run == after["startedTotal"] - before
    assert max(after["startedByInput"].values(), default=0) <= 1


def _finish(sb: Sandbox, ledger: Path, n: int) -> None:
    with Truebit(api_key=sb.api_key, base_url=sb.url) as tb, Batch(tb, ledger, poll=POLL, rate=None) as batch:
        summary = batch.run_functions(NS, "echo", _items(n))
        outputs = [row.output for row in batch.results()]
    assert summary.complete and summary.finished_ok == n
    assert outputs == [f"stop-{i:04d}" for i in range(n)]
    started = _settled(sb)["startedByInput"]
    assert all(started[f"stop-{i:04d}"] == 1 for i in range(n))


@pytest.mark.timeout(120)
def test_batch_stop_from_another_thread_at_random_points(truebit_sandbox: Sandbox, ledger_path: Path) -> None:
    sb, rng, n = truebit_sandbox, random.Random(1), 200
    with Truebit(api_key=sb.api_key, base_url=sb.url) as tb:
        for _ in range(ROUNDS):
            before = _settled(sb)["startedTotal"]
            with Batch(tb, ledger_path, poll=POLL, rate=60.0, concurrency=8) as batch:
                timer = threading.Timer(rng.uniform(0.05, 0.4), batch.stop)
                timer.start()
                summary = batch.run_functions(NS, "echo", _items(n))
                timer.join()
                assert batch.summary() == summary or batch.summary().stopped
            _check_round(sb, before, summary)
            if summary.complete:
                break
            assert summary.stopped and summary.wall_seconds > 0
    _finish(sb, ledger_path, n)


@pytest.mark.timeout(120)
def test_a_real_sigint_stops_a_batch_gracefully_then_raises_keyboard_interrupt(
    truebit_sandbox: Sandbox, ledger_path: Path
) -> None:
    sb, rng, n = truebit_sandbox, random.Random(2), 150
    # Explicit: SIGINT as Python's default (KeyboardInterrupt), whatever this process inherited.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with Truebit(api_key=sb.api_key, base_url=sb.url) as tb:
            for _ in range(ROUNDS):
                before = _settled(sb)["startedTotal"]
                with Batch(tb, ledger_path, poll=POLL, rate=60.0, concurrency=8) as batch:
                    timer = threading.Timer(rng.uniform(0.05, 0.4), os.kill, (os.getpid(), signal.SIGINT))
                    interrupted = late = False
                    try:
                        timer.start()
                        try:
                            batch.run_functions(NS, "echo", _items(n))
                        except KeyboardInterrupt:
                            interrupted = True
                        timer.join()
                        time.sleep(0.05)  # a signal sent just after the run ended is handled here
                    except KeyboardInterrupt:
                        late = True  # the run had ended: Python's own KeyboardInterrupt, as it should
                    summary = batch.summary()
                _check_round(sb, before, summary)
                assert interrupted == summary.stopped and not (interrupted and late)
                if summary.complete:
                    break
    finally:
        signal.signal(signal.SIGINT, previous)
    _finish(sb, ledger_path, n)


@pytest.mark.timeout(120)
def test_cancelling_an_async_batch_is_a_graceful_stop(truebit_sandbox: Sandbox, ledger_path: Path) -> None:
    sb, rng, n = truebit_sandbox, random.Random(3), 200

    async def one_round() -> Any:
        async with (
            AsyncTruebit(api_key=sb.api_key, base_url=sb.url) as tb,
            AsyncBatch(tb, ledger_path, poll=POLL, rate=60.0, concurrency=8) as batch,
        ):
            task = asyncio.ensure_future(batch.run_functions(NS, "echo", _items(n)))
            await asyncio.sleep(rng.uniform(0.05, 0.4))
            task.cancel()
            try:
                await task
                cancelled = False
            except asyncio.CancelledError:
                cancelled = True
            summary = await batch.summary()
            assert [row.key async for row in batch.in_doubt()] == []
            keys = [row.key async for row in batch.results()]
            assert len(keys) == summary.total
            return cancelled, summary

    for _ in range(ROUNDS):
        before = _settled(sb)["startedTotal"]
        cancelled, summary = asyncio.run(one_round())
        _check_round(sb, before, summary)
        if summary.complete:
            break
        assert cancelled and summary.stopped
    _finish(sb, ledger_path, n)


def test_a_second_cancellation_abandons_and_counts_the_rows_in_doubt(ledger_path: Path) -> None:
    stub = StubService(latency=0.2)  # every request in flight for 0.2 s

    async def main() -> Any:
        # Async submits, all four out at once (hold="auto" would first wait briefly for one probe).
        async with AsyncBatch(
            stub, ledger_path, poll=FAST_POLL, rate=None, concurrency=4, hold=False
        ) as batch:
            task = asyncio.ensure_future(batch.run_functions(NS, "echo", [f"x{i}" for i in range(50)]))
            await asyncio.sleep(0.05)
            task.cancel()  # graceful: the 4 submits in flight would finish...
            await asyncio.sleep(0.01)
            task.cancel()  # ...but a second cancellation abandons them
            with pytest.raises(asyncio.CancelledError):
                await task
            return await batch.summary(), [row.error async for row in batch.in_doubt()]

    summary, errors = asyncio.run(main())
    assert summary.abandoned_this_run == summary.in_doubt == 4 and summary.stopped
    assert all(e is not None and e["type"] == "Abandoned" for e in errors)
    assert summary.pending == summary.total - 4 and summary.submitted_this_run == 0  # read ahead: pending


def test_abandon_through_the_api_and_what_stop_returns(ledger_path: Path) -> None:
    stub = StubService(latency=0.2)
    with Batch(stub, ledger_path, poll=FAST_POLL, rate=None, concurrency=3, hold=False) as batch:
        seen: list[tuple[str, int]] = []
        batch.on_stop = lambda stage, n: seen.append((stage, n))
        threading.Timer(0.05, batch.stop).start()
        threading.Timer(0.1, batch.abandon).start()
        summary = batch.run_functions(NS, "echo", [f"y{i}" for i in range(30)])
    assert seen == [("stopping", 3), ("abandoning", 3)]
    assert summary.abandoned_this_run == summary.in_doubt == 3
    # The next run reports them, never resubmits them, and submits the rest.
    with Batch(stub, ledger_path, poll=FAST_POLL, rate=None) as batch:
        summary = batch.run_functions(NS, "echo", [f"y{i}" for i in range(30)])
    assert summary.in_doubt == 3 and summary.finished == 27 and max(stub.started.values()) == 1


def test_stop_between_runs_makes_the_next_run_submit_nothing(ledger_path: Path) -> None:
    stub = StubService()
    with Batch(stub, ledger_path, poll=FAST_POLL, rate=None) as batch:
        assert batch.stop() == 0
        summary = batch.run_functions(NS, "echo", ["a", "b"])
        assert summary.stopped and summary.submitted_this_run == 0 and stub.submits == 0
        summary = batch.run_functions(NS, "echo", ["a", "b"])  # the stop was for one run
        assert summary.complete and not summary.stopped
