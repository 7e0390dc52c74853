"""Batches against the sandbox (uvicorn on 127.0.0.1): 429s on submits and reads, no secret at rest
with a target that echoes the injected headers, and the blocking client."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from truebit_facade import AsyncTruebit, PollPolicy, RetryPolicy, Truebit
from truebit_facade.batch import AsyncBatch, Batch, BatchItem
from truebit_facade.sandbox import FaultConfig, Sandbox, SandboxConfig

NS = "3a2b5129"
POLL = PollPolicy(initial=0.05, maximum=0.5)


class TestRateLimited:
    @pytest.fixture
    def truebit_sandbox_config(self) -> SandboxConfig:
        faults = FaultConfig(rates={"429_seconds": 0.25}, seed=11, retry_after_seconds=1)
        return SandboxConfig(hold_seconds=1, faults=faults)

    @pytest.mark.timeout(120)
    def test_429s_slow_the_batch_down_and_every_input_runs_once(
        self, truebit_sandbox: Sandbox, ledger_path: Path
    ) -> None:
        inputs = [f"limited-{i}" for i in range(16)]

        async def main() -> Any:
            # No retries in the client: the batch sees every 429, on submits and on reads.
            client = AsyncTruebit(
                api_key=truebit_sandbox.api_key, base_url=truebit_sandbox.url, retry=RetryPolicy.none()
            )
            async with client as tb, AsyncBatch(tb, ledger_path, rate=20.0, poll=POLL) as batch:
                return await batch.run_functions(NS, "echo", inputs)

        summary = asyncio.run(main())
        stats = httpx.get(f"{truebit_sandbox.url}/_sandbox/stats").json()
        assert stats["faults"]["injected"].get("429_seconds", 0) > 0
        assert summary.complete and summary.finished_ok == len(inputs)
        assert summary.rate_limited == stats["faults"]["injected"]["429_seconds"]
        assert all(stats["startedByInput"][text] == 1 for text in inputs)


@pytest.mark.timeout(120)
def test_no_secret_at_rest_with_an_echoing_target(truebit_api_sandbox: Sandbox, ledger_path: Path) -> None:
    shared, own = "Shared-Header-Secret-0001", "Own-Header-Secret-0002"
    calls = [
        {"path": "/anything/{Id}", "params": {"Id": 1}},
        BatchItem("own", {"path": "/anything/{Id}", "params": {"Id": 2}, "headers": {"X-Own": own}}),
    ]
    sb = truebit_api_sandbox
    with Truebit(api_key=sb.api_key, base_url=sb.url) as tb, Batch(tb, ledger_path, poll=POLL) as batch:
        summary = batch.run_api_tasks(NS, "custom", calls, headers={"X-Shared": shared})
        rows = list(batch.results())
    assert summary.finished_ok == 2
    echoed = rows[1].output["headers"]  # the target echoes what it received (the sandbox masks it too)
    assert {"x-own", "x-shared"} <= set(echoed) and own not in str(rows) and shared not in str(rows)
    stored = b"".join(p.read_bytes() for p in ledger_path.parent.iterdir() if p.is_file())
    for secret in (shared, own, sb.api_key):
        assert secret.encode() not in stored


@pytest.mark.timeout(120)
def test_the_blocking_client_on_the_sandbox(truebit_sandbox: Sandbox, ledger_path: Path) -> None:
    with (
        Truebit(api_key=truebit_sandbox.api_key, base_url=truebit_sandbox.url) as tb,
        Batch(tb, ledger_path, poll=POLL) as batch,
    ):
        summary = batch.run_functions(NS, "fibonacci", (str(n) for n in range(30)))
        outputs = [row.output for row in batch.results()]
    assert summary.finished_ok == 30 and outputs[22] == "17711"
