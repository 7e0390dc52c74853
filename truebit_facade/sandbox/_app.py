"""The sandbox's HTTP API: a Starlette app with the spec's four routes, JSON errors and a debug endpoint.

* ``POST /task/function/execute-by-name``: 401 (missing or unknown ``x-api-key``) is checked first, then
  the body (400), the task (400), the credit (402). ``async: true`` answers ``{"executionId"}`` at once;
  otherwise the request is held until the verdict (the full ``ExecuteTaskSyncResponse``) or until
  ``hold_seconds``, then answers ``{"executionId"}`` alone.
* ``GET /task/function/execution-status/{executionId}``: the same body as a synchronous answer, with
  ``verificationStatus`` ``Running`` and no ``clearTextSolution`` until verification ends; 404 for an
  unknown id. Needs no API key (the published examples send none).
* ``POST /task/api/execute-by-name``: the same order of checks and modes; the input is also checked
  against the task's manifest (400 naming what is wrong) before any credit is taken. The answer is the
  spec's ``ExecuteApiSyncResponse`` (see ``_api_tasks``).
* ``GET /task/api/execution-status/{executionId}``: that body, or ``{"executionId", "status":
  "Running"}`` until the call ends; 404 for an unknown id. An id of one kind is 404 on the other's path,
  and a task of one kind named on the other's execute path is 400.
* Every error is JSON ``{"message": ...}``: 405 (with ``Allow``) for other methods on these paths, 404
  for other paths, 500 only for a fault of the sandbox itself (answered by ``_boundary``, which keeps
  the connection open for the client's next call).
* ``GET /_sandbox/stats`` (not in the spec, no API key): the dispatcher's start counters, executions by
  status and the injected faults, as JSON (see :meth:`Dispatcher.stats`); ``DELETE`` sets the counters
  back to zero (and restarts the fault sequence) and answers the zeroed stats.

With ``SandboxConfig.faults`` set, :class:`~._faults.FaultMiddleware` wraps the whole app (outermost,
so that it can drop connections). ``middleware`` adds more, inside Starlette's error handling.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from .. import rules as _spec
from ._boundary import ErrorBoundary
from ._config import SandboxConfig
from ._dispatcher import ApiError, Dispatcher
from ._faults import FaultInjector, FaultMiddleware
from ._registry import TaskRegistry
from ._validation import (
    API_OPERATION,
    FUNCTION_OPERATION,
    RequestError,
    parse_json_body,
    validate_api_request,
    validate_function_request,
)
from ._worker_pool import WorkerPool

__all__ = ["STATS_PATH", "create_app"]

# The routes are the spec's: the same document the client was generated from.
EXECUTE_FUNCTION_PATH = _spec.operation(FUNCTION_OPERATION)[1]
FUNCTION_STATUS_PATH = _spec.operation("getFunctionExecutionStatus")[1]
EXECUTE_API_PATH = _spec.operation(API_OPERATION)[1]
API_STATUS_PATH = _spec.operation("getApiExecutionStatus")[1]
#: The debug endpoint with the start counters (not part of the spec).
STATS_PATH = "/_sandbox/stats"


class _SandboxApp(Starlette):
    """Starlette with the fault middleware outermost, where uvicorn's own ``send`` (and through it the
    connection) is reachable."""

    fault_injector: FaultInjector | None = None

    def build_middleware_stack(self) -> ASGIApp:
        app = super().build_middleware_stack()
        if self.fault_injector is not None:
            app = FaultMiddleware(app, self.fault_injector)
        return app


#: A larger answer is sent in pieces of this size, each when the reader has taken the last.
SEND_CHUNK = 64 << 10


def _json_bytes(data: bytes) -> Response:
    """An encoded JSON answer. A large one is streamed from the one shared ``bytes`` with the
    transport's backpressure: a reader that takes its time holds a piece of it, not a copy (the
    transport would otherwise buffer whatever the socket has not taken yet)."""
    if len(data) <= SEND_CHUNK:
        return Response(data, media_type="application/json")
    view = memoryview(data)

    async def pieces() -> AsyncIterator[bytes]:
        for start in range(0, len(view), SEND_CHUNK):
            yield bytes(view[start : start + SEND_CHUNK])

    return StreamingResponse(
        pieces(), media_type="application/json", headers={"content-length": str(len(data))}
    )


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"message": message}, status_code=status, headers=headers)


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, refusing (400) more than ``limit`` bytes without reading it all."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestError(f"request body larger than {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise RequestError(f"request body larger than {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def create_app(
    config: SandboxConfig | None = None,
    registry: TaskRegistry | None = None,
    *,
    middleware: Sequence[Middleware] = (),
    pool: WorkerPool | None = None,
) -> Starlette:
    """The sandbox as an ASGI app; the dispatcher starts and stops with the app's lifespan.

    ``app.state.dispatcher`` is the :class:`Dispatcher` (credits, counters, store) for tests;
    ``app.state.faults`` the :class:`~._faults.FaultInjector` (``None`` without fault injection).
    ``pool``: a worker pool to share (by default the dispatcher starts and stops its own).
    """
    from ._registry import default_registry

    config = config or SandboxConfig()
    registry = registry if registry is not None else default_registry()
    dispatcher = Dispatcher(config, registry, pool=pool)

    async def execute(request: Request, start: Callable[[str, Any], tuple[Any, str, Any]]) -> Response:
        """Both execute endpoints: authenticate, read, let ``start`` validate and submit, then hold a
        sync-mode request for the result until the hold time."""
        try:
            api_key = dispatcher.authenticate(request.headers.get("x-api-key"))
            raw = parse_json_body(await _read_body(request, config.max_body_bytes), config.max_body_bytes)
            parsed, execution_id, future = start(api_key, raw)
        except RequestError as exc:
            return _error(400, str(exc))
        except ApiError as exc:
            return _error(exc.status, exc.message)
        if not parsed.is_async:
            body = await dispatcher.wait(future, config.hold_seconds)
            if body is not None:
                return JSONResponse(body)
        return JSONResponse({"executionId": execution_id})

    def start_function(api_key: str, raw: Any) -> tuple[Any, str, Any]:
        parsed = validate_function_request(raw, max_total_solutions=config.max_total_solutions)
        task = dispatcher.resolve(parsed)
        dispatcher.charge(api_key)
        return (parsed, *dispatcher.submit(task, parsed, raw))

    def start_api(api_key: str, raw: Any) -> tuple[Any, str, Any]:
        parsed = validate_api_request(raw)
        task = dispatcher.resolve_api(parsed)
        call = task.manifest.prepare(parsed.input, credential_headers=task.credential_headers())
        for name, value in parsed.input.headers.items():
            if api_key in value:
                raise RequestError(
                    f"'input.headers': {name!r} carries your Truebit API key, which is never sent to a target"
                )
        dispatcher.charge(api_key)
        return (parsed, *dispatcher.submit_api(task, parsed, call, raw))

    async def execute_function(request: Request) -> Response:
        return await execute(request, start_function)

    async def execute_api(request: Request) -> Response:
        return await execute(request, start_api)

    def status_of(kind: Literal["function", "api"]) -> Callable[[Request], Awaitable[Response]]:
        async def status(request: Request) -> Response:
            data = dispatcher.status_answer(request.path_params["executionId"], kind)
            if data is None:
                return _error(404, "execution id not found")
            return _json_bytes(data)

        return status

    function_status, api_status = status_of("function"), status_of("api")

    async def stats(request: Request) -> Response:
        if request.method == "DELETE":
            dispatcher.reset_counters()
            if injector is not None:
                injector.reset()
        data = dispatcher.stats()
        data["faults"] = injector.stats() if injector is not None else None
        return JSONResponse(data)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        messages = {404: "not found", 405: "method not allowed"}
        message = messages.get(exc.status_code, str(exc.detail))
        return _error(exc.status_code, message, dict(exc.headers or {}))

    async def server_error(request: Request, exc: Exception) -> Response:
        return _error(500, f"internal error: {type(exc).__name__}")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        await dispatcher.start()
        try:
            yield {}
        finally:
            await dispatcher.close()

    injector = FaultInjector(config.faults) if config.faults is not None else None
    app = _SandboxApp(
        routes=[
            Route(EXECUTE_FUNCTION_PATH, execute_function, methods=["POST"]),
            _get_only(FUNCTION_STATUS_PATH, function_status),
            Route(EXECUTE_API_PATH, execute_api, methods=["POST"]),
            _get_only(API_STATUS_PATH, api_status),
            Route(STATS_PATH, stats, methods=["GET", "DELETE"]),
        ],
        middleware=[Middleware(ErrorBoundary), *middleware],  # a 500 that keeps the connection
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
    app.fault_injector = injector
    app.state.dispatcher = dispatcher
    app.state.faults = injector
    app.state.config = config
    app.state.registry = registry
    return app


def _get_only(path: str, endpoint: Any) -> Route:
    """A GET route without the HEAD Starlette adds: the spec declares GET alone, so HEAD is a 405."""
    route = Route(path, endpoint, methods=["GET"])
    assert route.methods is not None
    route.methods.discard("HEAD")
    return route
