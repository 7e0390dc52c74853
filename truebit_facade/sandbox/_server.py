"""Serving the sandbox: :class:`Sandbox` runs it with uvicorn in a background thread; :func:`serve` blocks.

``with Sandbox() as sb:`` binds a free port on 127.0.0.1 (or the given one), starts uvicorn in a thread,
returns once the app's startup has run (well under a second), and on exit stops the server, interrupts
running tasks and joins every thread it started (with ``_serving``'s :class:`ThreadedServer`, or on a
``SandboxHost``'s loop: ``_hosting``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from ._config import SandboxConfig
from ._registry import TaskRegistry
from ._served import ServedContext
from ._serving import ThreadedServer, UvicornServing, bind, url_host, uvicorn_config
from ._worker_pool import START_SECONDS, shared_pool

if TYPE_CHECKING:
    import uvicorn
    from starlette.applications import Starlette

    from ._dispatcher import Dispatcher
    from ._faults import FaultInjector

__all__ = ["Sandbox", "ThreadedServer", "serve"]

logger = logging.getLogger("truebit_facade.sandbox")
#: How long a stopping server waits for the dispatcher to end its executions.
_STOP_SECONDS = 8.0


class Sandbox(ServedContext):
    """The sandbox served on loopback in a background thread, for tests, demos and benchmarks.

    ``url`` (``http://127.0.0.1:PORT``), ``api_key`` (the first configured key), ``registry``, ``config``,
    ``app``, ``dispatcher`` and ``faults`` are available once started. Also an async context manager.
    """

    def __init__(
        self,
        config: SandboxConfig | None = None,
        registry: TaskRegistry | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
        served: UvicornServing | None = None,
    ) -> None:
        from ._registry import default_registry

        self.config = config or SandboxConfig()
        self.registry = registry if registry is not None else default_registry()
        self.host = host
        #: What serves it: a thread of its own, or a ``SandboxHost``'s loop (``_hosting``).
        self._served = served if served is not None else ThreadedServer(host, port, log_level)
        self._app: Starlette | None = None
        # The first worker process starts now, in the background, so that it is ready (its
        # interpreter and wasmtime loaded) by the first run.
        self._pool = shared_pool(self.config.workers)
        self._warming = self._pool.warm(1)

    @property
    def api_key(self) -> str:
        return self.config.dev_api_key

    @property
    def port(self) -> int:
        return self._served.port

    @property
    def url(self) -> str:
        return self._served.url

    @property
    def app(self) -> Starlette:
        if self._app is None:
            raise RuntimeError("the sandbox is not started")
        return self._app

    @property
    def dispatcher(self) -> Dispatcher:
        dispatcher: Dispatcher = self.app.state.dispatcher
        return dispatcher

    @property
    def faults(self) -> FaultInjector | None:
        """The fault injector (its ``injected`` counts), ``None`` without ``config.faults``."""
        injector: FaultInjector | None = self.app.state.faults
        return injector

    def start(self, timeout: float = 10.0) -> Sandbox:
        """Bind, serve in a thread, and return once ready (``RuntimeError`` if startup fails)."""
        from ._app import create_app

        if self._served.started:
            return self
        self._app = create_app(self.config, self.registry, pool=self._pool)
        try:
            self._served.start(self._app, "truebit-sandbox", timeout)
        except RuntimeError as exc:
            raise RuntimeError(str(exc).replace("truebit-sandbox", "the sandbox", 1)) from None
        return self

    def stop(self) -> None:
        """Stop serving, end the executions still running (Error) and join the server thread."""
        if not self._served.started:
            return
        loop = self.dispatcher.loop
        if loop is not None and self._served.alive:
            # End the executions first, so that requests held in sync mode answer at once instead of
            # keeping uvicorn's graceful shutdown waiting.
            with contextlib.suppress(Exception):
                asyncio.run_coroutine_threadsafe(self.dispatcher.close(), loop).result(timeout=15)
        self._served.stop()
        if self._warming is not None:
            self._warming.join(START_SECONDS)


def _stopping_server(config: uvicorn.Config, dispatcher: Dispatcher) -> uvicorn.Server:
    """A uvicorn server that, told to stop (SIGINT, SIGTERM), ends the executions first: held
    sync-mode requests answer at once (Error) and every execution is final in the store before uvicorn
    waits for connections, so stopping takes seconds, never the hold or run time."""
    import uvicorn

    class _Server(uvicorn.Server):
        async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
            logger.debug("stopping: ending the executions first")
            try:
                await asyncio.wait_for(dispatcher.close(), timeout=_STOP_SECONDS)
            except Exception as exc:  # pragma: no cover - still let uvicorn stop
                logger.error("stopping the dispatcher failed: %s", type(exc).__name__)
            await super().shutdown(sockets)

    return _Server(config)


def serve(
    config: SandboxConfig | None = None,
    registry: TaskRegistry | None = None,
    *,
    host: str = "127.0.0.1",
    port: int = 8080,
    log_level: str = "info",
    announce: Callable[[str], None] | None = None,
) -> None:
    """Serve the sandbox in this thread until interrupted (Ctrl-C); used by ``python -m``.

    ``announce`` is called with the URL once the port is bound and listening (port 0 picks a free one).
    """
    from ._app import create_app

    sock = bind(host, port)
    try:
        sock.listen(2048)
        app = create_app(config, registry)
        if announce is not None:
            announce(f"http://{url_host(host)}:{sock.getsockname()[1]}")
        server = _stopping_server(
            uvicorn_config(app, host, port, log_level, graceful=2), app.state.dispatcher
        )
        server.run(sockets=[sock])
    finally:
        sock.close()


@contextlib.contextmanager
def sandbox_process(*args: str, startup_timeout: float = 30.0) -> Iterator[tuple[str, str]]:
    """The sandbox CLI (``python -m truebit_facade.sandbox``) in a process of its own on a free
    127.0.0.1 port, with the extra command-line ``args``; yields ``(url, api_key)`` once it answers.

    For load tests and benchmarks, where a sandbox in the caller's process would share its GIL and
    blur the caller's CPU and memory figures."""
    import subprocess
    import sys
    import tempfile

    import httpx

    from ._app import STATS_PATH
    from ._config import DEV_API_KEY

    probe = bind("127.0.0.1", 0)
    port = probe.getsockname()[1]
    probe.close()
    cmd = [
        sys.executable,
        "-m",
        "truebit_facade.sandbox",
        "--port",
        str(port),
        "--log-level",
        "warning",
        *args,
    ]
    url = f"http://127.0.0.1:{port}"
    # stderr goes to a file, not a pipe: a pipe nobody reads would stall the server once full.
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=errors)
        try:
            deadline = time.monotonic() + startup_timeout
            while True:
                try:
                    httpx.get(f"{url}{STATS_PATH}", timeout=1)
                    break
                except httpx.TransportError:
                    if proc.poll() is not None or time.monotonic() > deadline:
                        proc.kill()
                        proc.wait(10)
                        errors.seek(0)
                        err = errors.read().decode(errors="replace").strip()[-500:]
                        raise RuntimeError(f"the sandbox process did not start: {err}") from None
                    time.sleep(0.05)
            yield url, DEV_API_KEY
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
