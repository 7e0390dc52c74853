"""The command line of ``truebit``: one argparse parser with a subcommand each for ``run``, ``call``,
``submit``, ``status``, ``batch`` and ``sandbox``, and the help text. A usage error is raised as
:class:`UsageError`; the entry point prints it (scrubbed, as JSON with ``--json``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any, Final, NoReturn

from ._exits import MEANINGS
from ._options import (
    VERSION,
    ProgramVersion,
    call_options,
    common_options,
    execution_timeout_option,
    function_options,
    header_option,
    program_version,
    task_arguments,
    version_options,
    wait_options,
    waiting_options,
)
from ._values import rate

__all__ = ["SANDBOX_HINT", "VERSION", "Parser", "UsageError", "build_parser", "header_secrets"]

SANDBOX_HINT: Final = "the sandbox needs the 'sandbox' extra: pip install 'truebit-facade[sandbox]'"

_EXIT_CODES = "\n".join(f"  {code:<4} {meaning}".replace("\n", "\n" + " " * 7) for code, meaning in MEANINGS)
EPILOG = f"""\
environment:
  TRUEBIT_API_KEY    the API key (x-api-key); needed by run, call and submit, never printed
  TRUEBIT_BASE_URL   the service (default https://run.truebit.network); --base-url overrides it

exit codes:
{_EXIT_CODES}

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


BATCH_DESCRIPTION = """\
Run a task on every line of a JSON-lines file (or stdin) as a durable batch: every input gets a row
in the SQLite ledger --ledger, each step committed before the request it announces, so a batch that
crashed resumes with --resume without losing a result or paying twice. Rows whose submit may or may
not have reached the service are reported in doubt and resubmitted only with --resubmit-in-doubt."""

BATCH_EPILOG = """\
input lines:
  function tasks   "22"  or  {"key": "a", "input": "22"}   (other JSON values are the input itself)
  API tasks        {"key": "a", "path": "/order/{id}", "params": {"id": 2}, "method": "GET"}
  without "key", a line's key is its number from 0; give the same lines again with --resume

exit codes:
  0    every row finished verified
  1    some task failed (and nothing worse below)
  2    usage error, a bad input line, or an input that differs from the ledger's for its key
  3    some result is unverified (indeterminate)
  4    some row failed on an API or network error (its execution id is kept), or the run stopped on one
  5    not finished: rows in doubt or left pending or open; resume with --resume
  130  interrupted (Ctrl-C or SIGTERM): resume with --resume

interrupting:
  a first Ctrl-C (or SIGTERM) submits nothing more and lets the requests in flight finish, so every
  answer is in the ledger and nothing is left in doubt; a second one abandons them (their rows are
  then in doubt, and the summary says how many)
"""


def _batch_parser(sub: Any) -> None:
    """``truebit batch``: the task options of ``run`` and ``call``, and the batch's own."""
    p = sub.add_parser(
        "batch",
        help="run a task on many inputs as a durable, resumable batch",
        description=BATCH_DESCRIPTION,
        epilog=BATCH_EPILOG,
        parents=[common_options(defaults=False, json_help="JSON lines on stdout even on a terminal")],
        allow_abbrev=False,
        formatter_class=_Formatter,
    )
    task_arguments(p)
    p.add_argument(
        "inputs", nargs="?", default="-", metavar="FILE", help="JSON lines; '-' (default) is stdin"
    )
    p.add_argument("--ledger", required=True, metavar="PATH", help="the batch's SQLite ledger")
    p.add_argument("--resume", action="store_true", help="continue the batch of an existing ledger")
    p.add_argument(
        "--resubmit-in-doubt", action="store_true", help="submit in-doubt rows again (may bill twice)"
    )
    p.add_argument(
        "--results",
        choices=["input", "completion"],
        help="print the ledger's rows as JSON lines, in this order, and run nothing",
    )
    p.add_argument("--api", action="store_true", help="the task is an API task (lines are calls)")
    p.add_argument("--concurrency", type=int, default=16, metavar="N", help="requests in flight (default 16)")
    p.add_argument(
        "--max-open", type=int, default=1000, metavar="N", help="executions open at once (default 1000)"
    )
    p.add_argument(
        "--rate", type=rate, default=100.0, metavar="RPS", help="requests per second (default 100; 'none')"
    )
    p.add_argument(
        "--hold",
        choices=["auto", "always", "never"],
        default="auto",
        help="submit in sync mode, the result in the submit's answer: for quick tasks (auto, the default), "
        "always or never (docs/batches.md, 'Held submits')",
    )
    function_options(p, total_default=None, each=True)
    version_options(p)
    header_option(
        p, "API tasks: a header injected into every call (secret: never printed or stored); repeatable"
    )
    execution_timeout_option(p, default=None, help="API tasks: the call's time limit")


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
    task_arguments(run)
    run.add_argument("input", metavar="INPUT", help="the text of the task's input.txt; '-' reads stdin")
    function_options(run, total_default=1)
    waiting_options(run)

    call = sub.add_parser(
        "call",
        help="call an API task and wait for its answer",
        description="Make an HTTP call declared in an API task's manifest, through the hub, and wait "
        "for the answer, which is printed on stdout. Header values are never printed.",
        **shared,
    )
    task_arguments(call)
    call_options(call, path_required=True, method_default="GET")
    waiting_options(call)

    submit = sub.add_parser(
        "submit",
        help="start a task and print its execution id at once, without waiting",
        description="Start a function task on INPUT (or, with --api, an API task's call) and print its\n"
        "execution id on stdout at once, without waiting (as run and call do with --async). Wait for\n"
        "the result later with: truebit status ID --wait (--api for an API task's).",
        **shared,
    )
    task_arguments(submit)
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

    _batch_parser(sub)

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
