"""Ending a batch's run from outside it: from another thread, a signal handler, or Ctrl-C.

Two levels, as for any interruption in this project:

* **stop** (``Batch.stop()``, a first SIGINT/SIGTERM, a first cancellation): start nothing new, let
  the requests in flight end within their own bounds (the client's per-request timeout), commit every
  answer. Nothing is left in doubt; the rows not reached stay ``pending``, the open executions
  ``submitted``: a resume goes on from there.
* **abandon** (``Batch.abandon()``, a second one): cancel the requests still in flight. A submit cut
  that way may or may not have reached the service: its row is marked ``in_doubt`` and counted
  (``BatchSummary.abandoned_this_run``).

:class:`RunControl` is what a batch holds: safe to call from any thread and from a signal handler
(it only sets a number and schedules a callback on the run's loop). :func:`graceful_sigint` gives a
blocking ``Batch`` run in the main thread Ctrl-C semantics of its own, when the program left SIGINT to
Python's default (``KeyboardInterrupt``).
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["ABANDON", "STOP", "RunControl", "graceful_sigint"]

STOP = 1
ABANDON = 2


class RunControl:
    """The stop level asked of the current run (0: none), and the way to tell its loop."""

    def __init__(self) -> None:
        self.level = 0
        self._lock = threading.Lock()
        self._loop: Any = None
        self._notify: Callable[[], None] | None = None
        self._in_flight: Callable[[], int] = lambda: 0

    def attach(self, loop: Any, notify: Callable[[], None], in_flight: Callable[[], int]) -> None:
        """A run starts on ``loop``; ``notify`` runs on it when asked to stop."""
        with self._lock:
            self._loop, self._notify, self._in_flight = loop, notify, in_flight

    def detach(self) -> None:
        """The run ended: the next one starts afresh."""
        with self._lock:
            self._loop = self._notify = None
            self._in_flight = lambda: 0
            self.level = 0

    def ask(self, level: int) -> int:
        """Ask the run to stop (:data:`STOP`) or abandon (:data:`ABANDON`); the number of requests
        in flight when asked. Between runs, the next run starts stopped (nothing is submitted)."""
        # No lock here: a signal handler may interrupt a thread holding it. Setting an int and
        # scheduling a callback are safe from anywhere.
        self.level = max(self.level, level)
        loop, notify = self._loop, self._notify
        if loop is not None and notify is not None:
            with contextlib.suppress(RuntimeError):  # the loop just closed: the run is over
                loop.call_soon_threadsafe(notify)
        return self._in_flight()


@contextlib.contextmanager
def graceful_sigint(stop: Callable[[], int], abandon: Callable[[], int]) -> Iterator[list[int]]:
    """While inside: a first Ctrl-C calls ``stop``, a second ``abandon`` (instead of raising
    ``KeyboardInterrupt`` wherever the program happens to be). Yields a list that counts them, so the
    caller can raise ``KeyboardInterrupt`` once the run has ended cleanly. Only in the main thread, and
    only when SIGINT is Python's default handler: a program's own handler (or an ignored SIGINT) is
    left alone, as ``asyncio.run`` does."""
    hits: list[int] = []
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield hits
        return

    def on_sigint(signum: int, frame: object) -> None:
        hits.append(signum)
        (stop if len(hits) == 1 else abandon)()

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield hits
    finally:
        signal.signal(signal.SIGINT, previous)
