"""The command line of ``truebit``: one argparse parser with a subcommand each for ``run``, ``call``,
``submit``, ``status``, ``batch`` and ``sandbox``, and the help text. A usage error is raised as
:class:`UsageError`; the entry point prints it (scrubbed, as JSON with ``--json``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any, Final, NoReturn

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
from ._options import (
    VERSION,
    ProgramVersion,
    async_option,
    call_options,
    common_options,
    function_options,
    mode_options,
    program_version,
    version_options,
    wait_options,
)

__all__ = ["SANDBOX_HINT", "VERSION", "Parser", "UsageError", "build_parser", "header_secrets"]

SANDBOX_HINT: Final = "the sandbox needs the 'sandbox' extra: pip install 'truebit-facade[sandbox]'"

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
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C); the execution id, when there is one, is printed

examples:
  truebit sandbox &                                  # a local dispatcher; prints its URL and key
  export TRUEBIT_BASE_URL=http://127.0.0.1:8080 TRUEBIT_API_KEY=sandbox-dev-key
  truebit run 3a2b5129 fibonacci 22 --total-solutions 3
  id=$(truebit submit 3a2b5129 fibonacci 22)          # the execution id at once
  truebit status "$id" --wait
"""


class UsageError(Exception):
    """A bad command line: ``parser`` is the (sub)command's parser, for its usage line. ``usage`` is
    false for a usage error that is not about the command line's shape (the missing sandbox extra)."""

    def __init__(self, parser: argparse.ArgumentParser, message: str, *, usage: bool = True) -> None:
        super().__init__(message)
        self.parser = parser
        self.message = message
        self.usage = usage


class Parser(argparse.ArgumentParser):
    """The parser of ``truebit`` and of each of its commands. Errors are raised, not printed; and a
    command's options can be ``deferred``: added the first time the command is parsed or its help
    shown (the sandbox's, which import the sandbox and its dependencies)."""

    def __init__(self, *args: Any, deferred: Callable[[Parser], None] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deferred = deferred

    def error(self, message: str) -> NoReturn:
        raise UsageError(self, message)

    def parse_known_args(  # type: ignore[override]  # argparse's overloads; same behaviour
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        self._add_deferred()
        return super().parse_known_args(args, namespace)

    def format_help(self) -> str:
        self._add_deferred()
        return super().format_help()

    def format_usage(self) -> str:
        self._add_deferred()
        return super().format_usage()

    def _add_deferred(self) -> None:
        deferred, self._deferred = self._deferred, None
        if deferred is not None:
            deferred(self)


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """The epilog as written; ``-V, --version`` shown without the value it only takes to refuse it."""

    def _format_action_invocation(self, action: argparse.Action) -> str:
        if isinstance(action, ProgramVersion):
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


def _sandbox_options(p: Parser) -> None:
    """The sandbox's own options, defined once in its command module (``truebit-sandbox`` has the
    same). Without the sandbox extra, ``truebit sandbox`` is a usage error that says what to install."""
    try:
        from truebit_facade.sandbox import add_arguments

        add_arguments(p)  # imports the command's module (and what it needs) only now
    except ImportError as exc:
        missing = f" (missing module {exc.name})" if exc.name else ""
        raise UsageError(p, SANDBOX_HINT + missing, usage=False) from exc


def build_parser() -> Parser:
    """The parser of every ``truebit`` command line."""
    shared: dict[str, Any] = {
        "parents": [common_options(defaults=False)],
        "allow_abbrev": False,
        "epilog": EPILOG,
        "formatter_class": _Formatter,
    }
    parser = Parser(
        prog="truebit",
        description="Run tasks on Truebit's task-execution API and wait for their verified results.",
        epilog=EPILOG,
        formatter_class=_Formatter,
        parents=[common_options(defaults=True)],
        allow_abbrev=False,
    )
    parser.add_argument(
        "-V", "--version", action="version", version=VERSION, help="print the program's version"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

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
    function_options(run, total_default=1)
    version_options(run)
    async_option(run)
    wait_options(run)
    mode_options(run)

    call = sub.add_parser(
        "call",
        help="call an API task and wait for its answer",
        description="Make an HTTP call declared in an API task's manifest, through the hub, and wait "
        "for the answer, which is printed on stdout. Header values are never printed.",
        **shared,
    )
    call.add_argument("namespace", metavar="NAMESPACE")
    call.add_argument("task", metavar="TASK")
    call_options(call, path_required=True, method_default="GET")
    version_options(call)
    async_option(call)
    wait_options(call)
    mode_options(call)

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
    function_options(submit, total_default=None)
    call_options(submit, path_required=False, method_default=None)
    version_options(submit)

    status = sub.add_parser(
        "status",
        help="read an execution's state, or wait for it to end",
        description="Read an execution's current state once, or with --wait wait until it ends.",
        **shared,
    )
    status.add_argument("execution_id", metavar="EXECUTION_ID")
    status.add_argument("--wait", action="store_true", help="wait until the execution ends")
    status.add_argument("--api", action="store_true", help="the execution is an API task's")
    wait_options(status)
    program_version(status)

    batch = batch_cli.add_parser(sub)  # the batch command defines its own options
    batch.formatter_class = _Formatter
    program_version(batch, task_version=True)

    sandbox = sub.add_parser(
        "sandbox",
        help="serve the local dispatcher (truebit sandbox --help for its options)",
        description="Serve Truebit's task-execution API on this machine (the local dispatcher), until\n"
        "Ctrl-C. Prints its URL and API key. The same options as truebit-sandbox.",
        allow_abbrev=False,
        formatter_class=_Formatter,
        deferred=_sandbox_options,
    )
    program_version(sandbox)
    return parser
