"""Fixtures for the sandbox tests: sandboxes on loopback, the example target, raw httpx clients."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from truebit_facade.sandbox import Sandbox, SandboxConfig, TaskRegistry
from truebit_facade.sandbox.example_target import ExampleTarget, example_registry

from .sandbox_helpers import SandboxFactory, client_for


@pytest.fixture
def make_sandbox() -> Iterator[SandboxFactory]:
    """Start sandboxes with ``SandboxConfig`` overrides (hold 2 s by default); all stopped after the test."""
    started: list[Sandbox] = []

    def make(registry: TaskRegistry | None = None, **config: Any) -> Sandbox:
        config.setdefault("hold_seconds", 2.0)
        sandbox = Sandbox(SandboxConfig(**config), registry).start()
        started.append(sandbox)
        return sandbox

    yield make
    for sandbox in reversed(started):
        sandbox.stop()


@pytest.fixture(scope="module")
def shared_sandbox() -> Iterator[Sandbox]:
    """One default sandbox (hold 5 s) shared by a module's read-only tests."""
    with Sandbox(SandboxConfig(hold_seconds=5.0)) as sandbox:
        yield sandbox


@pytest.fixture
def client(shared_sandbox: Sandbox) -> Iterator[httpx.Client]:
    with client_for(shared_sandbox) as c:
        yield c


@pytest.fixture(scope="module")
def example_target() -> Iterator[ExampleTarget]:
    """The example target API on loopback, shared by a module."""
    with ExampleTarget() as target:
        yield target


@pytest.fixture(scope="module")
def api_sandbox(example_target: ExampleTarget) -> Iterator[Sandbox]:
    """A sandbox (hold 5 s) with the example tasks and 3a2b5129/custom, shared by a module."""
    with Sandbox(SandboxConfig(hold_seconds=5.0), example_registry(example_target.url)) as sandbox:
        yield sandbox


@pytest.fixture
def api_client(api_sandbox: Sandbox) -> Iterator[httpx.Client]:
    with client_for(api_sandbox) as c:
        yield c


@pytest.fixture
def api_registry(example_target: ExampleTarget) -> TaskRegistry:
    """A fresh registry with the example tasks and 3a2b5129/custom (for sandboxes a test configures)."""
    return example_registry(example_target.url)
