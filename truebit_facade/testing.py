"""Pytest plugin for testing your own code against the local dispatcher (see the README).

Installed with the package (entry point ``pytest11: truebit_sandbox``); needs the ``sandbox`` extra.
Fixtures, all function-scoped so every test gets a fresh sandbox of its own: its own app, dispatcher,
registry, config, store, credit, counters, key and port, so no test sees another's executions. What
is shared, started on first use and stopped at the end of the session, is what costs: one event-loop
thread serving every test's sandbox (``truebit_facade.sandbox.SandboxHost``) and the process's worker pool
(``_worker_pool``). A sandbox then costs about 20 ms to set up and tear down (``make bench``
measures it) instead of about a quarter of a second.

* ``truebit_sandbox``: a running :class:`truebit_facade.sandbox.Sandbox` on a free 127.0.0.1 port with
  the example tasks (namespace ``3a2b5129``: ``fibonacci``, ``echo``, ``loop``, ``trap``) and a 2-second
  sync hold. ``truebit_sandbox.url`` and ``truebit_sandbox.api_key`` are what a client needs.
* ``truebit_client``: a ready ``truebit_facade.Truebit`` client bound to that sandbox;
  ``truebit_async_client`` the same as an ``AsyncTruebit`` (for ``async def`` tests).
* ``truebit_example_target``: the example target API (:class:`truebit_facade.sandbox.example_target.
  ExampleTarget`) served on a free 127.0.0.1 port: ``.url``, and ``.requests`` (what it received).
* ``truebit_api_sandbox``: like ``truebit_sandbox`` (same config fixture) with the example tasks plus
  the API task ``3a2b5129/custom`` calling ``truebit_example_target`` (the docs' example call
  ``{"path": "/anything/{Id}", "method": "GET", "params": {"Id": 12345}}`` works on it);
  ``truebit_api_client`` is a ``Truebit`` client bound to it.
* ``truebit_sandbox_config`` and ``truebit_sandbox_registry``: what the sandbox is built from. Override
  them in your ``conftest.py`` (or in a test module) to register your own tasks or change settings::

      @pytest.fixture
      def truebit_sandbox_registry():
          registry = default_registry()
          registry.add_function_task("mine", "double", Path("double.wat"))
          return registry

      @pytest.fixture
      def truebit_sandbox_config():
          return SandboxConfig(hold_seconds=2, faulty_nodes={2: NodeFault("wrong_output")})

  Your own API task against the example target (or your own target, served the same way)::

      @pytest.fixture
      def truebit_sandbox_registry(truebit_example_target):
          registry = default_registry()
          registry.add_api_task("mine", "orders", Path("orders.openapi.json"),
                                base_url=truebit_example_target.url)
          return registry

  Network faults for a client's retry logic (seeded, so a failing run repeats exactly)::

      @pytest.fixture
      def truebit_sandbox_config():
          return SandboxConfig(hold_seconds=2, faults=FaultConfig(rates={"503_retry_after": 0.3}, seed=7))

  ``truebit_sandbox.dispatcher.started_count(body)`` (or ``GET /_sandbox/stats``) tells how many
  executions of a request body actually started: a client that never runs a task twice keeps it at 1.
Imports of the sandbox happen inside the fixtures, so the plugin costs nothing at pytest start.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import asyncio

    from truebit_facade import AsyncTruebit, Truebit
    from truebit_facade._async_pool import AsyncCallerClient, AsyncPool
    from truebit_facade.sandbox import Sandbox, SandboxConfig, SandboxHost, TaskRegistry
    from truebit_facade.sandbox.example_target import ExampleTarget

__all__ = [
    "truebit_api_client",
    "truebit_api_sandbox",
    "truebit_async_client",
    "truebit_client",
    "truebit_example_target",
    "truebit_sandbox",
    "truebit_sandbox_config",
    "truebit_sandbox_registry",
]

#: The sync hold of the fixture's sandbox: short, so a test of the "hold expired" path stays quick.
FIXTURE_HOLD_SECONDS = 2.0


@pytest.fixture
def truebit_sandbox_config() -> SandboxConfig:
    """The fixture sandbox's settings: defaults with a 2-second sync hold. Override to change them."""
    from truebit_facade.sandbox import SandboxConfig

    return SandboxConfig(hold_seconds=FIXTURE_HOLD_SECONDS)


@pytest.fixture
def truebit_sandbox_registry() -> TaskRegistry:
    """The fixture sandbox's tasks: the shipped examples. Override to add your own."""
    from truebit_facade.sandbox import default_registry

    return default_registry()


@pytest.fixture(scope="session")
def _truebit_sandbox_host() -> Iterator[SandboxHost]:
    """The event-loop thread serving every fixture sandbox of the session (started on first use)."""
    from truebit_facade.sandbox import SandboxHost

    host = SandboxHost().start()
    yield host
    host.close()


@pytest.fixture
def truebit_sandbox(
    truebit_sandbox_config: SandboxConfig,
    truebit_sandbox_registry: TaskRegistry,
    _truebit_sandbox_host: SandboxHost,
) -> Iterator[Sandbox]:
    """A fresh sandbox served on a free loopback port for the duration of the test."""
    with _truebit_sandbox_host.sandbox(truebit_sandbox_config, truebit_sandbox_registry) as sandbox:
        yield sandbox


@pytest.fixture
def truebit_example_target(_truebit_sandbox_host: SandboxHost) -> Iterator[ExampleTarget]:
    """The example target API served on a free loopback port for the duration of the test."""
    with _truebit_sandbox_host.example_target() as target:
        yield target


@pytest.fixture
def truebit_api_sandbox(
    truebit_sandbox_config: SandboxConfig,
    truebit_example_target: ExampleTarget,
    _truebit_sandbox_host: SandboxHost,
) -> Iterator[Sandbox]:
    """A sandbox with the example tasks and the API task ``3a2b5129/custom`` calling the example target."""
    from truebit_facade.sandbox.example_target import example_registry

    registry = example_registry(truebit_example_target.url)
    with _truebit_sandbox_host.sandbox(truebit_sandbox_config, registry) as sandbox:
        yield sandbox


@pytest.fixture
def truebit_client(truebit_sandbox: Sandbox) -> Iterator[Truebit]:
    """A ``truebit_facade.Truebit`` client connected to ``truebit_sandbox``, closed after the test."""
    from truebit_facade import Truebit

    with Truebit(api_key=truebit_sandbox.api_key, base_url=truebit_sandbox.url) as client:
        yield client


@pytest.fixture
def truebit_async_client(truebit_sandbox: Sandbox) -> Iterator[AsyncTruebit]:
    """An ``AsyncTruebit`` client connected to ``truebit_sandbox``, for ``async def`` tests (any
    event-loop plugin: the client opens its pool in the loop that first uses it). Closed for you
    (``await client.aclose()`` in the test does no harm): see :func:`_self_closing_async_client`."""
    client, pools = _self_closing_async_client(truebit_sandbox.api_key, truebit_sandbox.url)
    yield client
    for loop, pool in pools:  # a loop left open past the test (a wider loop scope, a loop of its own)
        if not loop.is_closed() and not loop.is_running():
            loop.run_until_complete(pool.aclose())


def _self_closing_async_client(
    api_key: str, base_url: str
) -> tuple[AsyncTruebit, list[tuple[asyncio.AbstractEventLoop, AsyncPool | AsyncCallerClient]]]:
    """An ``AsyncTruebit`` whose connection pools close with the event loops that opened them, and
    the (loop, pool) pairs it opened, for the fixture to close those whose loop outlives the test.

    Event-loop plugins close the test's loop before sync fixtures are torn down, and a pool's
    connections belong to the loop that opened them. So when a pool opens, the client starts an
    async generator on that loop whose ``finally`` closes that pool (not the client: a test may go on
    in another loop, as two ``asyncio.run`` calls do): asyncio's loop shutdown
    (``loop.shutdown_asyncgens()``, which ``asyncio.run`` and ``asyncio.Runner`` call before closing)
    finalises it, inside the loop, while the connections can still be closed."""
    import asyncio

    from truebit_facade import AsyncTruebit

    pools: list[tuple[asyncio.AbstractEventLoop, AsyncPool | AsyncCallerClient]] = []
    # Strong references: the loop keeps only weak ones to async generators and tasks.
    closers: list[tuple[AsyncGenerator[None], asyncio.Task[None]]] = []

    class _Closing(AsyncTruebit):
        def _pool(self) -> AsyncPool | AsyncCallerClient:
            pool = super()._pool()  # a with_options copy's comes from its origin's _pool
            if self._origin is None and all(pool is not opened for _, opened in pools):
                loop = asyncio.get_running_loop()
                closer = _close_at_loop_shutdown(pool)
                pools.append((loop, pool))
                closers.append((closer, loop.create_task(_start(closer))))
            return pool

    return _Closing(api_key=api_key, base_url=base_url), pools


async def _close_at_loop_shutdown(pool: AsyncPool | AsyncCallerClient) -> AsyncGenerator[None]:
    try:
        yield
    finally:
        await pool.aclose()


async def _start(closer: AsyncGenerator[None]) -> None:
    await anext(closer)


@pytest.fixture
def truebit_api_client(truebit_api_sandbox: Sandbox) -> Iterator[Truebit]:
    """A ``Truebit`` client connected to ``truebit_api_sandbox`` (API task ``3a2b5129/custom``)."""
    from truebit_facade import Truebit

    with Truebit(api_key=truebit_api_sandbox.api_key, base_url=truebit_api_sandbox.url) as client:
        yield client
