"""What an error says on the command line: the client's messages reworded for someone typing
``truebit`` (options and variables, not Python arguments; ``truebit status ID --wait``, not
``wait(ID)``), each fact said once, and the hint that fits."""

from __future__ import annotations

import re
from typing import Final

from .._errors import (
    APIStatusError,
    AuthenticationError,
    ExecutionNotFoundError,
    TaskError,
    TransportError,
    TruebitError,
    ValidationError,
    WaitTimeoutError,
)
from .._models import FunctionResult

#: The client's argument names as the user typed them (for ValidationError fields and messages).
FIELD_NAMES: Final = {
    "namespace": "NAMESPACE",
    "task": "TASK",
    "input": "INPUT",
    "execution_id": "EXECUTION_ID",
    "total_solutions": "--total-solutions",
    "required_solutions": "--required-solutions",
    "gas_limit": "--gas-limit",
    "version": "--task-version",
    "label": "--label",
    "path": "--path",
    "method": "--method",
    "params": "--param",
    "headers": "--header",
    "body": "--body",
    "execution_timeout": "--execution-timeout",
    "timeout": "--timeout",
    "wait_timeout": "--timeout",
    "base_url": "--base-url / TRUEBIT_BASE_URL",
    "api_key": "TRUEBIT_API_KEY",
}

# Whole phrases of Python advice, and what they are on the command line.
_PHRASES: Final = (
    ("pass api_key= or set TRUEBIT_API_KEY", "set TRUEBIT_API_KEY"),
    ("give version or label, not both", "give --task-version or --label, not both"),
    (" or a timedelta", ""),
    ("see .result for everything that came back", "--json shows everything that came back"),
    ("; it may be an API task's id: use api_tasks instead of functions", ""),  # --api, added below
    (
        "; it may be a function task's id: use functions instead of api_tasks",
        "; if it is a function task's, drop --api",
    ),
    ("check TRUEBIT_BASE_URL (or base_url)", "check TRUEBIT_BASE_URL / --base-url"),
)
_CALL_WAIT: Final = re.compile(r"call wait\((['\"])(?P<id>.*?)\1\) to resume")
_IDENTIFIERS: Final = re.compile(
    r"(?<![\w-])(" + "|".join(name for name in FIELD_NAMES if "_" in name) + r")(?![\w])"
)
_ITEM: Final = re.compile(r"^(?P<field>\w+)\[(?P<q>['\"])(?P<key>.*)(?P=q)\]$")
_NO_KEY: Final = "no API key: set TRUEBIT_API_KEY (for a local sandbox, the key it printed at start)"
# A task of the other kind, as the service (the sandbox, at least) refuses it: "3a2b5129/custom v1 is
# an API task, not a function task: execute it with POST /task/api/execute-by-name". The advice, in
# HTTP terms, is replaced by the command that runs it.
_OTHER_KIND: Final = re.compile(
    r"(?:(?P<ns>[^\s/\"']+)/(?P<task>[^\s/\"']+)(?: v\d+)? )?is an? (?P<kind>API|function) task, "
    r"not an? (?:API|function) task(?P<advice>[:;,]? *execute it with POST \S+)?"
)


def resume_command(execution_id: str, api: bool) -> str:
    return f"truebit status {execution_id} --wait" + (" --api" if api else "")


def clip(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def cli_words(text: str, api: bool) -> str:
    """``text`` with the Python advice of the client's messages put in command-line terms."""
    for python, cli in _PHRASES:
        text = text.replace(python, cli)
    text = _CALL_WAIT.sub(lambda m: f"resume with: {resume_command(m['id'], api)}", text)
    return _IDENTIFIERS.sub(lambda m: FIELD_NAMES[m[1]], text)


def field_name(field: str) -> str:
    """A ValidationError's field as the user typed it: ``total_solutions`` is ``--total-solutions``,
    ``params['id']`` is ``--param id``."""
    item = _ITEM.match(field)
    if item is not None:
        return f"{FIELD_NAMES.get(item['field'], item['field'])} {item['key']}"
    return FIELD_NAMES.get(field, field)


def _status_detail(exc: APIStatusError) -> str:
    """``HTTP 400: what the service said``, the status once even when the service's own message
    starts with it (a proxy's ``HTTP 400: Bad Request``)."""
    status = f"HTTP {exc.status_code}"
    detail = exc.message
    while True:  # the client's prefix, then any the service repeated
        stripped = detail.removeprefix(status).lstrip()
        if stripped == detail:
            break
        detail = stripped.removeprefix(":").removeprefix("-").lstrip()
    return f"{status}: {detail}" if detail else status


def _other_kind(text: str, command: str | None) -> str:
    """A refusal for the wrong kind of task, with the ``truebit`` command that runs the right one."""
    match = _OTHER_KIND.search(text)
    if match is None:
        return text
    where = f"{match['ns']} {match['task']}" if match["ns"] else "NAMESPACE TASK"
    if match["kind"] == "API":
        hint = {
            "submit": f"add --api: truebit submit {where} --api --path PATH",
            "batch": "add --api (each line a call with a path)",
        }.get(command or "", f"call it with: truebit call {where} --path PATH")
    else:
        hint = {
            "submit": f"drop --api: truebit submit {where} INPUT",
            "batch": "drop --api (each line an input)",
        }.get(command or "", f"run it with: truebit run {where} INPUT")
    said = match[0].removesuffix(match["advice"] or "")
    return text.replace(match[0], f"{said}: {hint}")


def describe(exc: TruebitError, *, api: bool, waited: float, command: str | None = None) -> str:
    """The message of ``exc`` in command-line terms, with the hint that fits (no type name);
    ``command`` (``run``, ``call``...) is the command that failed, for the hints that depend on it."""
    if isinstance(exc, ValidationError):
        if exc.field == "api_key":
            if exc.problem.startswith("no API key"):
                return _NO_KEY
            if "TRUEBIT_API_KEY" in exc.problem:  # set but empty
                return exc.problem.replace(", or unset it for the default", "")
        problem = cli_words(exc.problem, api)
        if exc.field == "base_url" and "TRUEBIT_BASE_URL" in problem:
            return problem
        if exc.field == "version" and problem.startswith("give --task-version"):
            return problem
        return f"invalid {field_name(exc.field)}: {problem}"
    if isinstance(exc, WaitTimeoutError):
        # No status read before the deadline (it passed during the submit): say so, not "status: none".
        last = f"last status: {exc.last_status}" if exc.last_status else "no status read yet"
        if exc.execution_id is None:
            return f"not finished after {waited:.1f} s ({last})"
        return (
            f"execution {exc.execution_id} has not finished after {waited:.1f} s "
            f"({last}); resume with: {resume_command(exc.execution_id, api)}"
        )
    text = _status_detail(exc) if isinstance(exc, APIStatusError) else exc.message
    text = cli_words(text, api)
    if isinstance(exc, APIStatusError) and exc.status_code == 400:
        text = _other_kind(text, command)
    if isinstance(exc, TaskError) and isinstance(exc.result, FunctionResult) and exc.result.output:
        said = clip(exc.result.output, 200)
        if said.removesuffix("...") not in text:
            text += f"; output: {said!r}"
    if exc.execution_id and exc.execution_id not in text:
        text += f" (execution {exc.execution_id})"
    if isinstance(exc, ExecutionNotFoundError) and not api:
        text += "; if it is an API task's execution, add --api"
    elif isinstance(exc, AuthenticationError):
        text += "; check TRUEBIT_API_KEY"
    elif isinstance(exc, TransportError) and "--base-url" not in text:
        text += "; check TRUEBIT_BASE_URL / --base-url"
    return clip(text, 1000)


def error_line(exc: TruebitError, message: str) -> str:
    """The one stderr line of an error: ``truebit: Type: message``; usage errors and an expired wait
    deadline say what to do without a type name."""
    if isinstance(exc, ValidationError | WaitTimeoutError):
        return f"truebit: {message}"
    return f"truebit: {type(exc).__name__}: {message}"
