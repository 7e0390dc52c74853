"""The wire's answers, through the generated client: read into its response models, then into this
package's results. Pure: no I/O, no clock.

The sync/async and error unions are decided here from the raw JSON (a genuine sync answer also
matches the async schema, so the generated union parser would always pick the async branch); then the
body goes through the generated model, so a renamed or removed response field is a type error here.
The generated models are imported on first use, once (see ``_wire``).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

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
    made,
    result_of,
)
from ._redact import reveals, scrub
from ._status import ExecutionStatus, VerificationStatus
from ._wire import Answer

if TYPE_CHECKING:
    from ._generated.models.execute_api_sync_response import ExecuteApiSyncResponse
    from ._generated.models.execute_task_async_response import ExecuteTaskAsyncResponse
    from ._generated.models.execute_task_sync_response import ExecuteTaskSyncResponse

__all__ = ["API", "FUNCTION", "Kind", "json_object", "read_execute", "read_status"]

T = TypeVar("T")
R = TypeVar("R", FunctionResult, ApiTaskResult)

# What makes a 200 execute answer the sync shape: any of these beside the id (an async-mode answer
# carries the id alone).
_FUNCTION_FIELDS = frozenset({"clearTextSolution", "verificationStatus"})
_API_FIELDS = frozenset({"clearTextSolution", "status", "totalTransferredBytes", "errorMsg"})
# The top-level fields a result's attributes are read from; every other one is kept in ``extra``,
# whether this client's spec knows it or not (so a field added by a bump stays in ``extra`` after
# ``make regen`` too, until a result attribute reads it). A test pins these names to the generated
# models'.
FUNCTION_READ = _FUNCTION_FIELDS | {"executionId"}
API_READ = _API_FIELDS | {"executionId"}


def _extra(body: Mapping[str, Any], read: frozenset[str]) -> dict[str, Any]:
    if body.keys() <= read:  # the usual answer: nothing else (a set comparison, in C)
        return {}
    return {k: v for k, v in body.items() if k not in read}


# The generated response models, imported on first use and then looked up for free (an import
# statement in a function costs about a microsecond on every call).
@cache
def _async_model() -> type[ExecuteTaskAsyncResponse]:
    from ._generated.models.execute_task_async_response import ExecuteTaskAsyncResponse

    return ExecuteTaskAsyncResponse


@cache
def _function_model() -> type[ExecuteTaskSyncResponse]:
    from ._generated.models.execute_task_sync_response import ExecuteTaskSyncResponse

    return ExecuteTaskSyncResponse


@cache
def _api_model() -> type[ExecuteApiSyncResponse]:
    from ._generated.models.execute_api_sync_response import ExecuteApiSyncResponse

    return ExecuteApiSyncResponse


_DECODER = json.JSONDecoder()
_SPACE = " \t\n\r"  # JSON's whitespace


def _loads(content: bytes) -> Any:
    """``json.loads(content)``, a third quicker for the usual answer (UTF-8 text of an object):
    ``json.loads`` first guesses the encoding of bytes in Python, then strips and scans the text."""
    if content[:1] == b"{":
        try:
            text = content.decode("utf-8")
            value, end = _DECODER.raw_decode(text)
            if end == len(text) or not text[end:].strip(_SPACE):
                return value
        except ValueError:  # UTF-16 or -32 without a BOM starts so too
            pass
    return json.loads(content)  # a BOM, leading space, other encodings, and the errors


def json_object(answer: Answer, *, submitted: bool, execution_id: str | None) -> dict[str, Any]:
    """The body as a JSON object, or ``MalformedResponseError``."""
    try:
        body = _loads(answer.content)
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
    body = json_object(answer, submitted=True, execution_id=None)
    try:
        # One we could not read back later is as bad as none.
        eid = check.execution_id(_async_model().from_dict(body).execution_id)
    except (ValidationError, TypeError, ValueError, KeyError, AttributeError):
        raise MalformedResponseError(
            "the response carries no usable executionId; the task may have been submitted",
            status_code=answer.status,
            may_have_submitted=True,
        ) from None
    if reveals(eid, secrets()):
        # A server that answers with the API key (or a header value) as the id: refused, never shown,
        # so it reaches no message, repr, attribute or log line (every later request would carry it).
        raise MalformedResponseError(
            "the response's executionId holds one of this client's secrets (the API key or a header "
            "value), so it was refused and is not shown; the task may have been submitted",
            status_code=answer.status,
            may_have_submitted=True,
        )
    if body.keys().isdisjoint(kind.fields):  # the async shape: an id and nothing we know
        return Execution(eid, kind.name, _info(answer, secrets))
    return _result(body, kind, eid, answer, secrets, strict=False, submitted=True)


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


def _unknown_with(member: Any, secrets: tuple[str, ...]) -> bool:
    """A status value newer than the spec (any text the server chose) that holds a secret."""
    return (
        member is not None
        and member._value_ not in type(member)._value2member_map_
        and scrub(member._value_, secrets) != member._value_
    )


def _scrubbed(member: Any, secrets: tuple[str, ...]) -> Any:
    return type(member)(scrub(member._value_, secrets)) if _unknown_with(member, secrets) else member


def _without_secret_statuses(result: R, secrets: Callable[[], tuple[str, ...]]) -> R:
    """``result`` with every unknown status value that holds a secret scrubbed: such a value is in
    the result's repr and an ``UnknownStatusError``'s ``status`` (the whole answer stays in ``raw``,
    which no repr shows)."""
    a, b = result._statuses()
    # The common case, cheaply: no value newer than the spec (the template names those UNKNOWN),
    # so nothing the server chose freely.
    if (a is None or a._name_ != "UNKNOWN") and (b is None or b._name_ != "UNKNOWN"):
        return result
    known = secrets()
    if not (_unknown_with(a, known) or _unknown_with(b, known)):
        return result
    if isinstance(result, FunctionResult):
        v, solution = result.verification, result.solution
        if solution is not None:
            solution = dataclasses.replace(
                solution, execution_status=_scrubbed(solution.execution_status, known)
            )
        return dataclasses.replace(result, verification=_scrubbed(v, known), solution=solution)
    return dataclasses.replace(
        result,
        status=_scrubbed(result.status, known),
        solution_status=_scrubbed(result.solution_status, known),
    )


def _result(
    body: dict[str, Any],
    kind: Kind[R],
    eid: str,
    answer: Answer,
    secrets: Callable[[], tuple[str, ...]],
    *,
    strict: bool,
    submitted: bool = False,
) -> R:
    """``submitted``: an execute answer, so the task runs under ``eid`` whatever else is wrong."""
    status = answer.status
    try:
        result = kind.parse(body, eid, _info(answer, secrets))
    except (TypeError, ValueError, AttributeError, KeyError, OverflowError, RecursionError) as exc:
        raise MalformedResponseError(
            f"unexpected shape in the {kind.name} task response ({exc})",
            status_code=status,
            execution_id=eid,
            may_have_submitted=submitted,
        ) from None
    result = _without_secret_statuses(result, secrets)
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
    return _drop_nulls(body, paths, ())


def _drop_nulls(
    node: dict[str, Any], paths: tuple[tuple[str, ...], ...], at: tuple[str, ...]
) -> dict[str, Any]:
    out = node if None not in node.values() else {k: v for k, v in node.items() if v is not None}
    for path in paths:
        child = out.get(path[0])
        if child is None:
            continue
        if type(child) is not dict:
            raise TypeError(f"{'.'.join((*at, path[0]))} should be an object, got {type(child).__name__}")
        cleaned = _drop_nulls(child, (path[1:],) if len(path) > 1 else (), (*at, path[0]))
        if cleaned is not child:
            out = {**out, path[0]: cleaned}  # never edit the caller's dict: it is the raw body
    return out


def function_result(
    body: dict[str, Any], execution_id: str, response: ResponseInfo | None = None
) -> FunctionResult:
    model = _function_model().from_dict(_objects(body, ("clearTextSolution", "signature")))
    solution = None
    cts = model.clear_text_solution
    if not isinstance(cts, Unset):
        signature = None
        sig = cts.signature
        if not isinstance(sig, Unset):
            v, r, s = _int(sig.v, "signature.v"), _str(sig.r, "signature.r"), _str(sig.s, "signature.s")
            if v is not None and r is not None and s is not None:
                signature = made(Signature, {"v": v, "r": r, "s": s})
        solution = made(
            Solution,
            {
                "output": _str(cts.output, "output"),
                "execution_status": _opt(cts.execution_status),
                "sender_address": _str(cts.sender_address, "senderAddress"),
                "signature": signature,
            },
        )
    verification = _opt(model.verification_status)
    if (
        verification is VerificationStatus.SUCCESS
        and solution is not None
        and solution.execution_status is ExecutionStatus.SUCCEED
        and solution.output is None
    ):  # a verified success is its output: without one the answer cannot be trusted
        raise TypeError("a verified success without clearTextSolution.output")
    return result_of(
        FunctionResult,
        {
            "execution_id": execution_id,
            "verification": verification,
            "solution": solution,
            "raw": freeze(body),
            "extra": freeze(_extra(body, FUNCTION_READ)),
            "response": response,
        },
    )


def api_result(
    body: dict[str, Any], execution_id: str, response: ResponseInfo | None = None
) -> ApiTaskResult:
    parsable = _objects(body, ("clearTextSolution",), ("totalTransferredBytes",))
    # The spec says the output is an object; targets answer arrays and strings too. Those are kept
    # as they came, past the generated parser, which only takes an object.
    cts_raw = body.get("clearTextSolution")
    output: Any = cts_raw.get("output") if isinstance(cts_raw, dict) else None
    if isinstance(cts_raw, dict) and "output" in cts_raw and not isinstance(output, dict):
        parsable["clearTextSolution"] = {
            k: v for k, v in parsable["clearTextSolution"].items() if k != "output"
        }
    model = _api_model().from_dict(parsable)
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
        transferred = made(
            TransferredBytes,
            {
                "request": _int(tb.request, "totalTransferredBytes.request"),
                "response": _int(tb.response, "totalTransferredBytes.response"),
            },
        )
    return result_of(
        ApiTaskResult,
        {
            "execution_id": execution_id,
            "status": _opt(model.status),
            "output": freeze(output),
            "solution_status": solution_status,
            "sender_address": sender,
            "transferred_bytes": transferred,
            "error_message": _str(model.error_msg, "errorMsg"),
            "raw": freeze(body),
            "extra": freeze(_extra(body, API_READ)),
            "response": response,
        },
    )


class Kind(Generic[R]):
    """A task kind: its name on the wire, its result type and what makes an answer the sync shape.
    A slotted class, not a dataclass: two are made, and a dataclass costs its methods at import."""

    __slots__ = ("fields", "name", "parse")  # fields: those of the sync shape beside the id

    def __init__(
        self,
        name: TaskKind,
        parse: Callable[[dict[str, Any], str, ResponseInfo | None], R],
        fields: frozenset[str],
    ) -> None:
        self.name: TaskKind = name
        self.parse: Callable[[dict[str, Any], str, ResponseInfo | None], R] = parse
        self.fields = fields

    def __repr__(self) -> str:
        return f"Kind({self.name!r})"


FUNCTION: Final[Kind[FunctionResult]] = Kind("function", function_result, _FUNCTION_FIELDS)
API: Final[Kind[ApiTaskResult]] = Kind("api", api_result, _API_FIELDS)
