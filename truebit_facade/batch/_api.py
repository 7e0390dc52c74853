"""The public batch API: :class:`AsyncBatch` over ``AsyncTruebit`` and :class:`Batch` over ``Truebit``.

    with Truebit() as tb, Batch(tb, "fib.ledger") as batch:
        summary = batch.run_functions("3a2b5129", "fibonacci", (str(n % 90) for n in range(100_000)))
        for row in batch.results():                 # input order, read back from the ledger
            print(row.key, row.state, row.output)

Run it again on the same ledger after a crash, with the same inputs: finished rows are skipped,
submitted ones are read (never resubmitted), in-doubt ones are reported (and resubmitted only with
``resubmit_in_doubt=True``), pending ones are submitted. See ``docs/batches.md``.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Mapping
from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from .. import PollPolicy, ValidationError
from ._control import ABANDON, STOP, RunControl, graceful_sigint
from ._driver import Driver
from ._hold import HoldChoice, check_hold
from ._items import Job
from ._ledger import Ledger
from ._plan import Planner
from ._rate import TokenBucket
from ._records import BatchEvent, BatchRow, BatchSummary, RowState
from ._transport import AsyncClientTransport, BatchTransport, ThreadedClientTransport

if TYPE_CHECKING:
    from .. import AsyncTruebit, Truebit

__all__ = ["AsyncBatch", "Batch"]


def _positive_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(name, "must be a positive integer")
    return value


#: The batch's own default schedule (the client's reads early, for one quick answer): each early
#: read of thousands of executions is a request, and the batch collects them all anyway.
_BATCH_POLL = PollPolicy(initial=0.5, first=0.5)


class _BatchBase:
    """Settings and the ledger, shared by both flavours.

    ``ledger``: the SQLite file (created if missing). ``concurrency``: requests in flight (submits and
    status reads together). ``max_open``: executions submitted and not yet ended, which bounds the
    work the service holds for this batch and this process's memory. ``rate``: requests per second
    (a token bucket; ``None``: no limit), halved on 429 and recovered over 30 s. ``poll``: the
    schedule of status reads (default: ``PollPolicy(initial=0.5, first=0.5)``: a first read at 0.5 s,
    then 10% of the age; a batch favours few reads over quick ones). ``resubmit_in_doubt``: submit again the rows
    whose earlier submit may or may not have reached the service (default: report them, never
    resubmit: the API has no idempotency key, so that may run and bill them twice). ``on_event``:
    called with each :class:`BatchEvent` once the ledger holds it. ``durable``: commits survive a
    power cut (``synchronous=FULL``), not only the process's death. ``hold``: submit in sync mode,
    the result in the submit's answer (``True``), in async mode, the result from a status read
    (``False``), or ``"auto"`` (default): hold while that completes tasks faster (quick tasks: one request each
    instead of two), never for tasks that keep a request open long (``docs/batches.md``, "Held submits").
    """

    def __init__(
        self,
        ledger: str | os.PathLike[str],
        *,
        concurrency: int = 16,
        max_open: int = 1000,
        rate: float | None = 100.0,
        poll: PollPolicy | None = None,
        resubmit_in_doubt: bool = False,
        on_event: Callable[[BatchEvent], None] | None = None,
        durable: bool = True,
        seed: int | None = None,
        hold: bool | Literal["auto"] = "auto",
    ) -> None:
        self._concurrency = _positive_int("concurrency", concurrency)
        self._max_open = _positive_int("max_open", max_open)
        TokenBucket(rate)  # validates
        self._rate = rate
        self._poll = poll or _BATCH_POLL
        self._resubmit = resubmit_in_doubt
        self._hold = check_hold(hold)
        #: Called with each event once the ledger holds it (may be replaced between runs).
        self.on_event = on_event
        #: Called on the run's loop when it starts stopping (``"stopping"``) or abandoning
        #: (``"abandoning"``), with the requests then in flight: to tell the user what is going on.
        self.on_stop: Callable[[str, int], None] | None = None
        self._rng = random.Random(seed)
        self._control = RunControl()
        self._last: Driver | None = None
        self._running = False
        self.ledger = Ledger(ledger, durable=durable)

    def close(self) -> None:
        """Close the ledger (and release its lock)."""
        self.ledger.close()

    def stop(self) -> int:
        """End the run in progress gracefully: nothing new is submitted, the requests in flight end
        within their own bounds and every answer is committed, so nothing is left in doubt; the run
        then returns its summary (``stopped=True``). Safe from any thread and from a signal handler;
        called between runs, the next run starts stopped. Returns the requests in flight."""
        return self._control.ask(STOP)

    def abandon(self) -> int:
        """End the run in progress now: as :meth:`stop`, and the requests in flight are cancelled.
        The submits among them may have reached the service: their rows are marked in doubt and
        counted (``abandoned_this_run``). Returns the requests in flight when asked."""
        return self._control.ask(ABANDON)

    @property
    def in_flight(self) -> int:
        """Requests in flight in the run in progress (0 between runs)."""
        return self._last.in_flight if self._last is not None and self._running else 0

    def _summary_now(self, *, reader: bool = False) -> BatchSummary:
        if self._last is not None:
            return self._last.summary(reader=reader)
        return BatchSummary.of(self.ledger.counts(reader=reader))

    def _driver(self, transport: BatchTransport, job: Job, items: Iterable[Any]) -> Driver:
        planner = Planner(
            concurrency=self._concurrency,
            max_open=self._max_open,
            poll=self._poll,
            bucket=TokenBucket(self._rate),
            rng=self._rng,
        )
        driver = Driver(
            transport=transport,
            ledger=self.ledger,
            job=job,
            items=items,
            planner=planner,
            resubmit_in_doubt=self._resubmit,
            on_event=self.on_event,
            on_stop=self.on_stop,
            control=self._control,
            hold=HoldChoice(self._hold, concurrency=self._concurrency, rate=self._rate),
        )
        self._last = driver
        return driver

    async def _go(self, driver: Driver) -> BatchSummary:
        self._running = True
        try:
            return await driver.run()
        finally:
            self._running = False


def _function_job(namespace: str, task: str, options: dict[str, Any]) -> Job:
    return Job("function", namespace, task, {k: v for k, v in options.items() if v is not None})


def _api_job(namespace: str, task: str, headers: Mapping[str, str] | None, options: dict[str, Any]) -> Job:
    return Job("api", namespace, task, {k: v for k, v in options.items() if v is not None}, headers)


class AsyncBatch(_BatchBase):
    """A durable batch over an ``AsyncTruebit`` (or any :class:`BatchTransport`); see :class:`_BatchBase`
    for the settings. One run at a time per ledger (and per process holding it).

    Cancelling the task that runs a batch (``task.cancel()``, ``asyncio.timeout``, Ctrl-C under
    ``asyncio.run``) is a graceful :meth:`stop`: the requests in flight end and are committed, then the
    run raises ``CancelledError``. Cancelling it again meanwhile abandons them (:meth:`abandon`). The
    run's summary stays readable with ``await batch.summary()``. Reading the ledger
    (:meth:`results`, :meth:`in_doubt`, :meth:`summary`) happens off the event loop."""

    def __init__(
        self, client: AsyncTruebit | BatchTransport, ledger: str | os.PathLike[str], **settings: Any
    ):
        super().__init__(ledger, **settings)
        self._transport = client if isinstance(client, BatchTransport) else AsyncClientTransport(client)

    async def __aenter__(self) -> AsyncBatch:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    async def results(self, order: Literal["input", "completion"] = "input") -> AsyncIterator[BatchRow]:
        """Every row, in input order (default) or completion order (ended rows only), read from the
        ledger page by page in a worker thread: ``async for row in batch.results(): ...``."""
        async for row in self._rows(order, None):
            yield row

    async def in_doubt(self) -> AsyncIterator[BatchRow]:
        """Rows whose submit may or may not have reached the service (see :meth:`Batch.in_doubt`)."""
        async for row in self._rows("input", RowState.IN_DOUBT):
            yield row

    async def summary(self) -> BatchSummary:
        """The ledger's counts now, with the last run's own figures (see :class:`BatchSummary`)."""
        return await asyncio.to_thread(self._summary_now, reader=True)

    async def _rows(
        self, order: Literal["input", "completion"], state: RowState | None
    ) -> AsyncIterator[BatchRow]:
        after: int | None = 0
        while after is not None:
            page, after = await asyncio.to_thread(self.ledger.page, order, state, after, reader=True)
            for row in page:
                yield row

    async def run_functions(
        self,
        namespace: str,
        task: str,
        inputs: Iterable[Any],
        *,
        version: int | None = None,
        label: str | None = None,
        total_solutions: int = 1,
        required_solutions: int | None = None,
        gas_limit: int | None = None,
    ) -> BatchSummary:
        """Run ``task`` on every input (a task input, or a ``BatchItem(key, input)``), submitted in
        async mode and collected by the batch's shared status reads. Returns when every row has
        ended or is in doubt; raises ``InputChangedError`` / ``DuplicateKeyError`` (after the requests
        in flight end) when an input does not match the ledger, ``LedgerError`` for another job's
        ledger, and the client's ``AuthenticationError`` / ``PaymentRequiredError``."""
        options = {
            "version": version,
            "label": label,
            "total_solutions": total_solutions,
            "required_solutions": required_solutions,
            "gas_limit": gas_limit,
        }
        job = _function_job(namespace, task, options)
        return await self._go(self._driver(self._transport, job, inputs))

    async def run_api_tasks(
        self,
        namespace: str,
        task: str,
        calls: Iterable[Mapping[str, Any] | Any],
        *,
        headers: Mapping[str, str] | None = None,
        execution_timeout: float | timedelta | None = None,
        version: int | None = None,
        label: str | None = None,
    ) -> BatchSummary:
        """Make every call (a mapping of ``api_tasks.submit``'s arguments: ``path``, ``method``,
        ``params``, ``headers``, ``body``...; or a ``BatchItem(key, mapping)``). ``headers`` are
        injected into every call (a call's own win); no header value is ever written to the ledger."""
        options = {"execution_timeout": execution_timeout, "version": version, "label": label}
        job = _api_job(namespace, task, headers, options)
        return await self._go(self._driver(self._transport, job, calls))


class Batch(_BatchBase):
    """:class:`AsyncBatch` for a blocking ``Truebit`` client: the same methods without ``await``.

    It runs the same async driver on a private event loop, with the client's blocking calls on a pool
    of ``concurrency`` threads. One driver instead of a hand-written threaded twin: the scheduling, the
    ledger's write ordering and the crash rules exist once, so the two flavours cannot drift.

    Ctrl-C: run in the main thread of a program that left SIGINT to Python (``KeyboardInterrupt``), a
    first Ctrl-C is a graceful :meth:`stop` and a second abandons the requests in flight
    (:meth:`abandon`); once the run has ended, ``KeyboardInterrupt`` is raised, and
    :meth:`summary` tells what the run did. A program with its own SIGINT or SIGTERM handler calls
    :meth:`stop` / :meth:`abandon` from it (``truebit batch`` does)."""

    def __init__(self, client: Truebit | BatchTransport, ledger: str | os.PathLike[str], **settings: Any):
        super().__init__(ledger, **settings)
        self._client = client

    def __enter__(self) -> Batch:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def run_functions(self, namespace: str, task: str, inputs: Iterable[Any], **options: Any) -> BatchSummary:
        """See :meth:`AsyncBatch.run_functions`."""
        allowed = {"version", "label", "total_solutions", "required_solutions", "gas_limit"}
        _check_options(options, allowed)
        defaults = {"total_solutions": 1}
        return self._run(_function_job(namespace, task, {**defaults, **options}), inputs)

    def run_api_tasks(
        self,
        namespace: str,
        task: str,
        calls: Iterable[Mapping[str, Any] | Any],
        *,
        headers: Mapping[str, str] | None = None,
        **options: Any,
    ) -> BatchSummary:
        """See :meth:`AsyncBatch.run_api_tasks`."""
        _check_options(options, {"execution_timeout", "version", "label"})
        return self._run(_api_job(namespace, task, headers, options), calls)

    def results(self, order: Literal["input", "completion"] = "input") -> Iterator[BatchRow]:
        """Every row, in input order (default) or in completion order (ended rows only), read from
        the ledger page by page."""
        return self.ledger.rows(order)

    def summary(self) -> BatchSummary:
        """The ledger's counts now, with the last run's own figures (see :class:`BatchSummary`)."""
        return self._summary_now()

    def in_doubt(self) -> Iterator[BatchRow]:
        """Rows whose submit may or may not have reached the service: check your account (or their
        targets) before resubmitting them with ``resubmit_in_doubt=True``."""
        return self.ledger.rows(state=RowState.IN_DOUBT)

    def _run(self, job: Job, items: Iterable[Any]) -> BatchSummary:
        if isinstance(self._client, BatchTransport):
            transport: BatchTransport = self._client
            threaded = None
        else:
            transport = threaded = ThreadedClientTransport(self._client, self._concurrency)
        try:
            with graceful_sigint(self.stop, self.abandon) as interrupts:
                summary = _run_private_loop(self._go(self._driver(transport, job, items)))
        finally:
            if threaded is not None:
                threaded.close()
        if interrupts:
            raise KeyboardInterrupt  # after the run ended cleanly: batch.summary() tells what it did
        return summary


def _check_options(options: Mapping[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(options) - allowed)
    if unknown:
        raise ValidationError(unknown[0], f"not an option of a batch (known: {', '.join(sorted(allowed))})")


def _run_private_loop(coroutine: Any) -> BatchSummary:
    """Run the driver on a loop of its own: in this thread, or in a helper thread when this thread
    already runs a loop (a notebook), whose own work must not be blocked inside it."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        result: BatchSummary = asyncio.run(coroutine)
        return result
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = asyncio.run(coroutine)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target, name="truebit-batch")
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    summary: BatchSummary = box["result"]
    return summary
