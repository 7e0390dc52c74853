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

import contextvars
import time
import zlib
from typing import Any, Final

import httpx

from ._flow import Failure

__all__ = [
    "BodyTooLarge",
    "begin_attempt",
    "end_attempt",
    "failure_of",
    "pool_transport",
    "pool_transport_async",
]

# [bound in seconds, end on the monotonic clock once the attempt's first socket operation set it]
_ATTEMPT: contextvars.ContextVar[list[Any] | None] = contextvars.ContextVar("truebit_attempt", default=None)


class BodyTooLarge(Exception):
    pass


def begin_attempt(total: float | None) -> contextvars.Token[list[Any] | None]:
    """Every socket operation until :func:`end_attempt` ends by ``total`` seconds after the first of
    them (real monotonic time). The clock starts at the first socket operation, not before: waiting
    for a free connection of the pool is bounded by the pool timeout (the call's deadline) and must
    not eat into the attempt's own bound (a held sync-mode request would be cut and its id lost)."""
    return _ATTEMPT.set(None if total is None else [total, None])


def end_attempt(token: contextvars.Token[list[Any] | None]) -> None:
    _ATTEMPT.reset(token)


def clip(timeout: float | None, error: type[Exception]) -> float | None:
    """``timeout`` shortened to what is left of the current attempt; ``error`` when nothing is."""
    attempt = _ATTEMPT.get()
    if attempt is None:
        return timeout
    now = time.monotonic()
    if attempt[1] is None:
        attempt[1] = now + attempt[0]
    left: float = attempt[1] - now
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
        headers = response.headers
        encoding = headers.get("content-encoding")
        if not encoding:
            declared = headers.get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                raise _too_large(limit)
            codings: list[str] = []
        else:
            codings = [c for c in (c.strip().lower() for c in encoding.split(",")) if c and c != "identity"]
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


def pool_transport(max_connections: int) -> httpx.HTTPTransport:
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    transport = httpx.HTTPTransport(limits=limits)
    from ._backends import Backend  # httpcore is imported by httpx only when a pool is made

    pool = transport._pool
    pool._network_backend = Backend(pool._network_backend)  # see the module doc
    return transport


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


def pool_transport_async(max_connections: int) -> httpx.AsyncHTTPTransport:
    limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
    transport = httpx.AsyncHTTPTransport(limits=limits)
    from ._backends import AsyncBackend

    pool = transport._pool
    pool._network_backend = AsyncBackend(pool._network_backend)
    return transport


async def body_async(response: httpx.Response, limit: int) -> bytes:
    decoder = BoundedDecoder(response, limit)
    try:
        chunks = [decoder.feed(raw) async for raw in response.aiter_raw()]
    except httpx.StreamConsumed:
        return _in_memory(response, limit)
    chunks.append(decoder.flush())
    return b"".join(chunks)
