"""The wire, through the generated client: requests built as its body models, answers read into its
response models and then into this package's results. Pure: no I/O, no clock.

How the two clients are joined: the facade takes the request pieces (method, path, JSON body) from
the generated endpoint modules' ``_get_kwargs`` and sends them with its own pool, instead of calling
their ``sync_detailed``/``asyncio_detailed``. Those read the whole body with no size bound, have no
wall-clock bound per attempt and would resend nothing safely; the facade needs all three. What the
generated code does own, and a bump changes, is every name on the wire: paths, methods, field names
and the status vocabulary. mypy checks the facade's use of them, so a removed or renamed field is a
type error at the line below that uses it.

The generated modules are imported inside the functions that use them: importing every endpoint
module and its response models would add a tenth to ``import truebit_facade`` for a program that may
never make a call (mypy checks these imports like any other).

The sync/async and error unions are decided here from the raw JSON (a genuine sync answer also
matches the async schema, so the generated union parser would always pick the async branch).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Final, Generic, Literal, TypeVar

from . import _validation as check
from ._errors import MalformedResponseError, ValidationError
from ._generated.types import Unset
from ._models import (
    ApiTaskResult,
    Execution,
    FunctionResult,
    ResponseInfo,
    Signature,
    Solution,
    TaskKind,
    TransferredBytes,
    freeze,
)

__all__ = [
    "API",
    "FUNCTION",
    "Answer",
    "Kind",
    "WireRequest",
    "api_request",
    "function_request",
    "read_execute",
    "read_status",
    "status_request",
]

Operation = Literal["execute", "status"]

T = TypeVar("T")
R = TypeVar("R", FunctionResult, ApiTaskResult)

# What makes a 200 execute answer the sync shape: any of these besides the id. (Unknown fields are
# kept in ``extra`` by the generated models; these sets only decide the union.)
_FUNCTION_FIELDS = frozenset({"executionId", "clearTextSolution", "verificationStatus"})
_API_FIELDS = frozenset({"executionId", "clearTextSolution", "status", "totalTransferredBytes", "errorMsg"})


@dataclass
class WireRequest:
    """One request, ready to send: what the generated endpoint module says, serialised once."""

    method: str
    path: str
    op: Operation
    kind: TaskKind
    content: bytes | None = field(default=None, repr=False)  # may carry input.headers values
    execution_id: str | None = None
    sync: bool = False
    #: Values that must never be logged or echoed: the ``input.headers`` values of an API task and
    #: the values of ``extra_headers``.
    secrets: tuple[str, ...] = field(default=(), repr=False)
    #: ``extra_headers`` of the call, sent with this request.
    headers: dict[str, str] | None = field(default=None, repr=False)

    def body_json(self) -> Any:
        return None if self.content is None else json.loads(self.content)


@dataclass
class Answer:
    """What one HTTP exchange gave, stripped of transport details."""

    status: int
    headers: Mapping[str, str]
    content: bytes = field(repr=False)
    #: The transport's own response object, when there is one: the escape hatch errors carry as
    #: ``.response``. Nothing in the flow reads it.
    raw: Any = field(default=None, repr=False, compare=False)


def _from_kwargs(
    kw: dict[str, Any],
    op: Operation,
    kind: TaskKind,
    *,
    extra_headers: object = None,
    extra_body: object = None,
    secrets: tuple[str, ...] = (),
    **extra: Any,
) -> WireRequest:
    body = kw.get("json")
    if extra_body is not None and body is not None:
        body = {**body, **check.extra_body(extra_body, body)}
    content = None if body is None else check.COMPACT_JSON.encode(body).encode()
    added = check.extra_headers(extra_headers)
    if added:  # they may carry credentials (a proxy's, say): never logged either
        secrets = tuple(sorted({*secrets, *(v for v in added.values() if v)}, key=len, reverse=True))
    method, path = str(kw["method"]).upper(), str(kw["url"])
    return WireRequest(method, path, op, kind, content, headers=added or None, secrets=secrets, **extra)


# --- requests -----------------------------------------------------------------------------


def execution_timeout_to_wire(value: object) -> int:
    """``executionTimeout`` on the wire: **milliseconds**, whatever the published page says (see
    openapi/errata.json). Users give seconds (a number or a ``timedelta``); this is the one place that
    converts."""
    if isinstance(value, bool) or not isinstance(value, int | float | timedelta):
        raise ValidationError("execution_timeout", "must be seconds (a number) or a timedelta")
    secs = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if not math.isfinite(secs) or secs <= 0:
        raise ValidationError("execution_timeout", "must be a positive, finite duration")
    millis = math.ceil(secs * 1000)
    if millis > check.UINT32_MAX:
        raise ValidationError("execution_timeout", f"must be at most {check.UINT32_MAX / 1000:.0f} s")
    return millis


def _version_label(version: object, label: object) -> tuple[int | None, str | None]:
    if version is not None and label is not None:
        # The spec defines no precedence between the two; sending both would let the service pick.
        raise ValidationError("version", "give version or label, not both")
    return (
        None if version is None else check.uint32("version", version),
        check.optional_name("label", label),
    )


def function_request(
    namespace: object,
    task: object,
    input: object,
    *,
    sync: bool,
    requester_timestamp: int,
    version: object = None,
    label: object = None,
    total_solutions: object = 1,
    required_solutions: object = None,
    gas_limit: object = None,
    extra_headers: object = None,
    extra_body: object = None,
) -> WireRequest:
    """``POST /task/function/execute-by-name``. ``input`` is ``input.txt``: a string, or any JSON
    value (sent as its compact JSON text)."""
    from ._generated.api.function_task_execution import execute_task_by_name as endpoint
    from ._generated.models.execute_task_by_name_body import ExecuteTaskByNameBody

    if isinstance(input, str):
        text = check.text("input", input)
    elif isinstance(input, bytes | bytearray):
        raise ValidationError("input", "must be text (str) or a JSON value, not bytes")
    else:
        text = check.json_value("input", input)
    total, required = check.solutions(
        total_solutions, total_solutions if required_solutions is None else required_solutions
    )
    version_, label_ = _version_label(version, label)
    body = ExecuteTaskByNameBody(
        namespace=check.name("namespace", namespace),
        task_name=check.name("task", task),
        async_=not sync,
        input_=text,
        total_solutions=total,
        required_solutions=required,
        task_requester_timestamp=check.uint32("requester_timestamp", requester_timestamp),
    )
    if version_ is not None:
        body.version = version_
    if label_ is not None:
        body.label = label_
    gas = check.gas_limit(gas_limit)
    if gas is not None:
        body.gas_limit = gas
    return _from_kwargs(
        endpoint._get_kwargs(body=body, x_api_key=""),
        "execute",
        "function",
        sync=sync,
        extra_headers=extra_headers,
        extra_body=extra_body,
    )


def api_request(
    namespace: object,
    task: object,
    *,
    path: object,
    method: object,
    sync: bool,
    params: object = None,
    headers: object = None,
    body: object = None,
    execution_timeout: object = 30.0,
    version: object = None,
    label: object = None,
    extra_headers: object = None,
    extra_body: object = None,
) -> WireRequest:
    """``POST /task/api/execute-by-name``."""
    from ._generated.api.api_task_execution import execute_api_task_by_name as endpoint
    from ._generated.models.execute_api_task_by_name_body import ExecuteApiTaskByNameBody
    from ._generated.models.execute_api_task_by_name_body_input import ExecuteApiTaskByNameBodyInput
    from ._generated.models.execute_api_task_by_name_body_input_headers import (
        ExecuteApiTaskByNameBodyInputHeaders,
    )
    from ._generated.models.execute_api_task_by_name_body_input_params import (
        ExecuteApiTaskByNameBodyInputParams,
    )

    params_ = check.params(params)
    call = ExecuteApiTaskByNameBodyInput(path=check.api_path(path, params_), method=check.method(method))
    if params_:
        call.params = ExecuteApiTaskByNameBodyInputParams.from_dict(params_)
    headers_ = check.headers(headers)
    if headers_:
        call.headers = ExecuteApiTaskByNameBodyInputHeaders.from_dict(headers_)
    if body is not None:
        check.json_value("body", body)
        call.body = body
    version_, label_ = _version_label(version, label)
    model = ExecuteApiTaskByNameBody(
        namespace=check.name("namespace", namespace),
        task_name=check.name("task", task),
        async_=not sync,
        input_=call,
        execution_timeout=execution_timeout_to_wire(execution_timeout),
    )
    if version_ is not None:
        model.version = version_
    if label_ is not None:
        model.label = label_
    secrets = tuple(sorted({v for v in headers_.values() if v}, key=len, reverse=True))
    return _from_kwargs(
        endpoint._get_kwargs(body=model, x_api_key=""),
        "execute",
        "api",
        sync=sync,
        secrets=secrets,
        extra_headers=extra_headers,
        extra_body=extra_body,
    )


def status_request(kind: TaskKind, execution_id: object, extra_headers: object = None) -> WireRequest:
    """``GET /task/{function,api}/execution-status/{executionId}``."""
    from ._generated.api.task_execution_status import (
        get_api_execution_status,
        get_function_execution_status,
    )

    eid = check.execution_id(execution_id)
    module = get_function_execution_status if kind == "function" else get_api_execution_status
    kw = module._get_kwargs(execution_id=eid)
    return _from_kwargs(kw, "status", kind, execution_id=eid, extra_headers=extra_headers)


# --- answers ------------------------------------------------------------------------------


def json_object(answer: Answer, *, submitted: bool, execution_id: str | None) -> dict[str, Any]:
    """The body as a JSON object, or ``MalformedResponseError``."""
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
            execution_id=execution_id,
            may_have_submitted=submitted,
        )
    return body


def _info(answer: Answer, secrets: Callable[[], tuple[str, ...]]) -> ResponseInfo:
    return ResponseInfo(answer.status, answer.headers, secrets)


def read_execute(
    answer: Answer, kind: Kind[R], secrets: Callable[[], tuple[str, ...]] = tuple
) -> R | Execution:
    """A 2xx execute answer: an ``Execution`` when only an id came back (async mode, or a sync hold
    that expired), else the result."""
    from ._generated.models.execute_task_async_response import ExecuteTaskAsyncResponse

    body = json_object(answer, submitted=True, execution_id=None)
    try:
        # One we could not read back later is as bad as none.
        eid = check.execution_id(ExecuteTaskAsyncResponse.from_dict(body).execution_id)
    except (ValidationError, TypeError, ValueError, KeyError, AttributeError):
        raise MalformedResponseError(
            "the response carries no usable executionId; the task may have been submitted",
            status_code=answer.status,
            may_have_submitted=True,
        ) from None
    if not (body.keys() & (kind.fields - {"executionId"})):  # the async shape: an id and nothing we know
        return Execution(eid, kind.name, _info(answer, secrets))
    return _result(body, kind, eid, answer, secrets, strict=False)


def read_status(
    answer: Answer, kind: Kind[R], execution_id: str, secrets: Callable[[], tuple[str, ...]] = tuple
) -> R:
    """A 2xx status answer: it must be about ``execution_id`` and carry a status."""
    body = json_object(answer, submitted=False, execution_id=execution_id)
    said = body.get("executionId")
    if said != execution_id:
        raise MalformedResponseError(
            f"a status answer for execution {execution_id} "
            + ("carries no executionId" if said is None else "is about another execution"),
            status_code=answer.status,
            execution_id=execution_id,
        )
    return _result(body, kind, execution_id, answer, secrets, strict=True)


def _result(
    body: dict[str, Any],
    kind: Kind[R],
    eid: str,
    answer: Answer,
    secrets: Callable[[], tuple[str, ...]],
    *,
    strict: bool,
) -> R:
    status = answer.status
    try:
        result = kind.parse(body, eid, _info(answer, secrets))
    except (TypeError, ValueError, AttributeError, KeyError, OverflowError, RecursionError) as exc:
        raise MalformedResponseError(
            f"unexpected shape in the {kind.name} task response ({exc})", status_code=status, execution_id=eid
        ) from None
    if strict and result.status_value is None:
        field = "verificationStatus" if kind.name == "function" else "status"
        raise MalformedResponseError(
            f"the status answer for execution {eid} carries no {field}", status_code=status, execution_id=eid
        )
    return result


def _str(value: str | Unset, field: str) -> str | None:
    if isinstance(value, Unset):
        return None
    if isinstance(value, str):
        return value
    raise TypeError(f"{field} should be a string, got {type(value).__name__}")


def _int(value: int | Unset, field: str) -> int | None:
    if isinstance(value, Unset):
        return None
    raw: object = value  # the generated parser does not check the JSON type
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise TypeError(f"{field} should be an integer")
    if isinstance(raw, float) and not (math.isfinite(raw) and raw.is_integer()):
        raise TypeError(f"{field} should be an integer")
    return int(raw)


def _opt(value: T | Unset) -> T | None:
    """An enum the generated parser read (it raises on a non-string), or ``None`` when absent."""
    return None if isinstance(value, Unset) else value


def _objects(body: dict[str, Any], *paths: tuple[str, ...]) -> dict[str, Any]:
    """The body ready for the generated parsers: the nested objects must be objects (or absent), and
    a JSON ``null`` in a field of ours means absent (the generated parsers would choke on it; API
    outputs keep their nulls)."""
    for path in paths:
        node: Any = body
        for i, key in enumerate(path):
            node = node.get(key)
            if node is None:
                break
            if type(node) is not dict:
                raise TypeError(f"{'.'.join(path[: i + 1])} should be an object, got {type(node).__name__}")
    return _drop_nulls(body, paths)


def _drop_nulls(node: dict[str, Any], paths: tuple[tuple[str, ...], ...]) -> dict[str, Any]:
    out = node if None not in node.values() else {k: v for k, v in node.items() if v is not None}
    for path in paths:
        child = out.get(path[0])
        if type(child) is dict:
            cleaned = _drop_nulls(child, (path[1:],) if len(path) > 1 else ())
            if cleaned is not child:
                out = {**out, path[0]: cleaned}  # never edit the caller's dict: it is the raw body
    return out


def function_result(
    body: dict[str, Any], execution_id: str, response: ResponseInfo | None = None
) -> FunctionResult:
    from ._generated.models.execute_task_sync_response import ExecuteTaskSyncResponse

    model = ExecuteTaskSyncResponse.from_dict(_objects(body, ("clearTextSolution", "signature")))
    solution = None
    cts = model.clear_text_solution
    if not isinstance(cts, Unset):
        signature = None
        sig = cts.signature
        if not isinstance(sig, Unset):
            v, r, s = _int(sig.v, "signature.v"), _str(sig.r, "signature.r"), _str(sig.s, "signature.s")
            if v is not None and r is not None and s is not None:
                signature = Signature(v, r, s)
        solution = Solution(
            output=_str(cts.output, "output"),
            execution_status=_opt(cts.execution_status),
            sender_address=_str(cts.sender_address, "senderAddress"),
            signature=signature,
        )
    return FunctionResult(
        execution_id=execution_id,
        verification=_opt(model.verification_status),
        solution=solution,
        raw=freeze(body),
        extra=freeze(model.additional_properties),
        response=response,
    )


def api_result(
    body: dict[str, Any], execution_id: str, response: ResponseInfo | None = None
) -> ApiTaskResult:
    from ._generated.models.execute_api_sync_response import ExecuteApiSyncResponse

    parsable = _objects(body, ("clearTextSolution",), ("totalTransferredBytes",))
    # The spec says the output is an object; targets answer arrays and strings too. Those are kept
    # as they came, past the generated parser, which only takes an object.
    cts_raw = body.get("clearTextSolution")
    output: Any = cts_raw.get("output") if isinstance(cts_raw, dict) else None
    if isinstance(cts_raw, dict) and "output" in cts_raw and not isinstance(output, dict):
        parsable["clearTextSolution"] = {
            k: v for k, v in parsable["clearTextSolution"].items() if k != "output"
        }
    model = ExecuteApiSyncResponse.from_dict(parsable)
    solution_status = sender = None
    cts = model.clear_text_solution
    if not isinstance(cts, Unset):
        solution_status = _opt(cts.status)
        sender = _str(cts.sender_address, "senderAddress")
        if not isinstance(cts.output, Unset):
            output = cts.output.to_dict()
    transferred = None
    tb = model.total_transferred_bytes
    if not isinstance(tb, Unset):
        transferred = TransferredBytes(
            _int(tb.request, "totalTransferredBytes.request"),
            _int(tb.response, "totalTransferredBytes.response"),
        )
    return ApiTaskResult(
        execution_id=execution_id,
        status=_opt(model.status),
        output=freeze(output),
        solution_status=solution_status,
        sender_address=sender,
        transferred_bytes=transferred,
        error_message=_str(model.error_msg, "errorMsg"),
        raw=freeze(body),
        extra=freeze(model.additional_properties),
        response=response,
    )


@dataclass(frozen=True)
class Kind(Generic[R]):
    """A task kind: its name on the wire, its result type and what makes an answer the sync shape."""

    name: TaskKind
    parse: Callable[[dict[str, Any], str, ResponseInfo | None], R]
    fields: frozenset[str]


FUNCTION: Final[Kind[FunctionResult]] = Kind("function", function_result, _FUNCTION_FIELDS)
API: Final[Kind[ApiTaskResult]] = Kind("api", api_result, _API_FIELDS)
