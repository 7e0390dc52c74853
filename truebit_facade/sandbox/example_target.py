"""The example target of API tasks: a tiny httpbin-like Starlette app, its manifest, and helpers.

The platform's documentation calls an API task ``custom`` in namespace ``3a2b5129`` with
``{"path": "/anything/{Id}", "method": "GET", "params": {"Id": 12345}}``; this module makes that call
work on this machine. Serve the target on loopback and register the task::

    from truebit_facade.sandbox import Sandbox, default_registry
    from truebit_facade.sandbox.example_target import ExampleTarget, register_example_api_task

    with ExampleTarget() as target:
        registry = default_registry()
        register_example_api_task(registry, target.url)        # 3a2b5129/custom
        with Sandbox(registry=registry) as sandbox:
            ...

Routes (all declared in ``tasks/example_target.openapi.json``, whose ``servers[0].url`` is replaced by
the target's URL at registration):

* ``GET /anything/{Id}``: echoes ``method``, ``path``, ``args`` (query), ``headers`` (as received,
  lower-case names) and ``Id``. It echoes whatever it received, injected headers included: it is the
  user's own target, so this is how header injection is observed.
* ``GET /store/order/{orderId}`` (1..100 exist, others 404), ``GET /store/order/latest``,
  ``POST /store/order`` (JSON body: ``Order`` in the manifest).
* ``GET /search?q=&limit=&tag=`` echoes its query; ``GET /slow?seconds=`` answers that late (at most
  30 s); ``GET /status/{code}`` answers that status; ``GET /text`` plain text; ``GET /list`` a JSON
  array; ``POST /notes`` takes a plain-text body; ``GET /redirect`` redirects to another host.
* ``GET /secure``: 200 ``{"authorized": true, "scheme": ...}`` when the call carries ``X-Target-Key:
  <api_key>`` or basic auth ``<basic>``, else 401; it echoes nothing.

Every request the target receives is recorded in ``ExampleTarget.requests`` (method, path, query,
headers), so tests can check on the target's side what was sent, and what was not.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from ._api_tasks import ApiCredentials, ApiTask
from ._registry import EXAMPLES_NAMESPACE, TaskRegistry
from ._served import ServedContext

if TYPE_CHECKING:
    from ._serving import UvicornServing

__all__ = [
    "EXAMPLE_BASIC",
    "EXAMPLE_TARGET_KEY",
    "MANIFEST_PATH",
    "ExampleTarget",
    "ReceivedRequest",
    "create_target_app",
    "example_manifest",
    "example_registry",
    "register_example_api_task",
]

#: The manifest of the example target (``servers[0].url`` is a placeholder).
MANIFEST_PATH = Path(__file__).parent / "tasks" / "example_target.openapi.json"
#: The ``X-Target-Key`` value ``GET /secure`` accepts by default.
EXAMPLE_TARGET_KEY = "example-target-key"
#: The basic-auth credentials ``GET /secure`` accepts by default.
EXAMPLE_BASIC = ("demo", "demo-password")


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as the target received it: ``raw_path`` still percent-encoded, ``path`` decoded."""

    method: str
    path: str
    raw_path: str
    query: str
    headers: dict[str, str]


def _order(order_id: int) -> dict[str, Any]:
    return {"id": order_id, "petId": order_id % 7 + 1, "quantity": 1, "status": "placed", "complete": False}


def create_target_app(
    *,
    api_key: str = EXAMPLE_TARGET_KEY,
    basic: tuple[str, str] = EXAMPLE_BASIC,
    record: collections.deque[ReceivedRequest] | None = None,
) -> Starlette:
    """The example target as an ASGI app; see the module docstring. ``record`` collects requests."""
    received = record if record is not None else collections.deque(maxlen=1000)
    basic_header = "Basic " + base64.b64encode(f"{basic[0]}:{basic[1]}".encode()).decode()

    class Recorder:
        """Records every request, routed or not, before the app sees it."""

        def __init__(self, app: ASGIApp) -> None:
            self.app = app

        async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http":
                received.append(
                    ReceivedRequest(
                        scope["method"],
                        scope["path"],
                        bytes(scope.get("raw_path") or b"").decode("latin-1"),
                        bytes(scope.get("query_string", b"")).decode("latin-1"),
                        {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]},
                    )
                )
            await self.app(scope, receive, send)

    async def anything(request: Request) -> Response:
        args: dict[str, Any] = {}
        for key in request.query_params:
            values = request.query_params.getlist(key)
            args[key] = values[0] if len(values) == 1 else values
        raw = await request.body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        return JSONResponse(
            {
                "method": request.method,
                "path": request.url.path,
                "args": args,
                "headers": dict(request.headers.items()),
                "Id": request.path_params["Id"],
                "body": body,
            }
        )

    async def order(request: Request) -> Response:
        text = request.path_params["orderId"]
        if not text.isdigit() or not 1 <= int(text) <= 100:
            return JSONResponse({"message": "Order not found"}, status_code=404)
        return JSONResponse(_order(int(text)))

    async def latest(request: Request) -> Response:
        return JSONResponse(_order(100))

    async def place(request: Request) -> Response:
        try:
            data = await request.json()
        except ValueError:
            return JSONResponse({"message": "invalid JSON"}, status_code=400)
        if not isinstance(data, dict):
            return JSONResponse({"message": "an order is an object"}, status_code=400)
        return JSONResponse({"id": 101, "status": "placed", "complete": False, **data})

    async def search(request: Request) -> Response:
        params = request.query_params
        return JSONResponse(
            {"q": params.get("q"), "limit": params.get("limit"), "tags": params.getlist("tag")}
        )

    async def slow(request: Request) -> Response:
        try:
            seconds = min(max(float(request.query_params.get("seconds", "1")), 0.0), 30.0)
        except ValueError:
            seconds = 1.0
        await asyncio.sleep(seconds)
        return JSONResponse({"slept": seconds})

    async def status(request: Request) -> Response:
        code = int(request.path_params["code"]) if request.path_params["code"].isdigit() else 400
        if not 200 <= code <= 599:
            code = 400
        if code in (204, 304):
            return Response(status_code=code)
        return JSONResponse({"status": code}, status_code=code)

    async def text(request: Request) -> Response:
        return PlainTextResponse("hello from the example target\n")

    async def listing(request: Request) -> Response:
        return JSONResponse([1, 2, 3])

    async def notes(request: Request) -> Response:
        raw = await request.body()
        return JSONResponse(
            {"received": raw.decode("utf-8", "replace"), "contentType": request.headers.get("content-type")}
        )

    async def secure(request: Request) -> Response:
        if request.headers.get("x-target-key") == api_key:
            return JSONResponse({"authorized": True, "scheme": "header"})
        if request.headers.get("authorization") == basic_header:
            return JSONResponse({"authorized": True, "scheme": "basic"})
        return JSONResponse({"authorized": False}, status_code=401)

    async def redirect(request: Request) -> Response:
        return RedirectResponse("http://example.invalid/elsewhere", status_code=302)

    app = Starlette(
        routes=[
            Route("/anything/{Id}", anything, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
            Route("/store/order/latest", latest, methods=["GET"]),
            Route("/store/order/{orderId}", order, methods=["GET"]),
            Route("/store/order", place, methods=["POST"]),
            Route("/search", search, methods=["GET"]),
            Route("/slow", slow, methods=["GET"]),
            Route("/status/{code}", status, methods=["GET"]),
            Route("/text", text, methods=["GET"]),
            Route("/list", listing, methods=["GET"]),
            Route("/notes", notes, methods=["POST"]),
            Route("/secure", secure, methods=["GET"]),
            Route("/redirect", redirect, methods=["GET"]),
        ],
        middleware=[Middleware(Recorder)],
    )
    app.state.requests = received
    return app


class ExampleTarget(ServedContext):
    """The example target served on a free loopback port in a background thread (a context manager,
    sync or async). ``url`` once started; ``requests`` the requests it received, oldest first."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = EXAMPLE_TARGET_KEY,
        basic: tuple[str, str] = EXAMPLE_BASIC,
        log_level: str = "warning",
    ) -> None:
        from ._serving import ThreadedServer

        self.requests: collections.deque[ReceivedRequest] = collections.deque(maxlen=1000)
        self.app = create_target_app(api_key=api_key, basic=basic, record=self.requests)
        # Stopping does not wait long for /slow calls still sleeping.
        self._served: UvicornServing = ThreadedServer(host, port, log_level, graceful_seconds=1)

    @property
    def url(self) -> str:
        return self._served.url

    def start(self) -> ExampleTarget:
        self._served.start(self.app, "truebit-example-target")
        return self

    def stop(self) -> None:
        self._served.stop()


def example_manifest(target_url: str) -> dict[str, Any]:
    """The example target's manifest with ``servers[0].url`` set to ``target_url``."""
    document: dict[str, Any] = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    document["servers"] = [{"url": target_url, "description": "the example target on loopback"}]
    return document


def register_example_api_task(
    registry: TaskRegistry,
    target_url: str,
    namespace: str = EXAMPLES_NAMESPACE,
    name: str = "custom",
    *,
    credentials: ApiCredentials | None = None,
    labels: Iterable[str] = ("stable",),
    version: int | None = None,
) -> ApiTask:
    """Register the example API task (by default ``3a2b5129/custom``, labelled ``stable``) calling the
    example target at ``target_url``."""
    return registry.add_api_task(
        namespace,
        name,
        example_manifest(target_url),
        version=version,
        labels=labels,
        credentials=credentials,
        description="The example target: /anything/{Id} echoes what it receives, /store/order, /search, ...",
    )


def example_registry(target_url: str) -> TaskRegistry:
    """:func:`~._registry.default_registry` plus the example API task ``3a2b5129/custom``."""
    from ._registry import default_registry

    registry = default_registry()
    register_example_api_task(registry, target_url)
    return registry
