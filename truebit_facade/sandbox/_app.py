"""The sandbox's HTTP API: a Starlette app with the spec's function-task routes and JSON errors.

* ``POST /task/function/execute-by-name``: 401 (missing or unknown ``x-api-key``) is checked first, then
  the body (400), the task (400), the credit (402). ``async: true`` answers ``{"executionId"}`` at once;
  otherwise the request is held until the verdict (the full ``ExecuteTaskSyncResponse``) or until
  ``hold_seconds``, then answers ``{"executionId"}`` alone.
* ``GET /task/function/execution-status/{executionId}``: the same body as a synchronous answer, with
  ``verificationStatus`` ``Running`` and no ``clearTextSolution`` until verification ends; 404 for an
  unknown id. Needs no API key (the published examples send none).
* Every error is JSON ``{"message": ...}``: 405 (with ``Allow``) for other methods on these paths, 404
  for other paths, 500 only for a fault of the sandbox itself.

``middleware`` lets later features (fault injection) wrap the routes without touching them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ._config import SandboxConfig
from ._dispatcher import ApiError, Dispatcher
from ._registry import TaskRegistry
from ._validation import RequestError, parse_json_body, validate_function_request

__all__ = ["create_app"]

EXECUTE_FUNCTION_PATH = "/task/function/execute-by-name"
FUNCTION_STATUS_PATH = "/task/function/execution-status/{executionId}"


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
) -> Starlette:
    """The sandbox as an ASGI app; the dispatcher starts and stops with the app's lifespan.

    ``app.state.dispatcher`` is the :class:`Dispatcher` (credits, counters, store) for tests.
    """
    from ._registry import default_registry

    config = config or SandboxConfig()
    registry = registry if registry is not None else default_registry()
    dispatcher = Dispatcher(config, registry)

    async def execute_function(request: Request) -> Response:
        try:
            api_key = dispatcher.authenticate(request.headers.get("x-api-key"))
            raw = parse_json_body(await _read_body(request, config.max_body_bytes), config.max_body_bytes)
            parsed = validate_function_request(raw, max_total_solutions=config.max_total_solutions)
            task = dispatcher.resolve(parsed)
            dispatcher.charge(api_key)
            execution_id, future = dispatcher.submit(task, parsed, raw)
        except RequestError as exc:
            return _error(400, str(exc))
        except ApiError as exc:
            return _error(exc.status, exc.message)
        if not parsed.is_async:
            body = await dispatcher.wait(future, config.hold_seconds)
            if body is not None:
                return JSONResponse(body)
        return JSONResponse({"executionId": execution_id})

    async def function_status(request: Request) -> Response:
        body = dispatcher.status(request.path_params["executionId"], "function")
        if body is None:
            return _error(404, "execution id not found")
        return JSONResponse(body)

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

    app = Starlette(
        routes=[
            Route(EXECUTE_FUNCTION_PATH, execute_function, methods=["POST"]),
            Route(FUNCTION_STATUS_PATH, function_status, methods=["GET"]),
        ],
        middleware=list(middleware),
        exception_handlers={HTTPException: http_error, Exception: server_error},
        lifespan=lifespan,
    )
    app.state.dispatcher = dispatcher
    app.state.config = config
    app.state.registry = registry
    return app
