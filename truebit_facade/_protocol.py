"""The wire protocol, without I/O: build request bodies, read responses into results or errors.

The sync and async clients are thin shells over these functions, so they cannot drift apart, and
everything here is tested without sockets.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Literal

import attrs

from . import _validation as check
from ._errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    ExecutionNotFoundError,
    MalformedResponseError,
    PaymentRequiredError,
    RateLimitedError,
    ServerError,
    TaskError,
    TaskFailedError,
    UnexpectedStatusError,
    ValidationError,
    VerificationIndeterminateError,
)
from ._models import (
    ApiTaskResult,
    Execution,
    FunctionResult,
    Signature,
    Solution,
    TaskKind,
    TransferredBytes,
    freeze,
)
from ._policy import is_standard_status, parse_retry_after
from ._redact import scrub, scrub_json
from ._status import ApiTaskStatus, ExecutionStatus, VerificationStatus

FUNCTION_EXECUTE = "/task/function/execute-by-name"
API_EXECUTE = "/task/api/execute-by-name"
STATUS_PATHS = {"function": "/task/function/execution-status/", "api": "/task/api/execution-status/"}

_FUNCTION_FIELDS = frozenset({"executionId", "clearTextSolution", "verificationStatus"})
_API_FIELDS = frozenset({"executionId", "clearTextSolution", "status", "totalTransferredBytes", "errorMsg"})
_BLOCKCHAIN_FIELDS = frozenset(
    {
        "signedError",
        "taskRegistryContract",
        "nodeRegistryContract",
        "authorizationContract",
        "chainId",
        "blockHash",
        "blockNumber",
        "status",
    }
)


# --- requests -----------------------------------------------------------------------------


def execution_timeout_to_wire(value: float | timedelta) -> int:
    """``executionTimeout`` on the wire: **milliseconds**, whatever the published page says.

    The page says "in seconds", but every official example sends 10000 or 30000, transcripts record
    30000 and 27000, and an earlier page said milliseconds (see openapi/errata.json). Users give
    seconds (a number or a ``timedelta``); this is the one place that converts.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | timedelta):
        raise ValidationError("execution_timeout", "must be seconds (a number) or a timedelta")
    secs = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if not math.isfinite(secs) or secs <= 0:
        raise ValidationError("execution_timeout", "must be a positive, finite duration")
    millis = math.ceil(secs * 1000)
    if millis > check.UINT32_MAX:
        raise ValidationError("execution_timeout", f"must be at most {check.UINT32_MAX / 1000:.0f} s")
    return millis


def _common(namespace: object, task: object, version: object, label: object, sync: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "namespace": check.name("namespace", namespace),
        "taskName": check.name("task", task),
        "async": not sync,
    }
    if version is not None:
        body["version"] = check.uint32("version", version)
    if label is not None:
        body["label"] = check.name("label", label)
    return body


def function_body(
    namespace: object,
    task: object,
    input: object,
    *,
    sync: bool,
    version: object = None,
    label: object = None,
    total_solutions: object = 1,
    required_solutions: object = None,
    gas_limit: object = None,
    requester_timestamp: object = None,
) -> dict[str, Any]:
    """The body of ``POST /task/function/execute-by-name``. ``input`` is ``input.txt``: a string, or
    any JSON value (sent as its compact JSON text)."""
    body = _common(namespace, task, version, label, sync)
    if isinstance(input, str):
        body["input"] = check.text("input", input)
    elif isinstance(input, bytes | bytearray):
        raise ValidationError("input", "must be text (str) or a JSON value, not bytes")
    else:
        body["input"] = check.json_value("input", input)
    total, required = check.solutions(
        total_solutions, total_solutions if required_solutions is None else required_solutions
    )
    body["totalSolutions"], body["requiredSolutions"] = total, required
    stamp = int(time.time()) if requester_timestamp is None else requester_timestamp
    body["taskRequesterTimestamp"] = check.uint32("requester_timestamp", stamp)
    gas = check.gas_limit(gas_limit)
    if gas is not None:
        body["gasLimit"] = gas
    return body


def api_body(
    namespace: object,
    task: object,
    *,
    path: object,
    method: object,
    sync: bool,
    params: object = None,
    headers: object = None,
    body: object = None,
    execution_timeout: float | timedelta = 30.0,
    version: object = None,
    label: object = None,
) -> dict[str, Any]:
    """The body of ``POST /task/api/execute-by-name``."""
    out = _common(namespace, task, version, label, sync)
    params_ = check.params(params)
    call: dict[str, Any] = {"path": check.api_path(path, params_), "method": check.method(method)}
    if params_:
        call["params"] = params_
    headers_ = check.headers(headers)
    if headers_:
        call["headers"] = headers_
    if body is not None:
        check.json_value("body", body)
        call["body"] = body
    out["input"] = call
    out["executionTimeout"] = execution_timeout_to_wire(execution_timeout)
    return out


def status_path(kind: TaskKind, execution_id: object) -> str:
    from urllib.parse import quote

    return STATUS_PATHS[kind] + quote(check.execution_id(execution_id), safe="")


# --- responses ----------------------------------------------------------------------------


@attrs.frozen
class Answer:
    """What one HTTP exchange gave, stripped of transport details."""

    status: int
    headers: Mapping[str, str]
    content: bytes


Operation = Literal["execute", "status"]


def read_answer(
    answer: Answer,
    kind: TaskKind,
    op: Operation,
    *,
    secrets: tuple[str, ...] = (),
    response: Any = None,
    execution_id: str | None = None,
) -> FunctionResult | ApiTaskResult | Execution:
    """A 200 gives a result (or, for execute, an ``Execution`` when only an id came back); anything
    else raises the matching :class:`TruebitError`."""
    submitted = op == "execute"
    if not 200 <= answer.status < 300:  # the spec says 200; a 201/202 with an id is not thrown away
        raise status_error(answer, op, secrets=secrets, response=response, execution_id=execution_id)
    body = _json_object(answer, response, submitted, execution_id)
    try:
        # One we could not read back later is as bad as none.
        exec_id = check.execution_id(body.get("executionId", execution_id))
    except ValidationError:
        raise MalformedResponseError(
            "the response carries no usable executionId"
            + ("; the task may have been submitted" if submitted else ""),
            status_code=answer.status,
            response=response,
            may_have_submitted=submitted,
        ) from None
    fields = _FUNCTION_FIELDS if kind == "function" else _API_FIELDS
    # The sync/async union is decided here, on the raw JSON: an id alone is the async shape.
    if op == "execute" and not (body.keys() & (fields - {"executionId"})):
        return Execution(exec_id, kind)
    try:
        return function_result(body, exec_id) if kind == "function" else api_result(body, exec_id)
    except (TypeError, ValueError, AttributeError, KeyError, OverflowError, RecursionError) as exc:
        raise MalformedResponseError(
            f"unexpected shape in the {kind} task response ({exc})",
            status_code=answer.status,
            response=response,
            execution_id=exec_id,
        ) from None


def _json_object(answer: Answer, response: Any, submitted: bool, execution_id: str | None) -> dict[str, Any]:
    try:
        body = json.loads(answer.content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        body = None
    if not isinstance(body, dict):
        what = "an empty body" if not answer.content.strip() else "a body that is not a JSON object"
        raise MalformedResponseError(
            f"status {answer.status} with {what}"
            + ("; the task may have been submitted" if submitted else ""),
            status_code=answer.status,
            response=response,
            execution_id=execution_id,
            may_have_submitted=submitted,
        )
    return body


def _opt_str(value: Any, field: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    raise TypeError(f"{field} should be a string, got {type(value).__name__}")


def _opt_int(value: Any, field: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"{field} should be an integer")
    if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
        raise TypeError(f"{field} should be an integer")
    return int(value)


def _opt_object(value: Any, field: str) -> dict[str, Any] | None:
    if value is None or isinstance(value, dict):
        return value
    raise TypeError(f"{field} should be an object, got {type(value).__name__}")


def function_result(body: dict[str, Any], execution_id: str) -> FunctionResult:
    solution = None
    cts = _opt_object(body.get("clearTextSolution"), "clearTextSolution")
    if cts is not None:
        sig = _opt_object(cts.get("signature"), "signature")
        signature = None
        if sig is not None:
            v = _opt_int(sig.get("v"), "signature.v")
            r, s = _opt_str(sig.get("r"), "signature.r"), _opt_str(sig.get("s"), "signature.s")
            if v is not None and r is not None and s is not None:
                signature = Signature(v, r, s)
        solution = Solution(
            output=_opt_str(cts.get("output"), "output"),
            execution_status=ExecutionStatus.parse(_opt_str(cts.get("executionStatus"), "executionStatus")),  # type: ignore[arg-type]
            sender_address=_opt_str(cts.get("senderAddress"), "senderAddress"),
            signature=signature,
        )
    verification = VerificationStatus.parse(_opt_str(body.get("verificationStatus"), "verificationStatus"))
    return FunctionResult(
        execution_id=execution_id,
        verification=verification,  # type: ignore[arg-type]
        solution=solution,
        raw=freeze(body),
        extra=freeze({k: v for k, v in body.items() if k not in _FUNCTION_FIELDS}),
    )


def api_result(body: dict[str, Any], execution_id: str) -> ApiTaskResult:
    cts = _opt_object(body.get("clearTextSolution"), "clearTextSolution") or {}
    tb = _opt_object(body.get("totalTransferredBytes"), "totalTransferredBytes")
    transferred = None
    if tb is not None:
        transferred = TransferredBytes(
            _opt_int(tb.get("request"), "totalTransferredBytes.request"),
            _opt_int(tb.get("response"), "totalTransferredBytes.response"),
        )
    return ApiTaskResult(
        execution_id=execution_id,
        status=ApiTaskStatus.parse(_opt_str(body.get("status"), "status")),  # type: ignore[arg-type]
        output=freeze(cts.get("output")),
        solution_status=ExecutionStatus.parse(_opt_str(cts.get("status"), "clearTextSolution.status")),  # type: ignore[arg-type]
        sender_address=_opt_str(cts.get("senderAddress"), "senderAddress"),
        transferred_bytes=transferred,
        error_message=_opt_str(body.get("errorMsg"), "errorMsg"),
        raw=freeze(body),
        extra=freeze({k: v for k, v in body.items() if k not in _API_FIELDS}),
    )


_STATUS_ERRORS: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    402: PaymentRequiredError,
    404: ExecutionNotFoundError,
    429: RateLimitedError,
}


def status_error(
    answer: Answer,
    op: Operation,
    *,
    secrets: tuple[str, ...] = (),
    response: Any = None,
    execution_id: str | None = None,
) -> APIStatusError:
    """The error for a non-200 answer. Non-standard codes (499, 520, 599) are handled like any other."""
    try:
        body: Any = json.loads(answer.content) if answer.content.strip() else None
        body = scrub_json(body, secrets)
    except (ValueError, UnicodeDecodeError, RecursionError):
        body = None
    message = body.get("message") if isinstance(body, dict) else None
    if not isinstance(message, str) or not message:
        excerpt = scrub(answer.content[:200].decode("utf-8", "replace"), secrets).strip()
        message = excerpt if excerpt and body is None and "<" not in excerpt[:1] else ""
    status = answer.status
    nonstandard = not is_standard_status(status)
    cls = _STATUS_ERRORS.get(status) or (
        ServerError if status >= 500 or nonstandard else UnexpectedStatusError
    )
    if status == 404 and op == "execute":
        cls = UnexpectedStatusError
    # An execute that got 5xx or an undocumented status may still have started the task.
    may_have_submitted = op == "execute" and (cls is ServerError or cls is UnexpectedStatusError)
    text = f"HTTP {status}" + (f": {message}" if message else "")
    if may_have_submitted:
        text += " (the task may have been submitted; it was not resent)"
    kw: dict[str, Any] = {
        "status_code": status,
        "body": body,
        "response": response,
        "execution_id": execution_id,
        "may_have_submitted": may_have_submitted,
        "retry_after": parse_retry_after(answer.headers.get("retry-after")),
    }
    if cls is BadRequestError:
        blockchain = (
            {k: v for k, v in body.items() if k in _BLOCKCHAIN_FIELDS | {"message"}}
            if isinstance(body, dict) and body.keys() & (_BLOCKCHAIN_FIELDS - {"status"})
            else None
        )
        return BadRequestError(text, blockchain=blockchain, **kw)
    return cls(text, **kw)


def outcome_error(result: FunctionResult | ApiTaskResult) -> TaskError | None:
    """The error ``run`` raises for a terminal result that is not a verified success, else ``None``."""
    if result.ok:
        return None
    if isinstance(result, FunctionResult):
        v, es = result.verification, result.execution_status
        if v is VerificationStatus.INDETERMINATE:
            return VerificationIndeterminateError(
                f"execution {result.execution_id}: verification Indeterminate (nodes disagreed or too "
                "few solutions in time); the output is not verified",
                result=result,
            )
        if v is VerificationStatus.UNKNOWN or es is ExecutionStatus.UNKNOWN:
            cts = result.raw.get("clearTextSolution") or {}
            field, value = (
                ("verification status", result.raw.get("verificationStatus"))
                if v is VerificationStatus.UNKNOWN
                else ("execution status", cts.get("executionStatus"))
            )
            return TaskError(
                f"execution {result.execution_id}: {field} {value!r} is not known to this client version",
                result=result,
            )
        said = f": {_excerpt(result.output)}" if result.output else ""
        return TaskFailedError(
            f"execution {result.execution_id}: task failed (verification {v}, execution {es}){said}",
            result=result,
        )
    if result.status is ApiTaskStatus.UNKNOWN:
        return TaskError(
            f"execution {result.execution_id}: status {result.raw.get('status')!r} is not known to this "
            "client version",
            result=result,
        )
    detail = f": {_excerpt(result.error_message)}" if result.error_message else ""
    return TaskFailedError(
        f"execution {result.execution_id}: API task failed (status {result.status}, "
        f"solution {result.solution_status}){detail}",
        result=result,
    )


def _excerpt(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "..."
