"""Fault injection: the errors real networks and gateways produce, on demand, seeded, off by default.

Configured by :class:`FaultConfig` (``SandboxConfig.faults``; CLI ``--fault KIND=RATE``). Every request
to a matched endpoint draws one number from a ``random.Random(seed)``; the kinds' rates are laid end to
end in the order of :data:`FAULT_KINDS`, so the same configuration and the same order of requests give
the same faults on every run. ``sequence`` scripts the first matched requests exactly (``None`` lets a
request through) before the rates take over.

Kinds injected **before** the request reaches the dispatcher (so no execution starts):

=================== ===========================================================================
``500``             500 ``{"message": ...}``
``500_retry_after`` the same with ``Retry-After: <retry_after_seconds>``
``502``             502 with an HTML body, as a gateway sends it
``502_retry_after`` the same with ``Retry-After: <retry_after_seconds>``
``503``             503 ``{"message": ...}`` without ``Retry-After``
``503_retry_after`` 503 with ``Retry-After: <retry_after_seconds>``
``429_seconds``     429 with ``Retry-After: <retry_after_seconds>``
``429_date``        429 with ``Retry-After`` as an IMF-fixdate (``Sun, 06 Nov 1994 08:49:37 GMT``)
                    ``max(1, retry_after_seconds)`` seconds after the next whole second
``520``             520 (non-standard, as a CDN sends it) with a plain-text body
``drop``            the connection is closed without any response: the client sees a transport
                    error (httpx: ``RemoteProtocolError``), never a status code
``slow``            the request waits ``slow_seconds`` and then goes through; a client that gives up
                    meanwhile (disconnects) never reaches the dispatcher
=================== ===========================================================================

Kinds injected **after** the dispatcher handled the request (the execution started; only the answer is
lost or late: exactly when a client must not send the execution again):

=================== ===========================================================================
``drop_after``      the dispatcher's answer is discarded and the connection closed without a response
``500_after``       the dispatcher's answer is replaced by a 500
``slow_after``      the dispatcher's answer is sent ``slow_seconds`` late
=================== ===========================================================================

Every injected response carries ``x-sandbox-fault: <kind>``. ``endpoints`` selects where faults apply:
``execute`` and ``status`` (both task kinds), ``function-execute``, ``function-status``,
``api-execute``, ``api-status``, or a path prefix starting with ``/``. The sandbox's debug endpoints
(``/_sandbox/...``) are never affected.

Dropping a connection needs the server's transport: under uvicorn it is reached through the ASGI
``send`` callable, which is why :class:`FaultMiddleware` wraps the whole app (outside Starlette's error
middleware). Under another server the drop raises :class:`ConnectionDropped` instead.
"""

from __future__ import annotations

import asyncio
import collections
import email.utils
import json
import math
import random
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .. import rules as _spec

__all__ = [
    "FAULT_KINDS",
    "FAULT_KINDS_AFTER",
    "FAULT_KINDS_BEFORE",
    "ConnectionDropped",
    "FaultConfig",
    "FaultInjector",
    "FaultMiddleware",
]

FAULT_KINDS_BEFORE = (
    "500",
    "500_retry_after",
    "502",
    "502_retry_after",
    "503",
    "503_retry_after",
    "429_seconds",
    "429_date",
    "520",
    "drop",
    "slow",
)
FAULT_KINDS_AFTER = ("drop_after", "500_after", "slow_after")
FAULT_KINDS = FAULT_KINDS_BEFORE + FAULT_KINDS_AFTER


def _prefix(operation_id: str) -> str:
    """The spec's path of an operation, up to its first template parameter (a status path's prefix)."""
    return _spec.operation(operation_id)[1].split("{", 1)[0]


_FUNCTION_EXECUTE, _API_EXECUTE = _prefix("executeTaskByName"), _prefix("executeApiTaskByName")
_FUNCTION_STATUS, _API_STATUS = _prefix("getFunctionExecutionStatus"), _prefix("getApiExecutionStatus")
_ENDPOINTS: dict[str, tuple[str, ...]] = {
    "execute": (_FUNCTION_EXECUTE, _API_EXECUTE),
    "status": (_FUNCTION_STATUS, _API_STATUS),
    "function-execute": (_FUNCTION_EXECUTE,),
    "function-status": (_FUNCTION_STATUS,),
    "api-execute": (_API_EXECUTE,),
    "api-status": (_API_STATUS,),
}
_DEBUG_PREFIX = "/_sandbox/"
_MAX_DRAIN = 4 << 20


class ConnectionDropped(ConnectionError):
    """Raised to the server when a connection must be dropped but its transport cannot be reached."""


@dataclass(frozen=True)
class FaultConfig:
    """Which faults to inject, how often and where; see the module docstring.

    * ``rates``: kind -> probability per matched request (each in 0..1, summing to at most 1).
    * ``seed``: the random generator's seed.
    * ``slow_seconds``: the delay of ``slow`` and ``slow_after``.
    * ``retry_after_seconds``: the ``Retry-After`` of ``503_retry_after`` and ``429_seconds``, and the
      distance (at least 1 s) of the date of ``429_date``.
    * ``endpoints``: where faults apply (names or path prefixes).
    * ``sequence``: kinds (or ``None``) for the first matched requests, in order, before ``rates``.
    """

    rates: Mapping[str, float] = field(default_factory=dict)
    seed: int = 0
    slow_seconds: float = 2.0
    retry_after_seconds: int = 1
    endpoints: tuple[str, ...] = ("execute", "status")
    sequence: tuple[str | None, ...] = ()

    def __post_init__(self) -> None:
        rates = dict(self.rates)
        for kind, rate in rates.items():
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault kind {kind!r} (known: {', '.join(FAULT_KINDS)})")
            if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= 1:
                raise ValueError(f"the rate of fault {kind!r} must be a probability in 0..1")
        if sum(rates.values()) > 1 + 1e-9:
            raise ValueError("fault rates must add up to at most 1")
        object.__setattr__(self, "rates", rates)
        for step in self.sequence:
            if step is not None and step not in FAULT_KINDS:
                raise ValueError(f"unknown fault kind {step!r} in sequence")
        object.__setattr__(self, "sequence", tuple(self.sequence))
        endpoints = (self.endpoints,) if isinstance(self.endpoints, str) else tuple(self.endpoints)
        for endpoint in endpoints:
            if endpoint not in _ENDPOINTS and not endpoint.startswith("/"):
                raise ValueError(
                    f"unknown endpoint {endpoint!r} (known: {', '.join(_ENDPOINTS)} or a /path prefix)"
                )
        object.__setattr__(self, "endpoints", endpoints)
        if not math.isfinite(self.slow_seconds) or self.slow_seconds < 0:
            raise ValueError("slow_seconds must be >= 0")
        if isinstance(self.retry_after_seconds, bool) or not isinstance(self.retry_after_seconds, int):
            raise ValueError("retry_after_seconds must be an integer")
        if self.retry_after_seconds < 0:
            raise ValueError("retry_after_seconds must be >= 0")

    @property
    def enabled(self) -> bool:
        return any(rate > 0 for rate in self.rates.values()) or any(k is not None for k in self.sequence)


class FaultInjector:
    """The running state of fault injection: the seeded generator, the script, and what was injected.

    ``matched`` counts requests to matched endpoints; ``injected`` counts faults by kind.
    """

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self._prefixes = tuple(
            prefix for endpoint in config.endpoints for prefix in _ENDPOINTS.get(endpoint, (endpoint,))
        )
        self.reset()

    def reset(self) -> None:
        """Start over: the generator re-seeded, the script from its start, the counts at zero."""
        with self._lock:
            self._rng = random.Random(self.config.seed)
            self._script = collections.deque(self.config.sequence)
            self.matched = 0
            self.injected: collections.Counter[str] = collections.Counter()

    def matches(self, path: str) -> bool:
        if path.startswith(_DEBUG_PREFIX):
            return False
        return any(path.startswith(prefix) for prefix in self._prefixes)

    def draw(self) -> str | None:
        """The fault for the next matched request, or ``None``."""
        with self._lock:
            self.matched += 1
            if self._script:
                kind = self._script.popleft()
            else:
                point = self._rng.random()
                kind = None
                edge = 0.0
                for candidate in FAULT_KINDS:
                    edge += self.config.rates.get(candidate, 0.0)
                    if point < edge:
                        kind = candidate
                        break
            if kind is not None:
                self.injected[kind] += 1
            return kind

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {"matched": self.matched, "injected": dict(self.injected)}


def retry_after_date(seconds: int, now: float | None = None) -> str:
    """An IMF-fixdate ``max(1, seconds)`` seconds after the next whole second: more than that from now."""
    moment = math.ceil(time.time() if now is None else now) + max(1, seconds)
    return email.utils.formatdate(moment, usegmt=True)


def _canned(kind: str, config: FaultConfig) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Status, headers and body of a fault answered without the dispatcher."""

    def as_json(status: int, message: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        body = json.dumps({"message": f"{message} (injected fault {kind})"}).encode()
        return status, [(b"content-type", b"application/json")], body

    retry = str(config.retry_after_seconds).encode()
    if kind.endswith("_retry_after") and kind != "503_retry_after":
        status, headers, body = _canned(kind.removesuffix("_retry_after"), config)
        return status, [*headers, (b"retry-after", retry)], body
    if kind in ("500", "500_after"):
        return as_json(500, "internal server error")
    if kind == "502":
        html = (
            b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1></body></html>"
        )
        return 502, [(b"content-type", b"text/html; charset=utf-8")], html
    if kind == "503":
        return as_json(503, "service unavailable")
    if kind == "503_retry_after":
        status, headers, body = as_json(503, "service unavailable")
        return status, [*headers, (b"retry-after", retry)], body
    if kind == "429_seconds":
        status, headers, body = as_json(429, "too many requests")
        return status, [*headers, (b"retry-after", retry)], body
    if kind == "429_date":
        status, headers, body = as_json(429, "too many requests")
        return (
            status,
            [*headers, (b"retry-after", retry_after_date(config.retry_after_seconds).encode())],
            body,
        )
    if kind == "520":
        return (
            520,
            [(b"content-type", b"text/plain; charset=utf-8")],
            b"520: Web server is returning an unknown error",
        )
    raise ValueError(f"no canned answer for {kind!r}")  # pragma: no cover


class FaultMiddleware:
    """ASGI middleware injecting the faults an :class:`FaultInjector` draws; see the module docstring."""

    def __init__(self, app: ASGIApp, injector: FaultInjector) -> None:
        self.app = app
        self.injector = injector

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.injector.matches(scope["path"]):
            await self.app(scope, receive, send)
            return
        kind = self.injector.draw()
        if kind is None:
            await self.app(scope, receive, send)
        elif kind == "drop":
            await _drain(receive)
            await _drop(send)
        elif kind == "slow":
            await self._slow(scope, receive, _delayed(send, 0.0, kind))
        elif kind == "slow_after":
            await self.app(scope, receive, _delayed(send, self.injector.config.slow_seconds, kind))
        elif kind in ("drop_after", "500_after"):
            await self.app(scope, receive, _discard)
            if kind == "drop_after":
                await _drop(send)
            else:
                await _answer(send, kind, self.injector.config)
        else:
            await _drain(receive)
            await _answer(send, kind, self.injector.config)

    async def _slow(self, scope: Scope, receive: Receive, send: Send) -> None:
        messages = await _drain(receive, keep=True)
        if any(m["type"] == "http.disconnect" for m in messages):
            return
        waiter = asyncio.ensure_future(receive())
        done, _ = await asyncio.wait({waiter}, timeout=self.injector.config.slow_seconds)
        if done:  # the client went away while the request waited: the dispatcher never sees it
            return
        waiter.cancel()
        replay = collections.deque(messages)

        async def replayed() -> Message:
            if replay:
                return replay.popleft()
            return await receive()

        await self.app(scope, replayed, send)


async def _drain(receive: Receive, *, keep: bool = False) -> list[Message]:
    """Read the request body (up to 4 MiB kept or skipped); the messages when ``keep``."""
    kept: list[Message] = []
    size = 0
    while True:
        message = await receive()
        if keep:
            kept.append(message)
        if message["type"] != "http.request":
            return kept
        size += len(message.get("body", b""))
        if not message.get("more_body", False) or size > _MAX_DRAIN:
            return kept


async def _answer(send: Send, kind: str, config: FaultConfig) -> None:
    status, headers, body = _canned(kind, config)
    headers = [*headers, (b"content-length", str(len(body)).encode()), (b"x-sandbox-fault", kind.encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _discard(message: Message) -> None:
    return None


def _delayed(send: Send, seconds: float, kind: str) -> Send:
    """``send`` that marks the response with ``x-sandbox-fault`` and starts it ``seconds`` late."""

    async def delayed_send(message: Message) -> None:
        if message["type"] == "http.response.start":
            if seconds > 0:
                await asyncio.sleep(seconds)
            message = {
                **message,
                "headers": [*message.get("headers", []), (b"x-sandbox-fault", kind.encode())],
            }
        await send(message)

    return delayed_send


async def _drop(send: Send) -> None:
    """Close the connection without a response (uvicorn's transport, reached through ``send``)."""
    transport = getattr(getattr(send, "__self__", None), "transport", None)
    if not isinstance(transport, asyncio.BaseTransport):
        raise ConnectionDropped("injected fault: connection dropped")
    transport.close()
    for _ in range(3):  # let the server see the connection lost, so it does not try to answer
        await asyncio.sleep(0)
