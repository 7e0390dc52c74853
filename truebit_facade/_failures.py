"""Every error the client builds, in one place, scrubbed of secrets as it is built.

The flow decides *which* failure happened; this module turns it into the typed error with its message,
its execution id and whether the task may have been submitted.
"""

from __future__ import annotations

import json
from typing import Any

from . import _errors as errors
from ._models import ApiTaskResult, FunctionResult, TaskKind
from ._policy import is_retryable_status, is_standard_status, parse_retry_after
from ._redact import scrub, scrub_json
from ._status import meaning
from ._wire import Answer, Failure, Operation, WireRequest

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


_STATUS_ERRORS: dict[int, type[errors.APIStatusError]] = {
    400: errors.BadRequestError,
    401: errors.AuthenticationError,
    402: errors.PaymentRequiredError,
    404: errors.ExecutionNotFoundError,
    429: errors.RateLimitedError,
}

#: Answers proving that no handler exists for the request, so an execute request started nothing:
#: none for that URL (404 Not Found, 410 Gone), none for that method (405 Method Not Allowed; 501 Not
#: Implemented, the method unknown to the server), or the wrong server (421 Misdirected Request: "not
#: processed"); RFC 9110, sections 15.5.5, 15.5.11, 15.5.6, 15.6.2 and 15.5.20. The spec documents
#: none of them for execute (200, 400, 401, 402, 500): they come from a base URL that is not the API.
NO_SUCH_ENDPOINT = frozenset({404, 405, 410, 421, 501})

#: What a status read that found no execution adds: the id may be the other kind's.
_OTHER_KIND: dict[TaskKind, str] = {
    "function": "it may be an API task's id: use api_tasks instead of functions",
    "api": "it may be a function task's id: use functions instead of api_tasks",
}


def _not_found_hint(kind: TaskKind, where: str, own_id: bool) -> str:
    """What a status read answered 404 in the API's error shape (``{"message": ...}``) can mean.

    The spec documents that 404 ("Execution ID not found") with a free-text message, and a server
    that is not the task API may answer an unknown route with the same shape (the sandbox answers
    ``execution id not found`` and ``not found``): the answer cannot tell a wrong id from a wrong
    base URL. Only an id the service gave to this very call (``own_id``: its execute request went to
    the same base URL, for the same kind) rules both out."""
    if own_id:
        return "the service gave this id to this call's execute request, and no longer knows it"
    return (
        f"{where} found no execution: if that is not the task API's URL, check TRUEBIT_BASE_URL (or "
        f"base_url); {_OTHER_KIND[kind]}"
    )


def status_error(
    answer: Answer,
    op: Operation,
    *,
    secrets: tuple[str, ...] = (),
    response: Any = None,
    execution_id: str | None = None,
    kind: TaskKind | None = None,
    target: str | None = None,
    own_id: bool = False,
) -> errors.APIStatusError:
    """The error for a non-200 answer to the request ``op`` (``target``: its method and URL, about an
    execution of ``kind``; ``own_id``: an id the service gave to this call). Non-standard codes
    (499, 520, 599) are handled like any other."""
    try:
        body: Any = json.loads(answer.content) if answer.content.strip() else None
        body = scrub_json(body, secrets)
    except (ValueError, UnicodeDecodeError, RecursionError):
        body = None
    message = body.get("message") if isinstance(body, dict) else None
    api_said = isinstance(message, str) and bool(message)  # the API's own error shape
    if isinstance(message, str) and message:  # the whole stays in ``body``; the message: one short line
        message = _excerpt(message, secrets, _EXCERPT)
    if not isinstance(message, str) or not message:
        longest = max((len(x) for x in secrets), default=0)
        # Scrubbed before it is cut (in _excerpt): a secret cut in two would no longer match.
        window = answer.content[: 2 * _EXCERPT + 4 * longest].decode("utf-8", "replace")
        excerpt = _excerpt(window, secrets, _EXCERPT)
        message = excerpt if excerpt and body is None and "<" not in excerpt[:1] else ""
    status = answer.status
    nonstandard = not is_standard_status(status)
    cls = _STATUS_ERRORS.get(status) or (
        errors.ServerError if status >= 500 or nonstandard else errors.UnexpectedStatusError
    )
    if status == 404 and op == "execute":
        cls = errors.UnexpectedStatusError
    no_endpoint = status in NO_SUCH_ENDPOINT and (op == "execute" or status != 404 or not api_said)
    # An execute that got 5xx or an undocumented status may still have started the task, unless the
    # answer proves there is no such endpoint.
    may_have_submitted = (
        op == "execute"
        and (cls is errors.ServerError or cls is errors.UnexpectedStatusError)
        and not no_endpoint
    )
    text = f"HTTP {status}" + (f": {message}" if message else "")
    where = scrub(target, secrets) if target else "the request's URL"
    if may_have_submitted:
        text += " (the task may have been submitted; it was not resent)"
    elif no_endpoint:
        text += (
            f"; {where} is not an endpoint of the task API"
            + (", so no task was started" if op == "execute" else "")
            + ": check TRUEBIT_BASE_URL (or base_url)"
        )
    elif status == 404 and kind is not None:
        text += f"; {_not_found_hint(kind, where, own_id)}"
    elif op == "status" and execution_id is not None and is_retryable_status(status):
        text += _resume(execution_id)  # the read failed (its retries spent), not the execution
    kw: dict[str, Any] = {
        "status_code": status,
        "body": body,
        "response": response if response is not None else answer.raw,
        "execution_id": execution_id,
        "may_have_submitted": may_have_submitted,
        "retry_after": parse_retry_after(answer.headers.get("retry-after")),
    }
    if cls is errors.BadRequestError:
        blockchain = (
            {k: v for k, v in body.items() if k in _BLOCKCHAIN_FIELDS | {"message"}}
            if isinstance(body, dict) and body.keys() & (_BLOCKCHAIN_FIELDS - {"status"})
            else None
        )
        return errors.BadRequestError(text, blockchain=blockchain, **kw)
    return cls(text, **kw)


def outcome_error(
    result: FunctionResult | ApiTaskResult, secrets: tuple[str, ...] = ()
) -> errors.TaskError[Any] | None:
    """The error ``run``/``wait`` raise for a terminal result that is not a verified success, else
    ``None``. The message is scrubbed of ``secrets`` (an API target may echo injected headers)."""
    if result.ok:
        return None
    eid = result.execution_id
    if not result.status_known:
        # Terminal by the published rule (not Running), but a value newer than this client's spec.
        statuses = (
            (result.verification, result.execution_status)
            if isinstance(result, FunctionResult)
            else (result.status, result.solution_status)
        )
        raw = next(s.value for s in statuses if s is not None and meaning(s) is None)
        message = (
            f"execution {eid}: status {raw!r} is not known to this client version; the execution has "
            "ended (only Running has not); see .result for everything that came back"
        )
        return errors.UnknownStatusError(scrub(message, secrets), result=result, status=raw)
    cls: type[errors.TaskError[Any]] = errors.TaskFailedError
    if isinstance(result, FunctionResult):
        v, es = result.verification, result.execution_status
        if meaning(v) == "indeterminate":
            cls = errors.VerificationIndeterminateError
            message = (
                f"execution {eid}: verification Indeterminate (nodes disagreed or too few solutions in "
                "time); the output is not verified"
            )
        else:
            said = f": {_excerpt(result.output, secrets)}" if result.output else ""
            message = f"execution {eid}: task failed (verification {v}, execution {es}){said}"
    else:
        detail = f": {_excerpt(result.error_message, secrets)}" if result.error_message else ""
        message = (
            f"execution {eid}: API task failed (status {result.status}, solution {result.solution_status})"
            f"{detail}"
        )
    return cls(scrub(message, secrets), result=result)


#: The longest excerpt of an answer an error message carries (its whole body is in ``err.body``).
_EXCERPT = 300


def _resume(execution_id: str) -> str:
    return f"; execution {execution_id} may still be running: call wait({execution_id!r}) to resume"


def _excerpt(text: str, secrets: tuple[str, ...], limit: int = 200) -> str:
    """A one-line excerpt: scrubbed *before* it is cut or its spaces collapsed, or a secret that
    crosses the cut, or holds runs of spaces and tabs, would no longer match and would leak."""
    text = " ".join(scrub(text, secrets).split())
    if not text.isprintable():  # escape sequences and the like: shown, never acted on by a terminal
        text = "".join(c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 256 else "?" for c in text)
    return text if len(text) <= limit else text[:limit] + "..."


def transport_error(failure: Failure, request: WireRequest, secrets: tuple[str, ...]) -> errors.TruebitError:
    """The error for an attempt that got no usable answer."""
    eid, execute = request.execution_id, request.op == "execute"
    detail = scrub(failure.detail, secrets)
    if failure.reason in ("too_large", "unreadable"):
        return errors.MalformedResponseError(
            f"the answer could not be read ({detail or failure.reason})"
            + ("; the task may have been submitted (it was not resent)" if execute else "")
            + (_resume(eid) if eid is not None and not execute else ""),
            execution_id=eid,
            may_have_submitted=execute,
        )
    may_have_submitted = execute and failure.sent
    cls = errors.RequestTimeoutError if failure.reason == "timeout" else errors.TransportError
    what = "timed out" if failure.reason == "timeout" else "failed"
    message = f"{'execute' if execute else 'status'} request {what}: {detail or failure.reason}"
    if may_have_submitted:
        message += " (the task may have been submitted and billed; it was not resent, and no execution id was received)"
    elif eid is not None:
        message += _resume(eid)
    return cls(message, may_have_submitted=may_have_submitted, execution_id=eid)


def interrupted(kind: TaskKind | None, execution_id: str | None) -> errors.CallInterruptedError:
    if execution_id is None:
        return errors.CallInterruptedError(
            "interrupted before an execution id was received; the task may have been submitted",
            execution_id=None,
        )
    return errors.CallInterruptedError(
        f"stopped waiting for {kind or 'the'} execution {execution_id}: interrupted; it may still be "
        f"running: call wait({execution_id!r}) to resume",
        execution_id=execution_id,
    )


def wait_timeout(
    kind: TaskKind, execution_id: str, last: FunctionResult | ApiTaskResult | None, waited: float
) -> errors.WaitTimeoutError:
    status = None if last is None else last.status_value
    return errors.WaitTimeoutError(
        f"gave up waiting for {kind} execution {execution_id} after {waited:.1f} s (last status: "
        f"{status or 'none'}); it may still finish: call wait({execution_id!r}) to resume",
        execution_id=execution_id,
        last_status=status,
        last_result=last,
    )
