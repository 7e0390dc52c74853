"""Strict validation of ``POST /task/function/execute-by-name`` bodies against the OpenAPI spec.

Every field is checked for presence and type as the spec declares it (a JSON ``true`` is not an
integer; an integral float such as ``3.0`` is, as in JSON Schema), uint32 fields for 0..4294967295,
``gasLimit`` for ``^[0-9]+$``; beyond the spec, ``1 <= requiredSolutions <= totalSolutions <= max``.
Unknown extra fields are allowed (the schema does not forbid them). Strings holding lone surrogates
(``"\\ud800"``) are rejected: they cannot be written as UTF-8. A failure raises :class:`RequestError`,
which the app turns into 400 ``{"message": ...}``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = ["FunctionRequest", "RequestError", "parse_json_body", "validate_function_request"]

_UINT32_MAX = 4294967295
_GAS = re.compile(r"[0-9]+")


class RequestError(ValueError):
    """The request body is not acceptable; the message says why (the API answers 400)."""


@dataclass(frozen=True)
class FunctionRequest:
    """A validated function-task request."""

    namespace: str
    task_name: str
    is_async: bool
    input: str
    total_solutions: int
    required_solutions: int
    task_requester_timestamp: int
    label: str | None = None
    version: int | None = None
    gas_limit: int | None = None


def parse_json_body(body: bytes, max_bytes: int) -> Any:
    """The JSON value of a request body, or :class:`RequestError`."""
    if len(body) > max_bytes:
        raise RequestError(f"request body larger than {max_bytes} bytes")
    if not body.strip():
        raise RequestError("request body is empty: a JSON object is required")
    try:
        return json.loads(body)
    except (ValueError, RecursionError):
        raise RequestError("request body is not valid JSON") from None


def _string(body: dict[str, Any], name: str, *, required: bool) -> str | None:
    if name not in body:
        if required:
            raise RequestError(f"missing required field '{name}'")
        return None
    value = body[name]
    if not isinstance(value, str):
        raise RequestError(f"'{name}' must be a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise RequestError(f"'{name}' is not valid Unicode (lone surrogate)") from None
    return value


def _uint32(body: dict[str, Any], name: str, *, required: bool) -> int | None:
    if name not in body:
        if required:
            raise RequestError(f"missing required field '{name}'")
        return None
    value = body[name]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise RequestError(f"'{name}' must be an integer")
    if not 0 <= value <= _UINT32_MAX:
        raise RequestError(f"'{name}' must be in 0..{_UINT32_MAX}")
    return value


def validate_function_request(body: Any, *, max_total_solutions: int) -> FunctionRequest:
    """Check a parsed JSON body and return it as a :class:`FunctionRequest`, or raise :class:`RequestError`."""
    if not isinstance(body, dict):
        raise RequestError("request body must be a JSON object")
    namespace = _string(body, "namespace", required=True)
    task_name = _string(body, "taskName", required=True)
    if "async" not in body:
        raise RequestError("missing required field 'async'")
    if not isinstance(body["async"], bool):
        raise RequestError("'async' must be a boolean")
    input_text = _string(body, "input", required=True)
    total = _uint32(body, "totalSolutions", required=True)
    required = _uint32(body, "requiredSolutions", required=True)
    timestamp = _uint32(body, "taskRequesterTimestamp", required=True)
    label = _string(body, "label", required=False)
    version = _uint32(body, "version", required=False)
    gas_text = _string(body, "gasLimit", required=False)
    assert namespace is not None and task_name is not None and input_text is not None
    assert total is not None and required is not None and timestamp is not None
    gas_limit: int | None = None
    if gas_text is not None:
        if not _GAS.fullmatch(gas_text):
            raise RequestError("'gasLimit' must be a decimal string of digits (^[0-9]+$)")
        digits = gas_text.lstrip("0") or "0"
        gas_limit = int(digits) if len(digits) <= 40 else 1 << 128  # clamped to the u64 fuel later
    if not 1 <= total <= max_total_solutions:
        raise RequestError(f"'totalSolutions' must be in 1..{max_total_solutions}")
    if not 1 <= required <= total:
        raise RequestError("'requiredSolutions' must be in 1..totalSolutions")
    return FunctionRequest(
        namespace=namespace,
        task_name=task_name,
        is_async=body["async"],
        input=input_text,
        total_solutions=total,
        required_solutions=required,
        task_requester_timestamp=timestamp,
        label=label,
        version=version,
        gas_limit=gas_limit,
    )
