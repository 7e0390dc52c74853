"""The wire, through the generated client: requests built as its body models (answers are read in
``_answers``). Pure: no I/O, no clock.

How the two clients are joined: the facade takes the request pieces (method, path, JSON body) from
the generated endpoint modules' ``_get_kwargs`` and sends them with its own pool, instead of calling
their ``sync_detailed``/``asyncio_detailed``. Those read the whole body with no size bound, have no
wall-clock bound per attempt and would resend nothing safely; the facade needs all three. What the
generated code does own, and a bump changes, is every name on the wire: paths, methods, field names
and the status vocabulary. mypy checks the facade's use of them, so a removed or renamed field is a
type error at the line below that uses it.

The generated modules are imported on first use (once: the loaders below are cached): importing every
endpoint module and its response models would add a tenth to ``import truebit_facade`` for a program
that may never make a call (mypy checks these imports like any other).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, Literal, Protocol

from . import _validation as check
from ._errors import ValidationError
from ._models import TaskKind

if TYPE_CHECKING:
    from ._generated.models.execute_task_by_name_body import ExecuteTaskByNameBody

__all__ = [
    "Answer",
    "Failure",
    "FailureReason",
    "Operation",
    "WireRequest",
    "api_request",
    "function_request",
    "status_request",
]

Operation = Literal["execute", "status"]
FailureReason = Literal["connect", "timeout", "dropped", "too_large", "unreadable"]


# Plain classes with slots, not dataclasses: made for every request, and free to define at import.


class WireRequest:
    """One request, ready to send: what the generated endpoint module says, serialised once.
    ``content`` may carry ``input.headers`` values; ``secrets`` are values that must never be logged
    or echoed (the ``input.headers`` values of an API task and the values of ``extra_headers``);
    ``headers`` are the call's ``extra_headers``, sent with this request. None of those three is in
    the repr."""

    __slots__ = ("content", "execution_id", "headers", "kind", "method", "op", "path", "secrets", "sync")

    def __init__(
        self,
        method: str,
        path: str,
        op: Operation,
        kind: TaskKind,
        content: bytes | None = None,
        execution_id: str | None = None,
        sync: bool = False,
        secrets: tuple[str, ...] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        self.method, self.path, self.op, self.kind = method, path, op, kind
        self.content, self.execution_id, self.sync = content, execution_id, sync
        self.secrets, self.headers = secrets, headers

    def __repr__(self) -> str:
        return (
            f"WireRequest(method={self.method!r}, path={self.path!r}, op={self.op!r}, "
            f"kind={self.kind!r}, execution_id={self.execution_id!r}, sync={self.sync!r})"
        )

    def body_json(self) -> Any:
        return None if self.content is None else json.loads(self.content)


class Answer:
    """What one HTTP exchange gave, stripped of transport details. ``raw``: the transport's own
    response object, when there is one: the escape hatch errors carry as ``.response``. Nothing in
    the flow reads it."""

    __slots__ = ("content", "headers", "raw", "status")

    def __init__(self, status: int, headers: Mapping[str, str], content: bytes, raw: Any = None) -> None:
        self.status, self.headers, self.content, self.raw = status, headers, content, raw

    def __repr__(self) -> str:
        return f"Answer(status={self.status!r}, headers={self.headers!r})"


class Failure:
    """What one exchange gave when no usable answer came: ``sent`` is false only when the request
    provably never left this machine (the connection could not be made)."""

    __slots__ = ("detail", "reason", "sent")

    def __init__(self, reason: FailureReason, sent: bool, detail: str = "") -> None:
        self.reason, self.sent, self.detail = reason, sent, detail

    def __repr__(self) -> str:
        return f"Failure({self.reason!r}, sent={self.sent!r}, detail={self.detail!r})"


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
    millis = math.ceil(check.duration("execution_timeout", value, positive=True) * 1000)
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


def _execute(
    kind: TaskKind,
    kwargs: dict[str, Any],
    *,
    sync: bool,
    secrets: tuple[str, ...] = (),
    extra_headers: object = None,
    extra_body: object = None,
) -> WireRequest:
    """An execute request from the generated endpoint's request pieces (``kwargs``), with the extra
    headers and body. The builders call each endpoint's ``_get_kwargs`` themselves, by its module's
    name: mypy then checks that call, so a parameter a bump adds (a required header, say) is a type
    error there."""
    return _from_kwargs(
        kwargs,
        "execute",
        kind,
        sync=sync,
        secrets=secrets,
        extra_headers=extra_headers,
        extra_body=extra_body,
    )


class _FunctionKwargs(Protocol):
    """The generated function endpoint's ``_get_kwargs``: a parameter a bump adds to it makes the
    loader below a type error (its return), and this signature and its call are what to change."""

    def __call__(self, *, body: ExecuteTaskByNameBody, x_api_key: str) -> dict[str, Any]: ...


@cache
def _function_endpoint() -> tuple[_FunctionKwargs, type[ExecuteTaskByNameBody]]:
    # Looked up once: an import statement in the builder costs a microsecond on every call.
    from ._generated.api.function_task_execution.execute_task_by_name import _get_kwargs
    from ._generated.models.execute_task_by_name_body import ExecuteTaskByNameBody

    return _get_kwargs, ExecuteTaskByNameBody


def function_request(
    namespace: object,
    task: object,
    input: object,
    *,
    sync: bool,
    requester_timestamp: int,
    total_solutions: object = 1,
    required_solutions: object = None,
    gas_limit: object = None,
    **common: Any,
) -> WireRequest:
    """``POST /task/function/execute-by-name``. ``input`` is ``input.txt``: a string, or any JSON
    value (sent as its compact JSON text). ``common``: ``_execute``'s version, label, extra headers
    and body."""
    get_kwargs, body_model = _function_endpoint()
    if isinstance(input, str):
        text = check.text("input", input)
    elif isinstance(input, bytes | bytearray):
        raise ValidationError("input", "must be text (str) or a JSON value, not bytes")
    else:
        text = check.json_value("input", input)
    total, required = check.solutions(
        total_solutions, total_solutions if required_solutions is None else required_solutions
    )
    body = body_model(
        namespace=check.name("namespace", namespace),
        task_name=check.name("task", task),
        async_=not sync,
        input_=text,
        total_solutions=total,
        required_solutions=required,
        task_requester_timestamp=check.uint32("requester_timestamp", requester_timestamp),
    )
    gas = check.gas_limit(gas_limit)
    if gas is not None:
        body.gas_limit = gas
    # Set here, on the model itself (not through a shared helper): a field a bump removes or renames
    # is then a type error at the line that sets it.
    version, label = _version_label(common.pop("version", None), common.pop("label", None))
    if version is not None:
        body.version = version
    if label is not None:
        body.label = label
    return _execute("function", get_kwargs(body=body, x_api_key=""), sync=sync, **common)


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
    **common: Any,
) -> WireRequest:
    """``POST /task/api/execute-by-name``. ``common``: as ``function_request``'s."""
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
    model = ExecuteApiTaskByNameBody(
        namespace=check.name("namespace", namespace),
        task_name=check.name("task", task),
        async_=not sync,
        input_=call,
        execution_timeout=execution_timeout_to_wire(execution_timeout),
    )
    secrets = tuple(sorted({v for v in headers_.values() if v}, key=len, reverse=True))
    version, label = _version_label(common.pop("version", None), common.pop("label", None))
    if version is not None:
        model.version = version
    if label is not None:
        model.label = label
    kwargs = endpoint._get_kwargs(body=model, x_api_key="")
    return _execute("api", kwargs, sync=sync, secrets=secrets, **common)


def status_request(kind: TaskKind, execution_id: object, extra_headers: object = None) -> WireRequest:
    """``GET /task/{function,api}/execution-status/{executionId}``."""
    from ._generated.api.task_execution_status import (
        get_api_execution_status,
        get_function_execution_status,
    )

    eid = check.execution_id(execution_id)
    if kind == "function":  # each endpoint by its name, so that mypy checks the call
        kw = get_function_execution_status._get_kwargs(execution_id=eid)
    else:
        kw = get_api_execution_status._get_kwargs(execution_id=eid)
    return _from_kwargs(kw, "status", kind, execution_id=eid, extra_headers=extra_headers)
