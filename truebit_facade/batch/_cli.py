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
import sys
import time
from collections.abc import Iterator
from typing import IO, Any

from .. import TruebitError, ValidationError
from ._api import Batch
from ._items import BatchItem
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
  130  interrupted: resume with --resume
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


def read_lines(stream: IO[str], api: bool) -> Iterator[Any]:
    """The inputs of a JSON-lines stream, one at a time (never the whole file); blank lines skipped."""
    for number, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as exc:
            raise ValidationError("inputs", f"line {number} is not JSON: {exc}") from None
        key = value.get("key") if isinstance(value, dict) else None
        if key is not None and not isinstance(key, str | int):
            raise ValidationError("inputs", f"line {number}: key must be a string or a number")
        if api:
            if not isinstance(value, dict) or "path" not in value:
                raise ValidationError("inputs", f"line {number}: an API call is an object with a path")
            call = {k: v for k, v in value.items() if k != "key"}
            yield call if key is None else BatchItem(str(key), call)
        elif isinstance(value, dict) and "input" in value:
            yield value["input"] if key is None else BatchItem(str(key), value["input"])
        else:
            yield value


def exit_code(summary: BatchSummary) -> int:
    """Not finished (5) before API errors (4) before task failures (1) before unverified results (3)."""
    from .. import cli

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
    with open(path, "rb") as f:
        return sum(1 for line in f if line.strip())


def handle(args: argparse.Namespace, client: Any, out: Any) -> int:
    """Run ``truebit batch``; ``out`` is the command's scrubbing output (``out.json``, ``out.err``)."""
    from .. import cli

    live = not out.as_json and sys.stdout.isatty() and not getattr(args, "debug", False)
    exists = os.path.exists(args.ledger) and os.path.getsize(args.ledger) > 0
    if args.results is not None and not exists:
        return _usage(out, live, f"--ledger: {args.ledger} does not exist")
    if args.results is None and exists != args.resume:
        problem = (
            "exists: add --resume to continue it" if exists else "does not exist (drop --resume to start)"
        )
        return _usage(out, live, f"--ledger: {args.ledger} {problem}")
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
            for row in batch.results(args.results):
                out.json(row.to_json())
            return cli.EXIT_OK
        total = _count_lines(args.inputs) if live and args.inputs != "-" else None
        progress = _Progress(sys.stderr, total) if live else None
        batch.on_event = progress if progress is not None else (lambda e: out.json(e.to_json()))
        stream = sys.stdin if args.inputs == "-" else open(args.inputs, encoding="utf-8")  # noqa: SIM115
        error: TruebitError | None = None
        interrupted = False
        try:
            summary = _run(batch, args, read_lines(stream, args.api))
        except TruebitError as exc:
            error = exc
            summary = batch.summary()
        except KeyboardInterrupt:
            # Everything done so far is in the ledger: say where things stand and how to go on.
            interrupted = True
            summary = batch.summary()
        finally:
            if stream is not sys.stdin:
                stream.close()
            if progress is not None:
                progress.close()
    if interrupted:
        _report(out, live, summary, cli.EXIT_INTERRUPTED, None, args.ledger)
        out.err(f"truebit: interrupted; go on with the same command and --resume (ledger {args.ledger})")
        return cli.EXIT_INTERRUPTED
    code = cli.EXIT_USAGE if isinstance(error, ValidationError) else exit_code(summary)
    if error is not None and code != cli.EXIT_USAGE:
        code = cli.EXIT_API_ERROR
    _report(out, live, summary, code, error, args.ledger)
    return code


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
    from .. import cli

    if live:
        out.err(f"truebit: {message}")
    else:
        error = {"type": "UsageError", "message": message}
        out.json({"event": "error", "ok": False, "exit_code": cli.EXIT_USAGE, "error": error})
    return cli.EXIT_USAGE


def _report(
    out: Any, live: bool, summary: BatchSummary, code: int, error: TruebitError | None, ledger: str
) -> None:
    if not live:
        if error is not None:
            out.json({"event": "error", "error": {"type": type(error).__name__, "message": error.message}})
        out.json({"event": "summary", "exit_code": code, "ledger": ledger, **summary.to_json()})
        return
    if error is not None:
        out.err(f"truebit: {type(error).__name__}: {error.message}")
    s = summary
    out.err(
        f"{s.total} rows: {s.finished_ok} verified, {s.finished - s.finished_ok} finished not ok, "
        f"{s.failed} failed, {s.in_doubt} in doubt, {s.pending + s.submitted} left; "
        f"{s.wall_seconds:.1f} s, {s.reads_per_task:.2f} status reads per task; ledger {ledger}"
    )
    if s.in_doubt:
        out.err("in doubt: their submit may have reached the service; check before --resubmit-in-doubt")
