"""The two ways one attempt goes over the network, for ``AsyncTruebit``: the client's own pool
(httpcore's, driven directly) and a caller's own ``httpx.AsyncClient``. Both give the driver an
:class:`~._wire.Answer` or a :class:`~._flow.Failure`, never an exception of theirs.

This file is the source of ``_sync_pool.py``, which ``scripts/unasync.py`` writes from it.

The client's own pool is ``httpcore.AsyncConnectionPool`` (or httpcore's proxy pool when the
environment names a proxy), made with the network backend of ``_async_backends`` through the public
``network_backend=`` argument: every socket operation ends by the attempt's wall-clock bound, so a
peer that drips bytes cannot stretch an attempt. The request is sent as httpcore takes it (bytes
made once), the answer is read with the body's size bound, and no ``httpx.Response`` is made unless
an error needs one (``error.response``). See ``_network`` for the trust store, the proxy and the
keep-alive limits, which are httpx's defaults.

A caller's own ``http_client`` keeps everything it was configured with (proxies, mTLS, event hooks,
mock transports), and its own network backend: there the per-operation timeouts are httpx's and the
body is read with the size bound. The attempt's wall-clock bound holds as a whole in ``AsyncTruebit``
(an asyncio timeout around the attempt); ``Truebit`` checks it as each chunk of the body arrives, so
a peer that drips the *headers* is cut only by httpx's read timeout (docs/retries-and-polling.md).
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import httpcore
import httpx

from . import _bound as bound
from . import _network as network
from ._async_backends import AsyncBackend
from ._flow import Failure, Limits
from ._transport import BodyTooLarge, BoundedDecoder, failure_of, too_large
from ._wire import Answer, WireRequest

__all__ = ["AsyncCallerClient", "AsyncPool"]

#: What the pool lets through as a failure of the attempt (any other exception is a bug: raised).
_FAILURES = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
    httpcore.ProxyError,
    httpcore.UnsupportedProtocol,
    httpx.DecodingError,
    BodyTooLarge,
)
_JSON = (b"content-type", b"application/json")
#: Connections per shard of the client's own pool (see :class:`AsyncPool`).
SHARD = 4


class AsyncPool:
    """The client's own connection pool, for one origin (``base_url``): ``max_connections`` in
    shards of at most :data:`SHARD` (one httpcore pool each); each request goes to the first shard
    with a free connection. httpcore's pool looks at every connection each time a request starts
    or ends, and for each idle one counts them all again: at 16 connections with some idle (a batch
    waiting for a commit), that scan took up to a third of the client's CPU; in a shard it is short."""

    def __init__(self, base_url: str, max_connections: int, headers: dict[str, str]) -> None:
        self._base_url = base_url
        self._origin = origin = network.Origin.of(base_url)
        self._headers = [
            (b"host", origin.url.netloc),
            *((k.encode("ascii"), v.encode("ascii")) for k, v in headers.items()),
        ]
        self._json_headers = [*self._headers, _JSON]
        shards = max(1, math.ceil(max_connections / SHARD))
        sizes = [max_connections // shards + (i < max_connections % shards) for i in range(shards)]
        ssl_context = network.ssl_context() if origin.scheme == b"https" else None
        proxy = network.env_proxy(origin.url)
        self.proxy = None if proxy is None else str(proxy.url)  # for tests and the log
        self._pools = [_one_pool(size, ssl_context, proxy) for size in sizes]
        self._free = sizes  # connections not taken by a request now
        self._lock = threading.Lock()  # ``Truebit`` is shared between threads
        self._urls: dict[str, httpcore.URL] = {}

    def _take(self) -> int:
        """The shard for the next request: the first with a free connection, so that a quiet client
        keeps reusing the same few and the scan stops early (100 connections are 25 shards). When
        every connection is taken, the shard with the fewest requests waiting: the waits are spread
        over all the connections, as one pool's would be."""
        with self._lock:
            free = self._free
            shard = next((i for i, left in enumerate(free) if left > 0), None)
            if shard is None:
                shard = max(range(len(free)), key=free.__getitem__)
            free[shard] -= 1
            return shard

    def _give_back(self, shard: int) -> None:
        with self._lock:
            self._free[shard] += 1

    def _url(self, path: str) -> httpcore.URL:
        """The URL of ``path``, made once while it recurs (the execute paths; a status path while its
        task is polled): httpcore checks every part of a URL it is given as it makes one."""
        found = self._urls.get(path)
        if found is None:
            origin = self._origin
            found = httpcore.URL(
                scheme=origin.scheme, host=origin.host, port=origin.port, target=origin.target(path)
            )
            if len(self._urls) >= 256:
                self._urls.clear()
            self._urls[path] = found
        return found

    async def exchange(self, request: WireRequest, limits: Limits) -> Answer | Failure:
        content = request.content
        if content is None:
            headers = self._headers
        else:
            headers = [*self._json_headers, (b"content-length", b"%d" % len(content))]
        if request.headers:
            headers = [
                *headers,
                *((k.encode("ascii"), v.encode("ascii")) for k, v in request.headers.items()),
            ]
        timeout = {
            "connect": limits.connect,
            "read": limits.total,
            "write": limits.total,
            "pool": limits.queue,
        }
        sent = httpcore.Request(
            request.method,
            self._url(request.path),
            headers=headers,
            content=content,
            extensions={"timeout": timeout},
        )
        token = bound.begin(limits.total)
        shard = self._take()
        try:
            response = await self._pools[shard].handle_async_request(sent)
            try:
                found = network.answer_headers(response.headers)
                decoder = BoundedDecoder(found, limits.max_bytes)
                chunks = [decoder.feed(chunk) async for chunk in response.aiter_stream()]
                chunks.append(decoder.flush())
            finally:
                await response.aclose()
        except _FAILURES as exc:
            return failure_of(exc)
        finally:
            self._give_back(shard)
            bound.end(token)
        body = b"".join(chunks)
        status = response.status
        raw = None
        if not 200 <= status < 300:  # it becomes an error, which carries an httpx.Response
            url = self._base_url + request.path
            raw = network.error_response(status, response.headers, body, request.method, url)
        return Answer(status, found, body, raw=raw)

    async def aclose(self) -> None:
        for pool in self._pools:
            await pool.aclose()


def _one_pool(size: int, ssl_context: Any, proxy: httpx.Proxy | None) -> httpcore.AsyncConnectionPool:
    """One shard: httpcore's pool, or its proxy pool when the environment names a proxy."""
    options: dict[str, Any] = {
        "ssl_context": ssl_context,
        "max_connections": size,
        "max_keepalive_connections": size,
        "keepalive_expiry": network.KEEPALIVE_EXPIRY,
        "network_backend": AsyncBackend(httpcore.AnyIOBackend()),
    }
    if proxy is None:
        return httpcore.AsyncConnectionPool(**options)
    url = httpcore.URL(
        scheme=proxy.url.raw_scheme, host=proxy.url.raw_host, port=proxy.url.port, target=proxy.url.raw_path
    )
    if proxy.url.scheme in ("socks5", "socks5h"):
        return httpcore.AsyncSOCKSProxy(proxy_url=url, proxy_auth=proxy.raw_auth, **options)
    return httpcore.AsyncHTTPProxy(
        proxy_url=url, proxy_auth=proxy.raw_auth, proxy_headers=proxy.headers.raw, **options
    )


class AsyncCallerClient:
    """A caller's own ``httpx.AsyncClient``: the fixed headers are sent with every request."""

    def __init__(self, http: httpx.AsyncClient, base_url: str, headers: dict[str, str]) -> None:
        self.http = http
        self._base_url = base_url
        self._headers = headers
        self._json_headers = {**headers, "content-type": "application/json"}
        self._timeouts: dict[tuple[int | None, ...], dict[str, float | None]] = {}
        # Parsed once per path: httpx parses a URL given as text on every request, which costs a
        # third of build_request. The execute paths recur; status paths recur while a task is polled.
        self._urls: dict[str, httpx.URL] = {}
        self._theirs: list[tuple[bytes, bytes]] | None = None  # the client's headers, when merged
        self._merged = (httpx.Headers(), httpx.Headers())  # then: without and with a JSON body

    async def exchange(self, request: WireRequest, limits: Limits) -> Answer | Failure:
        ends = None if limits.total is None else time.monotonic() + limits.total
        try:
            async with bound.whole_async(limits.total):
                response = await self.http.send(self._request(request, limits), stream=True)
                try:
                    # A plain dict, as from the own pool: httpx.Headers looks every name up anew.
                    found = network.answer_headers(response.headers.raw)
                    content = await self._body(response, found, limits.max_bytes, ends)
                finally:
                    await response.aclose()
        except (httpx.HTTPError, BodyTooLarge) as exc:
            return failure_of(exc)
        except TimeoutError:
            return failure_of(httpx.ReadTimeout("the attempt's wall-clock bound was reached"))
        return Answer(response.status_code, found, content, raw=response)

    @staticmethod
    async def _body(
        response: httpx.Response, headers: dict[str, str], limit: int, ends: float | None
    ) -> bytes:
        """The decoded body, at most ``limit`` bytes, read by ``ends`` on the monotonic clock (checked
        as each chunk arrives)."""
        decoder = BoundedDecoder(headers, limit)
        try:
            chunks = []
            async for chunk in response.aiter_raw():
                chunks.append(decoder.feed(chunk))
                if ends is not None and time.monotonic() > ends:
                    raise httpx.ReadTimeout("the attempt's wall-clock bound was reached")
            chunks.append(decoder.flush())
        except httpx.StreamConsumed:  # built in memory, not read from a socket (a mock's answer)
            if len(response.content) > limit:
                raise too_large(limit) from None
            return response.content
        return b"".join(chunks)

    def _request(self, request: WireRequest, limits: Limits) -> httpx.Request:
        """The request as the caller's ``build_request`` makes it: the client's headers, then ours.
        When the client has no default params or cookies and the call no extra headers (the usual
        case), the merged headers are kept from one request to the next, as long as the client's
        own stay the same: merging them costs as much as the rest of building the request."""
        http = self.http
        json = request.content is not None
        extensions = {"timeout": self._timeout(limits)}
        if request.headers or http.params or http.cookies:
            headers = self._json_headers if json else self._headers
            return http.build_request(
                request.method,
                self._url(request.path),
                content=request.content,
                headers={**headers, **request.headers} if request.headers else headers,
                extensions=extensions,
            )
        theirs = http.headers.raw
        if theirs != self._theirs:
            merged = httpx.Headers(http.headers)
            merged.update(self._headers)
            with_json = httpx.Headers(merged)
            with_json["content-type"] = "application/json"
            self._merged = (merged, with_json)
            self._theirs = theirs
        return httpx.Request(
            request.method,
            self._url(request.path),
            content=request.content,
            headers=self._merged[json],
            extensions=extensions,
        )

    def _url(self, path: str) -> httpx.URL:
        found = self._urls.get(path)
        if found is None:
            found = httpx.URL(self._base_url + path)
            if len(self._urls) >= 256:
                self._urls.clear()
            self._urls[path] = found
        return found

    def _timeout(self, limits: Limits) -> dict[str, float | None]:
        """httpx's own timeouts of an attempt (as the request's ``timeout`` extension), in whole
        seconds rounded up (a few values recur and each is made once; each request gets its own
        copy). Waiting for a free connection is bounded by the call's deadline (``queue``), not by
        the attempt's bound."""
        key = tuple(None if v is None else math.ceil(v) for v in (limits.total, limits.connect, limits.queue))
        found = self._timeouts.get(key)
        if found is None:
            found = httpx.Timeout(key[0], connect=key[1], pool=key[2]).as_dict()
            if len(self._timeouts) < 256:
                self._timeouts[key] = found
        return dict(found)

    async def aclose(self) -> None:
        """Nothing: the caller closes its own client."""
