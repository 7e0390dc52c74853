"""The ledger's writes during a run, and their commits: the request tasks record their writes and
events; the driver's loop applies them (only one task ever touches the connection), commits, and
emits each event once the commit that made its write durable is done.

A commit runs on the loop while commits are quick (a flush of a few pages: no thread to wake, and
the GIL is not passed back and forth), and in a thread of its own once one was slow (a disk that
takes its time to flush), so that the loop is not frozen meanwhile: the requests in flight go on,
their writes waiting here for the next transaction.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from ._records import BatchEvent

if TYPE_CHECKING:
    from ._ledger import Ledger

__all__ = ["SLOW_COMMIT", "Commits"]

#: A commit that took longer than this (seconds) moves the next one to a thread.
SLOW_COMMIT = 0.002


class _Deferred:
    """The ledger's write methods, recorded to be applied later by :meth:`Commits.apply`."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self.writes: list[tuple[Callable[..., None], tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Callable[..., None]:
        method = getattr(self._ledger, name)

        def record(*args: Any, **kwargs: Any) -> None:
            self.writes.append((method, args, kwargs))

        return record


class Commits:
    """See the module docstring. ``deferred`` takes the requests' writes (``deferred.mark_...``),
    :meth:`emit` their events."""

    def __init__(self, ledger: Ledger) -> None:
        self._ledger = ledger
        self.deferred: Any = _Deferred(ledger)
        self._events: list[BatchEvent] = []  # made with writes not yet applied
        self._applied: list[BatchEvent] = []  # their writes applied, not yet committed
        self._durable: list[BatchEvent] = []  # committed: to emit
        self._thread: ThreadPoolExecutor | None = None
        self._seconds = 0.0  # the last commit's

    @property
    def pending(self) -> bool:
        """Writes or events not yet durable."""
        return bool(self._ledger.dirty or self._events or self._applied or self.deferred.writes)

    def emit(self, event: BatchEvent, *, durable: bool = False) -> None:
        """``event`` once the writes made with it are committed (``durable``: they are already)."""
        (self._durable if durable else self._events).append(event)

    def apply(self) -> None:
        """The recorded writes into the open transaction (their events then await its commit)."""
        writes, self.deferred.writes = self.deferred.writes, []
        for method, args, kwargs in writes:
            method(*args, **kwargs)
        self._applied.extend(self._events)
        self._events = []

    async def commit(self, on_cancel: Callable[[], None]) -> None:
        """Commit what :meth:`apply` wrote. Cancelled while a commit runs in its thread, it still
        waits for it (nothing may touch the connection meanwhile) and calls ``on_cancel``."""
        if self._seconds < SLOW_COMMIT:
            self._timed()
        else:
            if self._thread is None:
                self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="truebit-ledger")
            done = asyncio.get_running_loop().run_in_executor(self._thread, self._timed)
            while True:
                try:
                    await asyncio.shield(done)
                    break
                except asyncio.CancelledError:
                    if done.done() and not done.cancelled():
                        done.result()
                        break
                    on_cancel()
        self._committed()

    def commit_now(self) -> None:
        """Apply and commit on this thread (the run's end)."""
        self.apply()
        self._ledger.commit()
        self._committed()

    def _timed(self) -> None:
        began = time.perf_counter()
        self._ledger.commit()
        self._seconds = time.perf_counter() - began

    def _committed(self) -> None:
        self._durable.extend(self._applied)
        self._applied = []

    def durable(self) -> list[BatchEvent]:
        """The events made durable since the last call, to emit."""
        events, self._durable = self._durable, []
        return events

    def close(self) -> None:
        if self._thread is not None:
            self._thread.shutdown(wait=True)
            self._thread = None
