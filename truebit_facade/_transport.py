"""What only I/O can do, for both drivers: the wall-clock bound of one attempt, the body size bound,
and the one mapping of transport exceptions to the flow's :class:`~._flow.Failure`.

httpx's timeouts restart with every byte, so a peer that drips its headers or body one byte a second
is never cut by them. The bound of one attempt is therefore enforced below httpx, in the network
backend of its connection pool: every connect, read and write of the attempt gets at most the time
left until the attempt's end (a context variable set by the driver around the exchange), and fails
with httpcore's own timeout error when none is left. This works the same for the blocking and the
asyncio pool, so the two drivers stay the same text. A caller's own ``http_client`` keeps its own
backend: then only httpx's timeouts and the streamed body's checks apply (documented).

The pairs below (sync and async) are the only hand-written twins of the package.
"""

from __future__ import annotations

import contextlib
import contextvars
import ssl
import threading
import time
import typing
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

import httpcore
import httpx

from ._flow import Failure

if TYPE_CHECKING:
    import asyncio

__all__ = ["BodyTooLarge", "attempt_deadline", "failure_of", "pool_transport", "pool_transport_async"]

_ATTEMPT_END: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "truebit_attempt_end", default=None
)


class BodyTooLarge(Exception):
    pass


@contextlib.contextmanager
def attempt_deadline(total: float | None) -> Iterator[None]:
    """Every socket operation inside ends by ``total`` seconds from now (real monotonic time)."""
    token = _ATTEMPT_END.set(None if total is None else time.monotonic() + total)
    try:
        yield
    finally:
        _ATTEMPT_END.reset(token)


def _clip(timeout: float | None, error: type[Exception]) -> float | None:
    end = _ATTEMPT_END.get()
    if end is None:
        return timeout
    left = end - time.monotonic()
    if left <= 0:
        raise error("the attempt's wall-clock bound was reached")
    return left if timeout is None else min(timeout, left)


def failure_of(exc: BaseException) -> Failure:
    """The one place that says what a transport exception means for the call."""
    detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    if isinstance(exc, BodyTooLarge):
        return Failure("too_large", sent=True, detail=str(exc))
    if isinstance(
        exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout | httpx.UnsupportedProtocol
    ):
        return Failure("connect", sent=False, detail=detail)  # nothing left this machine
    if isinstance(exc, httpx.TimeoutException):
        return Failure("timeout", sent=True, detail=detail)
    if isinstance(exc, httpx.TransportError):
        return Failure("dropped", sent=True, detail=detail)
    return Failure("unreadable", sent=True, detail=detail)  # bad gzip, redirects, too many headers


#: What the drivers ask for: the two codings whose decompression can be bounded here.
ACCEPT_ENCODING: Final = "gzip, deflate"


class BoundedDecoder:
    """The body as the peer encoded it, decoded with a bound on the *decoded* size.

    httpx decodes each received chunk whole, so one 64 KiB chunk of a gzip bomb becomes 64 MiB before
    anyone can count it; here each chunk is inflated with ``max_length`` set to the room left."""

    def __init__(self, response: httpx.Response, limit: int) -> None:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit and not response.headers.get("content-encoding"):
            raise _too_large(limit)
        codings = [c.strip().lower() for c in response.headers.get("content-encoding", "").split(",")]
        codings = [c for c in codings if c and c != "identity"]
        if len(codings) > 1 or (codings and codings[0] not in ("gzip", "x-gzip", "deflate")):
            raise httpx.DecodingError(f"unsupported content-encoding {', '.join(codings)!r}")
        self._coding = codings[0] if codings else None
        self._inflate = None if self._coding is None else zlib.decompressobj(_WBITS[self._coding])
        self._limit, self._size, self._first = limit, 0, True

    def feed(self, data: bytes) -> bytes:
        if self._inflate is not None:
            try:
                out = self._inflate.decompress(data, self._limit - self._size + 1)
            except zlib.error as exc:
                if not (self._first and self._coding == "deflate"):
                    raise httpx.DecodingError(f"invalid {self._coding} data: {exc}") from None
                self._inflate = zlib.decompressobj(-zlib.MAX_WBITS)  # a raw deflate stream
                out = self._inflate.decompress(data, self._limit - self._size + 1)
            if self._inflate.unconsumed_tail:  # the output stopped at the bound: there is more
                raise _too_large(self._limit)
        else:
            out = data
        self._first = False
        self._size += len(out)
        if self._size > self._limit:
            raise _too_large(self._limit)
        return out

    def flush(self) -> bytes:
        return b"" if self._inflate is None else self.feed(b"") + self._inflate.flush()


def _in_memory(response: httpx.Response, limit: int) -> bytes:
    if len(response.content) > limit:
        raise _too_large(limit)
    return response.content


_WBITS = {"gzip": 16 + zlib.MAX_WBITS, "x-gzip": 16 + zlib.MAX_WBITS, "deflate": zlib.MAX_WBITS}


def _too_large(limit: int) -> BodyTooLarge:
    return BodyTooLarge(f"the answer is larger than the {limit} bytes allowed (max_response_bytes)")


# --- the blocking pool ---------------------------------------------------------------------


class _Stream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _clip(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _clip(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return _Stream(
            self._inner.start_tls(ssl_context, server_hostname, _clip(timeout, httpcore.ConnectTimeout))
        )

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        timeout = _clip(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: typing.Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        timeout = _clip(timeout, httpcore.ConnectTimeout)
        return _Stream(self._inner.connect_unix_socket(path, timeout, socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def pool_transport(max_connections: int) -> httpx.HTTPTransport:
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    transport = httpx.HTTPTransport(limits=limits)
    pool = transport._pool
    pool._network_backend = _Backend(pool._network_backend)  # see the module doc
    return transport


def slots(n: int) -> threading.BoundedSemaphore:
    """At most ``n`` exchanges at once, counted before an attempt's clock starts, so that a request
    queued behind others never spends its own bound (a held sync request would lose its id)."""
    return threading.BoundedSemaphore(n)


def acquire(slots: threading.BoundedSemaphore, timeout: float | None) -> bool:
    return slots.acquire(timeout=timeout)


def body(response: httpx.Response, limit: int) -> bytes:
    """The decoded body, at most ``limit`` bytes: stops reading, and raises, past it."""
    decoder = BoundedDecoder(response, limit)
    try:
        chunks = [decoder.feed(raw) for raw in response.iter_raw()]
    except httpx.StreamConsumed:  # built in memory, not read from a socket (a mock transport's answer)
        return _in_memory(response, limit)
    chunks.append(decoder.flush())
    return b"".join(chunks)


# --- the asyncio pool ----------------------------------------------------------------------


class _AsyncStream(httpcore.AsyncNetworkStream):
    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, _clip(timeout, httpcore.ReadTimeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, _clip(timeout, httpcore.WriteTimeout))

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        timeout = _clip(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _AsyncBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, inner: httpcore.AsyncNetworkBackend) -> None:
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        timeout = _clip(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._inner.connect_tcp(host, port, timeout, local_address, socket_options))

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: typing.Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        timeout = _clip(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def pool_transport_async(max_connections: int) -> httpx.AsyncHTTPTransport:
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    transport = httpx.AsyncHTTPTransport(limits=limits)
    pool = transport._pool
    pool._network_backend = _AsyncBackend(pool._network_backend)
    return transport


def slots_async(n: int) -> asyncio.Semaphore:
    import asyncio

    return asyncio.Semaphore(n)


async def acquire_async(slots: asyncio.Semaphore, timeout: float | None) -> bool:
    import asyncio

    try:
        await asyncio.wait_for(slots.acquire(), timeout)
    except TimeoutError:
        return False
    return True


async def body_async(response: httpx.Response, limit: int) -> bytes:
    decoder = BoundedDecoder(response, limit)
    try:
        chunks = [decoder.feed(raw) async for raw in response.aiter_raw()]
    except httpx.StreamConsumed:
        return _in_memory(response, limit)
    chunks.append(decoder.flush())
    return b"".join(chunks)
