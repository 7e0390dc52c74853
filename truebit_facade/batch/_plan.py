"""The decisions of a batch, with no I/O and no clock of its own: the h11 idea applied to many tasks.

:class:`Planner` answers "what now?" with one :class:`Action` — adopt open executions from the ledger,
submit the next input, read this execution's status, sleep until ``t``, wait for a request in flight,
or done — and is told what each request gave. It owns the shared waiting: one heap of next-read
times for every open execution (each on the poll policy's schedule), the in-flight cap on requests,
the cap on open executions, and the token bucket. The async driver (``_driver``) turns actions into
I/O and ledger writes; the tests drive the planner alone on a virtual clock.

:func:`after_submit_error` and :func:`after_read_error` say what an error means for the row.
"""

from __future__ import annotations

import heapq
import itertools
import random
from typing import Any, Literal

import attrs

from .. import (
    MAX_RETRY_AFTER,
    APIStatusError,
    AuthenticationError,
    ExecutionNotFoundError,
    MalformedResponseError,
    PaymentRequiredError,
    PollPolicy,
    RateLimitedError,
    TransportError,
    TruebitError,
    is_retryable_status,
)
from ._rate import TokenBucket

__all__ = [
    "Adopt",
    "Await",
    "Done",
    "OpenExecution",
    "Planner",
    "Read",
    "Sleep",
    "Submit",
    "after_read_error",
    "after_submit_error",
    "capped",
]


@attrs.define(eq=False)
class OpenExecution:
    """An execution the batch waits for: its row, its id, when it started (on the planner's clock)
    and how many status reads it has cost so far."""

    seq: int
    key: str
    execution_id: str
    started: float
    reads: int = 0
    #: Header values to scrub from its answers (in memory only, never written).
    secrets: tuple[str, ...] = ()


@attrs.frozen
class Adopt:
    """Load up to ``limit`` executions left open by an earlier run whose inputs were not given again
    from the ledger, and hand them to :meth:`Planner.adopt` (only after :meth:`Planner.sweep`)."""

    limit: int


@attrs.frozen
class Submit:
    """Submit an input: ``retry`` is one handed back earlier by :meth:`Planner.submit_refused`, or
    ``None`` for the next input of the stream."""

    retry: Any = None


@attrs.frozen
class Read:
    """Read the status of ``execution`` now."""

    execution: OpenExecution


@attrs.frozen
class Sleep:
    """Nothing to do before ``until`` (or until a request in flight ends)."""

    until: float


@attrs.frozen
class Await:
    """Nothing to do until a request in flight ends."""


@attrs.frozen
class Done:
    """Every input submitted and every execution ended (or the batch was stopped and drained)."""


Action = Adopt | Submit | Read | Sleep | Await | Done

SubmitOutcome = Literal["in_doubt", "retry", "failed", "fatal"]
ReadOutcome = Literal["failed", "retry", "slow_down"]


def capped(retry_after: float | None) -> float | None:
    """A server's ``Retry-After`` as the batch honours it: at most the client's own ceiling
    (``truebit_facade.MAX_RETRY_AFTER``), so that no hint parks a batch longer than it parks a call."""
    return None if retry_after is None else min(max(retry_after, 0.0), MAX_RETRY_AFTER)


def after_submit_error(error: TruebitError) -> SubmitOutcome:
    """What a failed submit means for its row.

    * ``in_doubt``: the request may have reached the service (``may_have_submitted``). The API has no
      idempotency key, so resending could run and bill the task twice: never resent unless asked.
    * ``retry``: provably not started (429, or a connection that failed before a byte was sent):
      pending again, submitted later.
    * ``fatal``: the account cannot submit anything (401, 402): the batch stops, the row stays pending.
    * ``failed``: refused for this input (400, a bad argument): failing it loses nothing.
    """
    if getattr(error, "may_have_submitted", False):
        return "in_doubt"
    if isinstance(error, RateLimitedError | TransportError):
        return "retry"
    if isinstance(error, AuthenticationError | PaymentRequiredError):
        return "fatal"
    if (
        isinstance(error, APIStatusError)
        and is_retryable_status(error.status_code)
        and error.status_code != 501
    ):
        return "retry"  # a 5xx that says the task was not started (501: the server never will do it)
    return "failed"


def after_read_error(error: TruebitError) -> ReadOutcome:
    """What a failed status read means: a 404 or an unreadable answer fails the row (it keeps its
    execution id); a 429 slows the whole batch down; other transient faults are no news."""
    if isinstance(error, ExecutionNotFoundError | MalformedResponseError):
        return "failed"
    if isinstance(error, RateLimitedError):
        return "slow_down"
    if isinstance(error, TransportError):
        return "retry"
    if isinstance(error, APIStatusError) and is_retryable_status(error.status_code):
        return "retry"
    return "failed"


class Planner:
    """See the module docstring. ``concurrency`` caps requests in flight, ``max_open`` executions
    submitted and not yet ended (the number of entries in the read heap, so memory is bounded)."""

    def __init__(
        self,
        *,
        concurrency: int,
        max_open: int,
        poll: PollPolicy,
        bucket: TokenBucket,
        rng: random.Random | None = None,
        submit_backoff: float = 1.0,
    ) -> None:
        self.concurrency = concurrency
        self.max_open = max_open
        self.poll = poll
        self.bucket = bucket
        self._rng = rng or random.Random()
        self._submit_backoff = submit_backoff
        self._reads: list[tuple[float, int, OpenExecution]] = []
        self._retries: list[tuple[float, int, Any]] = []
        self._order = itertools.count()
        self.in_flight = 0  # requests
        self.open = 0  # executions: in the heap, being read, or being submitted
        self._read_turn = True
        self.adopting = False  # sweeping the ledger for executions of earlier runs
        self.stopping = False

    # --- the question -------------------------------------------------------------------------

    def next(self, now: float, *, have_input: bool) -> Action:
        """The next action at ``now``; ``have_input``: the stream has an input ready to submit."""
        if self.stopping:
            return Await() if self.in_flight else Done()
        may_submit = self.has_room
        if self.adopting and may_submit:
            return Adopt(self.max_open - self.open)
        if self.in_flight >= self.concurrency:
            return Await()
        read_due = bool(self._reads) and self._reads[0][0] <= now
        retry_due = may_submit and bool(self._retries) and self._retries[0][0] <= now
        if read_due or retry_due or (may_submit and have_input):
            wait = self.bucket.wait(now)
            if wait > 0:
                return Sleep(now + wait)
            self.bucket.take(now)
            self.in_flight += 1
            # Both waiting: take turns, so that neither starves (reads end work, submits start it).
            if read_due and (self._read_turn or not (retry_due or (may_submit and have_input))):
                self._read_turn = False
                return Read(heapq.heappop(self._reads)[2])
            self._read_turn = True
            self.open += 1
            if retry_due:
                return Submit(heapq.heappop(self._retries)[2])
            return Submit(None)
        wake = [self._reads[0][0]] if self._reads else []
        if may_submit and self._retries:
            wake.append(self._retries[0][0])
        if wake:
            return Sleep(min(wake))
        if self.in_flight:
            return Await()
        return Done()

    @property
    def has_room(self) -> bool:
        """Whether another execution may be opened (submitted or adopted)."""
        return self.open < self.max_open

    def open_executions(self) -> list[OpenExecution]:
        """The executions waiting for their next read (when a run stops, to record their reads)."""
        return [entry[2] for entry in self._reads]

    # --- what happened ------------------------------------------------------------------------

    def adopt(self, executions: list[OpenExecution], now: float, *, exhausted: bool = False) -> None:
        """Executions submitted by an earlier run, to be read at once (the rate limit spreads them):
        one whose input came again in the stream, or a page of the :meth:`sweep`."""
        for execution in executions:
            self.open += 1
            self._push(now, execution)
        if exhausted:
            self.adopting = False

    def sweep(self) -> None:
        """The input stream has ended: adopt (``Adopt`` actions) what the ledger still holds open."""
        self.adopting = True

    def submitted(self, execution: OpenExecution, now: float) -> None:
        self.in_flight -= 1
        self._push(now + self.poll.delay(now - execution.started, rng=self._rng), execution)

    def submit_refused(self, item: Any, now: float, retry_after: float | None, *, rate_limited: bool) -> None:
        """Not started (429, connection refused): ``item`` comes back as ``Submit(retry=item)`` later."""
        self.in_flight -= 1
        self.open -= 1
        retry_after = capped(retry_after)
        if rate_limited:
            self.bucket.penalize(now, retry_after)
        delay = retry_after if retry_after is not None else self._submit_backoff
        heapq.heappush(self._retries, (now + delay, next(self._order), item))

    def submit_ended(self) -> None:
        """The submit ended without an execution to wait for (failed, in doubt, fatal)."""
        self.in_flight -= 1
        self.open -= 1

    def read(
        self, execution: OpenExecution, now: float, *, terminal: bool, retry_after: float | None = None
    ) -> None:
        """A status read answered: the execution ended, or is read again on the poll schedule."""
        self.in_flight -= 1
        execution.reads += 1
        if terminal:
            self.open -= 1
            return
        delay = self.poll.delay(now - execution.started, retry_after=capped(retry_after), rng=self._rng)
        self._push(now + delay, execution)

    def read_failed(
        self, execution: OpenExecution, now: float, outcome: ReadOutcome, retry_after: float | None
    ) -> None:
        self.in_flight -= 1
        execution.reads += 1
        if outcome == "failed":
            self.open -= 1
            return
        retry_after = capped(retry_after)
        if outcome == "slow_down":
            self.bucket.penalize(now, retry_after)
        delay = self.poll.delay(now - execution.started, retry_after=retry_after, rng=self._rng)
        self._push(now + delay, execution)

    def stop(self) -> None:
        """Start nothing new; :meth:`next` says ``Await`` until the requests in flight end, then ``Done``."""
        self.stopping = True

    def _push(self, due: float, execution: OpenExecution) -> None:
        heapq.heappush(self._reads, (due, next(self._order), execution))
