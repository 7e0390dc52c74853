"""Faults against the sandbox on 127.0.0.1: nothing is lost and nothing runs twice.

The sandbox injects the failures real networks produce (5xx with and without Retry-After, 429 with
Retry-After in seconds and as an HTTP-date, 520, dropped connections) and counts the executions it
actually starts, keyed by input, so the tests can prove the client never ran a task twice.
Bounded: a few hundred tasks, each test well under a minute.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from truebit_facade import (
    AsyncTruebit,
    FunctionResult,
    PollPolicy,
    RetryPolicy,
    TruebitError,
)

pytest.importorskip("truebit_facade.sandbox._faults")

NS = "3a2b5129"
STATUS_FAULTS_30_PERCENT = {
    "500": 0.04,
    "502": 0.04,
    "503": 0.04,
    "503_retry_after": 0.04,
    "429_seconds": 0.04,
    "429_date": 0.03,
    "520": 0.04,
    "drop": 0.03,
}


def _sandbox(rates: dict[str, float], endpoints: tuple[str, ...], seed: int) -> Any:
    from truebit_facade.sandbox import FaultConfig, Sandbox, SandboxConfig

    faults = FaultConfig(rates=rates, seed=seed, endpoints=endpoints, retry_after_seconds=1)
    return Sandbox(SandboxConfig(hold_seconds=0, faults=faults, max_concurrent_executions=4))


@pytest.fixture
def faulty_status_sandbox() -> Iterator[Any]:
    with _sandbox(STATUS_FAULTS_30_PERCENT, ("status",), seed=7) as sb:
        yield sb


@pytest.mark.timeout(180)
def test_300_tasks_through_30_percent_failing_status_reads_all_end_right_and_run_once(
    faulty_status_sandbox: Any,
) -> None:
    sb = faulty_status_sandbox
    inputs = [f'{{"task": {i}}}' for i in range(300)]

    async def main() -> list[FunctionResult | TruebitError]:
        async with AsyncTruebit(
            api_key=sb.api_key,
            base_url=sb.url,
            poll=PollPolicy(initial=0.05, maximum=0.5),
            # One rule for a failed read inside a wait: the retry policy. 12 attempts at 30 % faults
            # fail one read in two million, so the 300 tasks end right.
            retry=RetryPolicy(attempts=12, initial=0.05, maximum=0.5),
            wait_timeout=120,
        ) as tb:
            return await tb.functions.run_many(NS, "echo", inputs, concurrency=50)

    results = asyncio.run(main())
    errors = [r for r in results if isinstance(r, TruebitError)]
    assert not errors, errors[:3]
    assert [r.output for r in results] == inputs  # type: ignore[union-attr]
    started = sb.dispatcher.started_by_input
    assert all(started[i] == 1 for i in inputs), {i: started[i] for i in inputs if started[i] != 1}
    assert sb.dispatcher.started_total == 300
    faults = httpx.get(f"{sb.url}/_sandbox/stats").json()["faults"]
    injected = sum(faults["injected"].values())
    assert injected > 0.2 * faults["matched"], faults  # the faults really happened: about 30% of reads
    assert len(faults["injected"]) == len(STATUS_FAULTS_30_PERCENT), faults  # every kind of them


@pytest.fixture
def faulty_execute_sandbox() -> Iterator[Any]:
    rates = {
        "500": 0.1,
        "503_retry_after": 0.1,
        "429_date": 0.05,
        "drop": 0.1,
        "drop_after": 0.1,
        "500_after": 0.1,
    }
    with _sandbox(rates, ("execute",), seed=11) as sb:
        yield sb


@pytest.mark.timeout(120)
def test_a_failing_execute_is_never_resent_and_the_error_says_it_may_have_run(
    faulty_execute_sandbox: Any,
) -> None:
    sb = faulty_execute_sandbox
    inputs = [f"exec-{i}" for i in range(80)]

    async def main() -> list[FunctionResult | TruebitError]:
        async with AsyncTruebit(
            api_key=sb.api_key, base_url=sb.url, poll=PollPolicy(initial=0.05, maximum=0.5)
        ) as tb:
            return await tb.functions.run_many(NS, "echo", inputs, concurrency=20)

    results = asyncio.run(main())
    started = sb.dispatcher.started_by_input
    assert max(started[i] for i in inputs) <= 1, "an execution ran twice"
    failures = 0
    for text, result in zip(inputs, results, strict=True):
        if isinstance(result, FunctionResult):
            assert result.output == text and started[text] == 1
            continue
        failures += 1
        if started[text] == 1:  # it ran, but the answer was lost: the error must say so
            assert getattr(result, "may_have_submitted", False), result
            assert "may have been submitted" in str(result)
    assert 15 <= failures <= 65  # about 55% of the execute requests were faulted
