"""The ``truebit`` command: run function tasks, call API tasks, read or wait for executions, serve the sandbox.

    truebit run 3a2b5129 fibonacci 22 --total-solutions 3
    truebit call NAMESPACE TASK --path '/store/order/{orderId}' --param orderId=2 --header 'X-Key: ...'
    truebit status EXECUTION_ID --wait
    truebit sandbox --port 8080

Configuration comes from ``TRUEBIT_API_KEY`` and ``TRUEBIT_BASE_URL`` (``--base-url`` overrides the
latter; the key is never taken from the command line, where shell history and ``ps`` would keep it).
A result goes to stdout (the output alone, or one JSON object with ``--json``), everything else to
stderr. The exit codes are the ``EXIT_*`` constants below. Standard library only (argparse).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import shutil
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import IO, Any, Final, NoReturn

from ._errors import (
    AuthenticationError,
    ExecutionNotFoundError,
    TaskError,
    TransportError,
    TruebitError,
    ValidationError,
    VerificationIndeterminateError,
    WaitTimeoutError,
)
from ._failures import outcome_error
from ._models import ApiTaskResult, Execution, FunctionResult, thaw
from ._redact import logger, scrub, scrub_json
from ._settings import DEFAULT
from ._sync_client import Truebit
from ._version import __version__
from .batch import _cli as batch_cli

__all__ = [
    "EXIT_API_ERROR",
    "EXIT_INDETERMINATE",
    "EXIT_INTERRUPTED",
    "EXIT_NOT_FINISHED",
    "EXIT_OK",
    "EXIT_TASK_FAILED",
    "EXIT_USAGE",
    "main",
]

EXIT_OK: Final = 0  #: the task succeeded and was verified (or, with --async, was submitted)
EXIT_TASK_FAILED: Final = 1  #: the task ended in failure (trap, out of gas, target API error...)
EXIT_USAGE: Final = 2  #: bad command line or input, or no API key; nothing was sent
EXIT_INDETERMINATE: Final = 3  #: the nodes did not agree, or too few answered: the output is not verified
EXIT_API_ERROR: Final = 4  #: the service refused the request, or it could not be reached
EXIT_NOT_FINISHED: Final = 5  #: the wait deadline passed (or, without --wait, still running): resume later
EXIT_INTERRUPTED: Final = 130  #: Ctrl-C

EPILOG = f"""\
environment:
  TRUEBIT_API_KEY    the API key (x-api-key); needed by run and call, never printed
  TRUEBIT_BASE_URL   the service (default https://run.truebit.network); --base-url overrides it

exit codes:
  {EXIT_OK}    success: the task ended verified (with --async: submitted)
  {EXIT_TASK_FAILED}    the task failed (trap, out of gas, empty output, target API error)
  {EXIT_USAGE}    usage error: bad arguments or input, or no API key (nothing was sent)
  {EXIT_INDETERMINATE}    verification indeterminate: nodes disagreed or too few answered in time
  {EXIT_API_ERROR}    API or network error: the service refused the request or could not be reached
  {EXIT_NOT_FINISHED}    not finished: the wait deadline passed (or, for status without --wait, still
       running); the execution id is printed: resume with `truebit status ID --wait`
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C)

examples:
  truebit sandbox &                                  # a local dispatcher; prints its URL and key
  export TRUEBIT_BASE_URL=http://127.0.0.1:8080 TRUEBIT_API_KEY=sandbox-dev-key
  truebit run 3a2b5129 fibonacci 22 --total-solutions 3
  truebit --json run 3a2b5129 fibonacci 22 --async   # {{"execution_id": ...}} at once
  truebit status EXECUTION_ID --wait
"""

# Options this module gives the facade, named as the user typed them (for ValidationError fields).
_FIELD_NAMES: Final = {
    "namespace": "NAMESPACE",
    "task": "TASK",
    "input": "INPUT",
    "execution_id": "EXECUTION_ID",
    "total_solutions": "--total-solutions",
    "required_solutions": "--required-solutions",
    "gas_limit": "--gas-limit",
    "version": "--version",
    "label": "--label",
    "path": "--path",
    "method": "--method",
    "params": "--param",
    "headers": "--header",
    "body": "--body",
    "execution_timeout": "--execution-timeout",
    "timeout": "--timeout",
    "base_url": "--base-url / TRUEBIT_BASE_URL",
}

_TICK_FIRST: Final = 0.25  # no status line at all for an answer quicker than this
_TICK_EVERY: Final = 0.1


def _make_client(base_url: str | None) -> Truebit:
    """The client the commands use (``TRUEBIT_API_KEY`` from the environment). Tests replace it."""
    return Truebit(base_url=base_url)


# --- argument parsing -----------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose error messages are scrubbed of header values."""

    secrets: tuple[str, ...] = ()
    #: Set by main() when ``--json`` is on the command line: usage errors are JSON on stdout too.
    json_errors: bool = False

    def error(self, message: str) -> NoReturn:
        message = scrub(message, self.secrets)
        if _Parser.json_errors:  # one JSON object on stdout and nothing else
            error = {"type": "UsageError", "message": message, "execution_id": None}
            print(json.dumps({"ok": False, "exit_code": EXIT_USAGE, "error": error}), flush=True)
            self.exit(EXIT_USAGE)
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


def _timeout(text: str) -> float | None:
    if text.strip().lower() in ("none", "never", "inf"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds or 'none', got {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected seconds >= 0 or 'none', got {text!r}")
    return value


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text!r}")
    return value


def _param(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return name.strip(), value


def _header(text: str) -> tuple[str, str]:
    # The message never quotes the argument: it holds a secret.
    name, sep, value = text.partition(":")
    if not sep or not name.strip() or not value.strip():
        raise argparse.ArgumentTypeError("expected 'Name: value' (quoted, as one argument)")
    return name.strip(), value.strip()


def _json_body(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON ({exc})") from None


def _header_secrets(argv: Sequence[str]) -> tuple[str, ...]:
    """The values of ``--header`` arguments, found before parsing, so that no parse error shows one
    (including the word after a mis-quoted ``--header Name: value``)."""
    found: list[str] = []
    for i, token in enumerate(argv):
        if token == "--header" and i + 1 < len(argv):
            text, following = argv[i + 1], argv[i + 2] if i + 2 < len(argv) else ""
        elif token.startswith("--header="):
            text, following = token.partition("=")[2], argv[i + 1] if i + 1 < len(argv) else ""
        else:
            continue
        value = text.partition(":")[2].strip()
        if value:
            found.append(value)
        elif following and not following.startswith("-"):
            found.append(following)
    return tuple(sorted(set(found), key=len, reverse=True))


def _common_options(defaults: bool) -> _Parser:
    """Options accepted before and after the command (``truebit --json run ...`` = ``truebit run ... --json``)."""
    p = _Parser(add_help=False)
    kw: dict[str, Any] = {} if defaults else {"default": argparse.SUPPRESS}
    p.add_argument("--json", action="store_true", help="print one JSON object on stdout", **kw)
    p.add_argument(
        "--debug", action="store_true", help="log requests (secrets redacted) and show tracebacks", **kw
    )
    p.add_argument(
        "--base-url",
        metavar="URL",
        help="the service's URL (default: $TRUEBIT_BASE_URL, else Truebit's)",
        **kw,
    )
    return p


def _wait_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--timeout",
        type=_timeout,
        default=DEFAULT,
        metavar="SECONDS",
        help="overall wait deadline (default 1800; 'none' waits as long as it takes); when it passes, "
        f"the execution id is printed and the exit code is {EXIT_NOT_FINISHED}",
    )


def _task_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--version", type=int, metavar="N", help="the task's version (default: latest)")
    p.add_argument("--label", help="the task's version by label, such as stable")
    p.add_argument(
        "--async",
        dest="submit_only",
        action="store_true",
        help="submit and print the execution id at once, without waiting",
    )
    _wait_options(p)


def build_parser(secrets: tuple[str, ...] = ()) -> argparse.ArgumentParser:
    common = _common_options(defaults=False)
    parser = _Parser(
        prog="truebit",
        description="Run tasks on Truebit's task-execution API and wait for their verified results.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[_common_options(defaults=True)],
        allow_abbrev=False,
    )
    parser.secrets = secrets
    parser.add_argument(
        "-V", "--version", action="version", version=f"truebit-facade {__version__}", help="print the version"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=_Parser)

    run = sub.add_parser(
        "run",
        parents=[common],
        allow_abbrev=False,
        help="run a function task and wait for its verified output",
        description="Run a function task (a WebAssembly program) on INPUT and wait for the verified "
        "output, which is printed on stdout.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    run.add_argument("namespace", metavar="NAMESPACE")
    run.add_argument("task", metavar="TASK")
    run.add_argument("input", metavar="INPUT", help="the text of the task's input.txt; '-' reads stdin")
    run.add_argument(
        "--total-solutions", type=int, default=1, metavar="N", help="nodes that solve the task (default 1)"
    )
    run.add_argument(
        "--required-solutions",
        type=int,
        metavar="N",
        help="matching solutions needed for a verified result (default: all)",
    )
    run.add_argument("--gas-limit", type=int, metavar="N", help="instruction budget (default: the task's)")
    _task_options(run)

    call = sub.add_parser(
        "call",
        parents=[common],
        allow_abbrev=False,
        help="call an API task and wait for its answer",
        description="Make an HTTP call declared in an API task's manifest, through the hub, and wait "
        "for the answer, which is printed on stdout. Header values are never printed.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    call.add_argument("namespace", metavar="NAMESPACE")
    call.add_argument("task", metavar="TASK")
    call.add_argument("--path", required=True, help="the manifest's path, such as '/store/order/{orderId}'")
    call.add_argument("--method", default="GET", help="HTTP method (default GET)")
    call.add_argument(
        "--param",
        dest="params",
        action="append",
        type=_param,
        default=[],
        metavar="NAME=VALUE",
        help="fills {NAME} in the path or adds a query parameter; VALUE is JSON when it parses "
        "(Id=12345 is a number), else text; repeatable",
    )
    call.add_argument(
        "--header",
        dest="headers",
        action="append",
        type=_header,
        default=[],
        metavar="'NAME: VALUE'",
        help="a header injected into the outgoing call (secret: never printed); repeatable",
    )
    call.add_argument("--body", type=_json_body, metavar="JSON", help="the JSON request body")
    call.add_argument(
        "--execution-timeout",
        type=_positive_seconds,
        default=30.0,
        metavar="SECONDS",
        help="time limit of the outgoing call (default 30)",
    )
    _task_options(call)

    status = sub.add_parser(
        "status",
        parents=[common],
        allow_abbrev=False,
        help="read an execution's state, or wait for it to end",
        description="Read an execution's current state once, or with --wait wait until it ends.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    status.add_argument("execution_id", metavar="EXECUTION_ID")
    status.add_argument("--wait", action="store_true", help="wait until the execution ends")
    status.add_argument("--api", action="store_true", help="the execution is an API task's")
    _wait_options(status)
    batch_cli.add_parser(sub)

    sub.add_parser(
        "sandbox",
        add_help=False,
        help="serve the local dispatcher (truebit sandbox --help for its options)",
    )
    return parser


def _sandbox_argv(argv: Sequence[str]) -> tuple[list[str], bool] | None:
    """The arguments after ``sandbox`` (and whether ``--debug`` came before), or ``None``: the
    sandbox parses its own options."""
    debug = False
    i = 0
    while i < len(argv):
        token = argv[i]
        if token in ("--json", "--debug"):
            debug = debug or token == "--debug"
        elif token == "--base-url":
            i += 1
        elif not token.startswith("--base-url="):
            break
        i += 1
    if i < len(argv) and argv[i] == "sandbox":
        return list(argv[i + 1 :]), debug
    return None


# --- output -----------------------------------------------------------------------------------


class _Ticker:
    """A live status line with the elapsed time on stderr, only when stderr is a terminal."""

    def __init__(self, stream: IO[str], label: str, *, enabled: bool = True) -> None:
        self._stream = stream
        self._label = label
        try:
            self._enabled = enabled and stream.isatty()
        except (AttributeError, ValueError, OSError):
            self._enabled = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._width = 0
        self._started = time.monotonic()
        self._status = ""

    def on_status(self, result: FunctionResult | ApiTaskResult) -> None:
        """The client's ``on_status`` callback: the line shows the execution and its last status."""
        self._status = f"  execution {result.execution_id}: {result.status_value or 'no status'}"

    def __enter__(self) -> _Ticker:
        if self._enabled:
            self._thread = threading.Thread(target=self._loop, name="truebit-status-line", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            if self._width:
                self._write("\r" + " " * self._width + "\r")

    def _loop(self) -> None:
        if self._stop.wait(_TICK_FIRST):
            return
        while True:
            elapsed = time.monotonic() - self._started
            columns = shutil.get_terminal_size((80, 24)).columns
            text = f"{self._label}{self._status}  {elapsed:.1f} s"[: max(columns - 1, 10)]
            self._write("\r" + text.ljust(self._width))
            self._width = max(self._width, len(text))
            if self._stop.wait(_TICK_EVERY):
                return

    def _write(self, text: str) -> None:
        try:
            self._stream.write(text)
            self._stream.flush()
        except (ValueError, OSError):
            pass


class _Output:
    """Everything the command prints goes through here, scrubbed of the API key and header values."""

    def __init__(self, as_json: bool, secrets: tuple[str, ...], live: bool = True) -> None:
        self.as_json = as_json
        self.live = live  # False with --debug: log lines and a redrawn line do not mix
        self.secrets = tuple(sorted(set(secrets), key=len, reverse=True))

    def out(self, text: str) -> None:
        """``text`` on stdout, ending with exactly the newlines it has, plus one if it has none."""
        print(scrub(text, self.secrets), file=sys.stdout, end="" if text.endswith("\n") else "\n", flush=True)

    def err(self, text: str) -> None:
        print(scrub(text, self.secrets), file=sys.stderr, flush=True)

    def json(self, value: dict[str, Any]) -> None:
        # Scrubbed as data (strings and keys), not as text: text scrubbing could break the JSON.
        text = json.dumps(scrub_json(value, self.secrets), ensure_ascii=False, default=str)
        print(text, file=sys.stdout, flush=True)

    def ticker(self, label: str) -> _Ticker:
        return _Ticker(sys.stderr, label, enabled=self.live)


def _resume(execution_id: str, api: bool) -> str:
    return f"truebit status {execution_id} --wait" + (" --api" if api else "")


def _result_fields(result: FunctionResult | ApiTaskResult) -> dict[str, Any]:
    cts = result.raw.get("clearTextSolution")
    if isinstance(result, FunctionResult):
        sig = result.solution.signature if result.solution else None
        return {
            "kind": "function",
            "execution_id": result.execution_id,
            "finished": result.is_terminal,
            "status": result.raw.get("verificationStatus"),
            "execution_status": cts.get("executionStatus") if isinstance(cts, Mapping) else None,
            "output": result.output,
            "sender_address": result.solution.sender_address if result.solution else None,
            "signature": None if sig is None else {"v": sig.v, "r": sig.r, "s": sig.s},
            "raw": thaw(result.raw),
        }
    tb = result.transferred_bytes
    return {
        "kind": "api",
        "execution_id": result.execution_id,
        "finished": result.is_terminal,
        "status": result.raw.get("status"),
        "execution_status": cts.get("status") if isinstance(cts, Mapping) else None,
        "output": thaw(result.output),
        "sender_address": result.sender_address,
        "transferred_bytes": None if tb is None else {"request": tb.request, "response": tb.response},
        "error_message": result.error_message,
        "raw": thaw(result.raw),
    }


def _show_output(out: _Output, result: FunctionResult | ApiTaskResult) -> None:
    value = result.output
    if value is None:
        return
    if not isinstance(value, str):  # scrubbed as data first, so short echoed header values go too
        value = json.dumps(scrub_json(thaw(value), out.secrets), indent=2, ensure_ascii=False)
    out.out(value)


def _summary(result: FunctionResult | ApiTaskResult, elapsed: float | None) -> str:
    fields = _result_fields(result)
    text = f"execution {result.execution_id}: {fields['status'] or 'no status'}"
    if fields["execution_status"]:
        text += f" ({fields['execution_status']})"
    if fields["sender_address"]:
        text += f", signed by {fields['sender_address']}"
    if elapsed is not None:
        text += f", {elapsed:.1f} s"
    return text


def _outcome_code(result: FunctionResult | ApiTaskResult) -> int:
    if not result.is_terminal:
        return EXIT_NOT_FINISHED
    error = outcome_error(result)
    return EXIT_OK if error is None else _exit_code(error)


def _exit_code(exc: BaseException) -> int:
    if isinstance(exc, VerificationIndeterminateError):
        return EXIT_INDETERMINATE
    if isinstance(exc, TaskError):
        return EXIT_TASK_FAILED
    if isinstance(exc, WaitTimeoutError):
        return EXIT_NOT_FINISHED
    if isinstance(exc, ValidationError):
        return EXIT_USAGE
    return EXIT_API_ERROR


def _clip(text: str, limit: int = 300) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _error_line(exc: TruebitError, args: argparse.Namespace, waited: float) -> str:
    api = args.command == "call" or bool(getattr(args, "api", False))
    if isinstance(exc, ValidationError):
        if exc.field == "api_key":
            return "no API key: set TRUEBIT_API_KEY (for a local sandbox, the key it printed at start)"
        return f"invalid {_FIELD_NAMES.get(exc.field, exc.field)}: {exc.problem}"
    if isinstance(exc, WaitTimeoutError):
        return (
            f"execution {exc.execution_id} has not finished after {waited:.1f} s "
            f"(last status: {exc.last_status or 'none'}); resume with: {_resume(exc.execution_id or '', api)}"
        )
    line = f"{type(exc).__name__}: {exc.message}"
    if isinstance(exc, TaskError) and isinstance(exc.result, FunctionResult) and exc.result.output:
        said = _clip(exc.result.output, 200)
        if said.removesuffix("...") not in line:
            line += f"; output: {said!r}"
    if exc.execution_id and exc.execution_id not in line:
        line += f" (execution {exc.execution_id})"
    if isinstance(exc, ExecutionNotFoundError) and not api:
        line += "; if it is an API task's execution, add --api"
    elif isinstance(exc, AuthenticationError):
        line += "; check TRUEBIT_API_KEY"
    elif isinstance(exc, TransportError):
        line += "; check TRUEBIT_BASE_URL / --base-url"
    return _clip(line, 1000)


# --- commands ---------------------------------------------------------------------------------


def _finish(out: _Output, result: FunctionResult | ApiTaskResult, started: float, waited: bool) -> int:
    code = _outcome_code(result)
    elapsed = time.monotonic() - started if waited else None
    if out.as_json:
        body = {"ok": code == EXIT_OK, "exit_code": code, **_result_fields(result)}
        if code == EXIT_NOT_FINISHED:
            body["resume"] = _resume(result.execution_id, isinstance(result, ApiTaskResult))
        out.json(body)
        return code
    _show_output(out, result)
    if code == EXIT_NOT_FINISHED:
        api = isinstance(result, ApiTaskResult)
        out.err(f"{_summary(result, None)}; wait for it with: {_resume(result.execution_id, api)}")
    elif code == EXIT_OK:
        out.err(_summary(result, elapsed))
    else:
        error = outcome_error(result)
        out.err(
            "truebit: "
            + _clip(f"{type(error).__name__}: {error.message}" if error else _summary(result, None))
        )
    return code


def _submitted(out: _Output, execution: Execution) -> int:
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
                "resume": _resume(execution.execution_id, api),
            }
        )
    else:
        out.out(execution.execution_id)
        out.err(f"submitted; wait for it with: {_resume(execution.execution_id, api)}")
    return EXIT_OK


def _cmd_run(args: argparse.Namespace, client: Truebit, out: _Output) -> int:
    text = sys.stdin.read() if args.input == "-" else args.input
    options: dict[str, Any] = {
        "version": args.version,
        "label": args.label,
        "total_solutions": args.total_solutions,
        "required_solutions": args.required_solutions,
        "gas_limit": args.gas_limit,
    }
    if args.submit_only:
        return _submitted(out, client.functions.submit(args.namespace, args.task, text, **options))
    started = time.monotonic()
    with out.ticker(f"running {args.namespace}/{args.task}") as line:
        result = client.functions.run(
            args.namespace, args.task, text, timeout=args.timeout, on_status=line.on_status, **options
        )
    return _finish(out, result, started, waited=True)


def _cmd_call(args: argparse.Namespace, client: Truebit, out: _Output) -> int:
    options: dict[str, Any] = {
        "path": args.path,
        "method": args.method,
        "params": dict(args.params) or None,
        "headers": dict(args.headers) or None,
        "body": args.body,
        "execution_timeout": args.execution_timeout,
        "version": args.version,
        "label": args.label,
    }
    if args.submit_only:
        return _submitted(out, client.api_tasks.submit(args.namespace, args.task, **options))
    started = time.monotonic()
    with out.ticker(f"calling {args.namespace}/{args.task} {args.method} {args.path}") as line:
        result = client.api_tasks.run(
            args.namespace, args.task, timeout=args.timeout, on_status=line.on_status, **options
        )
    return _finish(out, result, started, waited=True)


def _cmd_status(args: argparse.Namespace, client: Truebit, out: _Output) -> int:
    tasks = client.api_tasks if args.api else client.functions
    if not args.wait:
        return _finish(out, tasks.get(args.execution_id), time.monotonic(), waited=False)
    started = time.monotonic()
    with out.ticker(f"waiting for execution {args.execution_id}") as line:
        result = tasks.wait(args.execution_id, timeout=args.timeout, on_status=line.on_status)
    return _finish(out, result, started, waited=True)


_COMMANDS: Final[dict[str, Callable[[argparse.Namespace, Truebit, _Output], int]]] = {
    "run": _cmd_run,
    "call": _cmd_call,
    "status": _cmd_status,
    "batch": batch_cli.handle,
}


def _cmd_sandbox(argv: list[str], debug: bool) -> int:
    try:
        from truebit_facade.sandbox.__main__ import main as sandbox_main
    except ImportError as exc:
        if debug:
            traceback.print_exc()
        missing = f" (missing module {exc.name})" if exc.name else ""
        print(
            "truebit: the sandbox needs the 'sandbox' extra: pip install 'truebit-facade[sandbox]'" + missing,
            file=sys.stderr,
        )
        return EXIT_TASK_FAILED
    try:
        return sandbox_main(argv)
    except SystemExit as exc:  # its --help and usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE


# --- entry point ------------------------------------------------------------------------------


class _ScrubbingFormatter(logging.Formatter):
    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__("%(asctime)s %(name)s %(levelname)s %(message)s")
        self._secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record), self._secrets)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``truebit`` command with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    try:
        sandbox = _sandbox_argv(args_list)
        if sandbox is not None:
            return _cmd_sandbox(*sandbox)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    env_key = os.environ.get("TRUEBIT_API_KEY") or ""
    secrets = tuple(s for s in (*_header_secrets(args_list), env_key.strip(), env_key) if s)
    parser = build_parser(secrets)
    _Parser.json_errors = "--json" in args_list
    try:
        args = parser.parse_args(args_list)
    except SystemExit as exc:  # --help, -V and usage errors: argparse has printed them
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    if args.command == "sandbox":  # only reached through an unusual spelling; the sandbox parses
        return _cmd_sandbox([], args.debug)
    secrets = (*secrets, *(value for _, value in getattr(args, "headers", [])))
    out = _Output(args.json, secrets, live=not args.debug)
    handler: logging.Handler | None = None
    level = logger.level
    if args.debug:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(_ScrubbingFormatter(out.secrets))
        logger.addHandler(handler)
        logger.setLevel(logging.DEBUG)
    started = time.monotonic()
    client: Truebit | None = None
    try:
        client = _make_client(args.base_url)
        return _COMMANDS[args.command](args, client, out)
    except KeyboardInterrupt as exc:
        return _interrupted(out, args, getattr(exc, "execution_id", None))
    except TruebitError as exc:
        return _report(out, exc, args, time.monotonic() - started)
    except Exception as exc:  # a bug or an environment problem: still one line, a traceback on --debug
        wrapped = TruebitError(f"unexpected {type(exc).__name__}: {exc}")
        wrapped.__cause__ = exc
        return _report(out, wrapped, args, time.monotonic() - started)
    finally:
        if client is not None:
            client.close()
        if handler is not None:
            logger.removeHandler(handler)
            logger.setLevel(level)


def _interrupted(out: _Output, args: argparse.Namespace, execution_id: str | None) -> int:
    """Ctrl-C: the execution id and how to resume whenever the client had it (the driver attaches it
    to the interruption), else whether a task may have been submitted."""
    api = args.command == "call" or bool(getattr(args, "api", False))
    execution_id = execution_id or getattr(args, "execution_id", None)
    resume = _resume(execution_id, api) if execution_id else None
    if execution_id:
        message = f"interrupted; execution {execution_id} may still be running; resume with: {resume}"
    elif args.command in ("run", "call"):
        message = "interrupted before an execution id was received; the task may have been submitted"
    else:
        message = "interrupted"
    if out.as_json:
        error = {"type": "Interrupted", "message": message, "execution_id": execution_id}
        body = {"ok": False, "exit_code": EXIT_INTERRUPTED, "error": error, "resume": resume}
        if execution_id:
            body["execution_id"] = execution_id
        out.json(body)
    else:
        out.err(f"truebit: {message}")
    return EXIT_INTERRUPTED


def _report(out: _Output, exc: TruebitError, args: argparse.Namespace, waited: float) -> int:
    code = _exit_code(exc)
    if args.debug:
        out.err("".join(traceback.format_exception(exc)).rstrip())
    if not out.as_json:
        out.err("truebit: " + _error_line(exc, args, waited))
        return code
    api = args.command == "call" or bool(getattr(args, "api", False))
    body: dict[str, Any] = {"ok": False, "exit_code": code}
    if isinstance(exc, TaskError):
        body.update(_result_fields(exc.result))
    elif isinstance(exc, WaitTimeoutError) and exc.last_result is not None:
        body.update(_result_fields(exc.last_result))
    body["error"] = {
        "type": type(exc).__name__,
        "message": exc.message,
        "execution_id": exc.execution_id,
    }
    if isinstance(exc, ValidationError):
        body["error"]["field"] = _FIELD_NAMES.get(exc.field, exc.field)
    if isinstance(exc, WaitTimeoutError) and exc.execution_id:
        body["execution_id"] = exc.execution_id
        body["resume"] = _resume(exc.execution_id, api)
    out.json(body)
    return code


if __name__ == "__main__":
    sys.exit(main())
