"""Running many calls with bounded concurrency: the two shells that cannot be derived from each
other mechanically (asyncio workers for the async client, a thread pool for the sync one), and the
check of what ``run_many`` is given.

Interruption is per ``run_many``: each creates its own token, which its calls check at every step.
Nothing is client-wide, so an interrupted ``run_many`` leaves the client as it was, and two threads
running ``run_many`` on one client never touch each other's calls.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from ._errors import TruebitError, ValidationError

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


async def gather_bounded(
    calls: Sequence[Callable[[], Awaitable[T]]], concurrency: int, token: threading.Event
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
        token.set()
        for w in workers:
            w.cancel()
        raise
    return results


def map_bounded(
    calls: Sequence[Callable[[], T]], concurrency: int, token: threading.Event
) -> list[T | TruebitError]:
    """Run every call on at most ``concurrency`` threads; results or ``TruebitError``s in order.

    On an interruption (Ctrl-C) ``token`` is set, so the calls still running stop at their next step
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
    pool = ThreadPoolExecutor(max_workers=min(concurrency, len(calls)), thread_name_prefix="truebit")
    try:
        futures = [pool.submit(guarded, call) for call in calls]
        results = [future.result() for future in futures]
    except BaseException:
        token.set()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    return results
