"""The asyncio client, ``AsyncTruebit``: a driver that turns the pure flow's effects into I/O. The
resources it carries (``functions``, ``api_tasks``) are in ``_async_resources``.

This file is the source of ``_sync_client.py`` (``Truebit``), which ``scripts/unasync.py`` writes
from it; CI fails when the two differ. Edit this one, then run ``make unasync``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from . import _flow as flow
from . import _transport as transport
from ._async_resources import AsyncApiTasks, AsyncFunctions
from ._driver import Steps
from ._errors import TruebitError, ValidationError
from ._policy import PollPolicy, RetryPolicy
from ._redact import SecretBook, log_request, log_response, log_sleep, logging_requests, mask_key
from ._runtime import current_loop_async as _running_loop
from ._runtime import pause_async as _pause
from ._runtime import process as _process
from ._settings import (
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_RESPONSE_BYTES,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_SYNC_HOLD,
    DEFAULT_WAIT_TIMEOUT,
    KEEP,
    Settings,
    _Keep,
)
from ._version import __version__
from ._wire import Answer, WireRequest

if TYPE_CHECKING:
    from ._async_pool import AsyncCallerClient, AsyncPool

__all__ = ["AsyncTruebit"]

T = TypeVar("T")


class AsyncTruebit:
    """A client for the Truebit task-execution API.

    ``api_key`` and ``base_url`` default to ``TRUEBIT_API_KEY`` and ``TRUEBIT_BASE_URL`` (else
    https://run.truebit.network). ``wait_timeout`` is the overall deadline of ``run`` and ``wait``
    (default 1800 s; ``None`` waits forever); ``request_timeout`` bounds each request's wall-clock time
    (30 s; ``get`` as a whole too); ``sync_hold`` is how long the service holds a sync-mode request
    (60 s); ``poll`` and ``retry`` are the two separate policies; answers larger than
    ``max_response_bytes`` are refused. Use it as a context manager, or call ``aclose()``;
    ``http_client`` lets you bring your own (then you close it).
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        wait_timeout: float | timedelta | None = DEFAULT_WAIT_TIMEOUT,
        request_timeout: float | timedelta = DEFAULT_REQUEST_TIMEOUT,
        connect_timeout: float | timedelta = DEFAULT_CONNECT_TIMEOUT,
        sync_hold: float | timedelta = DEFAULT_SYNC_HOLD,
        poll: PollPolicy | None = None,
        retry: RetryPolicy | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_connections: int = 100,
        http_client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] | None = None,
        _origin: AsyncTruebit | None = None,
    ) -> None:
        self._settings = Settings.make(
            api_key=api_key,
            base_url=base_url,
            wait_timeout=wait_timeout,
            request_timeout=request_timeout,
            connect_timeout=connect_timeout,
            sync_hold=sync_hold,
            poll=poll,
            retry=retry,
            max_response_bytes=max_response_bytes,
            clock=clock,
        )
        if isinstance(max_connections, bool) or not isinstance(max_connections, int) or max_connections < 1:
            raise ValidationError("max_connections", "must be a positive integer")
        if http_client is not None and not isinstance(http_client, httpx.AsyncClient):
            raise ValidationError("http_client", "must be an httpx.AsyncClient")
        if sleep is not None and not callable(sleep):
            raise ValidationError("sleep", "must be a callable taking seconds")
        self._secrets = SecretBook(self._settings.api_key)
        self._owns_http = http_client is None
        self._http_owner: tuple[int, object] = (0, None)  # the (process, event loop) that opened the pool
        self._max_connections = max_connections
        self._closed = False
        self._sleep = sleep
        self._pool_lock = threading.Lock()
        self._headers = {
            "user-agent": f"truebit-facade/{__version__}",
            "accept": "application/json",
            "accept-encoding": transport.ACCEPT_ENCODING,
        }
        if self._settings.api_key is not None:
            self._headers["x-api-key"] = self._settings.api_key
        self._http: AsyncPool | AsyncCallerClient | None = None
        self._http_client = http_client  # a caller's own, passed on to with_options copies
        if http_client is not None:
            from ._async_pool import AsyncCallerClient

            self._http = AsyncCallerClient(http_client, self._settings.base_url, self._headers)
        self._origin: AsyncTruebit | None = None  # the client a with_options copy shares its pool with
        if _origin is not None:  # a with_options copy: the origin's pool, and its secrets' scrubbing
            self._origin, self._secrets, self._owns_http = _origin, _origin._secrets, _origin._owns_http
        self.functions = AsyncFunctions(self)
        self.api_tasks = AsyncApiTasks(self)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(base_url={self.base_url!r}, api_key={mask_key(self._settings.api_key)})"
        )

    @property
    def base_url(self) -> str:
        return self._settings.base_url

    def with_options(
        self,
        *,
        timeout: float | timedelta | _Keep | None = KEEP,
        wait_timeout: float | timedelta | _Keep | None = KEEP,
        request_timeout: float | timedelta | _Keep = KEEP,
        sync_hold: float | timedelta | _Keep = KEEP,
        poll: PollPolicy | _Keep | None = KEEP,
        retry: RetryPolicy | _Keep | None = KEEP,
        max_response_bytes: int | _Keep = KEEP,
    ) -> AsyncTruebit:
        """A light copy with some settings changed, sharing this client's connection pool (and its
        secrets' scrubbing): ``client.with_options(retry=RetryPolicy.none()).functions.get(id)``.
        ``timeout`` is another name for ``wait_timeout``. Closing a copy closes nothing; close the
        client it came from."""
        if not isinstance(timeout, _Keep):
            if not isinstance(wait_timeout, _Keep):
                raise ValidationError("timeout", "give timeout or wait_timeout, not both")
            wait_timeout = timeout
        given = {
            "wait_timeout": wait_timeout,
            "request_timeout": request_timeout,
            "sync_hold": sync_hold,
            "poll": poll,
            "retry": retry,
            "max_response_bytes": max_response_bytes,
        }
        new = self._settings.replace(**{k: v for k, v in given.items() if not isinstance(v, _Keep)})
        return type(self)(
            new.api_key,
            base_url=new.base_url,
            wait_timeout=new.wait_timeout,
            request_timeout=new.request_timeout,
            connect_timeout=new.connect_timeout,
            sync_hold=new.sync_hold,
            poll=new.poll,
            retry=new.retry,
            max_response_bytes=new.max_response_bytes,
            max_connections=self._max_connections,
            http_client=self._http_client,
            clock=new.clock,
            sleep=self._sleep,
            _origin=self._origin or self,
        )

    @property
    def settings(self) -> Settings:
        """What this client was configured with (read-only; the API key never shows in its repr)."""
        return self._settings

    async def __aenter__(self) -> AsyncTruebit:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (only one this client created, in this process and loop)."""
        if self._origin is not None:
            return  # a copy from with_options: the pool is its origin's
        self._closed = True
        http, self._http = self._http, None
        if self._owns_http and http is not None and self._http_owner == (_process(), _running_loop()):
            await http.aclose()

    # --- the driver: the one narrow method the resources use ---------------------------------

    async def _perform(
        self,
        call: flow.Call[T],
        token: threading.Event | None = None,
        group: list[flow.Progress] | None = None,
    ) -> T:
        """Run one call's flow to its end, doing the I/O it asks for (``Steps`` is the loop).
        ``token``, when set by another thread or task (an interrupted ``run_many``), stops the call at
        its next step; ``group`` collects what the calls of one ``run_many`` learn."""
        with Steps(call, self._settings, self._secrets, token, group) as steps:
            for effect in steps:
                if isinstance(effect, flow.Sleep):
                    log_sleep(effect.seconds, effect.why)
                    steps.reply = await self._wait_for(effect.seconds, token)
                else:
                    steps.reply = await self._exchange(effect)
        return steps.result

    async def _wait_for(self, seconds: float, token: threading.Event | None) -> flow.Reply:
        if self._sleep is not None:  # an injected clock (tests): interruption is seen at the next step
            await self._sleep(seconds)
            return None
        return flow.INTERRUPTED if await _pause(seconds, token) else None

    async def _exchange(self, send: flow.Send) -> Answer | flow.Failure:
        request, limits = send.request, send.limits
        return await self._attempt(self._pool(), request, limits, send.attempt)

    async def _attempt(
        self, http: AsyncPool | AsyncCallerClient, request: WireRequest, limits: flow.Limits, attempt: int
    ) -> Answer | flow.Failure:
        if not logging_requests():
            return await http.exchange(request, limits)
        log_request(request.method, request.path, request.body_json, attempt)
        started = time.monotonic()
        reply = await http.exchange(request, limits)
        if isinstance(reply, Answer):
            elapsed = time.monotonic() - started
            log_response(request.method, request.path, reply.status, elapsed, reply.content, self._secrets)
        return reply

    def _pool(self) -> AsyncPool | AsyncCallerClient:
        if self._origin is not None:
            return self._origin._pool()
        if self._closed:
            raise TruebitError("this client is closed; create a new one")
        if not self._owns_http:
            assert self._http is not None
            return self._http
        # A pool belongs to the process and the event loop that opened it: after fork the child must
        # not share the parent's sockets, and a loop that closed takes its connections with it.
        owner = (_process(), _running_loop())
        http = self._http
        if http is not None and self._http_owner == owner:
            return http
        with self._pool_lock:  # threads of run_many share one pool, not race to open several
            if self._http is None or self._http_owner != owner:
                from ._async_pool import AsyncPool

                self._http = AsyncPool(self._settings.base_url, self._max_connections, self._headers)
                self._http_owner = owner
            return self._http
