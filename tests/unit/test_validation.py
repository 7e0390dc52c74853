"""Bad input is refused before any I/O with a ValidationError naming the field.

The transport fails the test if it is touched at all.
"""

from __future__ import annotations

import asyncio
import inspect
import math
from datetime import timedelta
from typing import Any

import httpx
import pytest

from truebit_facade import AsyncTruebit, Truebit, ValidationError

from .conftest import Harness


def _untouchable(request: httpx.Request) -> httpx.Response:
    pytest.fail(f"the transport was touched: {request.method} {request.url}")


F = "functions"
A = "api_tasks"
API = {"path": "/x"}

CASES: list[tuple[str, str, str, tuple[Any, ...], dict[str, Any]]] = [
    # (id, namespace attr, method, args, kwargs) -> field named in the error
    ("namespace", F, "run", ("", "fib", "1"), {}),
    ("namespace", F, "run", ("   ", "fib", "1"), {}),
    ("namespace", F, "submit", (None, "fib", "1"), {}),
    ("namespace", F, "run", ("ns\n", "fib", "1"), {}),
    ("task", F, "run", ("ns", "", "1"), {}),
    ("task", F, "run", ("ns", "\t", "1"), {}),
    ("task", A, "run", ("ns", 5), API),
    ("version", F, "run", ("ns", "fib", "1"), {"version": -1}),
    ("version", F, "run", ("ns", "fib", "1"), {"version": 2**32}),
    ("version", F, "run", ("ns", "fib", "1"), {"version": True}),
    ("version", F, "run", ("ns", "fib", "1"), {"version": 1.5}),
    ("label", F, "run", ("ns", "fib", "1"), {"label": ""}),
    ("total_solutions", F, "run", ("ns", "fib", "1"), {"total_solutions": 0}),
    ("total_solutions", F, "run", ("ns", "fib", "1"), {"total_solutions": 2**32}),
    ("required_solutions", F, "run", ("ns", "fib", "1"), {"total_solutions": 2, "required_solutions": 3}),
    ("required_solutions", F, "run", ("ns", "fib", "1"), {"required_solutions": 0}),
    ("gas_limit", F, "run", ("ns", "fib", "1"), {"gas_limit": "1000"}),
    ("gas_limit", F, "run", ("ns", "fib", "1"), {"gas_limit": 0}),
    ("gas_limit", F, "run", ("ns", "fib", "1"), {"gas_limit": -5}),
    ("requester_timestamp", F, "run", ("ns", "fib", "1"), {"requester_timestamp": -1}),
    ("requester_timestamp", F, "run", ("ns", "fib", "1"), {"requester_timestamp": 2**32}),
    ("input", F, "run", ("ns", "fib", {1, 2}), {}),
    ("input", F, "run", ("ns", "fib", math.nan), {}),
    ("input", F, "run", ("ns", "fib", b"bytes"), {}),
    ("input", F, "run", ("ns", "fib", "\ud800"), {}),
    ("timeout", F, "run", ("ns", "fib", "1"), {"timeout": -1}),
    ("execution_id", F, "get", ("",), {}),
    ("execution_id", F, "get", ("a/b",), {}),
    ("execution_id", F, "wait", ("..",), {}),
    ("execution_id", A, "get", (" ",), {}),
    ("execution_id", A, "wait", ("id\r\n",), {}),
    ("execution_id", F, "get", (42,), {}),
    ("method", A, "run", ("ns", "t"), {"path": "/x", "method": "FETCH"}),
    ("method", A, "run", ("ns", "t"), {"path": "/x", "method": 7}),
    ("path", A, "run", ("ns", "t"), {"path": "https://evil.example/x"}),
    ("path", A, "run", ("ns", "t"), {"path": "//evil.example/x"}),
    ("path", A, "run", ("ns", "t"), {"path": "relative"}),
    ("path", A, "run", ("ns", "t"), {"path": ""}),
    ("params", A, "run", ("ns", "t"), {"path": "/order/{orderId}"}),
    ("params", A, "run", ("ns", "t"), {"path": "/order/{orderId}", "params": {"id": 1}}),
    ("params", A, "run", ("ns", "t"), {"path": "/x", "params": ["a"]}),
    ("params", A, "run", ("ns", "t"), {"path": "/x", "params": {"a": object()}}),
    ("headers", A, "run", ("ns", "t"), {"path": "/x", "headers": {"Bad Name": "v"}}),
    ("headers", A, "run", ("ns", "t"), {"path": "/x", "headers": {"X-Ok\r\nInjected": "v"}}),
    ("headers['X-A']", A, "run", ("ns", "t"), {"path": "/x", "headers": {"X-A": "v\r\nX-Evil: 1"}}),
    ("headers['X-A']", A, "run", ("ns", "t"), {"path": "/x", "headers": {"X-A": "v\x00"}}),
    ("headers['X-A']", A, "run", ("ns", "t"), {"path": "/x", "headers": {"X-A": 5}}),
    ("headers", A, "submit", ("ns", "t"), {"path": "/x", "headers": "Authorization: x"}),
    ("body", A, "run", ("ns", "t"), {"path": "/x", "method": "POST", "body": {"n": math.inf}}),
    ("body", A, "run", ("ns", "t"), {"path": "/x", "method": "POST", "body": object()}),
    ("execution_timeout", A, "run", ("ns", "t"), {"path": "/x", "execution_timeout": 0}),
    ("execution_timeout", A, "run", ("ns", "t"), {"path": "/x", "execution_timeout": -1}),
    ("execution_timeout", A, "run", ("ns", "t"), {"path": "/x", "execution_timeout": timedelta(days=60)}),
    ("execution_timeout", A, "run", ("ns", "t"), {"path": "/x", "execution_timeout": "30"}),
    ("concurrency", F, "run_many", ("ns", "fib", ["1"]), {"concurrency": 0}),
]


@pytest.mark.parametrize(("field", "namespace", "method", "args", "kwargs"), CASES)
def test_bad_input_is_refused_before_any_io(
    harness: Harness, field: str, namespace: str, method: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    tb = harness.client(_untouchable)
    with pytest.raises(ValidationError) as info:
        harness(getattr(getattr(tb, namespace), method)(*args, **kwargs))
    assert info.value.field == field, str(info.value)
    assert field.split("[")[0] in str(info.value)


def test_header_values_never_appear_in_validation_messages(harness: Harness) -> None:
    tb = harness.client(_untouchable)
    with pytest.raises(ValidationError) as info:
        harness(tb.api_tasks.run("ns", "t", path="/x", headers={"Authorization": "Bearer SECRET\r\n"}))
    assert "SECRET" not in str(info.value)


@pytest.mark.parametrize("cls", [Truebit, AsyncTruebit])
def test_client_configuration_is_checked(cls: type[Truebit], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TRUEBIT_API_KEY", raising=False)
    with pytest.raises(ValidationError, match="base_url"):
        cls(api_key="k", base_url="ftp://x")
    with pytest.raises(ValidationError, match="api_key"):
        cls(api_key="bad\nkey")
    with pytest.raises(ValidationError, match="max_connections"):
        cls(api_key="k", max_connections=0)
    keyless = cls(base_url="http://127.0.0.1:9")
    with pytest.raises(ValidationError, match="TRUEBIT_API_KEY"):
        call = keyless.functions.run("ns", "fib", "1")
        if inspect.isawaitable(call):
            asyncio.run(call)  # type: ignore[arg-type]


def test_environment_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUEBIT_API_KEY", "from-env")
    monkeypatch.setenv("TRUEBIT_BASE_URL", "http://127.0.0.1:5/")
    tb = Truebit()
    assert tb.base_url == "http://127.0.0.1:5" and tb._default_headers()["x-api-key"] == "from-env"
    assert "from-env" not in repr(tb)
    monkeypatch.delenv("TRUEBIT_BASE_URL")
    assert Truebit().base_url == "https://run.truebit.network"
