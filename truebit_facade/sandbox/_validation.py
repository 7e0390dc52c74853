"""Validation of ``POST /task/{function,api}/execute-by-name`` bodies against the spec the client was
generated from (``truebit_facade._generated/openapi.json``, read through ``truebit_facade.rules``), with
the sandbox's one schema validator (``_schema``: openapi-schema-validator on jsonschema, formats
asserted); then the rules the spec cannot express.

The schema checks presence, types, uint32 bounds and patterns as the spec declares them (a JSON
``true`` is not an integer; an integral float such as ``3.0`` is, as in JSON Schema). Unknown extra
fields are allowed (the schema does not forbid them), so an optional field added upstream is accepted
after ``make regen`` with no edit here. The valid body is then read through the generated body model.
Beyond the spec: ``1 <= requiredSolutions <= totalSolutions <= max``; strings holding lone surrogates
(``"\\ud800"``) are rejected (they cannot be written as UTF-8); an API-task ``method`` must be an
HTTP method; header names and values follow the client's rules (``truebit_facade.rules.check_headers``) and
the framing or routing headers the sandbox sets itself (``Host``, ``Content-Length``, ...) cannot be
injected. Messages name the field and the rule, never the value (a body may carry secrets). A failure
raises :class:`RequestError`, which the app turns into 400 ``{"message": ...}``. Whether an API call
fits the task's manifest is checked later (``_manifest``).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any, TypeVar

from .. import ValidationError
from .. import rules as client_rules
from ..rules import ExecuteApiTaskByNameBody, ExecuteTaskByNameBody, Unset
from ._schema import openapi_validator, version_of

__all__ = [
    "ApiInput",
    "ApiRequest",
    "FunctionRequest",
    "RequestError",
    "TaskRequest",
    "parse_json_body",
    "spec_validator",
    "validate_api_request",
    "validate_function_request",
]

_METHODS = frozenset({"GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH", "TRACE"})
#: Headers about the connection and the message framing: the sandbox (httpx) sets them.
RESERVED_HEADERS = frozenset(
    {"host", "content-length", "transfer-encoding", "connection", "keep-alive", "upgrade", "te", "trailer"}
    | {"proxy-connection", "expect"}
)
FUNCTION_OPERATION = "executeTaskByName"
API_OPERATION = "executeApiTaskByName"


class RequestError(ValueError):
    """The request body is not acceptable; the message says why (the API answers 400)."""


@dataclass(frozen=True, kw_only=True)
class TaskRequest:
    """What a validated request of either kind says of the task it names, and whether it waits."""

    namespace: str
    task_name: str
    is_async: bool
    label: str | None = None
    version: int | None = None


@dataclass(frozen=True, kw_only=True)
class FunctionRequest(TaskRequest):
    """A validated function-task request."""

    input: str
    total_solutions: int
    required_solutions: int
    task_requester_timestamp: int
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


@functools.cache
def spec_validator(operation_id: str) -> Any:
    """The validator of an operation's request body: the sandbox's one schema validator (``_schema``)
    under the shipped spec's OpenAPI version, built once."""
    return openapi_validator(
        client_rules.request_schema(operation_id), version=version_of(client_rules.spec())
    )


def _where(path: Any) -> str:
    return ".".join(str(p) for p in path)


def _message(error: Any) -> str:
    """A schema failure in our words: the field and the rule, never the offending value."""
    where, rule, bound = _where(error.absolute_path), error.validator, error.validator_value
    if rule == "required":
        missing = next((name for name in bound if name not in error.instance), bound[0])
        return f"missing required field '{where + '.' if where else ''}{missing}'"
    if not where:
        return "request body must be a JSON object"
    if rule == "type":
        kinds = bound if isinstance(bound, list) else [bound]
        article = {"integer": "an integer", "object": "an object", "array": "an array"}
        what = " or ".join(article.get(k, f"a {k}") for k in kinds)
        *parent, last = error.absolute_path
        if len(parent) >= 2:  # a value inside a map: input.headers / input.params
            return f"'{_where(parent)}': the value of {str(last)!r} must be {what}"
        return f"'{where}' must be {what}"
    if rule in ("minimum", "maximum"):
        schema = error.schema
        return f"'{where}' must be in {schema.get('minimum', '-inf')}..{schema.get('maximum', 'inf')}"
    if rule == "pattern":
        return f"'{where}' must match {bound}"
    if rule == "format":
        return f"'{where}' must be a valid {bound}"
    if rule == "enum":
        return f"'{where}' must be one of {', '.join(map(str, bound))}"
    if rule == "additionalProperties" and isinstance(bound, dict):
        return f"every value of '{where}' must be a {bound.get('type', 'valid value')}"
    return f"'{where}' does not satisfy the spec's '{rule}' rule"


def _check_schema(operation_id: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise RequestError("request body must be a JSON object")
    error = min(spec_validator(operation_id).iter_errors(body), key=_rank, default=None)
    if error is not None:
        raise RequestError(_message(error))
    try:
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise RequestError(f"{_surrogate_field(body)} is not valid Unicode (lone surrogate)") from None
    return body


def _rank(error: Any) -> tuple[int, str]:
    # Report the shallowest problem first, a missing field before a wrong type, deterministically.
    return (len(error.absolute_path), "0" if error.validator == "required" else str(error.validator))


def _surrogate_field(body: dict[str, Any]) -> str:
    for key, value in body.items():
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            if isinstance(value, dict):
                return f"'{key}.{_surrogate_field(value).strip(chr(39))}'"
            return f"'{key}'"
    return "the body"


T = TypeVar("T")


def _opt(value: T | Unset) -> T | None:
    # Typed through: a field a bump retypes is a mypy error where its value is used.
    return None if isinstance(value, Unset) else value


def _int(value: float) -> int:
    return int(value)  # an integral float (3.0) passed the schema as an integer


def validate_function_request(body: Any, *, max_total_solutions: int) -> FunctionRequest:
    """Check a parsed JSON body and return it as a :class:`FunctionRequest`, or raise :class:`RequestError`."""
    model = ExecuteTaskByNameBody.from_dict(_check_schema(FUNCTION_OPERATION, body))
    total, required = _int(model.total_solutions), _int(model.required_solutions)
    if not 1 <= total <= max_total_solutions:
        raise RequestError(f"'totalSolutions' must be in 1..{max_total_solutions}")
    if not 1 <= required <= total:
        raise RequestError("'requiredSolutions' must be in 1..totalSolutions")
    gas_limit: int | None = None
    gas_text = _opt(model.gas_limit)
    if gas_text is not None:
        digits = gas_text.lstrip("0") or "0"
        gas_limit = int(digits) if len(digits) <= 40 else 1 << 128  # clamped to the u64 fuel later
    version = _opt(model.version)
    return FunctionRequest(
        namespace=model.namespace,
        task_name=model.task_name,
        is_async=model.async_,
        input=model.input_,
        total_solutions=total,
        required_solutions=required,
        task_requester_timestamp=_int(model.task_requester_timestamp),
        label=_opt(model.label),
        version=None if version is None else _int(version),
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


@dataclass(frozen=True, kw_only=True)
class ApiRequest(TaskRequest):
    """A validated API-task request; ``execution_timeout_ms`` as sent (milliseconds)."""

    input: ApiInput
    execution_timeout_ms: int


def _headers(value: dict[str, str]) -> dict[str, str]:
    try:
        headers = client_rules.check_headers(value)  # the client's rules: HTTP-token names, no control chars
    except ValidationError as exc:
        raise RequestError(f"'input.{exc.field}': {exc.problem}") from None
    seen: set[str] = set()
    for name in headers:
        if name.lower() in RESERVED_HEADERS:
            raise RequestError(
                f"'input.headers': the header {name!r} is set by the sandbox and cannot be injected"
            )
        if name.lower() in seen:
            raise RequestError(f"'input.headers': the header {name!r} is given twice")
        seen.add(name.lower())
    return headers


def validate_api_request(body: Any) -> ApiRequest:
    """Check a parsed ``POST /task/api/execute-by-name`` body; :class:`RequestError` if it is not valid."""
    raw = _check_schema(API_OPERATION, body)
    model = ExecuteApiTaskByNameBody.from_dict(raw)
    call = model.input_
    if call.method.upper() not in _METHODS:
        raise RequestError(f"'input.method' must be an HTTP method ({', '.join(sorted(_METHODS))})")
    params = _opt(call.params)
    headers = _opt(call.headers)
    has_body = "body" in raw["input"]
    version = _opt(model.version)
    return ApiRequest(
        namespace=model.namespace,
        task_name=model.task_name,
        is_async=model.async_,
        input=ApiInput(
            path=call.path,
            method=call.method,
            params={} if params is None else params.to_dict(),
            headers={} if headers is None else _headers(headers.to_dict()),
            body=_opt(call.body) if has_body else None,
            has_body=has_body,
        ),
        execution_timeout_ms=_int(model.execution_timeout),
        label=_opt(model.label),
        version=None if version is None else _int(version),
    )
