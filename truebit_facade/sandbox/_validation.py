"""Strict validation of ``POST /task/{function,api}/execute-by-name`` bodies against the OpenAPI spec.

Every field is checked for presence and type as the spec declares it (a JSON ``true`` is not an
integer; an integral float such as ``3.0`` is, as in JSON Schema), uint32 fields for 0..4294967295,
``gasLimit`` for ``^[0-9]+$``; beyond the spec, ``1 <= requiredSolutions <= totalSolutions <= max``.
Unknown extra fields are allowed (the schema does not forbid them). Strings holding lone surrogates
(``"\\ud800"``) are rejected: they cannot be written as UTF-8. A failure raises :class:`RequestError`,
which the app turns into 400 ``{"message": ...}``.

API-task bodies (:func:`validate_api_request`) are checked the same way for their shape: ``input`` an
object with string ``path`` and ``method`` (an HTTP method name), an optional object ``params``, any
JSON ``body`` and ``headers`` an object of strings; ``executionTimeout`` a uint32 of milliseconds, at
least 1. Header names must be HTTP tokens, values free of CR, LF and other control characters (tab
allowed), and the framing or routing headers the sandbox sets itself (``Host``, ``Content-Length``,
``Transfer-Encoding``, ``Connection``, ...) cannot be injected. Messages name a header, never its
value. Whether the call fits the task's manifest is checked later (``_manifest``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

__all__ = [
    "ApiInput",
    "ApiRequest",
    "FunctionRequest",
    "RequestError",
    "parse_json_body",
    "validate_api_request",
    "validate_function_request",
]

_UINT32_MAX = 4294967295
_GAS = re.compile(r"[0-9]+")
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HEADER_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"})
#: Headers about the connection and the message framing: the sandbox (httpx) sets them.
RESERVED_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer"}
    | {"proxy-connection", "expect"}
)


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
        value = json.loads(body)
    except (ValueError, RecursionError):
        raise RequestError("request body is not valid JSON") from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise RequestError(f"request body is nested deeper than {MAX_JSON_DEPTH} levels")
    return value


#: Deeper bodies are refused: nothing in the API nests this far, and copying one would overflow.
MAX_JSON_DEPTH = 64


def _depth(value: Any) -> int:
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, level)
            if deepest > MAX_JSON_DEPTH:
                break
            children = node.values() if isinstance(node, dict) else node
            stack.extend((child, level + 1) for child in children)
    return deepest


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


@dataclass(frozen=True)
class ApiInput:
    """The ``input`` of an API-task request: which call of the manifest to make (not yet checked
    against it). ``has_body`` tells an absent ``body`` from a JSON ``null`` one."""

    path: str
    method: str
    params: dict[str, Any]
    headers: dict[str, str]
    body: Any = None
    has_body: bool = False


@dataclass(frozen=True)
class ApiRequest:
    """A validated API-task request; ``execution_timeout_ms`` as sent (milliseconds)."""

    namespace: str
    task_name: str
    is_async: bool
    input: ApiInput
    execution_timeout_ms: int
    label: str | None = None
    version: int | None = None


def _check_unicode(value: Any, where: str) -> None:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise RequestError(f"'{where}' is not valid Unicode (lone surrogate)") from None
    except (ValueError, RecursionError):
        raise RequestError(f"'{where}' is not a valid JSON value") from None


def _headers(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        raise RequestError("'input.headers' must be an object of header names to string values")
    headers: dict[str, str] = {}
    seen: set[str] = set()
    for name, header_value in value.items():
        if not _TOKEN.fullmatch(name):
            shown = json.dumps(name[:40]) if not _HEADER_CONTROL.search(name) else "a header name"
            raise RequestError(f"'input.headers': {shown} is not a valid header name")
        if name.lower() in RESERVED_HEADERS:
            raise RequestError(
                f"'input.headers': the header {name!r} is set by the sandbox and cannot be injected"
            )
        if name.lower() in seen:
            raise RequestError(f"'input.headers': the header {name!r} is given twice")
        seen.add(name.lower())
        if not isinstance(header_value, str):
            raise RequestError(f"'input.headers': the value of {name!r} must be a string")
        if _HEADER_CONTROL.search(header_value):
            raise RequestError(
                f"'input.headers': the value of {name!r} must not contain CR, LF or control characters"
            )
        try:
            header_value.encode("utf-8")
        except UnicodeEncodeError:
            raise RequestError(f"'input.headers': the value of {name!r} is not valid Unicode") from None
        headers[name] = header_value
    return headers


def _api_input(value: Any) -> ApiInput:
    if not isinstance(value, dict):
        raise RequestError("'input' must be an object with 'path' and 'method'")
    for name in ("path", "method"):
        if name not in value:
            raise RequestError(f"missing required field 'input.{name}'")
        if not isinstance(value[name], str):
            raise RequestError(f"'input.{name}' must be a string")
    _check_unicode(value["path"], "input.path")
    method = value["method"]
    if method.upper() not in _METHODS:
        raise RequestError(f"'input.method' must be an HTTP method ({', '.join(sorted(_METHODS))})")
    params = value.get("params", {})
    if not isinstance(params, dict):  # null too: the spec says object
        raise RequestError("'input.params' must be an object")
    _check_unicode(params, "input.params")
    headers = _headers(value.get("headers", {}))
    if "body" in value:
        _check_unicode(value["body"], "input.body")
    return ApiInput(
        path=value["path"],
        method=method,
        params=dict(params),
        headers=headers,
        body=value.get("body"),
        has_body="body" in value,
    )


def validate_api_request(body: Any) -> ApiRequest:
    """Check a parsed ``POST /task/api/execute-by-name`` body; :class:`RequestError` if it is not valid."""
    if not isinstance(body, dict):
        raise RequestError("request body must be a JSON object")
    namespace = _string(body, "namespace", required=True)
    task_name = _string(body, "taskName", required=True)
    if "async" not in body:
        raise RequestError("missing required field 'async'")
    if not isinstance(body["async"], bool):
        raise RequestError("'async' must be a boolean")
    if "input" not in body:
        raise RequestError("missing required field 'input'")
    call = _api_input(body["input"])
    timeout = _uint32(body, "executionTimeout", required=True)
    label = _string(body, "label", required=False)
    version = _uint32(body, "version", required=False)
    assert namespace is not None and task_name is not None and timeout is not None
    if timeout < 1:
        raise RequestError("'executionTimeout' must be at least 1 (milliseconds)")
    return ApiRequest(
        namespace=namespace,
        task_name=task_name,
        is_async=body["async"],
        input=call,
        execution_timeout_ms=timeout,
        label=label,
        version=version,
    )
