"""The merged OpenAPI spec as shipped inside the package, for what needs the document itself rather
than the generated code: the sandbox's routes and request validation, the conformance layer of the
tests. Read once, lazily (the client never needs it to make a call)."""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

__all__ = ["operation", "operations", "request_schema", "response_schema", "spec"]


@functools.cache
def spec() -> dict[str, Any]:
    """The spec ``make regen`` generated the client from (``openapi/truebit-api.json``)."""
    text = resources.files("truebit_facade._generated").joinpath("openapi.json").read_text("utf-8")
    doc: dict[str, Any] = json.loads(text)
    return doc


@functools.cache
def _operations() -> dict[str, tuple[str, str, dict[str, Any]]]:
    found = {}
    for path, item in spec()["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and "operationId" in op:
                found[op["operationId"]] = (method.upper(), path, op)
    return found


def operations() -> list[tuple[str, str, str]]:
    """Every operation as ``(METHOD, path template, operationId)``."""
    return [(method, path, op_id) for op_id, (method, path, _) in _operations().items()]


def operation(operation_id: str) -> tuple[str, str]:
    """``(METHOD, path template)`` of an operation, e.g. ``("GET", "/task/.../{executionId}")``."""
    method, path, _ = _operations()[operation_id]
    return method, path


def request_schema(operation_id: str) -> dict[str, Any]:
    """The JSON request body schema of an operation, standalone: ``$ref``s resolve inside it."""
    _, _, op = _operations()[operation_id]
    schema = op["requestBody"]["content"]["application/json"]["schema"]
    return {**schema, "components": spec().get("components", {})}


def response_schema(operation_id: str, status: int) -> dict[str, Any] | None:
    """The JSON schema of one documented answer, standalone; ``None`` when the status is undocumented."""
    _, _, op = _operations()[operation_id]
    answer = op.get("responses", {}).get(str(status))
    if answer is None:
        return None
    schema = answer.get("content", {}).get("application/json", {}).get("schema")
    return None if schema is None else {**schema, "components": spec().get("components", {})}
