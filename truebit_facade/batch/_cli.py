"""``truebit batch``: a durable batch from a JSON-lines file or stdin, resumable after a crash.

    truebit batch 3a2b5129 fibonacci inputs.jsonl --ledger fib.ledger
    truebit batch 3a2b5129 fibonacci inputs.jsonl --ledger fib.ledger --resume     # after a crash
    truebit batch NS TASK calls.jsonl --api --header 'X-Api-Key: ...' --ledger calls.ledger
    truebit batch NS TASK --ledger fib.ledger --results input                      # print the ledger

Input lines: for function tasks a JSON string (the input) or ``{"key": ..., "input": ...}`` (any
other JSON value is the input itself); for API tasks ``{"key": ..., "path": ..., "method": ...,
"params": ..., "headers": ..., "body": ...}``. Without ``key`` a line's key is its number (from 0).

Output: on a terminal (and without ``--json``), a live progress line on stderr, then a summary. Else
nothing but JSON lines on stdout: one per event (``submitted``, ``finished``, ``failed``,
``in_doubt``), then ``{"event": "summary", ...}``. The exit code (see :func:`exit_code`) is in the
existing scheme of ``truebit``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator
from typing import IO, Any

from .. import TruebitError, ValidationError
from ._api import Batch
from ._items import BatchItem, check_key, check_value
from ._records import BatchEvent, BatchSummary, LedgerError

__all__ = ["add_parser", "exit_code", "handle", "read_lines"]

DESCRIPTION = """\
Run a task on every line of a JSON-lines file (or stdin) as a durable batch: every input gets a row
in the SQLite ledger --ledger, each step committed before the request it announces, so a batch that
crashed resumes with --resume without losing a result or paying twice. Rows whose submit may or may
not have reached the service are reported in doubt and resubmitted only with --resubmit-in-doubt."""

EPILOG = """\
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


def _rate(text: str) -> float | None:
    if text.strip().lower() == "none":
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected requests per second or 'none', got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a rate > 0, got {text!r}")
    return value


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``batch`` command to ``truebit``'s subcommands."""
    from ..cli._values import header  # here, not at import: the CLI package imports this module

    p: argparse.ArgumentParser = subparsers.add_parser(
        "batch",
        allow_abbrev=False,
        help="run a task on many inputs as a durable, resumable batch",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    quiet: dict[str, Any] = {
        "default": argparse.SUPPRESS
    }  # also accepted before the command, as for the others
    p.add_argument("--json", action="store_true", help="JSON lines on stdout even on a terminal", **quiet)
    p.add_argument("--debug", action="store_true", help="log requests (secrets redacted)", **quiet)
    p.add_argument("--base-url", metavar="URL", help="the service's URL", **quiet)
    p.add_argument("namespace", metavar="NAMESPACE")
    p.add_argument("task", metavar="TASK")
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
        "--rate", type=_rate, default=100.0, metavar="RPS", help="requests per second (default 100; 'none')"
    )
    p.add_argument("--total-solutions", type=int, metavar="N", help="nodes that solve each task (default 1)")
    p.add_argument("--required-solutions", type=int, metavar="N")
    p.add_argument("--gas-limit", type=int, metavar="N")
    p.add_argument(
        "--task-version", dest="version", type=int, metavar="N", help="the task's version (default: latest)"
    )
    p.add_argument("--label", help="the task's version by label")
    p.add_argument(
        "--header",
        dest="headers",
        action="append",
        type=header,
        default=[],
        metavar="'NAME: VALUE'",
        help="API tasks: a header injected into every call (secret: never printed or stored); repeatable",
    )
    p.add_argument(
        "--execution-timeout", type=float, metavar="SECONDS", help="API tasks: the call's time limit"
    )
    return p


#: The longest input line (bytes): a longer one is a bad line, refused before it is read whole.
MAX_LINE_BYTES = 8 << 20


def _lines(stream: IO[Any]) -> Iterator[tuple[int, str]]:
    """``(number, text)`` of each line, read at most :data:`MAX_LINE_BYTES` at a time and decoded
    strictly as UTF-8 (binary streams; a text stream's lines are taken as they come)."""
    number = 0
    while True:
        line = stream.readline(MAX_LINE_BYTES + 1)
        if not line:
            return
        number += 1
        if len(line) > MAX_LINE_BYTES:
            raise ValidationError("inputs", f"line {number} is longer than {MAX_LINE_BYTES >> 20} MiB")
        if isinstance(line, bytes):
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ValidationError(
                    "inputs", f"line {number} is not UTF-8 text (byte {exc.start + 1}: {exc.reason})"
                ) from None
        else:
            text = line
        yield number, text


def read_lines(stream: IO[Any], api: bool) -> Iterator[Any]:
    """The inputs of a JSON-lines stream, one at a time (never the whole file); blank lines skipped.
    Every line is checked whole (UTF-8, size, JSON, nesting, its key) before it is handed on, so a
    bad line stops the batch with its number before any row is written for it."""
    for number, line in _lines(stream):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except RecursionError:
            raise ValidationError("inputs", f"line {number} is nested too deeply") from None
        except ValueError as exc:
            raise ValidationError("inputs", f"line {number} is not JSON: {exc}") from None
        key = value.get("key") if isinstance(value, dict) else None
        if key is not None and (isinstance(key, bool) or not isinstance(key, str | int)):
            raise ValidationError("inputs", f"line {number}: key must be a string or a number")
        if api:
            if not isinstance(value, dict) or "path" not in value:
                raise ValidationError("inputs", f"line {number}: an API call is an object with a path")
            call = {k: v for k, v in value.items() if k != "key"}
            item: Any = call if key is None else BatchItem(str(key), call)
        elif isinstance(value, dict) and "input" in value:
            item = value["input"] if key is None else BatchItem(str(key), value["input"])
        else:
            item = value
        try:
            if isinstance(item, BatchItem):
                check_key(item.key)
                check_value(item.value)
            else:
                check_value(item)
        except ValidationError as exc:
            raise ValidationError("inputs", f"line {number}: {exc.field} {exc.problem}") from None
        yield item


def exit_code(summary: BatchSummary) -> int:
    """Not finished (5) before API errors (4) before task failures (1) before unverified results (3)."""
    from ..cli import _exits as cli  # the exit codes alone: the CLI package imports this module

    if summary.pending or summary.submitting or summary.submitted or summary.in_doubt:
        return cli.EXIT_NOT_FINISHED
    if summary.failed:
        return cli.EXIT_API_ERROR
    if summary.finished - summary.finished_ok - summary.indeterminate:
        return cli.EXIT_TASK_FAILED
    if summary.indeterminate:
        return cli.EXIT_INDETERMINATE
    return cli.EXIT_OK


class _Progress:
    """The live line on a terminal: counts, a bar when the total is known, the elapsed time."""

    def __init__(self, stream: IO[str], total: int | None) -> None:
        self._stream = stream
        self._total = total
        self._counts = {"submitted": 0, "finished": 0, "failed": 0, "in_doubt": 0}
        self._started = time.monotonic()
        self._drawn = 0.0

    def __call__(self, event: BatchEvent) -> None:
        self._counts[event.kind] += 1
        if event.kind in ("failed", "in_doubt"):
            self._line(f"{event.kind}: {event.key} {(event.error or {}).get('message', '')}"[:200] + "\n")
        now = time.monotonic()
        if now - self._drawn >= 0.1:
            self._drawn = now
            self.draw()

    def draw(self) -> None:
        c = self._counts
        done = c["finished"] + c["failed"] + c["in_doubt"]
        text = f"submitted {c['submitted']}  finished {c['finished']}  failed {c['failed']}  in doubt {c['in_doubt']}"
        text += f"  {time.monotonic() - self._started:.1f} s"
        if self._total:
            width = 24
            filled = min(width, width * done // self._total)
            text = f"[{'#' * filled}{'.' * (width - filled)}] {done}/{self._total}  " + text
        self._line(text)

    def _line(self, text: str) -> None:
        columns = shutil.get_terminal_size((80, 24)).columns
        self._stream.write("\r\x1b[K" + (text if text.endswith("\n") else text[: columns - 1]))
        self._stream.flush()

    def close(self) -> None:
        self.draw()
        self._stream.write("\n")
        self._stream.flush()


def _count_lines(path: str) -> int:
    """Lines of the input file, for the progress bar (newlines, read in chunks: a huge line is not
    read whole)."""
    count, last = 0, b"\n"
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            count += chunk.count(b"\n")
            last = chunk[-1:]
    return count + (last != b"\n")


class _Signals:
    """``truebit batch``'s own SIGINT and SIGTERM handlers, installed explicitly for the run (never
    relying on what the process inherited: an ignored SIGINT is handled all the same). The first
    signal stops the batch gracefully, the next abandons the requests in flight. The handler only
    asks; what is printed is printed from the run's loop (:meth:`notice`), between two writes."""

    NAMES: dict[int, str] = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}

    def __init__(self, batch: Batch) -> None:
        self._batch = batch
        self.received: list[int] = []
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> _Signals:
        if threading.current_thread() is threading.main_thread():
            for signum in self.NAMES:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc_info: object) -> None:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)

    def _handle(self, signum: int, frame: object) -> None:
        self.received.append(signum)
        if len(self.received) == 1:
            self._batch.stop()
        else:
            self._batch.abandon()


def _notice(out: Any, live: bool) -> Any:
    def notice(stage: str, in_flight: int) -> None:
        if not live:
            out.json({"event": stage, "in_flight": in_flight})
        elif stage == "stopping":
            plural = "" if in_flight == 1 else "s"
            out.err(
                f"\rtruebit: stopping: finishing {in_flight} request{plural} — Ctrl-C again to abandon them"
            )
        else:
            out.err(f"\rtruebit: abandoning {in_flight} request{'' if in_flight == 1 else 's'} in flight")

    return notice


def handle(args: argparse.Namespace, client: Any, out: Any) -> int:
    """Run ``truebit batch``; ``out`` is the command's scrubbing output (``out.json``, ``out.err``)."""
    from ..cli import _exits as cli  # the exit codes alone: the CLI package imports this module

    live = not out.as_json and sys.stdout.isatty() and not getattr(args, "debug", False)
    exists = os.path.exists(args.ledger) and os.path.getsize(args.ledger) > 0
    if args.results is not None and not exists:
        return _usage(out, live, f"--ledger: {args.ledger} does not exist")
    if args.results is None and exists != args.resume:
        problem = (
            "exists: add --resume to continue it" if exists else "does not exist (drop --resume to start)"
        )
        return _usage(out, live, f"--ledger: {args.ledger} {problem}")
    if args.results is None and args.inputs != "-" and not os.path.isfile(args.inputs):
        return _usage(out, live, f"{args.inputs}: no such input file")
    try:
        batch = Batch(
            client,
            args.ledger,
            concurrency=args.concurrency,
            max_open=args.max_open,
            rate=args.rate,
            resubmit_in_doubt=args.resubmit_in_doubt,
        )
    except ValidationError as exc:
        return _usage(out, live, str(exc))
    except LedgerError as exc:
        return _usage(out, live, exc.message)
    with batch:
        if args.results is not None:
            try:
                for row in batch.results(args.results):
                    out.json(row.to_json())
            except LedgerError as exc:
                return _usage(out, live, exc.message)
            return cli.EXIT_OK
        total = _count_lines(args.inputs) if live and args.inputs != "-" else None
        progress = _Progress(sys.stderr, total) if live else None
        batch.on_event = progress if progress is not None else (lambda e: out.json(e.to_json()))
        batch.on_stop = _notice(out, live)
        stream = _stdin() if args.inputs == "-" else open(args.inputs, "rb")  # noqa: SIM115
        error: TruebitError | None = None
        with _Signals(batch) as signals:
            try:
                _run(batch, args, read_lines(stream, args.api))
            except TruebitError as exc:
                error = exc
            except KeyboardInterrupt:  # a Ctrl-C that reached Python before our handler was in place
                signals.received.append(signal.SIGINT)
            finally:
                if stream is not sys.stdin and stream is not getattr(sys.stdin, "buffer", None):
                    stream.close()
                if progress is not None:
                    progress.close()
        summary = _summary(batch, out, live)
    if summary is None:
        return cli.EXIT_USAGE
    if signals.received:
        _report(out, live, summary, cli.EXIT_INTERRUPTED, error, args.ledger, api=args.api)
        name = _Signals.NAMES.get(signals.received[0], "a signal")
        stopped = f"stopped by {name}"
        if summary.abandoned_this_run:
            stopped += f"; {summary.abandoned_this_run} requests abandoned in flight are in doubt"
        out.err(f"truebit: {stopped}; go on with the same command and --resume (ledger {args.ledger})")
        return cli.EXIT_INTERRUPTED
    if isinstance(error, ValidationError | LedgerError):
        code = cli.EXIT_USAGE
    elif error is not None:
        code = cli.EXIT_API_ERROR
    else:
        code = exit_code(summary)
    _report(out, live, summary, code, error, args.ledger, api=args.api)
    return code


def _stdin() -> IO[Any]:
    return getattr(sys.stdin, "buffer", sys.stdin)


def _summary(batch: Batch, out: Any, live: bool) -> BatchSummary | None:
    try:
        return batch.summary()
    except LedgerError as exc:  # the ledger broke under the run: say so, as a usage error
        _usage(out, live, exc.message)
        return None


def _run(batch: Batch, args: argparse.Namespace, items: Iterator[Any]) -> BatchSummary:
    options = {"version": args.version, "label": args.label}
    if args.api:
        if args.execution_timeout is not None:
            options["execution_timeout"] = args.execution_timeout
        headers = dict(args.headers) or None
        return batch.run_api_tasks(args.namespace, args.task, items, headers=headers, **options)
    options.update(
        total_solutions=args.total_solutions or 1,
        required_solutions=args.required_solutions,
        gas_limit=args.gas_limit,
    )
    return batch.run_functions(args.namespace, args.task, items, **options)


def _usage(out: Any, live: bool, message: str) -> int:
    from ..cli import _exits as cli  # the exit codes alone: the CLI package imports this module

    if live:
        out.err(f"truebit: {message}")
    else:
        error = {"type": "UsageError", "message": message}
        out.json({"event": "error", "ok": False, "exit_code": cli.EXIT_USAGE, "error": error})
    return cli.EXIT_USAGE


def _report(
    out: Any,
    live: bool,
    summary: BatchSummary,
    code: int,
    error: TruebitError | None,
    ledger: str,
    *,
    api: bool = False,
) -> None:
    message = None if error is None else _describe(error, api)
    if not live:
        if error is not None:
            out.json({"event": "error", "error": {"type": type(error).__name__, "message": message}})
        out.json({"event": "summary", "exit_code": code, "ledger": ledger, **summary.to_json()})
        return
    if error is not None:
        out.err(f"truebit: {type(error).__name__}: {message}")
    s = summary
    out.err(
        f"{s.total} rows: {s.finished_ok} verified, {s.finished - s.finished_ok} finished not ok, "
        f"{s.failed} failed, {s.in_doubt} in doubt, {s.pending + s.submitted} left; this run submitted "
        f"{s.submitted_this_run}, ended {s.ended_this_run} with {s.reads_this_run} status reads in "
        f"{s.wall_seconds:.1f} s ({s.reads_per_task:.2f} reads per task); ledger {ledger}"
    )
    if s.in_doubt:
        out.err("in doubt: their submit may have reached the service; check before --resubmit-in-doubt")


def _describe(error: TruebitError, api: bool) -> str:
    """The message as ``truebit run`` words it (a 401 says to check TRUEBIT_API_KEY, a connection
    error to check the base URL); the batch's own errors as they are."""
    if isinstance(error, LedgerError | ValidationError):
        return error.message
    from ..cli._advice import describe

    return describe(error, api=api, waited=0.0)
