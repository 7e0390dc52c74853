"""What the commands print: a result's output on stdout and one summary or error line on stderr, or
with ``--json`` one JSON object on stdout; everything scrubbed of the API key and header values.

A task that ended without a verified success is rendered the same way whichever command saw it end
(``run``, ``call``, ``status``, ``status --wait``): through :func:`report`, with its exit code."""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Mapping
from typing import Any

from .._errors import APIStatusError, TaskError, TruebitError, ValidationError, WaitTimeoutError
from .._failures import outcome_error
from .._models import ApiTaskResult, Execution, FunctionResult, thaw
from .._redact import scrub, scrub_json
from ._advice import describe, error_line, field_name, resume_command
from ._exits import EXIT_INTERRUPTED, EXIT_NOT_FINISHED, EXIT_OK, exit_code
from ._status_line import StatusLine

Result = FunctionResult | ApiTaskResult


class Output:
    """Everything the command prints goes through here, scrubbed of the API key and header values."""

    def __init__(self, as_json: bool, secrets: tuple[str, ...], live: bool = True) -> None:
        self.as_json = as_json
        self.live = live  # False with --debug: log lines and a redrawn line do not mix
        self.secrets = tuple(sorted(set(secrets), key=len, reverse=True))

    def out(self, text: str) -> None:
        """``text`` on stdout, ending with exactly the newlines it has, plus one if it has none."""
        _print(scrub(text, self.secrets), sys.stdout, end="" if text.endswith("\n") else "\n")

    def err(self, text: str) -> None:
        _print(scrub(text, self.secrets), sys.stderr)

    def json(self, value: dict[str, Any]) -> None:
        # Scrubbed as data (strings and keys), not as text: text scrubbing could break the JSON.
        # ASCII-escaped: a task's output may hold a lone surrogate, which JSON can carry as \\udXXX.
        text = json.dumps(scrub_json(value, self.secrets), ensure_ascii=True, default=str)
        _print(text, sys.stdout)

    def status_line(self, label: str) -> StatusLine:
        return StatusLine(sys.stderr, label, enabled=self.live)


def _print(text: str, stream: Any, end: str = "\n") -> None:
    """Print whatever a task answered: text the terminal's encoding cannot carry (a lone surrogate, a
    character outside a narrow locale) is shown escaped, never an exception after the task ran."""
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        (text + end).encode(encoding)
    except (UnicodeEncodeError, LookupError):
        text = text.encode(encoding, "backslashreplace").decode(encoding, "replace")
    print(text, file=stream, end=end, flush=True)


def result_fields(result: Result) -> dict[str, Any]:
    """The result's part of the ``--json`` object: what both kinds have, then each kind's own."""
    function = isinstance(result, FunctionResult)
    cts = result.raw.get("clearTextSolution")
    fields: dict[str, Any] = {
        "kind": "function" if function else "api",
        "execution_id": result.execution_id,
        "finished": result.is_terminal,
        "status": result.raw.get("verificationStatus" if function else "status"),
        "execution_status": cts.get("executionStatus" if function else "status")
        if isinstance(cts, Mapping)
        else None,
    }
    if isinstance(result, FunctionResult):
        sig = result.solution.signature if result.solution else None
        fields.update(
            output=result.output,
            sender_address=result.solution.sender_address if result.solution else None,
            signature=None if sig is None else {"v": sig.v, "r": sig.r, "s": sig.s},
        )
    else:
        tb = result.transferred_bytes
        fields.update(
            output=thaw(result.output),
            sender_address=result.sender_address,
            transferred_bytes=None if tb is None else {"request": tb.request, "response": tb.response},
            error_message=result.error_message,
        )
    fields["raw"] = thaw(result.raw)
    return fields


def _summary(result: Result, elapsed: float | None) -> str:
    fields = result_fields(result)
    text = f"execution {result.execution_id}: {fields['status'] or 'no status'}"
    if fields["execution_status"]:
        text += f" ({fields['execution_status']})"
    if fields["sender_address"]:
        text += f", signed by {fields['sender_address']}"
    if elapsed is not None:
        text += f", {elapsed:.1f} s"
    return text


def _show_output(out: Output, result: Result) -> None:
    value = result.output
    if value is None:
        return
    if not isinstance(value, str):  # scrubbed as data first, so short echoed header values go too
        value = json.dumps(scrub_json(thaw(value), out.secrets), indent=2, ensure_ascii=False)
    out.out(value)


def finish(out: Output, result: Result, elapsed: float | None) -> int:
    """Print a result the command read or waited for; its exit code. ``elapsed`` is the wait's, if any."""
    api = isinstance(result, ApiTaskResult)
    if result.is_terminal:
        error = outcome_error(result, out.secrets)
        if error is not None:  # the same as when run or wait raised it
            return report(out, error, api=api, waited=elapsed or 0.0, debug=False)
    code = EXIT_OK if result.is_terminal else EXIT_NOT_FINISHED
    if out.as_json:
        body = {"ok": code == EXIT_OK, "exit_code": code, **result_fields(result)}
        if code == EXIT_NOT_FINISHED:
            body["resume"] = resume_command(result.execution_id, api)
        out.json(body)
    elif code == EXIT_NOT_FINISHED:
        out.err(f"{_summary(result, None)}; wait for it with: {resume_command(result.execution_id, api)}")
    else:
        _show_output(out, result)
        out.err(_summary(result, elapsed))
    return code


def submitted(out: Output, execution: Execution) -> int:
    """Print a submitted execution: its id on stdout at once (or the ``--json`` object)."""
    api = execution.kind == "api"
    if out.as_json:
        out.json(
            {
                "ok": True,
                "exit_code": EXIT_OK,
                "kind": execution.kind,
                "execution_id": execution.execution_id,
                "finished": False,
                "status": "Submitted",
                "resume": resume_command(execution.execution_id, api),
            }
        )
    else:
        out.out(execution.execution_id)
        out.err(f"submitted; wait for it with: {resume_command(execution.execution_id, api)}")
    return EXIT_OK


def report(
    out: Output, exc: TruebitError, *, api: bool, waited: float, debug: bool, command: str | None = None
) -> int:
    """Print the error ``command`` ended on; its exit code. A task's failure is not a bug: no traceback
    even with ``--debug``, so that it reads the same from every command."""
    code = exit_code(exc)
    if debug and not isinstance(exc, TaskError):
        out.err("".join(traceback.format_exception(exc)).rstrip())
    message = describe(exc, api=api, waited=waited, command=command)
    if not out.as_json:
        out.err(error_line(exc, message))
        return code
    body: dict[str, Any] = {"ok": False, "exit_code": code}
    if isinstance(exc, TaskError):
        body.update(result_fields(exc.result))
    elif isinstance(exc, WaitTimeoutError) and exc.last_result is not None:
        body.update(result_fields(exc.last_result))
    error: dict[str, Any] = {"type": type(exc).__name__, "message": message, "execution_id": exc.execution_id}
    if isinstance(exc, ValidationError):
        error["field"] = field_name(exc.field)
    if isinstance(exc, APIStatusError):
        error["status_code"] = exc.status_code
    body["error"] = error
    if isinstance(exc, WaitTimeoutError) and exc.execution_id:
        body["execution_id"] = exc.execution_id
        body["resume"] = resume_command(exc.execution_id, api)
    out.json(body)
    return code


def interrupted(out: Output, *, execution_id: str | None, api: bool, submitting: bool) -> int:
    """Ctrl-C: the execution id and how to resume whenever the client had it (the driver attaches it
    to the interruption), else whether a task may have been submitted."""
    resume = resume_command(execution_id, api) if execution_id else None
    if execution_id:
        message = f"interrupted; execution {execution_id} may still be running; resume with: {resume}"
    elif submitting:
        message = "interrupted before an execution id was received; the task may have been submitted"
    else:
        message = "interrupted"
    if out.as_json:
        error = {"type": "Interrupted", "message": message, "execution_id": execution_id}
        body: dict[str, Any] = {"ok": False, "exit_code": EXIT_INTERRUPTED, "error": error, "resume": resume}
        if execution_id:
            body["execution_id"] = execution_id
        out.json(body)
    else:
        out.err(f"truebit: {message}")
    return EXIT_INTERRUPTED
