"""Running many calls with bounded concurrency: the two shells that cannot be derived from each
other mechanically (asyncio workers for the async client, a thread pool for the sync one), and the
check of what ``run_many`` is given.

Interruption is per ``run_many``: each creates its own token, which its calls check at every step.
Nothing is client-wide, so an interrupted ``run_many`` leaves the client as it was, and two threads
running ``run_many`` on one client never touch each other's calls.

Graceful, as for batches: a first Ctrl-C (sync) or cancellation (async) starts no new call and sets the
token, so each call in flight ends after its current request (a submit still on the wire gets its
answer, hence its execution id) with ``CallInterruptedError`` carrying that id; then the interruption
is raised with ``results`` attached (a result, an error, or ``None`` for a call never started) and a
note naming the executions that may still be running. A second one abandons the calls still in
flight (their requests are cut: their tasks may have been submitted) and says how many.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ._errors import TruebitError, ValidationError
from ._redact import logger

if TYPE_CHECKING:
    from concurrent.futures import Future

T = TypeVar("T")


def check_inputs(field: str, inputs: object, *, item: type[Mapping[str, Any]] | None) -> list[Any]:
    """``inputs`` as a list, checked before anything is sent: an iterable that is not a string (a
    string would run one task per character), with mappings when ``item`` says so."""
    if isinstance(inputs, str | bytes | bytearray | Mapping) or not isinstance(inputs, Iterable):
        what = type(inputs).__name__
        raise ValidationError(
            field, f"must be a list (or other iterable) of inputs, not a {what}; wrap one input in a list"
        )
    items = list(inputs)
    if item is not None:
        for i, value in enumerate(items):
            if not isinstance(value, item):
                raise ValidationError(
                    f"{field}[{i}]",
                    f"must be a mapping of run()'s keyword arguments, not {type(value).__name__}",
                )
    return items


def _check(concurrency: object) -> int:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValidationError("concurrency", "must be a positive integer")
    return concurrency


def _interrupted(exc: BaseException, results: list[Any], abandoned: int) -> BaseException:
    """``exc`` with what ``run_many`` knew when it stopped: ``results`` and a note of the ids."""
    exc.results = results  # type: ignore[attr-defined]
    ids = [getattr(r, "execution_id", None) for r in results if r is not None]
    running = [i for i in ids if i]
    if running:
        shown = ", ".join(running[:20]) + (" ..." if len(running) > 20 else "")
        exc.add_note(f"run_many stopped; its executions (collect the unfinished with wait()): {shown}")
    if abandoned:
        exc.add_note(f"run_many abandoned {abandoned} calls in flight: their tasks may have been submitted")
    return exc


async def gather_bounded(
    calls: Sequence[Callable[[], Awaitable[T]]], concurrency: int, token: threading.Event
) -> list[T | TruebitError]:
    """Await every call, at most ``concurrency`` at once; results or ``TruebitError``s in order.
    Cancelled: see the module docstring (first graceful, second abandons). Other exceptions (bugs)
    propagate after the running calls are cancelled."""
    import asyncio

    _check(concurrency)
    results: list[T | TruebitError] = [None] * len(calls)  # type: ignore[list-item]
    next_index = iter(range(len(calls)))
    running = [0]

    async def worker() -> None:
        for i in next_index:
            if token.is_set():
                return
            running[0] += 1
            try:
                results[i] = await calls[i]()
            except TruebitError as exc:
                results[i] = exc
            finally:
                running[0] -= 1

    workers = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, len(calls)))]
    cancelled: asyncio.CancelledError | None = None
    try:
        while True:
            try:
                # wait(), not gather(): a cancellation of this task must not reach the workers.
                await asyncio.wait(workers)
                break
            except asyncio.CancelledError as exc:
                if cancelled is not None:
                    raise  # the second: abandon (below)
                cancelled = exc
                token.set()  # the first: calls in flight end after their current request
    except BaseException as exc:
        token.set()
        abandoned = running[0]
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        error = _interrupted(exc, list(results), abandoned)
        if abandoned and isinstance(exc, asyncio.CancelledError):
            # asyncio.run() drops the CancelledError (and its notes) and raises a bare
            # KeyboardInterrupt: a warning on the package's logger is what the user gets to see.
            logger.warning("truebit: %s", error.__notes__[-1])
        raise error from None
    for w in workers:
        if not w.cancelled() and w.exception() is not None:
            raise w.exception()  # type: ignore[misc]
    if cancelled is not None:
        raise _interrupted(cancelled, list(results), 0)
    return results


def map_bounded(
    calls: Sequence[Callable[[], T]], concurrency: int, token: threading.Event
) -> list[T | TruebitError]:
    """Run every call on at most ``concurrency`` threads; results or ``TruebitError``s in order.

    Ctrl-C: see the module docstring. The first sets ``token`` and waits for the calls in flight to
    end after their current request; the second stops waiting for them."""
    _check(concurrency)

    def guarded(call: Callable[[], T]) -> T | TruebitError:
        try:
            return call()
        except TruebitError as exc:
            return exc

    if not calls:
        return []
    futures, stop = _daemon_map(guarded, calls, min(concurrency, len(calls)))
    try:
        results = [future.result() for future in futures]
    except BaseException as exc:
        token.set()
        stop()  # nothing new starts; the calls not started are cancelled
        if not isinstance(exc, KeyboardInterrupt):
            raise
        try:  # graceful: the calls in flight end after their current request
            for future in futures:
                if not future.cancelled():
                    future.exception()
        except KeyboardInterrupt as again:  # the second Ctrl-C: stop waiting
            abandoned = sum(not f.done() for f in futures)
            raise _interrupted(again, _collected(futures), abandoned) from None
        raise _interrupted(exc, _collected(futures), 0) from None
    return results


def _daemon_map(
    fn: Callable[[Callable[[], T]], T | TruebitError], calls: Sequence[Callable[[], T]], workers: int
) -> tuple[list[Future[T | TruebitError]], Callable[[], None]]:
    """``fn(call)`` for every call on ``workers`` *daemon* threads: futures in order, and what stops
    the threads taking new calls. Not a ``ThreadPoolExecutor``: its threads are joined when the
    interpreter exits, so calls abandoned by a second Ctrl-C (a held submit waiting for its answer)
    would keep the program alive until they end, after it said it stopped waiting."""
    from concurrent.futures import Future  # on first use: not every program runs many calls

    futures: list[Future[T | TruebitError]] = [Future() for _ in calls]
    lock = threading.Lock()
    order = iter(range(len(calls)))
    stopped = threading.Event()

    def work() -> None:
        while not stopped.is_set():
            with lock:
                index = next(order, None)
            if index is None:
                return
            future = futures[index]
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn(calls[index]))
            except BaseException as exc:  # handed to the caller, whatever it is
                future.set_exception(exc)

    def stop() -> None:
        stopped.set()
        for future in futures:
            future.cancel()  # only those not started yet

    for n in range(workers):
        threading.Thread(target=work, name=f"truebit_{n}", daemon=True).start()
    return futures, stop


def _collected(futures: list[Any]) -> list[Any]:
    return [f.result() if f.done() and not f.cancelled() else None for f in futures]
