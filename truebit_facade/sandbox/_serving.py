"""An ASGI app served by uvicorn on a socket of its own, in the background: what the sandbox, the example
target and the tests' target APIs are served with.

:class:`UvicornServing` is what every way of running the server shares: bind (port 0 picks a free one),
build the uvicorn server, start it, and return once the app's startup ran. :class:`ThreadedServer` runs
it in a thread and event loop of its own; ``_hosting`` runs many on one shared loop.
"""

from __future__ import annotations

import abc
import asyncio
import socket
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import uvicorn

__all__ = ["ThreadedServer", "UvicornServing", "bind", "url_host", "uvicorn_config"]

#: How often a starting server is checked for having started (its startup takes milliseconds).
_START_POLL_SECONDS = 0.0005


def uvicorn_config(app: Any, host: str, port: int, log_level: str, graceful: int = 5) -> uvicorn.Config:
    import uvicorn

    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        loop="asyncio",
        http="h11",
        ws="none",
        timeout_graceful_shutdown=graceful,
    )


def bind(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and
    # without it every response waits ~40 ms for a delayed ACK.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class UvicornServing(abc.ABC):
    """An app served by uvicorn on ``host``: ``port`` and ``url`` once started; :meth:`_run` says where
    the server runs, :attr:`alive` whether it still does."""

    def __init__(self, host: str, port: int, log_level: str, graceful_seconds: int = 5) -> None:
        self.host = host
        self._port = port
        self._log_level = log_level
        self._graceful = graceful_seconds
        self._server: uvicorn.Server | None = None

    @property
    def started(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the server is not started")
        return self._port

    @property
    def url(self) -> str:
        return f"http://{url_host(self.host)}:{self.port}"

    @property
    @abc.abstractmethod
    def alive(self) -> bool:
        """The server runs (started and not ended)."""

    @abc.abstractmethod
    def _run(self, server: uvicorn.Server, sock: socket.socket, name: str) -> None:
        """Have ``server`` serve ``sock`` in the background, closing it at the end."""

    @abc.abstractmethod
    def _failure(self) -> BaseException | None:
        """Why the server ended before it started, if it says."""

    @abc.abstractmethod
    def stop(self) -> None:
        """Stop serving."""

    def start(self, app: Any, name: str, timeout: float = 10.0) -> None:
        """Bind, serve ``app`` in the background, and return once its startup ran; ``RuntimeError``
        (naming ``name``) if it does not start within ``timeout``."""
        import uvicorn

        if self._server is not None:
            return
        sock = bind(self.host, self._port)
        self._port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn_config(app, self.host, self._port, self._log_level, self._graceful))
        self._server = server
        self._run(server, sock, name)
        deadline = time.monotonic() + timeout
        while not server.started:
            if not self.alive or time.monotonic() > deadline:
                error = self._failure()
                self.stop()
                raise RuntimeError(f"{name} did not start: {error!r}")
            time.sleep(_START_POLL_SECONDS)


class ThreadedServer(UvicornServing):
    """Served in a daemon thread called ``name-PORT`` with an event loop of its own; :meth:`stop` stops
    it (requests still running get ``graceful_seconds``) and joins the thread."""

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning", graceful_seconds: int = 5
    ) -> None:
        super().__init__(host, port, log_level, graceful_seconds)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self, server: uvicorn.Server, sock: socket.socket, name: str) -> None:
        def run() -> None:
            try:
                asyncio.run(server.serve(sockets=[sock]))
            except BaseException as exc:  # reported by start()
                self._error = exc
            finally:
                sock.close()

        self._thread = threading.Thread(target=run, name=f"{name}-{self._port}", daemon=True)
        self._thread.start()

    def _failure(self) -> BaseException | None:
        return self._error

    def stop(self) -> None:
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.should_exit = True
        thread.join(timeout=30)
        self._thread = None
        self._server = None
