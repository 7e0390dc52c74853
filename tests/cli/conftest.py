"""Fixtures for the ``truebit`` command: a mock service behind ``truebit_facade.cli._entry._make_client``
(virtual clock, no sockets), and real sandboxes on loopback for end-to-end runs."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.support import VirtualClock
from truebit_facade import Truebit
from truebit_facade.cli import _entry

Handler = Callable[[httpx.Request], httpx.Response]

API_KEY = "cli-test-key-0123456789"
BASE_URL = "http://tb.test"


def function_body(
    execution_id: str = "exec-1",
    *,
    verification: str = "Success",
    output: str | None = "17711",
    execution_status: str = "succeed",
) -> dict[str, Any]:
    body: dict[str, Any] = {"executionId": execution_id, "verificationStatus": verification}
    if verification != "Running":
        body["clearTextSolution"] = {
            "output": output,
            "executionStatus": execution_status,
            "senderAddress": "0x" + "ab" * 20,
            "signature": {"v": 27, "r": "1" * 64, "s": "2" * 64},
        }
    return body


def respond(body: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(
        status, content=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )


class MockService:
    """Installs a client over ``handler`` as the CLI's client; records the requests."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.requests: list[httpx.Request] = []
        self.handler: Handler = lambda request: respond(function_body())
        self.clock = VirtualClock()
        monkeypatch.setenv("TRUEBIT_API_KEY", API_KEY)
        monkeypatch.delenv("TRUEBIT_BASE_URL", raising=False)
        monkeypatch.setattr(_entry, "_make_client", self._client)

    def _client(self, base_url: str | None) -> Truebit:
        def recording(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return self.handler(request)

        return Truebit(
            base_url=base_url or BASE_URL,
            http_client=httpx.Client(transport=httpx.MockTransport(recording)),
            clock=self.clock,
            sleep=self.clock.sleep,
        )

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) for r in self.requests if r.method == "POST"]


@pytest.fixture
def service(monkeypatch: pytest.MonkeyPatch) -> MockService:
    return MockService(monkeypatch)


@pytest.fixture
def sandbox_factory(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Any]]:
    """Start a real sandbox (``SandboxConfig`` keyword arguments) and point the environment at it."""
    sandbox_mod = pytest.importorskip(
        "truebit_facade.sandbox", reason="the local dispatcher (truebit_facade.sandbox) is not available"
    )
    if not hasattr(sandbox_mod, "Sandbox"):
        pytest.skip("truebit_facade.sandbox has no Sandbox yet")
    started: list[Any] = []

    def start(**config: Any) -> Any:
        config.setdefault("hold_seconds", 2.0)
        sb = sandbox_mod.Sandbox(sandbox_mod.SandboxConfig(**config))
        sb.__enter__()
        started.append(sb)
        monkeypatch.setenv("TRUEBIT_BASE_URL", sb.url)
        monkeypatch.setenv("TRUEBIT_API_KEY", sb.api_key)
        return sb

    yield start
    for sb in reversed(started):
        sb.__exit__(None, None, None)
