"""Conformance of the client, not only of the sandbox: every request the facade sends in these tests
and every answer it reads pass through a validating layer (an ASGI middleware around the sandbox)
that checks them against the merged spec. A request that drifts from the spec in values, formats or
bounds fails the test even where the type check cannot see it.

The check is the sandbox's own schema validator (``truebit_facade.sandbox._schema.openapi_validator``:
openapi-schema-validator on jsonschema, formats asserted), the one its request validation and its
manifests use, under the shipped spec's OpenAPI version: one library and one set of rules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from truebit_facade import _spec
from truebit_facade.sandbox._schema import openapi_validator, version_of


def _operations() -> list[tuple[str, list[str], str]]:
    return [(method, path.split("/"), op_id) for method, path, op_id in _spec.operations()]


def _matches(template: list[str], path: str) -> bool:
    parts = path.split("/")
    return len(parts) == len(template) and all(
        t == p or (t.startswith("{") and t.endswith("}") and p) for t, p in zip(template, parts, strict=True)
    )


def _check(schema: dict[str, Any] | None, value: Any, what: str, problems: list[str]) -> None:
    if schema is None:
        return
    for error in openapi_validator(schema, version=version_of(_spec.spec())).iter_errors(value):
        problems.append(
            f"{what}: {'.'.join(map(str, error.absolute_path)) or '(root)'}: {error.validator} {error.validator_value!r}"
        )


class SpecConformance:
    """Wraps the sandbox app; ``problems`` collects every departure from the spec."""

    def __init__(self, app: Any, problems: list[str]) -> None:
        self._app, self.problems, self._ops = app, problems, _operations()

    def __getattr__(self, name: str) -> Any:  # .state, .fault_injector ... of the wrapped app
        return getattr(self._app, name)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        op = next((o for m, t, o in self._ops if m == scope["method"] and _matches(t, scope["path"])), None)
        if op is None:
            await self._app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def recv() -> Any:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
                if not message.get("more_body"):
                    self._request(op, b"".join(chunks))
            return message

        status: list[int] = []
        body: list[bytes] = []

        async def snd(message: Any) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            elif message["type"] == "http.response.body":
                body.append(message.get("body", b""))
                if not message.get("more_body"):
                    self._response(op, status[0], b"".join(body))
            await send(message)

        await self._app(scope, recv, snd)

    def _request(self, op: str, content: bytes) -> None:
        if not content:
            return
        try:
            value = json.loads(content)
        except ValueError:
            self.problems.append(f"{op} request: not JSON")
            return
        _check(_spec.request_schema(op), value, f"{op} request", self.problems)

    def _response(self, op: str, status: int, content: bytes) -> None:
        schema = _spec.response_schema(op, status)
        if schema is None:
            return  # an undocumented status (a fault injected on purpose) is the client's test
        try:
            value = json.loads(content)
        except ValueError:
            self.problems.append(f"{op} response {status}: not JSON")
            return
        _check(schema, value, f"{op} response {status}", self.problems)


@pytest.fixture(autouse=True)
def spec_conformance(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every sandbox started by the test is wrapped; the test fails on any departure from the spec."""
    from truebit_facade.sandbox import _app

    problems: list[str] = []
    create_app = _app.create_app
    monkeypatch.setattr(_app, "create_app", lambda *a, **kw: SpecConformance(create_app(*a, **kw), problems))
    yield problems
    assert not problems, "requests or answers that depart from the spec:\n" + "\n".join(problems[:20])
