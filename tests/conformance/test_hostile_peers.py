"""The client's promises against hostile peers, on real sockets on 127.0.0.1: a server that drips its
answer one byte at a time, one that accepts and never answers, one that sends 200 MB or a gzip bomb;
and, against the sandbox in its own process, a fork pool and an interrupted ``run_many``.

Time bounds here are promises with wide margins (a deadline of 2 s must end well before 10 s; without
the bound these calls take minutes or never end), not speed measurements.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import multiprocessing
import signal
import socket
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from truebit_facade import (
    AsyncTruebit,
    MalformedResponseError,
    RequestTimeoutError,
    Truebit,
    TruebitError,
    WaitTimeoutError,
)

NS = "3a2b5129"
MARGIN = 8.0  # seconds a bounded call may take beyond its deadline on a busy machine, at most
Behaviour = Callable[[socket.socket], None]


@contextlib.contextmanager
def serve(behaviour: Behaviour) -> Iterator[str]:
    """A raw TCP server on 127.0.0.1 that runs ``behaviour`` on each connection, in a thread."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()
    conns: list[socket.socket] = []

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conns.append(conn)
            threading.Thread(target=_guarded, args=(behaviour, conn, stop), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stop.set()
        listener.close()
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.close()
        thread.join(5)


def _guarded(behaviour: Behaviour, conn: socket.socket, stop: threading.Event) -> None:
    conn.settimeout(0.5)
    with contextlib.suppress(OSError):
        _read_request(conn)
        behaviour_with_stop = getattr(behaviour, "with_stop", None)
        (behaviour_with_stop or (lambda c, s: behaviour(c)))(conn, stop)


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = next(
        (int(h.split(b":")[1]) for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")), 0
    )
    while len(rest) < length:
        rest += conn.recv(65536)


class Drip:
    """Headers then a body promised at 10,000 bytes, sent one byte every 0.2 s (or the headers too)."""

    def __init__(self, headers_too: bool = False) -> None:
        self.headers_too = headers_too

    def with_stop(self, conn: socket.socket, stop: threading.Event) -> None:
        head = b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 10000\r\n\r\n"
        data = head + b'{"executionId": "e1", "verificationStatus": "Running", "pad": "' + b"x" * 9000
        if not self.headers_too:
            conn.sendall(head)
            data = data[len(head) :]
        for i in range(len(data)):
            if stop.wait(0.2):
                return
            conn.sendall(data[i : i + 1])

    def __call__(self, conn: socket.socket) -> None:  # pragma: no cover - with_stop is used
        raise AssertionError


class BlackHole:
    def with_stop(self, conn: socket.socket, stop: threading.Event) -> None:
        stop.wait(120)

    def __call__(self, conn: socket.socket) -> None:  # pragma: no cover
        raise AssertionError


def huge(conn: socket.socket) -> None:
    size = 200 * 1024 * 1024
    conn.sendall(
        f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {size}\r\n\r\n".encode()
    )
    chunk = b" " * 65536
    with contextlib.suppress(OSError):
        for _ in range(size // len(chunk)):
            conn.sendall(chunk)


def huge_chunked(conn: socket.socket) -> None:  # no content-length: the limit must hold while streaming
    conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n")
    chunk = b" " * 65536
    with contextlib.suppress(OSError):
        for _ in range(200 * 16):
            conn.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))


BOMB = gzip.compress(b" " * (200 * 1024 * 1024), compresslevel=9)


def bomb(conn: socket.socket) -> None:
    head = f"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-encoding: gzip\r\ncontent-length: {len(BOMB)}\r\n\r\n"
    conn.sendall(head.encode() + BOMB)


def _timed(call: Callable[[], Any]) -> tuple[BaseException | None, float]:
    started = time.monotonic()
    try:
        call()
    except BaseException as exc:
        return exc, time.monotonic() - started
    return None, time.monotonic() - started


# --- the deadline bounds wall-clock time ----------------------------------------------------


@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "headers"])
def test_a_dripping_server_cannot_hold_wait_or_get(headers_too: bool) -> None:
    with serve(Drip(headers_too)) as url, Truebit(api_key="k-123456", base_url=url) as tb:
        error, took = _timed(lambda: tb.functions.wait("e1", timeout=2))
        assert isinstance(error, WaitTimeoutError) and took < 2 + MARGIN, (error, took)
        error, took = _timed(lambda: tb.functions.get("e1", timeout=2))
        assert isinstance(error, RequestTimeoutError | WaitTimeoutError) and took < 2 + MARGIN, (error, took)


def test_a_dripping_server_cannot_hold_the_async_client() -> None:
    async def main() -> tuple[BaseException | None, float]:
        async with AsyncTruebit(api_key="k-123456", base_url=url) as tb:
            started = time.monotonic()
            try:
                await tb.functions.wait("e1", timeout=2)
            except TruebitError as exc:
                return exc, time.monotonic() - started
            return None, time.monotonic() - started

    with serve(Drip()) as url:
        error, took = asyncio.run(main())
    assert isinstance(error, WaitTimeoutError) and took < 2 + MARGIN, (error, took)


@pytest.mark.parametrize("headers_too", [False, True], ids=["body", "headers"])
def test_a_dripping_server_cannot_hold_the_async_client_through_a_callers_http_client(
    headers_too: bool,
) -> None:
    """With a caller's own httpx.AsyncClient the attempt is bounded as a whole (an asyncio timeout)."""

    async def main() -> tuple[BaseException | None, float]:
        async with (
            httpx.AsyncClient() as http,
            AsyncTruebit(api_key="k-123456", base_url=url, http_client=http) as tb,
        ):
            started = time.monotonic()
            try:
                await tb.functions.get("e1", timeout=2)
            except TruebitError as exc:
                return exc, time.monotonic() - started
            return None, time.monotonic() - started

    with serve(Drip(headers_too)) as url:
        error, took = asyncio.run(main())
    assert isinstance(error, RequestTimeoutError) and took < 2 + MARGIN, (error, took)


def test_a_dripping_body_cannot_hold_the_blocking_client_through_a_callers_http_client() -> None:
    """With a caller's own httpx.Client the body's chunks are checked against the attempt's bound."""
    with (
        serve(Drip()) as url,
        httpx.Client() as http,
        Truebit(api_key="k-123456", base_url=url, http_client=http) as tb,
    ):
        error, took = _timed(lambda: tb.functions.get("e1", timeout=2))
    assert isinstance(error, RequestTimeoutError) and took < 2 + MARGIN, (error, took)


def test_a_black_hole_cannot_hold_run() -> None:
    with serve(BlackHole()) as url, Truebit(api_key="k-123456", base_url=url) as tb:
        error, took = _timed(lambda: tb.functions.run(NS, "fibonacci", "5", timeout=2))
    # In async mode (the deadline is shorter than the hold) the id comes at once or never.
    assert isinstance(error, RequestTimeoutError) and error.may_have_submitted, error
    assert took < 2 + MARGIN, took


# --- bounded answers ---------------------------------------------------------------------------


@pytest.mark.parametrize("behaviour", [huge, huge_chunked, bomb], ids=["200MB", "200MB-chunked", "gzip-bomb"])
def test_an_oversized_answer_is_refused_with_memory_bounded(behaviour: Behaviour) -> None:
    with serve(behaviour) as url, Truebit(api_key="k-123456", base_url=url, max_response_bytes=1 << 20) as tb:
        tracemalloc.start()
        try:
            with pytest.raises(MalformedResponseError, match="larger than the 1048576 bytes allowed"):
                tb.functions.get("e1")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert peak < 8 * 1024 * 1024, peak  # the limit and a few buffers; the rest is never read


# --- fork and interruption, against the sandbox in its own process -------------------------------


@pytest.fixture(scope="module")
def sandbox_process() -> Iterator[tuple[str, str]]:
    from truebit_facade.sandbox import sandbox_process

    # Tasks end within 2 s of wall clock: the loops an interrupted run_many leaves behind free their
    # execution slots quickly, whatever the machine's speed.
    with sandbox_process("--hold", "5", "--task-seconds", "2") as (url, key):
        yield url, key


_PARENT_CLIENT: Truebit | None = None
FIB = [0, 1]
for _ in range(60):
    FIB.append(FIB[-1] + FIB[-2])


def _in_child(n: int) -> tuple[int, str | None, str]:
    assert _PARENT_CLIENT is not None
    result = _PARENT_CLIENT.functions.run(NS, "fibonacci", str(n))
    return n, result.output, result.execution_id


@pytest.mark.timeout(120)
def test_a_client_used_before_fork_gives_each_child_its_own_answers(sandbox_process: tuple[str, str]) -> None:
    global _PARENT_CLIENT
    url, key = sandbox_process
    with Truebit(api_key=key, base_url=url) as tb:
        assert tb.functions.run(NS, "fibonacci", "10").output == "55"  # the parent's pool is open
        _PARENT_CLIENT = tb
        try:
            with multiprocessing.get_context("fork").Pool(4) as pool:
                answers = pool.map(_in_child, range(5, 45), chunksize=2)
        finally:
            _PARENT_CLIENT = None
        assert tb.functions.run(NS, "fibonacci", "12").output == "144"  # and the parent's still works
    assert [(n, out) for n, out, _ in answers] == [(n, str(FIB[n])) for n in range(5, 45)]
    assert len({eid for _, _, eid in answers}) == len(answers)  # no two children shared an answer


@pytest.mark.timeout(120)
def test_an_interrupted_run_many_leaves_the_client_usable(sandbox_process: tuple[str, str]) -> None:
    url, key = sandbox_process

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    # SIGALRM with our own handler: nothing depends on how the parent disposed of SIGINT.
    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        with Truebit(api_key=key, base_url=url) as tb:
            # Two Ctrl-Cs: the first lets the calls in flight finish, the second abandons them.
            signal.setitimer(signal.ITIMER_REAL, 0.3, 0.3)
            with pytest.raises(KeyboardInterrupt) as caught:
                try:
                    tb.functions.run_many(NS, "loop", ["x"] * 8, concurrency=8, gas_limit=10**15)
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
            assert any("abandoned" in note for note in caught.value.__notes__), caught.value.__notes__
            # A new call on the same client is not "interrupted" by the earlier run_many.
            assert tb.functions.run(NS, "fibonacci", "20").output == "6765"
            both = tb.functions.run_many(NS, "fibonacci", ["1", "2", "3"])
            assert [r.output for r in both] == ["1", "1", "2"]  # type: ignore[union-attr]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
