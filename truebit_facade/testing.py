"""Pytest plugin for testing your own code against the local dispatcher (see the README).

Installed with the package (entry point ``pytest11: truebit_sandbox``); needs the ``sandbox`` extra.
Fixtures, all function-scoped so every test gets a fresh sandbox (starting one takes well under 100 ms):

* ``truebit_sandbox``: a running :class:`truebit_facade.sandbox.Sandbox` on a free 127.0.0.1 port with
  the example tasks (namespace ``3a2b5129``: ``fibonacci``, ``echo``, ``loop``, ``trap``) and a 2-second
  sync hold. ``truebit_sandbox.url`` and ``truebit_sandbox.api_key`` are what a client needs.
* ``truebit_client``: a ready ``truebit_facade.Truebit`` client bound to that sandbox.
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

Imports of the sandbox happen inside the fixtures, so the plugin costs nothing at pytest start.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from truebit_facade.sandbox import Sandbox, SandboxConfig, TaskRegistry

__all__ = ["truebit_client", "truebit_sandbox", "truebit_sandbox_config", "truebit_sandbox_registry"]

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


@pytest.fixture
def truebit_sandbox(
    truebit_sandbox_config: SandboxConfig, truebit_sandbox_registry: TaskRegistry
) -> Iterator[Sandbox]:
    """A sandbox served on a free loopback port for the duration of the test."""
    from truebit_facade.sandbox import Sandbox

    with Sandbox(truebit_sandbox_config, truebit_sandbox_registry) as sandbox:
        yield sandbox


@pytest.fixture
def truebit_client(truebit_sandbox: Sandbox) -> Iterator[Any]:
    """A ``truebit_facade.Truebit`` client connected to ``truebit_sandbox``, closed after the test."""
    from truebit_facade import Truebit  # type: ignore[attr-defined,unused-ignore]

    with Truebit(api_key=truebit_sandbox.api_key, base_url=truebit_sandbox.url) as client:
        yield client
