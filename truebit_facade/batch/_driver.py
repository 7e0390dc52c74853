"""The async driver of a batch: it asks the planner what to do, writes the ledger, does the I/O.

One loop and one task per request in flight (never one per execution): the planner's heap says
which execution to read next. Every ledger write a request's start depends on is committed before the
request starts (the loop commits once per round, then starts that round's requests), and every event
is emitted after the commit that made it durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .. import FunctionResult, RateLimitedError, TruebitError, ValidationError, to_builtin
from .._redact import scrub_json as scrub  # the client's one scrubber
from ._items import Job, item_digest, item_secrets, key_of
from ._ledger import Ledger
from ._plan import (
    Adopt,
    Await,
    Done,
    OpenExecution,
    Planner,
    Read,
    Sleep,
    Submit,
    after_read_error,
    after_submit_error,
)
from ._records import BatchEvent, BatchSummary, DuplicateKeyError, InputChangedError, RowState
from ._transport import BatchTransport

__all__ = ["Driver", "summarize"]

#: Submits of one input refused as "not started" (429, connection refused) before the batch gives up.
MAX_SUBMIT_TRIES = 20

# An input on its way to a submit: (seq, key, value, header values, tries so far).
_Pending = tuple[int, str, Any, tuple[str, ...], int]


def error_record(error: BaseException, secrets: tuple[str, ...] = ()) -> dict[str, Any]:
    """An error as the ledger and the events keep it: type, message (scrubbed), status code."""
    message = error.message if isinstance(error, TruebitError) else str(error)
    record: dict[str, Any] = {"type": type(error).__name__, "message": scrub(message, secrets)}
    status = getattr(error, "status_code", None)
    if isinstance(status, int):
        record["status_code"] = status
    return record


class Driver:
    """One run of a batch over ``ledger``; see the module docstring. ``clock`` is the planner's
    (monotonic) clock, ``wall`` the time stamps written to the ledger (they outlive the process)."""

    def __init__(
        self,
        *,
        transport: BatchTransport,
        ledger: Ledger,
        job: Job,
        items: Iterable[Any],
        planner: Planner,
        resubmit_in_doubt: bool = False,
        on_event: Callable[[BatchEvent], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._transport = transport
        self._ledger = ledger
        self._job = job
        self._items: Iterator[Any] = iter(items)
        self._planner = planner
        self._resubmit = resubmit_in_doubt
        self._on_event = on_event
        self._clock = clock
        self._wall = wall
        self._run = 0
        self._position = 0
        self._exhausted = False
        self._next: _Pending | None = None  # the next input to submit
        self._adopt_next: OpenExecution | None = None  # or the next execution to resume
        self._sweep_after = 0
        self._events: list[BatchEvent] = []
        self._fatal: BaseException | None = None
        self._wake = asyncio.Event()
        self.submitted = 0
        self.ended = 0
        self.reads = 0
        self.rate_limited = 0

    # --- the loop ----------------------------------------------------------------------------------

    async def run(self) -> BatchSummary:
        started = time.perf_counter()
        ledger, planner = self._ledger, self._planner
        self._run = ledger.bind(self._job)
        ledger.recover()
        for row in ledger.rows(state=RowState.IN_DOUBT):
            self._emit(BatchEvent("in_doubt", row.key, row.seq, row.execution_id, error=row.error))
            self._flush()
        tasks: set[asyncio.Task[None]] = set()
        try:
            while True:
                starts: list[Any] = []
                while True:
                    self._fill()
                    action = planner.next(self._clock(), have_input=self._next is not None)
                    if isinstance(action, Adopt):
                        self._sweep(action.limit)
                    elif isinstance(action, Submit):
                        starts.append(self._start_submit(action.retry))
                    elif isinstance(action, Read):
                        starts.append(self._read(action.execution))
                    else:
                        break
                try:
                    ledger.commit()  # before any of this round's requests starts
                except BaseException:
                    for coroutine in starts:
                        coroutine.close()  # never started: their rows stay as committed before
                    raise
                for coroutine in starts:
                    task = asyncio.ensure_future(coroutine)
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                self._flush()
                if isinstance(action, Done):
                    break
                timeout = action.until - self._clock() if isinstance(action, Sleep) else None
                assert isinstance(action, Sleep | Await)
                if timeout is None or timeout > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), timeout)
                self._wake.clear()
        finally:
            for task in tasks:  # only when interrupted: a submit cut here stays "submitting" (in doubt)
                task.cancel()
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            for execution in planner.open_executions():
                ledger.add_reads(execution.seq, execution.reads)
            ledger.commit()
            self._flush()
        if self._fatal is not None:
            raise self._fatal
        return self.summary(time.perf_counter() - started)

    def summary(self, wall_seconds: float) -> BatchSummary:
        return summarize(
            self._ledger,
            submitted=self.submitted,
            ended=self.ended,
            reads=self.reads,
            rate_limited=self.rate_limited,
            wall_seconds=wall_seconds,
        )

    def _stop(self, error: BaseException) -> None:
        if self._fatal is None:
            self._fatal = error
        self._planner.stop()

    def _emit(self, event: BatchEvent) -> None:
        self._events.append(event)

    def _flush(self) -> None:
        events, self._events = self._events, []
        if self._on_event is not None:
            for event in events:
                self._on_event(event)

    # --- inputs ------------------------------------------------------------------------------------

    def _fill(self) -> None:
        """Read inputs until one needs a submit (``_next``), matching each to its row; an input whose
        execution an earlier run submitted is resumed here, when there is room for it."""
        planner = self._planner
        while self._fatal is None and self._next is None:
            if self._adopt_next is not None:
                if not planner.has_room:
                    return
                planner.adopt([self._adopt_next], self._clock())
                self._adopt_next = None
            if self._exhausted:
                return
            try:
                self._match(next(self._items))
            except StopIteration:
                self._exhausted = True
                planner.sweep()
                return
            except ValidationError as exc:  # also a bad input the stream itself refused
                self._stop(exc)

    def _match(self, item: Any) -> None:
        ledger, job = self._ledger, self._job
        key, value = key_of(item, self._position)
        self._position += 1
        job.call(value)  # an API call that is not a mapping is refused here, before anything is written
        digest = item_digest(ledger.salt, job, value)
        secrets = item_secrets(job, value)
        found = ledger.lookup(key)
        if found is None:
            own = job.kind == "api" and bool(isinstance(value, dict) and value.get("headers"))
            self._next = (ledger.insert(key, digest, self._run, own_headers=own), key, value, secrets, 0)
            return
        seq, recorded, state, seen = found
        if seen == self._run:
            raise DuplicateKeyError(key)
        if recorded != digest:
            raise InputChangedError(key)
        ledger.mark_seen(seq, self._run)
        if state is RowState.PENDING or (state is RowState.IN_DOUBT and self._resubmit):
            self._next = (seq, key, value, secrets, 0)
        elif state is RowState.SUBMITTED:
            row = ledger.get(key)
            assert row is not None and row.execution_id is not None
            self._adopt_next = self._resumed(seq, key, row.execution_id, None, secrets)

    def _resumed(
        self, seq: int, key: str, execution_id: str, submitted_at: float | None, secrets: tuple[str, ...]
    ) -> OpenExecution:
        # The poll schedule goes by the execution's age, which outlives the process: wall clock.
        age = 0.0 if submitted_at is None else max(0.0, self._wall() - submitted_at)
        return OpenExecution(seq, key, execution_id, self._clock() - age, secrets=secrets)

    def _sweep(self, limit: int) -> None:
        """A page of executions of earlier runs that this run's inputs did not mention."""
        rows = self._ledger.open_executions(self._run, self._sweep_after, limit)
        if rows:
            self._sweep_after = rows[-1][0]
        shared = item_secrets(self._job, {})
        found = [self._resumed(seq, key, eid, at, shared) for seq, key, eid, at in rows]
        self._planner.adopt(found, self._clock(), exhausted=len(rows) < limit)

    # --- requests ----------------------------------------------------------------------------------

    def _start_submit(self, retry: _Pending | None) -> Any:
        pending = retry
        if pending is None:
            pending, self._next = self._next, None
        assert pending is not None
        self._ledger.mark_submitting(pending[0])  # committed before the POST starts
        return self._submit(pending)

    async def _submit(self, pending: _Pending) -> None:
        seq, key, value, secrets, tries = pending
        planner, ledger = self._planner, self._ledger
        try:
            execution_id = await self._transport.submit(self._job, value)
        except TruebitError as exc:
            outcome = after_submit_error(exc)
            if outcome == "retry" and tries + 1 >= MAX_SUBMIT_TRIES:
                outcome = "fatal"
            now = self._clock()
            error = error_record(exc, secrets)
            if outcome == "retry":
                limited = isinstance(exc, RateLimitedError)
                self.rate_limited += limited
                ledger.mark_pending(seq)
                retry_after = getattr(exc, "retry_after", None)
                planner.submit_refused(
                    (seq, key, value, secrets, tries + 1), now, retry_after, rate_limited=limited
                )
            elif outcome == "in_doubt":
                ledger.mark_in_doubt(seq, error)
                planner.submit_ended()
                self._emit(BatchEvent("in_doubt", key, seq, error=error))
            elif outcome == "failed":
                ledger.mark_failed(seq, error, reads=0, at=self._wall())
                planner.submit_ended()
                self.ended += 1
                self._emit(BatchEvent("failed", key, seq, error=error))
            else:  # the account cannot submit anything: stop, the row stays pending
                ledger.mark_pending(seq)
                planner.submit_ended()
                self._stop(exc)
        except Exception as exc:  # a bug below us, after the POST may have gone: in doubt, and stop
            error = error_record(exc, secrets)
            ledger.mark_in_doubt(seq, error)
            planner.submit_ended()
            self._emit(BatchEvent("in_doubt", key, seq, error=error))
            self._stop(exc)
        else:
            ledger.mark_submitted(seq, execution_id, self._wall())
            self.submitted += 1
            now = self._clock()
            planner.submitted(OpenExecution(seq, key, execution_id, now, secrets=secrets), now)
            self._emit(BatchEvent("submitted", key, seq, execution_id))
        finally:
            self._wake.set()

    async def _read(self, execution: OpenExecution) -> None:
        planner, ledger = self._planner, self._ledger
        seq, key, eid, secrets = execution.seq, execution.key, execution.execution_id, execution.secrets
        self.reads += 1
        try:
            result = await self._transport.get(self._job, eid)
        except TruebitError as exc:
            outcome = after_read_error(exc)
            retry_after = getattr(exc, "retry_after", None)
            self.rate_limited += outcome == "slow_down"
            planner.read_failed(execution, self._clock(), outcome, retry_after)
            if outcome == "failed":  # the execution id stays in the row
                error = error_record(exc, secrets)
                ledger.mark_failed(seq, error, reads=execution.reads, at=self._wall())
                self.ended += 1
                self._emit(BatchEvent("failed", key, seq, eid, error=error))
        except Exception as exc:  # a bug: the row stays submitted, resumable
            planner.read_failed(execution, self._clock(), "failed", None)
            ledger.add_reads(seq, execution.reads)
            self._stop(exc)
        else:
            terminal = result.is_terminal
            planner.read(execution, self._clock(), terminal=terminal)
            if terminal:
                if isinstance(result, FunctionResult):
                    status, output = result.raw.get("verificationStatus"), result.output
                else:
                    status, output = result.raw.get("status"), to_builtin(result.output)
                output, raw = scrub(output, secrets), scrub(to_builtin(result.raw), secrets)
                status = status if isinstance(status, str) else None
                ledger.mark_finished(
                    seq,
                    ok=result.ok,
                    status=status,
                    output=output,
                    raw=raw,
                    reads=execution.reads,
                    at=self._wall(),
                )
                self.ended += 1
                self._emit(BatchEvent("finished", key, seq, eid, ok=result.ok, status=status, output=output))
        finally:
            self._wake.set()


def summarize(
    ledger: Ledger,
    *,
    submitted: int = 0,
    ended: int = 0,
    reads: int = 0,
    rate_limited: int = 0,
    wall_seconds: float = 0.0,
) -> BatchSummary:
    """The ledger's counts, with what a run did."""
    counts = ledger.counts()
    done = counts["finished"] + counts["failed"]
    return BatchSummary(
        total=counts["total"],
        pending=counts["pending"],
        submitting=counts["submitting"],
        submitted=counts["submitted"],
        finished=counts["finished"],
        finished_ok=counts["finished_ok"],
        indeterminate=counts["indeterminate"],
        failed=counts["failed"],
        in_doubt=counts["in_doubt"],
        submitted_this_run=submitted,
        ended_this_run=ended,
        reads_this_run=reads,
        reads_per_task=counts["reads"] / done if done else 0.0,
        rate_limited=rate_limited,
        wall_seconds=wall_seconds,
    )
