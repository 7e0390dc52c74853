"""The network backend for httpcore's connection pools that ends every socket operation by the
current attempt's wall-clock bound (see ``_bound``). A module of its own so that httpcore, which httpx
imports only when a pool is made, is not imported with the package.

This file is the source of ``_sync_backends.py``, which ``scripts/unasync.py`` writes from it; CI
fails when the two differ. Edit this one, then run ``make unasync``.
"""

from __future__ import annotations

import select
import ssl
import typing
from typing import Any

import httpcore

from ._bound import clip as _clip

__all__ = ["AsyncBackend"]


class _AsyncStream(httpcore.AsyncNetworkStream):
    """Writes are held until the next read, so that a request's head and body leave in one system
    call and one segment (httpcore writes them apart; a client always reads after it has written)."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._held: list[bytes] = []
        self._write_timeout: float | None = None
        self._socket: Any = None  # a socket, or asyncio's stand-in for one: what has a fileno()
        self._poll: Any = None  # a select.poll with the socket registered, made once

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._held:
            await self._flush()
        return await self._inner.read(max_bytes, _clip(timeout, httpcore.ReadTimeout))

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if buffer:
            self._held.append(buffer)
            self._write_timeout = timeout

    async def _flush(self) -> None:
        data = b"".join(self._held)
        self._held.clear()
        await self._inner.write(data, _clip(self._write_timeout, httpcore.WriteTimeout))

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.AsyncNetworkStream:
        timeout = _clip(timeout, httpcore.ConnectTimeout)
        return _AsyncStream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable":
            return self._is_readable()
        return self._inner.get_extra_info(info)

    def _is_readable(self) -> bool:
        """Whether the idle connection has something to read (the server closed it). httpcore's pool
        asks this of every idle connection each time it places a request; anyio's stream answers by
        building its whole attribute table (a getpeername call among them), a third of the pool's
        cost per request at 16 connections. The socket is looked up once, then polled (each time:
        the pool may hand the connection to a waiting request as soon as the answer is read)."""
        sock = self._socket
        if sock is None:
            found = self._inner.get_extra_info("socket")
            if not callable(getattr(found, "fileno", None)):  # no socket: the stream's own answer
                return bool(self._inner.get_extra_info("is_readable"))
            self._socket = sock = found
        fd = sock.fileno()
        if fd < 0:  # closed: nothing more to read from it, so never to be reused
            return True
        if not hasattr(select, "poll"):
            return bool(select.select([fd], [], [], 0)[0])
        poll = self._poll
        if poll is None:
            self._poll = poll = select.poll()
            poll.register(fd, select.POLLIN)
        return bool(poll.poll(0))


class AsyncBackend(httpcore.AsyncNetworkBackend):
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
