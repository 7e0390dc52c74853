"""What the tests share: one virtual clock, and builders and readers over the pure wire layer.

The clock stands in for both the monotonic clock and sleeping: a test passes it as ``clock=`` and its
``sleep``/``asleep`` as ``sleep=``, so nothing waits and time-bound assertions never depend on the
machine's speed.
"""

from __future__ import annotations

import contextlib
import enum
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from truebit_facade._answers import API, FUNCTION, read_execute, read_status
from truebit_facade._failures import status_error
from truebit_facade._models import ApiTaskResult, Execution, FunctionResult, TaskKind
from truebit_facade._wire import Answer, Operation, api_request, function_request

__all__ = [
    "Answer",
    "VirtualClock",
    "api_body",
    "function_body",
    "read_answer",
    "silent_server",
    "unknown_value",
]


def function_body(*args: Any, requester_timestamp: int | None = None, **kw: Any) -> dict[str, Any]:
    stamp = int(time.time()) if requester_timestamp is None else requester_timestamp
    body: dict[str, Any] = function_request(*args, requester_timestamp=stamp, **kw).body_json()
    return body


def api_body(*args: Any, **kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = api_request(*args, **kw).body_json()
    return body


def read_answer(
    answer: Answer, kind: TaskKind, op: Operation, *, execution_id: str | None = None
) -> FunctionResult | ApiTaskResult | Execution:
    """What the client makes of one answer: the result, or the error it raises."""
    if not 200 <= answer.status < 300:
        raise status_error(answer, op, execution_id=execution_id)
    if op == "execute":
        return read_execute(answer, FUNCTION) if kind == "function" else read_execute(answer, API)
    if execution_id is None:
        try:
            said = json.loads(answer.content).get("executionId")
        except (ValueError, AttributeError, RecursionError):
            said = None
        execution_id = said if isinstance(said, str) else "e"
    if kind == "function":
        return read_status(answer, FUNCTION, execution_id)
    return read_status(answer, API, execution_id)


def unknown_value(vocabulary: type[enum.Enum], hint: str = "Cancelled") -> str:
    """A status value the spec does not have: ``hint`` unless a bump has added it since."""
    known = {m.value for m in vocabulary}
    return next(v for v in (hint, f"{hint}-next", f"{hint}-{len(known)}-x") if v not in known)


class VirtualClock:
    """A monotonic clock that only moves when something sleeps on it."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0
        self.sleeps.append(seconds)
        self.now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)


#: Runs the ``truebit`` command with SIGINT and SIGTERM *ignored* (set before exec, as a parent shell
#: or a CI runner may leave them): its own handlers are what makes them work.
CLI_WITH_SIGNALS_IGNORED = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "os.execv(sys.executable, [sys.executable, '-m', 'truebit_facade.cli', *sys.argv[1:]])"
)


def cli_with_signals_ignored(*args: str) -> list[str]:
    """The command line of ``truebit *args`` started with SIGINT and SIGTERM ignored."""
    import sys

    return [sys.executable, "-c", CLI_WITH_SIGNALS_IGNORED, *args]


class LoopbackServer:
    """A server on 127.0.0.1 that reads each request (into ``requests``) and answers it with
    ``answer(request)``, then closes; with no ``answer`` it never answers and keeps the connection
    (in ``held``)."""

    def __init__(self, answer: Callable[[bytes], bytes] | None = None) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._answer = answer
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.requests: list[bytes] = []
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            self.requests.append(conn.recv(65536))
            if self._answer is None:
                self.held.append(conn)
            else:
                with conn:
                    conn.sendall(self._answer(self.requests[-1]))

    def close(self) -> None:
        self._listener.close()
        for conn in self.held:
            conn.close()


@contextlib.contextmanager
def silent_server() -> Iterator[tuple[str, list[socket.socket]]]:
    """A :class:`LoopbackServer` that never answers: ``(url, connections held)``. Each held request
    would wait for the client's bound of its hold (60 + 15 s)."""
    server = LoopbackServer()
    try:
        yield server.url, server.held
    finally:
        server.close()


def abandon_held(args: list[str], held: list[socket.socket], count: int) -> str:
    """Run ``args`` (a Python child that installs the default SIGINT handler), wait until ``count``
    of its requests are held by :func:`silent_server`, then send a stop and an abandon (two
    SIGINTs); its stdout, once it has exited (far below the holds' 75 s, or the test fails)."""
    import signal
    import subprocess

    child = subprocess.Popen(args, stdout=subprocess.PIPE, text=True)
    try:
        limit = time.monotonic() + 60  # a bound against a stuck child, not a speed requirement
        while len(held) < count and time.monotonic() < limit:
            time.sleep(0.05)
        assert len(held) == count, f"the {count} requests never reached the server"
        child.send_signal(signal.SIGINT)  # a stop: it would wait for the holds...
        time.sleep(0.3)
        child.send_signal(signal.SIGINT)  # ...an abandon does not
        out, _ = child.communicate(timeout=40)
        return out
    finally:
        child.kill()
