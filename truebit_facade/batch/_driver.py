"""The async driver of a batch: it asks the planner what to do, writes the ledger, does the I/O.

One loop and one task per request in flight (never one per execution): the planner's heap says
which execution to read next; the inputs are matched to their rows by :mod:`._inputs`, the answers
handled by :mod:`._requests`, the writes committed by :mod:`._commits`. A submit's ``submitting`` mark
is committed before its POST starts: submits wait in a group (a quarter of ``concurrency``) for one
commit, at most :data:`GROUP_WAIT`, and only while enough requests are in flight to keep the service
busy: a commit per submit would cost the client more than the submit, and a larger group would leave
more slots idle while it gathers. Every other write (an execution id, a result) is committed with
the next such commit, or within :data:`COMMIT_INTERVAL`, and every event is
emitted after the commit that made it durable.

Ending (see :class:`~._control.RunControl`): a *stop* (``Batch.stop()``, a first Ctrl-C, a first
cancellation, a bad input, an error) starts nothing new and lets the requests in flight end within
their own bounds, so every answer is committed and nothing is left in doubt; an *abandon* (a second
one) cancels them, and marks the submits among them in doubt, counted in ``abandoned``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any

from ._commits import Commits
from ._control import ABANDON, STOP, RunControl
from ._hold import HoldChoice
from ._inputs import Inputs
from ._items import Job
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
)
from ._prefetch import OnLoop, Prefetch, loop_waker
from ._records import BatchEvent, BatchSummary, LedgerError, RowState
from ._requests import Pending, Requests
from ._transport import BatchTransport

__all__ = ["COMMIT_INTERVAL", "GROUP_WAIT", "Driver"]

#: The longest a write other than a submit's mark waits for its commit (ids, results, events).
COMMIT_INTERVAL = 0.1
#: The longest a submit waits for others to share its commit (see ``Driver._release_due``).
GROUP_WAIT = 0.02


class Driver(Inputs, Requests):
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
        on_stop: Callable[[str, int], None] | None = None,
        control: RunControl | None = None,
        hold: HoldChoice | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self._transport = transport
        self._client_secrets = tuple(getattr(transport, "secrets", ()))
        self._ledger = ledger
        self._job = job
        self._items = items if isinstance(items, Prefetch) else OnLoop(items)
        self._planner = planner
        self._resubmit = resubmit_in_doubt
        self._on_event = on_event
        self._on_stop = on_stop
        self._control = control or RunControl()
        self._hold = hold or HoldChoice(False)
        self._clock = clock
        self._wall = wall
        self._run = 0
        self._position = 0
        self._digest = None
        self._exhausted = False
        self._next: Pending | None = None  # the next input to submit
        self._adopt_next: OpenExecution | None = None  # or the next execution to resume
        self._sweep_after = 0
        self._writes = Commits(ledger)
        self._deferred = self._writes.deferred
        # Submits marked in the open transaction, waiting for the commit that lets them start.
        self._queued: list[tuple[Any, list[bool], Callable[[], None]]] = []
        self._queued_at = 0.0
        self._group = max(1, planner.concurrency // 4)
        self._cancelled = False
        self._woken = False
        self._fatal: BaseException | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._waiter: asyncio.Future[None] | None = None
        self._hold_timer: asyncio.TimerHandle | None = None
        self._committed_at = 0.0
        self._level = 0  # 0 running, STOP, ABANDON: how far this run was told to end
        self._started = time.perf_counter()
        self._ended: float | None = None
        self.submitted = 0
        self.ended = 0
        self.reads = 0
        self.rate_limited = 0
        self.abandoned = 0

    @property
    def in_flight(self) -> int:
        return self._planner.in_flight

    # --- the loop ----------------------------------------------------------------------------------

    async def run(self) -> BatchSummary:
        """Run to the end (or the stop); raises what stopped it early, after the requests in flight
        ended and every answer is committed: a bad input, an account or ledger error, a cancellation."""
        self._started = time.perf_counter()
        loop = asyncio.get_running_loop()
        self._control.attach(loop, self._on_control, lambda: self._planner.in_flight)
        try:
            self._begin()
            self._items.start(loop_waker(loop, self._wake))
            self._on_control()  # a stop asked for before the loop ran
            while True:
                action = await self._round()
                if isinstance(action, Done):
                    break
                try:
                    await self._pause(action)
                except asyncio.CancelledError:
                    self._on_cancel()
        except BaseException as exc:
            # An error of the loop itself (a callback raising, the ledger failing): nothing more
            # starts; what is in flight is abandoned (it cannot be committed reliably).
            self._fail(exc)
            self._escalate(ABANDON)
            self._unsend(self._queued)
            await self._drain()
            raise
        finally:
            self._finish()
        if self._fatal is not None:
            raise self._fatal
        if self._cancelled:
            raise asyncio.CancelledError
        return self.summary()

    def _begin(self) -> None:
        ledger = self._ledger
        self._run = ledger.bind(self._job)
        ledger.recover()
        self._committed_at = self._clock()
        for row in ledger.rows(state=RowState.IN_DOUBT):
            self._writes.emit(
                BatchEvent("in_doubt", row.key, row.seq, row.execution_id, error=row.error), durable=True
            )
            self._flush()

    async def _round(self) -> Any:
        """Plan until the planner says wait; apply the requests' writes; commit (before any submit
        of the round starts); start the round's requests; emit what the commit made durable.

        Submits are started in groups (:meth:`_release_due`): a freed slot's submit waits, briefly,
        for a few more to share its commit, while enough requests are in flight to keep the service
        busy. Status reads start at once (nothing needs to be on disk before them)."""
        planner, ledger, queued = self._planner, self._ledger, self._queued
        reads: list[Any] = []
        self._woken = False  # what woke the loop is seen by this round's planning
        while True:
            self._fill()
            action = planner.next(self._clock(), have_input=self._may_submit())
            if isinstance(action, Adopt):
                self._sweep(action.limit)
            elif isinstance(action, Submit):
                if not queued:
                    self._queued_at = self._clock()
                queued.append(self._start_submit(action.retry))
            elif isinstance(action, Read):
                reads.append(self._start_read(action.execution))
            else:
                break
        if isinstance(action, Done) and self._waiting_for_input():
            action = Await()  # nothing to do until the next input arrives (it wakes the loop)
        if queued and self._level >= STOP:  # stopping: the submits not started never will be
            self._unsend(queued)
            self._woken = True
        self._writes.apply()
        now = self._clock()
        release = bool(queued) and self._release_due(now)
        due = release or isinstance(action, Done) or now - self._committed_at >= COMMIT_INTERVAL
        if ledger.dirty and due:
            try:
                await self._writes.commit(self._on_cancel)
            except BaseException:
                self._unsend(queued)  # never started: their rows stay as last committed
                self._unsend(reads)
                raise
            self._committed_at = now
        if self._level >= ABANDON:  # abandoned during the commit: these never start
            self._unsend(queued)
            self._unsend(reads)
            release = False
        starting = reads
        if release:
            starting = [*queued, *reads]
            queued.clear()
        for coroutine, started, unsent in starting:
            task = asyncio.ensure_future(coroutine)
            self._tasks.add(task)
            task.add_done_callback(functools.partial(self._settled, started, unsent))
        self._flush()  # last: a callback that raises must find the round's requests started
        return action

    def _waiting_for_input(self) -> bool:
        return not self._exhausted and self._fatal is None and self._level < STOP

    def _release_due(self, now: float) -> bool:
        """Whether the submits waiting for a commit go now: enough of them to share it, too few
        requests running to keep the service busy without them, or the first has waited long enough."""
        waiting = len(self._queued)
        running = self._planner.in_flight - waiting
        return (
            waiting >= self._group
            or running <= self._planner.concurrency // 2
            or now - self._queued_at >= GROUP_WAIT
        )

    @staticmethod
    def _unsend(requests: list[Any]) -> None:
        for coroutine, _, unsent in requests:
            coroutine.close()
            unsent()
        requests.clear()

    def _on_cancel(self) -> None:
        # The task running the batch was cancelled: the first time, a graceful stop; the next, the
        # requests in flight are abandoned. The cancellation is raised at the end.
        self._cancelled = True
        self._escalate(STOP if self._level < STOP else ABANDON)

    def _settled(self, started: list[bool], unsent: Callable[[], None], task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not started[0]:  # cancelled before its first step: nothing was sent
            try:
                unsent()
            except LedgerError as exc:
                self._fail(exc)
            self._wake()

    async def _pause(self, action: Any) -> None:
        """Until a request ends, ``action``'s time comes, or (writes pending) the commit is due."""
        timeout = action.until - self._clock() if isinstance(action, Sleep) else None
        if self._queued:
            left = max(0.0, self._queued_at + GROUP_WAIT - self._clock())
            timeout = left if timeout is None else min(timeout, left)
        if self._writes.pending:
            left = max(0.0, self._committed_at + COMMIT_INTERVAL - self._clock())
            timeout = left if timeout is None else min(timeout, left)
        if self._woken or (timeout is not None and timeout <= 0):
            return  # something happened since the round planned (during its commit): plan again
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = None if timeout is None else loop.call_later(timeout, self._wake)
        try:
            await waiter
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()

    def _may_submit(self) -> bool:
        """An input is ready and the hold choice does not ask it to wait (for a first probe's
        answer, briefly: a timer wakes the loop when that wait ends)."""
        if self._next is None:
            return False
        until = self._hold.wait_until(self._clock())
        if until is None:
            return True
        if self._hold_timer is None or self._hold_timer.cancelled():
            delay = until - self._clock()
            self._hold_timer = asyncio.get_running_loop().call_later(delay, self._hold_waited)
        return False

    def _hold_waited(self) -> None:
        self._hold_timer = None
        self._wake()

    def _wake(self) -> None:
        self._woken = True
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _drain(self) -> None:
        """Wait for the tasks in flight (cancelled by an abandon) to finish their bookkeeping."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    def _finish(self) -> None:
        self._ended = time.perf_counter()
        self._items.close()
        self._control.detach()
        if self._hold_timer is not None:
            self._hold_timer.cancel()
        self._writes.close()
        try:
            for execution in self._planner.open_executions():
                self._deferred.add_reads(execution.seq, execution.reads)
            self._writes.commit_now()
        except LedgerError as exc:
            self._fail(exc)
        else:
            self._flush()

    # --- stopping ------------------------------------------------------------------------------------

    def _on_control(self) -> None:
        """On the loop: act on what the control was asked (from another thread or a signal handler)."""
        if self._control.level > self._level:
            self._escalate(self._control.level)

    def _escalate(self, level: int) -> None:
        stages = []
        if level >= STOP and self._level < STOP:
            self._level = STOP
            self._planner.stop()
            stages.append("stopping")
        if level >= ABANDON and self._level < ABANDON:
            self._level = ABANDON
            for task in list(self._tasks):
                task.cancel()  # a cancelled submit marks its row in doubt (see _submit)
            stages.append("abandoning")
        self._wake()
        if self._on_stop is not None:
            for stage in stages:
                self._on_stop(stage, self._planner.in_flight)
        elif "abandoning" in stages and self._planner.in_flight:
            # No one listens for the stages (a program, not the CLI): what a bare KeyboardInterrupt
            # would not say, the package's logger does (shown even when logging is not set up).
            logging.getLogger("truebit_facade").warning(
                "truebit: the batch abandoned %d requests in flight; their rows are in doubt (see summary())",
                self._planner.in_flight,
            )

    def _fail(self, error: BaseException) -> None:
        if self._fatal is None and not isinstance(error, asyncio.CancelledError):
            self._fatal = error
        self._planner.stop()
        self._level = max(self._level, STOP)

    # --- reporting -----------------------------------------------------------------------------------

    def summary(self, *, reader: bool = False) -> BatchSummary:
        """The ledger's counts with this run's figures (so far, while it runs)."""
        end = self._ended if self._ended is not None else time.perf_counter()
        return BatchSummary.of(
            self._ledger.counts(reader=reader),
            submitted=self.submitted,
            ended=self.ended,
            reads=self.reads,
            rate_limited=self.rate_limited,
            abandoned=self.abandoned,
            stopped=self._level >= STOP,
            wall_seconds=end - self._started,
        )

    def _emit(self, event: BatchEvent) -> None:
        self._writes.emit(event)

    def _flush(self) -> None:
        events = self._writes.durable()
        if self._on_event is not None:
            for event in events:
                self._on_event(event)
