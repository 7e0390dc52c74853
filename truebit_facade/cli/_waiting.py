"""Waiting for an execution with the live line, and never losing its id to a Ctrl-C.

``run`` and ``call`` wait one of two ways (docs/cli.md, "Waiting and Ctrl-C"):

* **poll** (the default when stdin or stderr is a terminal, where someone may press Ctrl-C): submit in
  async mode, which answers at once with the execution id, then poll its status. A Ctrl-C at any time
  after that prints the id and the command that resumes. A Ctrl-C during the submit itself lets that
  one short request finish (a second Ctrl-C abandons it), so its answer, the id, is not lost either.
  It costs one more request than sync mode for a task that ends within the hold.
* **sync** (the default otherwise): one request that the service holds until the task ends (up to its
  60 s hold), then polling. A Ctrl-C during the hold cannot know the execution id.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any, Literal

from .._models import ApiTaskResult, FunctionResult
from .._settings import DEFAULT, Timeout
from .._sync_client import Truebit
from ._render import Output, finish, interrupted
from ._status_line import StatusLine

Result = FunctionResult | ApiTaskResult
Mode = Literal["poll", "sync"]


def on_terminal() -> bool:
    """Whether someone may be at a terminal to press Ctrl-C: stdin or stderr is one."""
    for stream in (sys.stdin, sys.stderr):
        try:
            if stream is not None and stream.isatty():
                return True
        except (AttributeError, ValueError, OSError):
            pass
    return False


def mode(chosen: Mode | None) -> Mode:
    """``--poll`` / ``--sync`` as given, else poll on a terminal and sync off one."""
    if chosen is not None:
        return chosen
    return "poll" if on_terminal() else "sync"


def wait(out: Output, label: str, call: Callable[[Callable[[Any], object]], Result]) -> int:
    """Wait with the status line (``call`` gets its ``on_status``); the result, failed or not, is
    rendered by :func:`finish`."""
    started = time.monotonic()
    with out.status_line(label) as line:
        result = call(line.on_status)
    return finish(out, result, time.monotonic() - started)


def submit_then_wait(
    out: Output,
    label: str,
    client: Truebit,
    submit: Callable[[], Any],
    wait_for: Callable[..., Result],
    *,
    timeout: Timeout,
    api: bool,
) -> int:
    """Poll mode: ``submit()`` (an :class:`~truebit_facade.Execution`), then ``wait_for(id, ...)``, all
    within ``timeout`` (the client's wait timeout by default). Ctrl-C after the submit answered prints
    the execution id and how to resume."""
    clock = client.settings.clock
    started = clock()
    total = client.settings.wait_timeout if timeout is DEFAULT else timeout  # --timeout: seconds or none
    assert total is None or isinstance(total, float | int)
    execution_id: str | None = None
    try:
        with out.status_line(label) as line:
            with finishing_first(line):
                execution_id = submit().execution_id
            line.execution(execution_id, "Submitted")
            left = None if total is None else max(0.0, total - (clock() - started))
            result = wait_for(execution_id, timeout=left, raise_on_failure=False, on_status=line.on_status)
    except KeyboardInterrupt:
        if execution_id is None:
            raise
        return interrupted(out, execution_id=execution_id, api=api, submitting=False)
    return finish(out, result, clock() - started)


@contextlib.contextmanager
def finishing_first(line: StatusLine) -> Iterator[None]:
    """A first Ctrl-C during the block lets it finish (it is one short request whose answer must not be
    lost), then interrupts; a second Ctrl-C interrupts at once. Only where Ctrl-C would have raised
    ``KeyboardInterrupt`` anyway: in the main thread, with Python's own SIGINT handler in place."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    pending = False

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        nonlocal pending
        if pending:
            raise KeyboardInterrupt
        pending = True
        with contextlib.suppress(RuntimeError):  # a write this handler interrupted: the line shows it
            line.finishing(1)

    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pending:
        raise KeyboardInterrupt
