"""The app's last line: an unexpected error answers the spec's documented 500, and the connection lives on.

Starlette's own error middleware sends its handler's 500 and then raises the exception again, so that
the server logs it; uvicorn, seeing an exception after the response started, closes the connection.
A client's next call on that keep-alive connection then fails with ``Connection reset by peer``: one
faulty request broke a call it had nothing to do with. :class:`ErrorBoundary` sits inside that
middleware, logs the error with its traceback, answers ``500 {"message": "internal error: <type>"}``
(the spec's ``ErrorResponse``) and returns normally. An error after the answer has started can only
end that one connection, and still does.
"""

from __future__ import annotations

import json
import logging

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ErrorBoundary"]

logger = logging.getLogger("truebit_facade.sandbox")


class ErrorBoundary:
    """Pure ASGI middleware: see the module docstring."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            if started:
                raise
            logger.exception(
                "sandbox: unexpected error answering %s %s", scope.get("method"), scope.get("path")
            )
            body = json.dumps({"message": f"internal error: {type(exc).__name__}"}).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 500, "headers": headers})
            await send({"type": "http.response.body", "body": body})
