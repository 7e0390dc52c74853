"""Running many calls with bounded concurrency: the two shells that cannot be derived from each
other mechanically (asyncio workers for the async client, a thread pool for the sync one)."""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from ._errors import TruebitError, ValidationError

T = TypeVar("T")


def _check(concurrency: int) -> None:
    if isinstance(concurrency, bool) or not isinstance(concurrency, int) or concurrency < 1:
        raise ValidationError("concurrency", "must be a positive integer")


async def gather_bounded(
    calls: Sequence[Callable[[], Awaitable[T]]], concurrency: int, abort: threading.Event
) -> list[T | TruebitError]:
    """Await every call, at most ``concurrency`` at once; results or ``TruebitError``s in order.
    Other exceptions (bugs, cancellation) propagate after the running calls are cancelled."""
    import asyncio

    _check(concurrency)
    results: list[T | TruebitError] = [None] * len(calls)  # type: ignore[list-item]
    next_index = iter(range(len(calls)))

    async def worker() -> None:
        for i in next_index:
            try:
                results[i] = await calls[i]()
            except TruebitError as exc:
                results[i] = exc

    workers = [asyncio.ensure_future(worker()) for _ in range(min(concurrency, len(calls)))]
    try:
        await asyncio.gather(*workers)
    except BaseException:
        for w in workers:
            w.cancel()
        raise
    return results


def map_bounded(
    calls: Sequence[Callable[[], T]], concurrency: int, abort: threading.Event
) -> list[T | TruebitError]:
    """Run every call on at most ``concurrency`` threads; results or ``TruebitError``s in order.

    On an interruption (Ctrl-C) ``abort`` is set, so the calls still running stop at their next poll
    instead of waiting out their deadlines, and the interruption propagates at once."""
    from concurrent.futures import ThreadPoolExecutor

    _check(concurrency)

    def guarded(call: Callable[[], T]) -> T | TruebitError:
        try:
            return call()
        except TruebitError as exc:
            return exc

    if not calls:
        return []
    abort.clear()
    pool = ThreadPoolExecutor(max_workers=min(concurrency, len(calls)), thread_name_prefix="truebit")
    try:
        futures = [pool.submit(guarded, call) for call in calls]
        results = [future.result() for future in futures]
    except BaseException:
        abort.set()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return results
