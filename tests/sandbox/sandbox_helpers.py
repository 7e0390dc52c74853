"""Helpers for the sandbox tests (a uniquely named module: the tests directory has no __init__.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from truebit_facade.sandbox import EXAMPLES_NAMESPACE, Sandbox

EXECUTE = "/task/function/execute-by-name"
STATUS = "/task/function/execution-status/"

#: ``make_sandbox(registry=None, **SandboxConfig fields)`` (the conftest fixture).
SandboxFactory = Callable[..., Sandbox]


def body(task: Any = "fibonacci", input: Any = "22", **overrides: Any) -> dict[str, Any]:
    """A valid execute-by-name body for an example task, with overrides."""
    value: dict[str, Any] = {
        "namespace": EXAMPLES_NAMESPACE,
        "taskName": task,
        "async": False,
        "input": input,
        "totalSolutions": 1,
        "requiredSolutions": 1,
        "taskRequesterTimestamp": 1_700_000_000,
    }
    value.update(overrides)
    return value


def wait_terminal(client: httpx.Client, execution_id: str, timeout: float = 10.0) -> dict[str, Any]:
    """Poll the status endpoint until verification ends."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(STATUS + execution_id)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        if data["verificationStatus"] != "Running":
            return data
        assert time.monotonic() < deadline, f"still Running after {timeout} s"
        time.sleep(0.02)


def client_for(sandbox: Sandbox, api_key: str | None = None) -> httpx.Client:
    """A raw httpx client for the sandbox, sending ``api_key`` (default: the sandbox's)."""
    headers = {"x-api-key": api_key or sandbox.api_key}
    return httpx.Client(base_url=sandbox.url, headers=headers, timeout=30.0)


# -- API tasks -------------------------------------------------------------------------------------

API_EXECUTE = "/task/api/execute-by-name"
API_STATUS = "/task/api/execution-status/"
STATS = "/_sandbox/stats"


def api_body(
    path: str = "/anything/{Id}", method: str = "GET", timeout_ms: int = 10_000, **input_fields: Any
) -> dict[str, Any]:
    """A valid API execute-by-name body for the example task ``3a2b5129/custom``. ``input_fields``
    (params, body, headers) go into ``input``; pass ``top`` for top-level overrides."""
    top = input_fields.pop("top", {})
    call: dict[str, Any] = {"path": path, "method": method}
    if path == "/anything/{Id}" and "params" not in input_fields:
        call["params"] = {"Id": 12345}
    call.update(input_fields)
    value: dict[str, Any] = {
        "namespace": EXAMPLES_NAMESPACE,
        "taskName": "custom",
        "async": False,
        "input": call,
        "executionTimeout": timeout_ms,
    }
    value.update(top)
    return value


def wait_api_terminal(client: httpx.Client, execution_id: str, timeout: float = 10.0) -> dict[str, Any]:
    """Poll the API status endpoint until the execution is no longer Running."""
    deadline = time.monotonic() + timeout
    while True:
        response = client.get(API_STATUS + execution_id)
        assert response.status_code == 200, response.text
        data: dict[str, Any] = response.json()
        if data["status"] != "Running":
            return data
        assert time.monotonic() < deadline, f"still Running after {timeout} s"
        time.sleep(0.02)
