"""The resources of ``AsyncTruebit``: ``functions`` and ``api_tasks``. They check arguments, build
the call (a flow from ``_flow``) and hand it to the client's one narrow method, ``_perform``. They
know the client only as that (``_AsyncPerformer``), so this module does not import the client's.

This file is the source of ``_sync_resources.py``, which ``scripts/unasync.py`` writes from it; CI
fails when the two differ. Edit this one, then run ``make unasync``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any, Generic, Literal, Protocol, TypeVar, Unpack, overload

from . import _flow as flow
from ._answers import API, FUNCTION, Kind
from ._arguments import API_OPTIONS as _API_OPTIONS
from ._arguments import FUNCTION_OPTIONS as _FUNCTION_OPTIONS
from ._arguments import (
    ApiOptions,
    ApiRun,
    ApiRunAnyOutcome,
    FunctionOptions,
    FunctionRun,
    FunctionRunAnyOutcome,
)
from ._arguments import check_flags as _check_flags
from ._arguments import check_keywords as _check_keywords
from ._driver import mark_group_interrupted
from ._errors import TruebitError, ValidationError
from ._many import check_inputs, gather_bounded
from ._models import (
    ApiTaskResult,
    Execution,
    FunctionResult,
    VerifiedApiTaskResult,
    VerifiedFunctionResult,
)
from ._settings import DEFAULT, Settings, Timeout
from ._validation import execution_id as check_execution_id
from ._wire import WireRequest, api_request, function_request

__all__ = ["AsyncApiTasks", "AsyncFunctions"]

R = TypeVar("R", FunctionResult, ApiTaskResult)
#: What ``run`` and ``wait`` return with ``raise_on_failure=True``: the verified form of ``R``.
V = TypeVar("V", VerifiedFunctionResult, VerifiedApiTaskResult)
T = TypeVar("T")


class _AsyncPerformer(Protocol):
    """What the resources need of their client: its settings, and the method that runs a call."""

    @property
    def settings(self) -> Settings: ...

    async def _perform(
        self,
        call: flow.Call[T],
        token: threading.Event | None = None,
        group: list[flow.Progress] | None = None,
    ) -> T: ...


class _AsyncTasks(Generic[R, V]):
    """What function and API tasks share: status reads and waiting."""

    _kind: Kind[R]

    def __init__(self, client: _AsyncPerformer) -> None:
        self._client = client

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._client!r}>"

    async def get(
        self, execution_id: str, *, timeout: Timeout = DEFAULT, extra_headers: Mapping[str, str] | None = None
    ) -> R:
        """One status read: the execution's current state (``Running`` included), never raising for a
        failed task. Transient faults are retried per the retry policy, all within ``timeout``
        (default: the client's ``request_timeout``)."""
        eid = check_execution_id(execution_id)
        return await self._client._perform(flow.get(self._kind, eid, timeout, extra_headers))

    # R and V come in pairs (each subclass names both); mypy also checks pairs no subclass has.
    @overload
    async def wait(  # type: ignore[overload-overlap]
        self,
        execution_id: str,
        *,
        timeout: Timeout = DEFAULT,
        raise_on_failure: Literal[True] = True,
        on_status: Callable[[R], object] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> V: ...

    @overload
    async def wait(
        self,
        execution_id: str,
        *,
        timeout: Timeout = DEFAULT,
        raise_on_failure: bool,
        on_status: Callable[[R], object] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> R: ...

    async def wait(
        self,
        execution_id: str,
        *,
        timeout: Timeout = DEFAULT,
        raise_on_failure: bool = True,
        on_status: Callable[[R], object] | None = None,
        extra_headers: Mapping[str, str] | None = None,
    ) -> R | V:
        """Poll until the execution ends or ``timeout`` seconds pass (default: the client's
        ``wait_timeout``; ``None``: no deadline). Raises ``WaitTimeoutError`` carrying the execution id
        and the last state; with ``raise_on_failure`` (default) a failed, unverified or unknown result
        raises a ``TaskError`` that carries it, so what returns is verified (typed as such: a
        ``VerifiedFunctionResult`` or ``VerifiedApiTaskResult``). ``on_status`` is called with each state whose status
        differs from the previous one (the first read included)."""
        eid = check_execution_id(execution_id)
        _check_flags(on_status, raise_on_failure)
        return await self._client._perform(
            flow.wait_call(self._kind, eid, timeout, raise_on_failure, on_status, extra_headers)
        )

    async def _run(
        self,
        build: Callable[[bool], WireRequest],
        timeout: Timeout,
        raise_on_failure: bool,
        token: Any = None,
        on_status: Callable[[R], object] | None = None,
        group: list[flow.Progress] | None = None,
    ) -> R:
        # The flow builds the request (checking every argument) before its first effect: a bad
        # argument raises before any I/O.
        _check_flags(on_status, raise_on_failure)
        call = flow.run(self._kind, build, timeout, raise_on_failure, on_status)
        return await self._client._perform(call, token, group)

    async def _submit(self, build: Callable[[bool], WireRequest], hold: bool) -> Execution:
        if not isinstance(hold, bool):
            raise ValidationError("hold", "must be True or False")
        return await self._client._perform(flow.submit(self._kind, build, hold))

    def _shared(self, options: dict[str, Any]) -> tuple[Timeout, bool]:
        """``timeout`` and ``raise_on_failure`` taken out of the options of ``run`` (or those
        ``run_many`` shares) and checked; the builder checks that the rest are the request's."""
        timeout = options.pop("timeout", DEFAULT)
        raise_on_failure = options.pop("raise_on_failure", True)
        _check_flags(None, raise_on_failure)
        return timeout, raise_on_failure

    async def _many(
        self,
        builds: list[Callable[[bool], WireRequest]],
        concurrency: int,
        timeout: Timeout,
        raise_on_failure: bool,
    ) -> list[R | TruebitError]:
        self._client.settings.deadline(timeout)  # a bad timeout: one error, before anything is sent
        token = threading.Event()  # this run_many's own: an interruption stops its calls alone
        group: list[flow.Progress] = []  # what its calls learnt: the ids a Ctrl-C must not lose
        calls = [partial(self._run, build, timeout, raise_on_failure, token, group=group) for build in builds]
        try:
            return await gather_bounded(calls, concurrency, token)
        except BaseException as exc:
            mark_group_interrupted(exc, group)
            raise


class AsyncFunctions(_AsyncTasks[FunctionResult, VerifiedFunctionResult]):
    """Function tasks: WebAssembly programs run and cross-checked by several nodes."""

    _kind = FUNCTION

    def _builder(
        self, namespace: str, task: str, input: Any, options: Mapping[str, Any]
    ) -> Callable[[bool], WireRequest]:
        _check_keywords(options, _FUNCTION_OPTIONS)
        stamp = options.get("requester_timestamp")
        fixed = {**options, "requester_timestamp": int(time.time()) if stamp is None else stamp}
        return lambda sync: function_request(namespace, task, input, sync=sync, **fixed)

    @overload
    async def run(
        self, namespace: str, task: str, input: Any, **options: Unpack[FunctionRun]
    ) -> VerifiedFunctionResult: ...

    @overload
    async def run(
        self, namespace: str, task: str, input: Any, **options: Unpack[FunctionRunAnyOutcome]
    ) -> FunctionResult: ...

    async def run(self, namespace: str, task: str, input: Any, **options: Any) -> FunctionResult:
        """Execute ``task`` on ``input`` (the text of ``input.txt``, or a JSON value) and wait for
        the verified result.

        One request in sync mode (the service answers within its hold when it can); if only an
        execution id comes back, the status is polled until the end or ``timeout``. Raises
        ``TaskFailedError`` / ``VerificationIndeterminateError`` / ``UnknownStatusError`` unless
        ``raise_on_failure=False``; ``WaitTimeoutError`` (with the execution id) at the deadline.
        ``on_status`` is called with each state whose status differs from the previous one. The
        request's options (``FunctionOptions``): ``total_solutions=1``, ``required_solutions``
        (default: ``total_solutions``), ``gas_limit`` (the instruction budget), ``version`` or
        ``label`` (not both: the task's version), ``requester_timestamp``, ``extra_headers``,
        ``extra_body``. An unknown keyword is a ``ValidationError``, raised before anything is sent.
        """
        on_status = options.pop("on_status", None)
        timeout, raise_on_failure = self._shared(options)
        build = self._builder(namespace, task, input, options)
        return await self._run(build, timeout, raise_on_failure, on_status=on_status)

    async def submit(
        self, namespace: str, task: str, input: Any, *, hold: bool = False, **options: Unpack[FunctionOptions]
    ) -> Execution:
        """Start an execution and return at once with its ``execution_id`` (async mode); ``options``
        as ``run``'s. With ``hold``, in sync mode: the service holds the request until the task ends
        or its hold (60 s) passes, and ``Execution.result`` is the final result when the task ended
        in that time (one request either way, never resent)."""
        return await self._submit(self._builder(namespace, task, input, options), hold)

    async def run_many(
        self, namespace: str, task: str, inputs: Iterable[Any], *, concurrency: int = 16, **options: Any
    ) -> list[FunctionResult | TruebitError]:
        """``run`` for each input, at most ``concurrency`` at a time over this client's one
        connection pool. Returns, in input order, each result or the ``TruebitError`` it ended with
        (errors carry the execution id when one was assigned), so one failure loses nothing else.
        ``inputs`` is an iterable of inputs (a string is one input, not many: wrap it in a list).
        Options shared by every input are checked once, before anything is sent."""
        items = check_inputs("inputs", inputs, item=None)
        timeout, raise_on_failure = self._shared(options)
        self._builder(namespace, task, "", options)(False)  # shared options: one error, raised now
        builds = [self._builder(namespace, task, i, options) for i in items]
        return await self._many(builds, concurrency, timeout, raise_on_failure)


class AsyncApiTasks(_AsyncTasks[ApiTaskResult, VerifiedApiTaskResult]):
    """API tasks: HTTP calls, declared in the task's manifest, that the hub makes for you."""

    _kind = API

    def _builder(
        self, namespace: str, task: str, options: Mapping[str, Any]
    ) -> Callable[[bool], WireRequest]:
        _check_keywords(options, _API_OPTIONS)
        given = {"path": None, "method": "GET", **options}  # run()'s defaults, for run_many's mappings
        return lambda sync: api_request(namespace, task, sync=sync, **given)

    @overload
    async def run(self, namespace: str, task: str, **options: Unpack[ApiRun]) -> VerifiedApiTaskResult: ...

    @overload
    async def run(self, namespace: str, task: str, **options: Unpack[ApiRunAnyOutcome]) -> ApiTaskResult: ...

    async def run(self, namespace: str, task: str, **options: Any) -> ApiTaskResult:
        """Make the call ``method path`` of the task's manifest and wait for its result.

        The request's options (``ApiOptions``): ``path`` (required), ``method="GET"``; ``params``
        fill the ``{name}`` templates and query parameters, ``headers`` are injected into the
        outgoing call (secret: never logged), ``body`` is the JSON request body; ``execution_timeout``
        (default 30) bounds the outgoing call, in seconds or a ``timedelta``; ``version`` or
        ``label``, ``extra_headers``, ``extra_body``. ``timeout``, ``raise_on_failure`` and
        ``on_status`` as ``functions.run``'s.
        """
        on_status = options.pop("on_status", None)
        timeout, raise_on_failure = self._shared(options)
        build = self._builder(namespace, task, options)
        return await self._run(build, timeout, raise_on_failure, on_status=on_status)

    async def submit(
        self, namespace: str, task: str, *, hold: bool = False, **options: Unpack[ApiOptions]
    ) -> Execution:
        """Start an API-task execution and return at once with its ``execution_id``; ``options`` as
        ``run``'s, ``hold`` as for function tasks (``Execution.result`` when the call ended within the
        service's hold)."""
        return await self._submit(self._builder(namespace, task, options), hold)

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
        at most ``concurrency`` at a time; results or errors in input order. Options given here are
        shared by every call (a call's own keys win) and checked once, before anything is sent."""
        items = check_inputs("calls", calls, item=Mapping)
        timeout, raise_on_failure = self._shared(options)
        self._builder(namespace, task, {"path": "/", **options})(False)  # shared options, checked once
        builds = [self._builder(namespace, task, {**options, **call}) for call in items]
        return await self._many(builds, concurrency, timeout, raise_on_failure)
