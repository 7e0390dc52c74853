"""The asyncio client, ``AsyncTruebit``: the I/O shell over the pure protocol and policies.

This file is the source of ``_sync_client.py`` (``Truebit``), which ``scripts/unasync.py`` writes
from it; CI fails when the two differ. Edit this one, then run ``make unasync``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any, Generic, TypeVar

import httpx

from ._base import (
    DEFAULT,
    DEFAULT_HTTP_TIMEOUT,
    DEFAULT_SYNC_HOLD,
    DEFAULT_WAIT_TIMEOUT,
    BaseClient,
    Timeout,
)
from ._errors import APIStatusError, TransportError, TruebitError, ValidationError
from ._failures import status_error
from ._many import gather_bounded
from ._models import ApiTaskResult, Execution, FunctionResult, TaskKind
from ._policy import Deadline, PollPolicy, RetryPolicy, is_retryable_status, parse_retry_after
from ._redact import log_request, log_response, logger
from ._validation import execution_id as check_execution_id
from ._wire import (
    Answer,
    WireRequest,
    api_request,
    function_request,
    read_execute,
    read_status,
    status_request,
)

__all__ = ["AsyncApiTasks", "AsyncFunctions", "AsyncTruebit"]

R = TypeVar("R", FunctionResult, ApiTaskResult)
Outcome = FunctionResult | ApiTaskResult | Execution


# asyncio is imported on first use: it would double the import time of the package.
def _running_loop() -> object:
    import asyncio

    return asyncio.get_running_loop()


def _default_sleep(abort: threading.Event) -> Callable[[float], Any]:
    """How the client waits between attempts: ``asyncio.sleep`` (task cancellation interrupts it)."""
    import asyncio

    return asyncio.sleep


class AsyncTruebit(BaseClient):
    """A client for the Truebit task-execution API.

    ``api_key`` and ``base_url`` default to ``TRUEBIT_API_KEY`` and ``TRUEBIT_BASE_URL`` (else
    https://run.truebit.network). ``wait_timeout`` is the overall deadline of ``run`` and ``wait``
    (default 1800 s; ``None`` waits forever), ``sync_hold`` how long the service holds a sync-mode
    request (60 s), ``poll`` and ``retry`` the two separate policies. Use it as a context manager, or
    call ``aclose()``; ``http_client`` lets you bring your own (then you close it).
    """

    def __init__(
        self,
        api_key: str | None = None,
        *,
        base_url: str | None = None,
        wait_timeout: float | timedelta | None = DEFAULT_WAIT_TIMEOUT,
        http_timeout: httpx.Timeout | float = DEFAULT_HTTP_TIMEOUT,
        sync_hold: float | timedelta = DEFAULT_SYNC_HOLD,
        poll: PollPolicy | None = None,
        retry: RetryPolicy | None = None,
        max_connections: int = 100,
        http_client: httpx.AsyncClient | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] | None = None,
    ) -> None:
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            wait_timeout=wait_timeout,
            sync_hold=sync_hold,
            poll=poll,
            retry=retry,
            http_timeout=http_timeout,
            clock=clock,
        )
        if isinstance(max_connections, bool) or not isinstance(max_connections, int) or max_connections < 1:
            raise ValidationError("max_connections", "must be a positive integer")
        self._http = http_client
        self._owns_http = http_client is None
        self._http_loop: object = None
        self._max_connections = max_connections
        self._closed = False
        self._sleep = sleep or _default_sleep(self._abort)
        self._pool_lock = threading.Lock()
        self.functions = AsyncFunctions(self)
        self.api_tasks = AsyncApiTasks(self)

    async def __aenter__(self) -> AsyncTruebit:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection pool (only one this client created)."""
        self._closed = True
        http, self._http = self._http, None
        # A pool opened under an event loop that has since closed cannot be closed from another.
        if self._owns_http and http is not None and self._http_loop is _running_loop():
            await http.aclose()

    def _client(self) -> httpx.AsyncClient:
        if self._closed:
            raise TruebitError("this client is closed; create a new one")
        loop = _running_loop()
        if self._http is not None and (not self._owns_http or self._http_loop is loop):
            return self._http
        with self._pool_lock:  # threads of run_many must share one pool, not race to open several
            if self._http is not None and (not self._owns_http or self._http_loop is loop):
                return self._http
            # A pool is bound to the event loop that opened it: a client reused under another loop
            # (pytest, asyncio.run twice) gets a fresh pool instead of "Event loop is closed".
            self._http = httpx.AsyncClient(
                headers=self._default_headers(),
                timeout=self.http_timeout,
                follow_redirects=False,
                limits=httpx.Limits(
                    max_connections=self._max_connections,
                    max_keepalive_connections=self._max_connections,
                ),
            )
            self._http_loop = loop
            return self._http

    async def _send(
        self, request: WireRequest, *, deadline: Deadline, secrets: tuple[str, ...] = ()
    ) -> tuple[Outcome, float | None]:
        """One logical request, resent only when the retry policy and safety allow it. Returns the
        outcome and the server's ``Retry-After`` hint (seconds) if any."""
        http = self._client()
        headers = {} if self._owns_http else self._default_headers()
        if request.content is not None:
            headers["content-type"] = "application/json"
        known = self._known_secrets(secrets)
        op, kind, execution_id = request.op, request.kind, request.execution_id
        method, path = request.method, request.path
        url = self.base_url + path  # absolute, so a caller's own http_client needs no base_url
        retry_number = 0
        while True:
            log_request(method, path, request.body_json(), retry_number + 1)
            started = self._clock()
            cause: Exception | None = None
            retry_after: float | None = None
            timeout = self._request_timeout(op, request.sync, deadline)  # what is left of the deadline
            try:
                response = await http.request(
                    method, url, content=request.content, headers=headers, timeout=timeout
                )
            except httpx.TransportError as exc:
                error: TruebitError = self._transport_error(exc, op, known)
                error.execution_id = execution_id
                cause = exc
            except httpx.HTTPError as exc:  # an answer came but could not be read (bad gzip, redirects)
                raise self._unreadable_answer(exc, op, known, execution_id) from exc
            else:
                answer = Answer(response.status_code, response.headers, response.content)
                log_response(method, path, answer.status, self._clock() - started, answer.content, known)
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                if answer.status < 300:
                    if op == "execute":
                        return read_execute(answer, kind), retry_after
                    assert execution_id is not None
                    return read_status(answer, kind, execution_id), retry_after
                if op == "execute" or not is_retryable_status(answer.status):
                    raise status_error(
                        answer, op, secrets=known, response=response, execution_id=execution_id
                    )
                error = status_error(answer, op, secrets=known, response=response, execution_id=execution_id)
            retry_number += 1
            delay = self._retry_delay(op, retry_number, error, deadline, retry_after)
            if delay is None or self._abort.is_set():
                raise error from cause
            logger.debug("retry %d of %s %s in %.2f s after: %s", retry_number, method, path, delay, error)
            await self._sleep(delay)


class _AsyncTasks(Generic[R]):
    """What function and API tasks share: status reads and waiting."""

    _kind: TaskKind

    def __init__(self, client: AsyncTruebit) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"

    async def get(self, execution_id: str) -> R:
        """One status read: the execution's current state (``Running`` included), never raising for a
        failed task. Transient faults are retried per the retry policy."""
        outcome, _ = await self._client._send(
            status_request(self._kind, execution_id), deadline=Deadline(None)
        )
        return outcome  # type: ignore[return-value]

    async def wait(
        self, execution_id: str, *, timeout: Timeout = DEFAULT, raise_on_failure: bool = True
    ) -> R:
        """Poll until the execution ends or ``timeout`` seconds pass (default: the client's
        ``wait_timeout``; ``None``: no deadline). Raises ``WaitTimeoutError`` carrying the execution id
        and the last state; with ``raise_on_failure`` (default) a failed or unverified result raises
        ``TaskFailedError`` / ``VerificationIndeterminateError``, which carry the result."""
        check_execution_id(execution_id)
        deadline = self._client._deadline(timeout)
        return await self._wait(execution_id, deadline, None, raise_on_failure, (), first_delay=None)

    async def _wait(
        self,
        execution_id: str,
        deadline: Deadline,
        started: float | None,
        raise_on_failure: bool,
        secrets: tuple[str, ...],
        first_delay: float | None,
    ) -> R:
        c = self._client
        started = c._clock() if started is None else started
        request = status_request(self._kind, execution_id)
        last: R | None = None
        delay = first_delay
        while True:
            if delay is not None:
                await c._sleep(delay)
            if c._abort.is_set():
                raise c._interrupted(self._kind, execution_id)
            hint: float | None = None
            try:
                outcome, hint = await c._send(request, deadline=deadline)
            except (TransportError, APIStatusError) as exc:
                # A failed read is no news: keep polling transient faults until the deadline.
                transient = isinstance(exc, TransportError) or is_retryable_status(exc.status_code)
                if not transient:
                    raise
                hint = getattr(exc, "retry_after", None)
                if deadline.expired(c._clock()):
                    raise c._wait_timeout_error(self._kind, execution_id, last, c._clock() - started) from exc
                logger.debug("status read of %s failed, polling on: %s", execution_id, exc)
            else:
                last = outcome  # type: ignore[assignment]
                assert last is not None
                if last.is_terminal:
                    return c._finish(last, raise_on_failure, secrets)  # type: ignore[no-any-return]
            now = c._clock()
            if deadline.expired(now):
                raise c._wait_timeout_error(self._kind, execution_id, last, now - started)
            delay = deadline.clip(c.poll.delay(now - started, retry_after=hint), now)

    async def _submit(self, request: WireRequest) -> Execution:
        c = self._client
        secrets = c._remember(request.secrets)
        outcome, _ = await c._send(request, deadline=Deadline(None), secrets=secrets)
        return outcome if isinstance(outcome, Execution) else Execution(outcome.execution_id, self._kind)

    async def _run(self, request: WireRequest, deadline: Deadline, raise_on_failure: bool) -> R:
        c = self._client
        secrets = c._remember(request.secrets)  # input.headers values: never logged
        started = c._clock()
        outcome, hint = await c._send(request, deadline=deadline, secrets=secrets)
        if isinstance(outcome, Execution) or not outcome.is_terminal:
            now = c._clock()
            first = deadline.clip(c.poll.delay(now - started, retry_after=hint), now)
            return await self._wait(outcome.execution_id, deadline, started, raise_on_failure, secrets, first)
        return c._finish(outcome, raise_on_failure, secrets)  # type: ignore[no-any-return]


class AsyncFunctions(_AsyncTasks[FunctionResult]):
    """Function tasks: WebAssembly programs run and cross-checked by several nodes."""

    _kind = "function"

    async def run(
        self,
        namespace: str,
        task: str,
        input: Any,
        *,
        version: int | None = None,
        label: str | None = None,
        total_solutions: int = 1,
        required_solutions: int | None = None,
        gas_limit: int | None = None,
        requester_timestamp: int | None = None,
        timeout: Timeout = DEFAULT,
        raise_on_failure: bool = True,
    ) -> FunctionResult:
        """Execute ``task`` on ``input`` (the text of ``input.txt``, or a JSON value) and wait for
        the verified result.

        One request in sync mode (the service answers within its hold when it can); if only an
        execution id comes back, the status is polled until the end or ``timeout``. Raises
        ``TaskFailedError`` / ``VerificationIndeterminateError`` unless ``raise_on_failure=False``;
        ``WaitTimeoutError`` (with the execution id) at the deadline. ``required_solutions``
        defaults to ``total_solutions``; ``gas_limit`` is the instruction budget.
        """
        c = self._client
        c._require_key()
        deadline = c._deadline(timeout)
        body = function_request(
            namespace,
            task,
            input,
            sync=c._use_sync_mode(deadline),
            requester_timestamp=c._timestamp(requester_timestamp),
            version=version,
            label=label,
            total_solutions=total_solutions,
            required_solutions=required_solutions,
            gas_limit=gas_limit,
        )
        return await self._run(body, deadline, raise_on_failure)

    async def submit(
        self,
        namespace: str,
        task: str,
        input: Any,
        *,
        version: int | None = None,
        label: str | None = None,
        total_solutions: int = 1,
        required_solutions: int | None = None,
        gas_limit: int | None = None,
        requester_timestamp: int | None = None,
    ) -> Execution:
        """Start an execution and return at once with its ``execution_id`` (async mode)."""
        self._client._require_key()
        body = function_request(
            namespace,
            task,
            input,
            sync=False,
            requester_timestamp=self._client._timestamp(requester_timestamp),
            version=version,
            label=label,
            total_solutions=total_solutions,
            required_solutions=required_solutions,
            gas_limit=gas_limit,
        )
        return await self._submit(body)

    async def run_many(
        self, namespace: str, task: str, inputs: Iterable[Any], *, concurrency: int = 16, **options: Any
    ) -> list[FunctionResult | TruebitError]:
        """``run`` for each input, at most ``concurrency`` at a time over this client's one
        connection pool. Returns, in input order, each result or the ``TruebitError`` it ended with
        (errors carry the execution id when one was assigned), so one failure loses nothing else."""
        calls = [lambda i=i: self.run(namespace, task, i, **options) for i in inputs]
        return await gather_bounded(calls, concurrency, self._client._abort)


class AsyncApiTasks(_AsyncTasks[ApiTaskResult]):
    """API tasks: HTTP calls, declared in the task's manifest, that the hub makes for you."""

    _kind = "api"

    async def run(
        self,
        namespace: str,
        task: str,
        *,
        path: str,
        method: str = "GET",
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        execution_timeout: float | timedelta = 30.0,
        version: int | None = None,
        label: str | None = None,
        timeout: Timeout = DEFAULT,
        raise_on_failure: bool = True,
    ) -> ApiTaskResult:
        """Make the call ``method path`` of the task's manifest and wait for its result.

        ``params`` fill the ``{name}`` templates and query parameters, ``headers`` are injected into
        the outgoing call (secret: never logged), ``body`` is the JSON request body.
        ``execution_timeout`` bounds the outgoing call, in seconds or a ``timedelta``.
        """
        c = self._client
        c._require_key()
        deadline = c._deadline(timeout)
        request = api_request(
            namespace,
            task,
            path=path,
            method=method,
            sync=c._use_sync_mode(deadline),
            params=params,
            headers=headers,
            body=body,
            execution_timeout=execution_timeout,
            version=version,
            label=label,
        )
        return await self._run(request, deadline, raise_on_failure)

    async def submit(
        self,
        namespace: str,
        task: str,
        *,
        path: str,
        method: str = "GET",
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        execution_timeout: float | timedelta = 30.0,
        version: int | None = None,
        label: str | None = None,
    ) -> Execution:
        """Start an API-task execution and return at once with its ``execution_id``."""
        c = self._client
        c._require_key()
        request = api_request(
            namespace,
            task,
            path=path,
            method=method,
            sync=False,
            params=params,
            headers=headers,
            body=body,
            execution_timeout=execution_timeout,
            version=version,
            label=label,
        )
        return await self._submit(request)

    async def run_many(
        self,
        namespace: str,
        task: str,
        calls: Iterable[Mapping[str, Any]],
        *,
        concurrency: int = 16,
        **options: Any,
    ) -> list[ApiTaskResult | TruebitError]:
        """``run`` for each call (a mapping of ``run``'s keyword arguments: path, method, params...),
        at most ``concurrency`` at a time; results or errors in input order."""
        work = [lambda call=call: self.run(namespace, task, **{**options, **call}) for call in calls]
        return await gather_bounded(work, concurrency, self._client._abort)
