"""Submits share commits (a group waits briefly for others), and still every submit's row is on disk
as ``submitting`` before its POST starts, and every event is emitted only once its write is durable."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

from truebit_facade.batch import AsyncBatch, BatchEvent, BatchItem
from truebit_facade.batch._items import Job
from truebit_facade.batch._stub import StubService

from .conftest import FAST_POLL


def _state_on_disk(path: Path, key: str) -> tuple[str, str | None] | None:
    """The row of ``key`` as another process would see it: committed writes only."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = db.execute("SELECT state, execution_id FROM rows WHERE key = ?", (key,)).fetchone()
    finally:
        db.close()
    return None if row is None else (row[0], row[1])


class _Checking(StubService):
    """A stub that looks at the ledger on disk as each submit starts."""

    def __init__(self, path: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.path = path
        self.seen: list[str | None] = []

    async def submit(self, job: Job, value: Any, *, hold: bool = False) -> Any:
        found = _state_on_disk(self.path, value)
        self.seen.append(None if found is None else found[0])
        return await super().submit(job, value, hold=hold)


def _run(stub: StubService, path: Path, inputs: list[str], **settings: Any) -> tuple[Any, list[BatchEvent]]:
    events: list[BatchEvent] = []

    def on_event(event: BatchEvent) -> None:
        found = _state_on_disk(path, event.key)
        assert found is not None
        if event.kind == "submitted":
            assert found[1] == event.execution_id  # the id is on disk before anyone is told
        else:
            assert found[0] == event.kind  # finished, failed, in_doubt: durable first
        events.append(event)

    async def main() -> Any:
        async with AsyncBatch(
            stub, path, rate=None, poll=FAST_POLL, on_event=on_event, seed=1, **settings
        ) as b:
            return await b.run_functions("3a2b5129", "echo", [BatchItem(v, v) for v in inputs])

    return asyncio.run(main()), events


def test_every_submit_is_on_disk_before_its_post(ledger_path: Path) -> None:
    for hold, reads in ((True, 0), (False, 1)):
        path = ledger_path.with_name(f"h{hold}.ledger")
        stub = _Checking(path, running_reads=reads, latency=0.001)
        inputs = [f"k-{i}" for i in range(200)]
        summary, events = _run(stub, path, inputs, concurrency=16, hold=hold)
        assert summary.complete and summary.finished_ok == 200
        assert stub.seen == ["submitting"] * 200  # each key is submitted once (its key is its input)
        assert [e.kind for e in events].count("finished") == 200
