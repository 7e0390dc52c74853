"""The live status line: the command, the execution's last status and the elapsed time, redrawn on
stderr while waiting and erased at the end; only when stderr is a terminal."""

from __future__ import annotations

import shutil
import threading
import time
from types import TracebackType
from typing import IO, Final

from .._models import ApiTaskResult, FunctionResult

TICK_FIRST: Final = 0.25  # no status line at all for an answer quicker than this
TICK_EVERY: Final = 0.1


class StatusLine:
    """A context manager; ``on_status`` is the client's callback that feeds it."""

    def __init__(self, stream: IO[str], label: str, *, enabled: bool = True) -> None:
        self._stream = stream
        self._label = label
        try:
            self._enabled = enabled and stream.isatty()
        except (AttributeError, ValueError, OSError):
            self._enabled = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._width = 0
        self._started = time.monotonic()
        self._status = ""

    def on_status(self, result: FunctionResult | ApiTaskResult) -> None:
        """The client's ``on_status`` callback: the line shows the execution and its last status."""
        self._status = f"  execution {result.execution_id}: {result.status_value or 'no status'}"

    def __enter__(self) -> StatusLine:
        if self._enabled:
            self._thread = threading.Thread(target=self._loop, name="truebit-status-line", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            if self._width:
                self._write("\r" + " " * self._width + "\r")

    def _loop(self) -> None:
        if self._stop.wait(TICK_FIRST):
            return
        while True:
            elapsed = time.monotonic() - self._started
            columns = shutil.get_terminal_size((80, 24)).columns
            text = f"{self._label}{self._status}  {elapsed:.1f} s"[: max(columns - 1, 10)]
            self._write("\r" + text.ljust(self._width))
            self._width = max(self._width, len(text))
            if self._stop.wait(TICK_EVERY):
                return

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (ValueError, OSError):
            pass
