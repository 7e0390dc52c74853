"""The one live status line of ``truebit`` (``run``, ``call``, ``status --wait`` and ``batch``): what the
command is doing, the execution's last status or a batch's counts, a note such as "finishing 3 requests
— Ctrl-C again to abandon them", and the elapsed time. Redrawn on stderr while the command works and
erased at the end, only when stderr is a terminal; :meth:`StatusLine.say` prints a lasting line
above it (or, off a terminal, just the line).

A leaf module (it imports nothing of the command's): the batch command uses it too."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import IO, Final, Protocol

TICK_FIRST: Final = 0.25  # no status line at all for an answer quicker than this
TICK_EVERY: Final = 0.1
BAR_WIDTH: Final = 24


class _HasStatus(Protocol):
    @property
    def execution_id(self) -> str: ...
    @property
    def status_value(self) -> str | None: ...


def finishing_note(in_flight: int) -> str:
    """What a first Ctrl-C leaves running, and how to stop it."""
    if in_flight == 1:
        return "finishing 1 request — Ctrl-C again to abandon it"
    return f"finishing {in_flight} requests — Ctrl-C again to abandon them"


class StatusLine:
    """A context manager; ``on_status`` is the client's callback that feeds it. The other setters
    (:meth:`execution`, :meth:`counts`, :meth:`note`, :meth:`finishing`) may be called from any
    thread: the line shows the latest values at its next tick."""

    def __init__(
        self,
        stream: IO[str],
        label: str,
        *,
        enabled: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._stream = stream
        self._label = label
        try:
            self._enabled = enabled and stream.isatty()
        except (AttributeError, ValueError, OSError):
            self._enabled = False
        self._clock = clock
        self._lock = threading.Lock()  # one writer at a time: the ticker and say()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._width = 0  # of the widest frame drawn, which the next frame and the wipe overwrite
        self._started = clock()
        self._detail = ""
        self._note = ""
        self._finishing_said = False

    @property
    def live(self) -> bool:
        """Whether the line is drawn (stderr is a terminal and the command did not turn it off)."""
        return self._enabled

    # --- what the line shows ---------------------------------------------------------------------

    def on_status(self, result: _HasStatus) -> None:
        """The client's ``on_status`` callback: the line shows the execution and its last status."""
        self.execution(result.execution_id, result.status_value or "no status")

    def execution(self, execution_id: str, status: str) -> None:
        """Show an execution and its status (``Submitted`` before the first status read)."""
        self._detail = f"  execution {execution_id}: {status}"

    def counts(self, counts: Mapping[str, int], *, done: int | None = None, total: int | None = None) -> None:
        """Show a batch's counts (``{"submitted": 3, "finished": 2, "in doubt": 0}``, in that order),
        with a bar when ``done`` of a known ``total`` are."""
        text = "  ".join(f"{name} {count}" for name, count in counts.items())
        if total and done is not None:
            filled = min(BAR_WIDTH, BAR_WIDTH * done // total)
            text = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done}/{total}  {text}"
        self._detail = "  " + text

    def note(self, text: str | None) -> None:
        """A note after the status or the counts (``None`` clears it)."""
        self._note = text or ""

    def finishing(self, in_flight: int) -> None:
        """After a first Ctrl-C: "finishing N requests — Ctrl-C again to abandon them", kept up to date
        on the line; off a terminal said once as a lasting line."""
        note = finishing_note(in_flight)
        self.note(note)
        if not self._enabled and not self._finishing_said:
            self._finishing_said = True
            self.say(f"truebit: {note}")

    def say(self, text: str) -> None:
        """A lasting line: on a terminal above the live line (which is redrawn under it)."""
        with self._lock:
            if self._width:
                self._write("\r" + " " * self._width + "\r")
            self._write(text.rstrip("\n") + "\n")
            if self._width:
                self._width = 0
                self._draw_locked()

    def render(self, columns: int | None = None) -> str:
        """The line's text now, cut to the terminal's width."""
        if columns is None:
            columns = shutil.get_terminal_size((80, 24)).columns
        room = max(columns - 1, 10)
        note = f"  — {self._note}" if self._note else ""
        head, tail = f"{self._label}{self._detail}", f"{note}  {self._clock() - self._started:.1f} s"
        if note and len(head) + len(tail) > room:  # the note is what the user must see: the counts give way
            head = head[: max(room - len(tail), 0)]
        return (head + tail)[:room]

    # --- drawing ---------------------------------------------------------------------------------

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
        with self._lock:
            if self._width:
                self._write("\r" + " " * self._width + "\r")
                self._width = 0

    def _loop(self) -> None:
        if self._stop.wait(TICK_FIRST):
            return
        while True:
            with self._lock:
                self._draw_locked()
            if self._stop.wait(TICK_EVERY):
                return

    def _draw_locked(self) -> None:
        text = self.render()
        self._write("\r" + text.ljust(self._width))
        self._width = max(self._width, len(text))

    def _write(self, text: str) -> None:
        try:
            try:
                self._stream.write(text)
            except UnicodeEncodeError:  # a narrow locale: the dash as a hyphen, anything else as '?'
                encoding = getattr(self._stream, "encoding", None) or "ascii"
                text = text.replace("—", "-").encode(encoding, "replace").decode(encoding)
                self._stream.write(text)
            self._stream.flush()
        except (ValueError, OSError):
            pass
