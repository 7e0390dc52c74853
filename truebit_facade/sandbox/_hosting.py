"""Many sandboxes served from one event-loop thread: what makes the pytest plugin's sandbox per test cheap.

A :class:`~._server.Sandbox` of its own starts a thread, an event loop and a uvicorn server, and
stopping it waits for uvicorn's 0.1 s tick: about a quarter of a second per test. A
:class:`SandboxHost` starts one thread and one loop, once; each sandbox it serves is still a whole
sandbox of its own (its own app, dispatcher, registry, config, store, credit, counters, key and port:
nothing is shared between two of them but the loop and the process's worker pool, see
``_worker_pool``), started in a few milliseconds. Stopping one ends its executions at once (the
dispatcher's close) and lets uvicorn release the port on its next tick, without waiting for it;
:meth:`SandboxHost.close` waits for every server to finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

from ._serving import UvicornServing

if TYPE_CHECKING:
    import socket

    import uvicorn

    from ._config import SandboxConfig
    from ._registry import TaskRegistry
    from ._server import Sandbox
    from .example_target import ExampleTarget

__all__ = ["SandboxHost"]


class _HostedServer(UvicornServing):
    """A uvicorn server on the host's loop, with the interface ``Sandbox`` expects of its server."""

    def __init__(self, host: SandboxHost, address: str, port: int, log_level: str) -> None:
        super().__init__(address, port, log_level)
        self._host = host
        self._done: Future[None] | None = None

    @property
    def alive(self) -> bool:
        return self._done is not None and not self._done.done()

    def _run(self, server: uvicorn.Server, sock: socket.socket, name: str) -> None:
        async def serve() -> None:
            try:
                await server.serve(sockets=[sock])
            finally:
                sock.close()

        self._done = self._host.submit(serve())

    def _failure(self) -> BaseException | None:
        return self._done.exception() if self._done is not None and self._done.done() else None

    def stop(self) -> None:
        """Tell uvicorn to stop; it closes the port on its next tick (the host waits for it)."""
        server, self._server = self._server, None
        if server is not None:
            server.should_exit = True


class SandboxHost:
    """One event loop in a daemon thread serving sandboxes (see the module docstring)."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._served: set[Future[None]] = set()
        self._servers: list[_HostedServer] = []
        self._lock = threading.Lock()

    def start(self) -> SandboxHost:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                self._thread = threading.Thread(
                    target=loop.run_forever, name="truebit-sandbox-host", daemon=True
                )
                self._thread.start()
                self._loop = loop
        return self

    def submit(self, coroutine: Any) -> Future[None]:
        """Run ``coroutine`` on the host's loop; its future (the host waits for it on close)."""
        if self._loop is None:
            raise RuntimeError("the sandbox host is not started")
        future: Future[None] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        with self._lock:
            self._served = {f for f in self._served if not f.done()}
            self._served.add(future)
        return future

    def _server(self, host: str, port: int, log_level: str) -> _HostedServer:
        self.start()
        served = _HostedServer(self, host, port, log_level)
        with self._lock:
            self._servers = [s for s in self._servers if s.started]
            self._servers.append(served)
        return served

    def example_target(self) -> ExampleTarget:
        """The example target API (not started) served by this host."""
        from .example_target import ExampleTarget

        target = ExampleTarget()
        target._served = self._server(target._served.host, 0, "warning")
        return target

    def sandbox(self, config: SandboxConfig | None = None, registry: TaskRegistry | None = None) -> Sandbox:
        """A sandbox (not started) served by this host on a free port of 127.0.0.1: ``.start()`` /
        ``.stop()`` or ``with``. (A host or port of your choice: ``Sandbox(...)`` on its own thread.)"""
        from ._server import Sandbox

        host = "127.0.0.1"
        return Sandbox(config, registry, host=host, served=self._server(host, 0, "warning"))

    def close(self, timeout: float = 10.0) -> None:
        """Wait for the servers to finish stopping, then stop the loop and its thread."""
        with self._lock:
            loop, thread, served = self._loop, self._thread, list(self._served)
            servers, self._servers = self._servers, []
            self._loop = self._thread = None
            self._served = set()
        if loop is None or thread is None:
            return
        for server in servers:  # sandboxes never stopped: stop them now
            server.stop()
        deadline = time.monotonic() + timeout
        for future in served:
            with contextlib.suppress(Exception):
                future.result(max(0.0, deadline - time.monotonic()))
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        if not thread.is_alive():
            loop.close()
