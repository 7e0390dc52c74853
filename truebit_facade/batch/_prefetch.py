"""How a batch takes its inputs: on its loop, one at a time (:class:`OnLoop`, the default: the
iterator's code runs where the batch runs, and a stop leaves it exactly after the last input taken),
or read ahead in a thread of their own (:func:`read_ahead`, for a stream that may take its time: a
pipe whose writer pauses, a generator that waits for work). A stream read on the loop that blocks
holds the loop: no answer is committed and no stop is acted on until it yields.

The thread reads ahead at most :data:`READ_AHEAD` inputs. It is a daemon thread: a stop does not
wait for a read that may never return. The inputs it has read and the run has not taken are not
recorded, and they are gone from the iterator: a resume must read the stream again from its start
(as ``truebit batch --resume`` does), not go on with the same iterator object.
"""

from __future__ import annotations

import collections
import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Final

__all__ = ["NOT_YET", "READ_AHEAD", "OnLoop", "Prefetch", "read_ahead"]

#: The most inputs read ahead of the run.
READ_AHEAD: Final = 256
#: What :meth:`Prefetch.take` gives when no input is ready yet (the stream has not ended).
NOT_YET: Final = object()


class OnLoop:
    """``items`` taken on the loop, one at a time, as the run needs them (the default)."""

    def __init__(self, items: Iterable[Any]) -> None:
        self._items = iter(items)  # not an iterable: a TypeError here, before anything is written

    def start(self, wake: Callable[[], None]) -> None:
        pass

    def take(self) -> Any:
        return next(self._items)

    def close(self) -> None:
        pass


def read_ahead(items: Iterable[Any], size: int = READ_AHEAD) -> Prefetch:
    """``items`` for a batch, read ahead (at most ``size``) in a thread of their own: for a stream that
    may take its time, which would otherwise hold the batch's loop. The iterator's code then runs in
    that thread (an iterator tied to its thread, such as a SQLite cursor's, cannot be used), and after
    a stop, resume from the stream's start (see the module docstring)."""
    if size < 1:
        raise ValueError("size must be at least 1")
    return Prefetch(items, size)


class Prefetch:
    """``items`` read ahead in a daemon thread; :meth:`take` them on the loop. Made by
    :func:`read_ahead`; used once."""

    def __init__(self, items: Iterable[Any], read_ahead: int = READ_AHEAD) -> None:
        self._items = items
        self._read_ahead = read_ahead
        self._buffer: collections.deque[Any] = collections.deque()
        self._lock = threading.Condition(threading.Lock())
        self._ended = False  # the stream ended (or failed: _error)
        self._error: BaseException | None = None
        self._wanted = False  # the run found nothing ready and waits to be woken
        self._full = False  # the thread waits for room
        self._closed = False
        self._wake: Callable[[], None] = _nothing
        self._thread: threading.Thread | None = None

    def __iter__(self) -> Iterator[Any]:
        """Its items, read here (outside a batch, or a batch that was not given it yet)."""
        return iter(self._items)

    def start(self, wake: Callable[[], None]) -> None:
        """Start reading; ``wake()`` is called (from the thread) when an input the run waits for is
        ready, or the stream has ended."""
        self._wake = wake
        self._thread = threading.Thread(target=self._read, name="truebit-batch-inputs", daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            for item in self._items:
                with self._lock:
                    while len(self._buffer) >= self._read_ahead and not self._closed:
                        self._full = True
                        self._lock.wait()
                    if self._closed:
                        return
                    self._buffer.append(item)
                    wake, self._wanted = self._wanted, False
                if wake:
                    self._wake()
        except BaseException as exc:  # handed to the run, which stops on it (a bad input stream)
            error: BaseException | None = exc
        else:
            error = None
        with self._lock:
            self._ended, self._error = True, error
            wake, self._wanted = self._wanted, False
        if wake:
            self._wake()

    def take(self) -> Any:
        """The next input; :data:`NOT_YET` when none is ready (``wake`` will be called when one is);
        ``StopIteration`` at the end; the stream's own exception if it failed."""
        with self._lock:
            if self._buffer:
                item = self._buffer.popleft()
                if self._full and len(self._buffer) <= self._read_ahead // 2:
                    self._full = False
                    self._lock.notify()
                return item
            if self._ended:
                error, self._error = self._error, None
                if error is not None:
                    raise error
                raise StopIteration
            self._wanted = True
            return NOT_YET

    def close(self) -> None:
        """No more inputs wanted: the thread ends at its next input (or never, if it is stuck in a
        read; it is a daemon)."""
        with self._lock:
            self._closed = True
            self._wake = _nothing
            self._lock.notify_all()


def _nothing() -> None:
    pass


def loop_waker(loop: Any, wake: Callable[[], None]) -> Callable[[], None]:
    """``wake`` run on ``loop`` from any thread; nothing once the loop is closed (the run ended)."""

    def call() -> None:
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(wake)

    return call
