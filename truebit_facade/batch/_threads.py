"""The threads that run a ``Batch``'s blocking calls (``Truebit``'s requests) for its event loop.

Not a ``ThreadPoolExecutor``: its threads are joined when the interpreter exits, so a call that was
abandoned (a second Ctrl-C while a held submit waits for its answer) would keep the process alive for
the rest of its hold, up to a minute after the batch said it stopped. These are daemon threads, never
joined: an abandoned call is dropped with the process, as the batch already told (its row is in
doubt). Calls that were not abandoned have all ended before a run returns.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["DaemonThreads"]

T = TypeVar("T")

_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", Callable[[], Any]]


class DaemonThreads:
    """Up to ``workers`` daemon threads, started as calls need them."""

    def __init__(self, workers: int, name: str) -> None:
        self._workers = workers
        self._name = name
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._threads: list[threading.Thread] = []
        self._idle = 0
        self._lock = threading.Lock()
        self._closed = False

    def __repr__(self) -> str:
        return f"<DaemonThreads {self._name}: {len(self._threads)} of {self._workers}>"

    async def run(self, call: Callable[[], T]) -> T:
        """``call()`` in one of the threads; a cancellation leaves it running there (its answer is
        dropped)."""
        if self._closed:
            raise RuntimeError("the batch's threads are closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        with self._lock:
            if self._idle:  # an idle thread takes it
                self._idle -= 1
            elif len(self._threads) < self._workers:
                thread = threading.Thread(
                    target=self._work, name=f"{self._name}-{len(self._threads)}", daemon=True
                )
                self._threads.append(thread)
                thread.start()
        self._jobs.put((loop, future, call))
        return await future

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            loop, future, call = job
            try:
                outcome: tuple[bool, Any] = (True, call())
            except BaseException as exc:  # handed to the awaiting task, whatever it is
                outcome = (False, exc)
            with contextlib.suppress(RuntimeError):  # the loop is closed: the run that asked has ended
                loop.call_soon_threadsafe(_settle, future, outcome)
            with self._lock:
                self._idle += 1

    def close(self) -> None:
        """No new calls; idle threads end, busy ones end with their call (never waited for)."""
        self._closed = True
        for _ in self._threads:
            self._jobs.put(None)


def _settle(future: asyncio.Future[Any], outcome: tuple[bool, Any]) -> None:
    if future.done():  # cancelled meanwhile
        return
    ok, value = outcome
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)
