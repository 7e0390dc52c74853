"""The command line of ``truebit``: its argparse parsers, the option types, and the help text."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from .._redact import scrub
from .._settings import DEFAULT
from .._version import __version__
from ..batch import _cli as batch_cli
from ._exits import (
    EXIT_API_ERROR,
    EXIT_INDETERMINATE,
    EXIT_INTERRUPTED,
    EXIT_NOT_FINISHED,
    EXIT_OK,
    EXIT_TASK_FAILED,
    EXIT_USAGE,
)
from ._values import header, json_body, param, positive_seconds, timeout

VERSION = f"truebit-facade {__version__}"

EPILOG = f"""\
environment:
  TRUEBIT_API_KEY    the API key (x-api-key); needed by run, call and submit, never printed
  TRUEBIT_BASE_URL   the service (default https://run.truebit.network); --base-url overrides it

exit codes:
  {EXIT_OK}    success: the task ended verified (submit, or --async: submitted)
  {EXIT_TASK_FAILED}    the task failed (trap, out of gas, empty output, target API error)
  {EXIT_USAGE}    usage error: bad arguments or input, no API key, or a missing extra (nothing was sent)
  {EXIT_INDETERMINATE}    verification indeterminate: nodes disagreed or too few answered in time
  {EXIT_API_ERROR}    API or network error: the service refused the request or could not be reached
  {EXIT_NOT_FINISHED}    not finished: the wait deadline passed (or, for status without --wait, still
       running); the execution id is printed: resume with `truebit status ID --wait`
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C)

examples:
  truebit sandbox &                                  # a local dispatcher; prints its URL and key
  export TRUEBIT_BASE_URL=http://127.0.0.1:8080 TRUEBIT_API_KEY=sandbox-dev-key
  truebit run 3a2b5129 fibonacci 22 --total-solutions 3
  id=$(truebit submit 3a2b5129 fibonacci 22)          # the execution id at once
  truebit status "$id" --wait
"""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose error messages are scrubbed of header values, and are one JSON object on
    stdout when the command line has ``--json``. :func:`build_parser` binds both per command line."""

    secrets: tuple[str, ...] = ()
    json_errors: bool = False

    def error(self, message: str) -> NoReturn:
        message = scrub(message, self.secrets)
        if self.json_errors:  # one JSON object on stdout and nothing else
            error = {"type": "UsageError", "message": message, "execution_id": None}
            print(json.dumps({"ok": False, "exit_code": EXIT_USAGE, "error": error}), flush=True)
            self.exit(EXIT_USAGE)
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message}\n")


class _ProgramVersion(argparse.Action):
    """``-V/--version`` after a command: the program's version, as before it. Given a value (``--version
    2``, the task's version in older releases) it is a usage error pointing at ``--task-version``, never
    a version string printed where a script expects the task's output."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        kwargs.pop("default", None)
        super().__init__(option_strings, dest, nargs="?", default=argparse.SUPPRESS, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        if values is not None:
            takes = any("--task-version" in action.option_strings for action in parser._actions)
            parser.error(
                f"{option_string} prints the program's version"
                + (f"; for the task's version use --task-version {values}" if takes else "")
            )
        print(VERSION, flush=True)
        parser.exit(EXIT_OK)


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """The epilog as written; ``-V, --version`` shown without the value it only takes to refuse it."""

    def _format_action_invocation(self, action: argparse.Action) -> str:
        if isinstance(action, _ProgramVersion):
            return ", ".join(action.option_strings)
        return super()._format_action_invocation(action)

    def _format_usage(self, *args: Any, **kwargs: Any) -> str:
        return super()._format_usage(*args, **kwargs).replace("[-V ]", "[-V]")


def header_secrets(argv: Sequence[str]) -> tuple[str, ...]:
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


# --- option groups --------------------------------------------------------------------------------


def _common_options(defaults: bool) -> argparse.ArgumentParser:
    """Options accepted before and after the command (``truebit --json run ...`` = ``truebit run ... --json``)."""
    p = argparse.ArgumentParser(add_help=False)
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


def _program_version(p: argparse.ArgumentParser) -> None:
    p.add_argument("-V", "--version", action=_ProgramVersion, metavar="", help="print the program's version")


def _wait_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--timeout",
        type=timeout,
        default=DEFAULT,
        metavar="SECONDS",
        help="overall wait deadline (default 1800; 'none' waits as long as it takes); when it passes, "
        f"the execution id is printed and the exit code is {EXIT_NOT_FINISHED}",
    )


def _version_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task-version", type=int, metavar="N", help="the task's version (default: latest)")
    p.add_argument("--label", help="the task's version by label, such as stable")
    _program_version(p)


def _function_options(p: argparse.ArgumentParser, total_default: int | None) -> None:
    p.add_argument(
        "--total-solutions",
        type=int,
        default=total_default,
        metavar="N",
        help="nodes that solve the task (default 1)",
    )
    p.add_argument(
        "--required-solutions",
        type=int,
        metavar="N",
        help="matching solutions needed for a verified result (default: all)",
    )
    p.add_argument("--gas-limit", type=int, metavar="N", help="instruction budget (default: the task's)")


def _call_options(p: argparse.ArgumentParser, *, path_required: bool, method_default: str | None) -> None:
    p.add_argument(
        "--path",
        required=path_required,
        help="the manifest's path, such as '/store/order/{orderId}'" + ("" if path_required else " (--api)"),
    )
    p.add_argument("--method", default=method_default, help="HTTP method (default GET)")
    p.add_argument(
        "--param",
        dest="params",
        action="append",
        type=param,
        default=[],
        metavar="NAME=VALUE",
        help="fills {NAME} in the path or adds a query parameter; VALUE is JSON when it parses "
        "(Id=12345 is a number), else text; repeatable",
    )
    p.add_argument(
        "--header",
        dest="headers",
        action="append",
        type=header,
        default=[],
        metavar="'NAME: VALUE'",
        help="a header injected into the outgoing call (secret: never printed); repeatable",
    )
    p.add_argument("--body", type=json_body, metavar="JSON", help="the JSON request body")
    p.add_argument(
        "--execution-timeout",
        type=positive_seconds,
        default=30.0 if path_required else None,
        metavar="SECONDS",
        help="time limit of the outgoing call (default 30)",
    )


def _async_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--async",
        dest="submit_only",
        action="store_true",
        help="submit and print the execution id at once, without waiting (= truebit submit)",
    )


# --- the parser -----------------------------------------------------------------------------------


def build_parser(secrets: tuple[str, ...] = (), *, json_errors: bool = False) -> argparse.ArgumentParser:
    """The parser of one command line; its errors are scrubbed of ``secrets``, and JSON with
    ``json_errors``."""

    class Parser(_Parser):
        pass

    Parser.secrets, Parser.json_errors = secrets, json_errors
    common = _common_options(defaults=False)
    shared: dict[str, Any] = {
        "parents": [common],
        "allow_abbrev": False,
        "epilog": EPILOG,
        "formatter_class": _Formatter,
    }
    parser = Parser(
        prog="truebit",
        description="Run tasks on Truebit's task-execution API and wait for their verified results.",
        epilog=EPILOG,
        formatter_class=_Formatter,
        parents=[_common_options(defaults=True)],
        allow_abbrev=False,
    )
    parser.add_argument(
        "-V", "--version", action="version", version=VERSION, help="print the program's version"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True, parser_class=Parser)

    run = sub.add_parser(
        "run",
        help="run a function task and wait for its verified output",
        description="Run a function task (a WebAssembly program) on INPUT and wait for the verified\n"
        "output, which is printed on stdout.",
        **shared,
    )
    run.add_argument("namespace", metavar="NAMESPACE")
    run.add_argument("task", metavar="TASK")
    run.add_argument("input", metavar="INPUT", help="the text of the task's input.txt; '-' reads stdin")
    _function_options(run, total_default=1)
    _version_options(run)
    _async_option(run)
    _wait_options(run)

    call = sub.add_parser(
        "call",
        help="call an API task and wait for its answer",
        description="Make an HTTP call declared in an API task's manifest, through the hub, and wait "
        "for the answer, which is printed on stdout. Header values are never printed.",
        **shared,
    )
    call.add_argument("namespace", metavar="NAMESPACE")
    call.add_argument("task", metavar="TASK")
    _call_options(call, path_required=True, method_default="GET")
    _version_options(call)
    _async_option(call)
    _wait_options(call)

    submit = sub.add_parser(
        "submit",
        help="start a task and print its execution id at once, without waiting",
        description="Start a function task on INPUT (or, with --api, an API task's call) and print its\n"
        "execution id on stdout at once, without waiting (as run and call do with --async). Wait for\n"
        "the result later with: truebit status ID --wait (--api for an API task's).",
        **shared,
    )
    submit.add_argument("namespace", metavar="NAMESPACE")
    submit.add_argument("task", metavar="TASK")
    submit.add_argument(
        "input", nargs="?", metavar="INPUT", help="function tasks: the text of input.txt; '-' reads stdin"
    )
    submit.add_argument("--api", action="store_true", help="an API task: give --path (and the call options)")
    _function_options(submit, total_default=None)
    _call_options(submit, path_required=False, method_default=None)
    _version_options(submit)

    status = sub.add_parser(
        "status",
        help="read an execution's state, or wait for it to end",
        description="Read an execution's current state once, or with --wait wait until it ends.",
        **shared,
    )
    status.add_argument("execution_id", metavar="EXECUTION_ID")
    status.add_argument("--wait", action="store_true", help="wait until the execution ends")
    status.add_argument("--api", action="store_true", help="the execution is an API task's")
    _wait_options(status)
    _program_version(status)

    _program_version(batch_cli.add_parser(sub))

    sub.add_parser(
        "sandbox",
        add_help=False,
        help="serve the local dispatcher (truebit sandbox --help for its options)",
    )
    return parser


def sandbox_argv(argv: Sequence[str]) -> tuple[list[str], bool] | None:
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
