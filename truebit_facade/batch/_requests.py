"""What each request of a batch does with its answer: a submit (async, or held in sync mode) and a
status read, each a task of its own that records its writes (applied and committed by the driver's
loop, :mod:`._driver`), tells the planner, and emits its event once the commit made it durable.

A base class of :class:`~._driver.Driver`, which owns the state named below; kept apart so that the
loop (rounds, commits, stopping) and the requests' outcomes each read on their own.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import ApiTaskResult, FunctionResult, RateLimitedError, TruebitError, to_builtin
from ._hold import HoldChoice
from ._items import Job
from ._plan import OpenExecution, Planner, after_read_error, after_submit_error
from ._records import BatchEvent, LedgerError
from ._secrets import scrub_stored
from ._transport import BatchTransport

if TYPE_CHECKING:
    from ._ledger import Ledger

__all__ = ["MAX_SUBMIT_TRIES", "Pending", "Requests", "error_record"]

#: Submits of one input refused as "not started" (429, connection refused) before the batch gives up.
MAX_SUBMIT_TRIES = 20

# An input on its way to a submit: (seq, key, value, header values, tries so far).
Pending = tuple[int, str, Any, tuple[str, ...], int]

_ABANDONED = {
    "type": "Abandoned",
    "message": "abandoned while its submit was in flight (a second interrupt): it may have reached the service",
}


def error_record(error: BaseException, secrets: tuple[str, ...] = ()) -> dict[str, Any]:
    """An error as the ledger and the events keep it: type, message (scrubbed), status code."""
    message = error.message if isinstance(error, TruebitError) else str(error)
    record: dict[str, Any] = {"type": type(error).__name__, "message": scrub_stored(message, secrets)}
    status = getattr(error, "status_code", None)
    if isinstance(status, int):
        record["status_code"] = status
    return record


class Requests:
    """The submits and status reads of a run; see the module docstring."""

    _transport: BatchTransport
    _ledger: Ledger
    _deferred: Any  # the driver's recorder of ledger writes
    _job: Job
    _planner: Planner
    _hold: HoldChoice
    _clock: Callable[[], float]
    _wall: Callable[[], float]
    _next: Pending | None
    #: The client's own secrets (its API key), kept out of the ledger like the header values.
    _client_secrets: tuple[str, ...]
    submitted: int
    ended: int
    reads: int
    rate_limited: int
    abandoned: int

    if TYPE_CHECKING:  # the driver's

        def _emit(self, event: BatchEvent) -> None: ...
        def _fail(self, error: BaseException) -> None: ...
        def _wake(self) -> None: ...

    def _start_submit(self, retry: Pending | None) -> tuple[Any, list[bool], Callable[[], None]]:
        """The submit's coroutine, a flag it sets once running, and what undoes its start if it
        never ran (the row back to pending: its POST never started)."""
        pending = retry
        if pending is None:
            pending, self._next = self._next, None
        assert pending is not None
        seq = pending[0]
        self._ledger.mark_submitting(seq)  # committed before the POST starts
        started = [False]

        def unsent() -> None:
            self._planner.submit_ended()
            self._deferred.mark_pending(seq)

        now = self._clock()
        return self._submit(pending, started, self._hold.next(now), now), started, unsent

    def _start_read(self, execution: OpenExecution) -> tuple[Any, list[bool], Callable[[], None]]:
        started = [False]

        def unsent() -> None:
            self._planner.read_failed(execution, self._clock(), "retry", None)
            execution.reads -= 1  # never sent

        return self._read(execution, started), started, unsent

    async def _submit(self, pending: Pending, started: list[bool], hold: bool, began: float) -> None:
        """``began``: when the submit was planned (what the hold choice knows it by); its time is
        taken from when it starts (it may wait for others to share its commit)."""
        started[0] = True
        seq, key, value, secrets, _ = pending
        planner, ledger = self._planner, self._deferred
        execution = OpenExecution(seq, key, "", self._clock(), secrets=secrets)
        try:
            try:
                answer = await self._transport.submit(self._job, value, hold=hold)
            except asyncio.CancelledError:  # abandoned: the POST may have gone out
                self._held(hold, began, None)
                planner.submit_ended()
                self.abandoned += 1
                ledger.mark_in_doubt(seq, _ABANDONED)
                self._emit(BatchEvent("in_doubt", key, seq, error=_ABANDONED))
                raise
            except TruebitError as exc:
                self._held(hold, began, None)
                execution_id = getattr(exc, "execution_id", None)
                if isinstance(execution_id, str) and getattr(exc, "may_have_submitted", False):
                    # Submitted under that id, its answer unreadable: read its status, as any other.
                    self._submitted(execution, execution_id, None, began)
                else:
                    self._submit_failed(pending, exc)
            except Exception as exc:  # a bug below us, after the POST may have gone: in doubt, and stop
                self._held(hold, began, None)
                planner.submit_ended()
                error = error_record(exc, secrets + self._client_secrets)
                ledger.mark_in_doubt(seq, error)
                self._emit(BatchEvent("in_doubt", key, seq, error=error))
                self._fail(exc)
            else:
                self._submitted(execution, answer, hold, began)
        except LedgerError as exc:
            self._fail(exc)
        finally:
            self._wake()

    def _held(self, hold: bool, began: float, seconds: float | None, at: float | None = None) -> None:
        if hold:
            self._hold.ended(began, seconds, at)

    def _submitted(
        self,
        execution: OpenExecution,
        answer: str | FunctionResult | ApiTaskResult,
        hold: bool | None,
        planned: float,
    ) -> None:
        """A submit answered: with the id (read its status later), or with the result (a hold).
        ``hold``: whether it was held, or ``None`` when its time says nothing (an unreadable answer);
        ``planned``: when it was planned (what the hold choice knows it by)."""
        now = self._clock()
        result = None if isinstance(answer, str) else answer
        execution.execution_id = answer if isinstance(answer, str) else answer.execution_id
        if hold:
            self._held(hold, planned, math.inf if result is None else now - execution.started, now)
        elif hold is False:
            self._hold.plain(now - execution.started)
        self.submitted += 1
        if result is None:
            self._deferred.mark_submitted(execution.seq, execution.execution_id, self._wall())
        self._emit(BatchEvent("submitted", execution.key, execution.seq, execution.execution_id))
        if result is None:
            self._planner.submitted(execution, now)
        else:  # the id and the result in one write
            self._planner.submit_ended()
            self.ended += 1
            self._finished(execution, result, submitted=(execution.execution_id, self._wall()))

    def _submit_failed(self, pending: Pending, exc: TruebitError) -> None:
        seq, key, value, secrets, tries = pending
        planner, ledger = self._planner, self._deferred
        outcome = after_submit_error(exc)
        if outcome == "retry" and tries + 1 >= MAX_SUBMIT_TRIES:
            outcome = "fatal"
        error = error_record(exc, secrets + self._client_secrets)
        if outcome == "retry":
            limited = isinstance(exc, RateLimitedError)
            self.rate_limited += limited
            retry_after = getattr(exc, "retry_after", None)
            planner.submit_refused(
                (seq, key, value, secrets, tries + 1), self._clock(), retry_after, rate_limited=limited
            )
            ledger.mark_pending(seq)
        elif outcome == "in_doubt":
            planner.submit_ended()
            ledger.mark_in_doubt(seq, error)
            self._emit(BatchEvent("in_doubt", key, seq, error=error))
        elif outcome == "failed":
            planner.submit_ended()
            self.ended += 1
            ledger.mark_failed(seq, error, reads=0, at=self._wall())
            self._emit(BatchEvent("failed", key, seq, error=error))
        else:  # the account cannot submit anything: stop, the row stays pending
            planner.submit_ended()
            ledger.mark_pending(seq)
            self._fail(exc)

    async def _read(self, execution: OpenExecution, started: list[bool]) -> None:
        started[0] = True
        planner, ledger = self._planner, self._deferred
        seq, key, eid, secrets = execution.seq, execution.key, execution.execution_id, execution.secrets
        self.reads += 1
        began = self._clock()
        try:
            try:
                result = await self._transport.get(self._job, eid)
                self._hold.plain(self._clock() - began)
            except asyncio.CancelledError:  # abandoned: the row stays submitted, resumable
                planner.read_failed(execution, self._clock(), "retry", None)
                raise
            except TruebitError as exc:
                outcome = after_read_error(exc)
                self.rate_limited += outcome == "slow_down"
                planner.read_failed(execution, self._clock(), outcome, getattr(exc, "retry_after", None))
                if outcome == "failed":  # the execution id stays in the row
                    error = error_record(exc, secrets + self._client_secrets)
                    self.ended += 1
                    ledger.mark_failed(seq, error, reads=execution.reads, at=self._wall())
                    self._emit(BatchEvent("failed", key, seq, eid, error=error))
            except Exception as exc:  # a bug: the row stays submitted, resumable
                planner.read_failed(execution, self._clock(), "retry", None)
                self._fail(exc)
            else:
                terminal = result.is_terminal
                planner.read(execution, self._clock(), terminal=terminal)
                if terminal:
                    self.ended += 1
                    self._finished(execution, result)
        except LedgerError as exc:
            self._fail(exc)
        finally:
            self._wake()

    def _finished(
        self, execution: OpenExecution, result: Any, *, submitted: tuple[str, float] | None = None
    ) -> None:
        self._hold.finished(self._clock())
        secrets = execution.secrets + self._client_secrets  # the API key too: a task may echo it
        if isinstance(result, FunctionResult):
            status, output = result.raw.get("verificationStatus"), result.output
            raw: Any = result.raw
        else:
            status, output = result.raw.get("status"), to_builtin(result.output)  # the event's: mutable
            raw = result.raw
        if secrets:
            output, raw = scrub_stored(output, secrets), scrub_stored(raw, secrets)
        status = status if isinstance(status, str) else None
        self._deferred.mark_finished(
            execution.seq,
            ok=result.ok,
            status=status,
            output=output,
            raw=raw,
            reads=execution.reads,
            at=self._wall(),
            submitted=submitted,
        )
        self._emit(
            BatchEvent(
                "finished",
                execution.key,
                execution.seq,
                execution.execution_id,
                ok=result.ok,
                status=status,
                output=output,
            )
        )
