"""Run the same client tests against ``Truebit`` and ``AsyncTruebit`` over a mock transport, with a
virtual clock (sleeps advance it; nothing really sleeps)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from tests.support import VirtualClock
from truebit_facade import AsyncTruebit, Truebit

Handler = Callable[[httpx.Request], httpx.Response]


class Harness:
    """Builds a client of one flavour and runs its calls to completion, sync or async alike."""

    def __init__(self, flavour: str) -> None:
        self.flavour = flavour
        self.clock = VirtualClock()
        self.loop = asyncio.new_event_loop() if flavour == "async" else None
        self.requests: list[httpx.Request] = []

    def client(self, handler: Handler, **options: Any) -> Truebit | AsyncTruebit:
        def recording(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return handler(request)

        transport = httpx.MockTransport(recording)
        options.setdefault("api_key", "test-key-123456")
        options.setdefault("base_url", "http://tb.test")
        if self.flavour == "async":
            return AsyncTruebit(
                http_client=httpx.AsyncClient(transport=transport),
                clock=self.clock,
                sleep=self.clock.asleep,
                **options,
            )
        return Truebit(
            http_client=httpx.Client(transport=transport), clock=self.clock, sleep=self.clock.sleep, **options
        )

    def __call__(self, value: Any) -> Any:
        if inspect.isawaitable(value):
            assert self.loop is not None
            return self.loop.run_until_complete(value)
        return value

    def close(self) -> None:
        if self.loop is not None:
            self.loop.close()


@pytest.fixture(params=["sync", "async"])
def harness(request: pytest.FixtureRequest) -> Iterator[Harness]:
    h = Harness(request.param)
    yield h
    h.close()
