"""The driver over the in-memory stub service (no HTTP): results, crash and resume, in doubt,
changed inputs, errors after submission, 429s, and no secret at rest."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from truebit_facade import (
    ExecutionNotFoundError,
    MalformedResponseError,
    RateLimitedError,
    TransportError,
    TruebitError,
)
from truebit_facade.batch import (
    AsyncBatch,
    Batch,
    BatchEvent,
    BatchItem,
    DuplicateKeyError,
    InputChangedError,
    RowState,
)
from truebit_facade.batch._stub import StubService

from .conftest import FAST_POLL


def run(stub: StubService, path: Path, inputs: Any, **settings: Any) -> tuple[Any, list[BatchEvent]]:
    events: list[BatchEvent] = []
    settings = {"rate": None, "poll": FAST_POLL, "on_event": events.append, "seed": 1, **settings}

    async def main() -> Any:
        async with AsyncBatch(stub, path, **settings) as batch:
            return await batch.run_functions("3a2b5129", "echo", inputs)

    return asyncio.run(main()), events


def test_every_input_ends_once_with_results_in_both_orders(ledger_path: Path) -> None:
    stub = StubService(running_reads=2)
    inputs = [f"in-{i}" for i in range(300)]
    summary, events = run(stub, ledger_path, iter(inputs), concurrency=8, max_open=50)
    assert summary.complete and summary.finished_ok == 300 and summary.total == 300
    assert summary.reads_per_task == pytest.approx(3.0)  # two Running answers, then the result
    assert set(stub.started.values()) == {1} and len(stub.started) == 300
    assert [e.kind for e in events].count("finished") == 300
    with Batch(stub, ledger_path) as batch:
        rows = list(batch.results())
        assert [r.output for r in rows] == inputs and [r.key for r in rows] == [str(i) for i in range(300)]
        completion = [r.key for r in batch.results("completion")]
        finished = [e.key for e in events if e.kind == "finished"]
        assert completion == finished


def test_a_second_run_submits_nothing_already_done(ledger_path: Path) -> None:
    stub = StubService()
    run(stub, ledger_path, ["a", "b"])
    summary, events = run(stub, ledger_path, ["a", "b", "c"])
    assert summary.submitted_this_run == 1 and summary.finished == 3
    assert stub.started['"a"'] == stub.started['"c"'] == 1
    assert [e.key for e in events if e.kind == "submitted"] == ["2"]


class Crash(BaseException):
    """The process dying, as seen from inside: nothing after it runs."""


def test_crash_then_resume_reads_open_executions_and_never_resubmits(ledger_path: Path) -> None:
    stub = StubService(running_reads=3)
    inputs = [BatchItem(f"k{i}", f"v{i}") for i in range(100)]
    seen: list[str] = []

    def die_after_some(event: BatchEvent) -> None:
        seen.append(event.kind)
        if seen.count("submitted") == 40:
            raise Crash

    with pytest.raises(Crash):
        run(stub, ledger_path, inputs, on_event=die_after_some, max_open=60)
    summary, events = run(stub, ledger_path, inputs)
    in_doubt = {e.key for e in events if e.kind == "in_doubt"}
    # Requests in flight at the "crash" were cancelled while submitting: in doubt, not resubmitted.
    assert summary.in_doubt == len(in_doubt)
    assert summary.finished + summary.in_doubt == 100
    assert all(n == 1 for n in stub.started.values())
    with Batch(stub, ledger_path) as batch:
        for row in batch.in_doubt():
            assert row.execution_id is None and row.attempts == 1
    # Asked to, the in-doubt rows are submitted again (and only they).
    before = sum(stub.started.values())
    summary, _ = run(stub, ledger_path, inputs, resubmit_in_doubt=True)
    assert summary.complete and sum(stub.started.values()) == before + len(in_doubt)


def test_may_have_submitted_is_in_doubt_never_resubmitted_silently(ledger_path: Path) -> None:
    def fault(n: int, value: Any) -> TruebitError | None:
        return TransportError("reset after sending", may_have_submitted=True) if value == "b" else None

    stub = StubService(submit_fault=fault)
    summary, events = run(stub, ledger_path, ["a", "b", "c"])
    assert (summary.finished, summary.in_doubt) == (2, 1) and not summary.complete
    assert [(e.kind, e.key) for e in events if e.kind == "in_doubt"] == [("in_doubt", "1")]
    attempts = stub.submits
    summary, events = run(stub, ledger_path, ["a", "b", "c"])
    assert stub.submits == attempts and summary.in_doubt == 1  # reported again, not sent
    assert [e.key for e in events if e.kind == "in_doubt"] == ["1"]


def test_errors_after_submission_keep_the_execution_id(ledger_path: Path) -> None:
    def fault(n: int, execution_id: str) -> TruebitError | None:
        if execution_id.endswith("1"):
            return ExecutionNotFoundError("HTTP 404", status_code=404, execution_id=execution_id)
        if execution_id.endswith("2"):
            return MalformedResponseError("not JSON", execution_id=execution_id)
        if n <= 6:
            return TransportError("connection reset")  # transient: read again on the schedule
        return None

    stub = StubService(read_fault=fault)
    summary, _events = run(stub, ledger_path, ["a", "b", "c"])
    assert (summary.finished, summary.failed) == (1, 2)
    with Batch(stub, ledger_path) as batch:
        failed = [r for r in batch.results() if r.state is RowState.FAILED]
    assert {r.error["type"] for r in failed if r.error} == {
        "ExecutionNotFoundError",
        "MalformedResponseError",
    }
    assert all(r.execution_id for r in failed)
    assert summary.submitted_this_run == 3 and sum(stub.started.values()) == 3


def test_429_on_submit_slows_down_and_every_input_runs_once(ledger_path: Path) -> None:
    refused: set[str] = set()

    def fault(n: int, value: Any) -> TruebitError | None:  # the first submit of every third input
        if int(value) % 3 or value in refused:
            return None
        refused.add(value)
        return RateLimitedError("HTTP 429", status_code=429, retry_after=0.01)

    stub = StubService(submit_fault=fault)
    summary, _ = run(stub, ledger_path, [str(i) for i in range(30)], rate=1000.0)
    assert summary.complete and summary.rate_limited > 0
    assert len(stub.started) == 30 and set(stub.started.values()) == {1}


def test_changed_input_for_a_key_is_an_error(ledger_path: Path) -> None:
    stub = StubService()
    run(stub, ledger_path, [BatchItem("x", "one"), BatchItem("y", "two")])
    with pytest.raises(InputChangedError) as info:
        run(stub, ledger_path, [BatchItem("x", "one"), BatchItem("y", "TWO")])
    assert info.value.key == "y"
    with pytest.raises(DuplicateKeyError):
        run(stub, ledger_path, [BatchItem("x", "one"), BatchItem("x", "one")])
    assert stub.submits == 2


def test_changed_options_are_a_changed_input(ledger_path: Path) -> None:
    stub = StubService()

    async def main(solutions: int) -> Any:
        async with AsyncBatch(stub, ledger_path, rate=None, poll=FAST_POLL) as batch:
            return await batch.run_functions("3a2b5129", "echo", ["a"], total_solutions=solutions)

    asyncio.run(main(1))
    with pytest.raises(InputChangedError):
        asyncio.run(main(3))


def test_no_secret_at_rest(ledger_path: Path) -> None:
    secret, own = "shared-Secret-Value-7", "per-call-Secret-9"
    stub = StubService()  # its API answers echo the call, headers included

    async def main() -> Any:
        async with AsyncBatch(stub, ledger_path, rate=None, poll=FAST_POLL) as batch:
            calls = [{"path": "/a"}, {"path": "/b", "headers": {"X-Own": own}}]
            return await batch.run_api_tasks("3a2b5129", "custom", calls, headers={"X-Key": secret})

    summary = asyncio.run(main())
    assert summary.finished_ok == 2
    with Batch(stub, ledger_path) as batch:
        outputs = [r.output for r in batch.results()]
    assert outputs[1]["echo"]["headers"] == {"X-Key": "[REDACTED]", "X-Own": "[REDACTED]"}
    stored = b"".join(p.read_bytes() for p in ledger_path.parent.iterdir())  # the -wal file too
    for value in (secret, own):
        assert value.encode() not in stored


def test_sync_batch_runs_the_same_driver(ledger_path: Path) -> None:
    stub = StubService()
    with Batch(stub, ledger_path, rate=None, poll=FAST_POLL) as batch:
        summary = batch.run_functions("3a2b5129", "echo", (str(i) for i in range(50)))
        assert summary.finished_ok == 50
        assert batch.summary().finished == 50

    async def inside_a_loop() -> Any:  # a caller already on an event loop (a notebook)
        with Batch(stub, ledger_path, rate=None, poll=FAST_POLL) as batch:
            return batch.run_functions("3a2b5129", "echo", (str(i) for i in range(60)))

    assert asyncio.run(inside_a_loop()).submitted_this_run == 10
