"""The entry point: parse, set up ``--debug`` logging and the scrubbing output, run the command, and
turn whatever it ended on into one exit code."""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from types import FrameType

from .._errors import TruebitError
from .._redact import logger, scrub
from .._sync_client import Truebit
from . import _commands
from ._commands import COMMANDS, is_api
from ._exits import EXIT_INTERRUPTED, EXIT_USAGE
from ._parsing import UsageError, build_parser, header_secrets
from ._render import Output, interrupted, report


def _make_client(base_url: str | None) -> Truebit:
    """The client the commands use (``TRUEBIT_API_KEY`` from the environment). Tests replace it."""
    return Truebit(base_url=base_url)


class _ScrubbingFormatter(logging.Formatter):
    def __init__(self, secrets: tuple[str, ...]) -> None:
        super().__init__("%(asctime)s %(name)s %(levelname)s %(message)s")
        self._secrets = secrets

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record), self._secrets)


@contextlib.contextmanager
def _sigterm_as_ctrl_c() -> Iterator[None]:
    """SIGTERM (a service manager, ``kill``, a CI runner's stop) means what Ctrl-C means: whatever
    SIGINT's handler does at that moment runs, so the execution id is printed with the resume command
    and a request in flight may finish first. Only where SIGTERM would have killed us outright."""
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
    ):
        yield
        return

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        handler = signal.getsignal(signal.SIGINT)
        if callable(handler):
            handler(signal.SIGINT, frame)
        else:  # SIGINT ignored or default: still stop, as SIGTERM asked
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _usage_error(out: Output, exc: UsageError) -> int:
    """A bad command line, as argparse would print it (the usage, then ``prog: error: ...``), scrubbed;
    with ``--json`` one JSON object on stdout and nothing else."""
    if out.as_json:
        error = {"type": "UsageError", "message": exc.message, "execution_id": None}
        out.json({"ok": False, "exit_code": EXIT_USAGE, "error": error})
    elif not exc.usage:
        out.err(f"truebit: {exc.message}")
    else:
        out.err(exc.parser.format_usage().rstrip("\n"))
        out.err(f"{exc.parser.prog}: error: {exc.message}")
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``truebit`` command with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    env_key = os.environ.get("TRUEBIT_API_KEY") or ""
    secrets = tuple(s for s in (*header_secrets(args_list), env_key.strip(), env_key) if s)
    before = Output("--json" in args_list, secrets)  # until parsing succeeded, --json is looked for
    try:
        args = build_parser().parse_args(args_list)
    except UsageError as exc:
        return _usage_error(before, exc)
    except SystemExit as exc:  # --help and -V: argparse has printed them
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    except KeyboardInterrupt:
        return interrupted(before, execution_id=None, api=False, submitting=False)
    # An empty header value is no secret (and would match every empty string of the output).
    secrets = (*secrets, *(value for _, value in getattr(args, "headers", []) if value))
    out = Output(args.json, secrets, live=not args.debug)
    if args.command == "sandbox":  # a server, not a client of one
        try:
            return _commands.sandbox(args, out)
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
    handler: logging.Handler | None = None
    level = logger.level
    started = time.monotonic()
    client: Truebit | None = None
    try:
        if args.debug:
            handler = logging.StreamHandler(sys.stderr)
            handler.setFormatter(_ScrubbingFormatter(out.secrets))
            logger.addHandler(handler)
            logger.setLevel(logging.DEBUG)
        client = _make_client(args.base_url)
        with _sigterm_as_ctrl_c():
            return COMMANDS[args.command](args, client, out)
    except KeyboardInterrupt as exc:
        execution_id = getattr(exc, "execution_id", None) or getattr(args, "execution_id", None)
        submitting = args.command in ("run", "call", "submit")
        return interrupted(out, execution_id=execution_id, api=is_api(args), submitting=submitting)
    except TruebitError as exc:
        return _report(out, exc, args, started)
    except Exception as exc:  # a bug or an environment problem: still one line, a traceback on --debug
        wrapped = TruebitError(f"unexpected {type(exc).__name__}: {exc}")
        wrapped.__cause__ = exc
        return _report(out, wrapped, args, started)
    finally:
        if client is not None:
            client.close()
        if handler is not None:
            logger.removeHandler(handler)
            logger.setLevel(level)


def _report(out: Output, exc: TruebitError, args: argparse.Namespace, started: float) -> int:
    waited = time.monotonic() - started
    return report(out, exc, api=is_api(args), waited=waited, debug=args.debug, command=args.command)
