"""``truebit batch``: a durable batch from a JSON-lines file or stdin, resumable after a crash.

    truebit batch 3a2b5129 fibonacci inputs.jsonl --ledger fib.ledger
    truebit batch 3a2b5129 fibonacci inputs.jsonl --ledger fib.ledger --resume     # after a crash
    truebit batch NS TASK calls.jsonl --api --header 'X-Api-Key: ...' --ledger calls.ledger
    truebit batch NS TASK --ledger fib.ledger --results input                      # print the ledger

Output: on a terminal (and without ``--json``), the live status line on stderr, then a summary. Else
nothing but JSON lines on stdout: one per event (``submitted``, ``finished``, ``failed``,
``in_doubt``), then ``{"event": "summary", ...}``. The exit code (see :func:`exit_code`) is in the
scheme of ``truebit``. It uses the batch's public names only (``truebit_facade.batch``), and is
imported only when it runs (``_commands.batch``): the other commands never load the batch.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable
from typing import IO, Any

from .._errors import TruebitError, ValidationError
from .._sync_client import Truebit
from ..batch import Batch, BatchEvent, BatchSummary, LedgerError, read_ahead
from . import _exits as exits
from ._advice import describe
from ._batch_input import count_lines, read_lines
from ._render import Output
from ._status_line import StatusLine


def exit_code(summary: BatchSummary) -> int:
    """Not finished (5) before API errors (4) before task failures (1) before unverified results (3)."""
    if summary.pending or summary.submitting or summary.submitted or summary.in_doubt:
        return exits.EXIT_NOT_FINISHED
    if summary.failed:
        return exits.EXIT_API_ERROR
    if summary.finished - summary.finished_ok - summary.indeterminate:
        return exits.EXIT_TASK_FAILED
    if summary.indeterminate:
        return exits.EXIT_INDETERMINATE
    return exits.EXIT_OK


class _Counts:
    """The batch's events on the status line: its counts (with a bar when the total is known), and
    the failed and in-doubt rows as lasting lines above it."""

    def __init__(self, line: StatusLine, total: int | None) -> None:
        self._line = line
        self._total = total
        self._counts = {"submitted": 0, "finished": 0, "failed": 0, "in doubt": 0}
        line.counts(self._counts, done=0, total=total)

    def __call__(self, event: BatchEvent) -> None:
        name = event.kind.replace("_", " ")
        self._counts[name] += 1
        if event.kind in ("failed", "in_doubt"):
            self._line.say(f"{event.kind}: {event.key} {(event.error or {}).get('message', '')}"[:200])
        done = self._counts["finished"] + self._counts["failed"] + self._counts["in doubt"]
        self._line.counts(self._counts, done=done, total=self._total)


class _Signals:
    """``truebit batch``'s own SIGINT and SIGTERM handlers, installed explicitly for the run (never
    relying on what the process inherited: an ignored SIGINT is handled all the same). The first
    signal stops the batch gracefully, the next abandons the requests in flight. The handler only
    asks; what is printed is printed from the run's loop (``on_stop``), between two writes."""

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


def _on_stop(out: Output, line: StatusLine | None) -> Callable[[str, int], None]:
    def on_stop(stage: str, in_flight: int) -> None:
        if line is None:
            out.json({"event": stage, "in_flight": in_flight})
        elif stage == "stopping":
            line.finishing(in_flight)
        else:
            line.say(f"truebit: abandoning {in_flight} request{'' if in_flight == 1 else 's'} in flight")

    return on_stop


def handle(args: argparse.Namespace, client: Truebit, out: Output) -> int:
    """Run ``truebit batch``; ``out`` is the command's scrubbing output."""
    live = not out.as_json and sys.stdout.isatty() and out.live
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
            hold={"auto": "auto", "always": True, "never": False}[args.hold],
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
            return exits.EXIT_OK
        total = count_lines(args.inputs) if live and args.inputs != "-" else None
        piped = args.inputs == "-"
        stream = _stdin() if piped else open(args.inputs, "rb")  # noqa: SIM115
        error: TruebitError | None = None
        with StatusLine(sys.stderr, f"batch {args.namespace}/{args.task}", enabled=live) as line:
            batch.on_event = _Counts(line, total) if live else (lambda e: out.json(e.to_json()))
            batch.on_stop = _on_stop(out, line if live else None)
            with _Signals(batch) as signals:
                try:
                    lines = read_lines(stream, args.api)
                    # stdin (a pipe, a terminal) may pause: read ahead in a thread, so that the
                    # answers are committed and a signal is seen meanwhile. A file is read as needed.
                    _run(batch, args, read_ahead(lines) if piped else lines)
                except TruebitError as exc:
                    error = exc
                except KeyboardInterrupt:  # a Ctrl-C that reached Python before our handler was in place
                    signals.received.append(signal.SIGINT)
                finally:
                    if not piped:  # stdin's reader may still be blocked in a read: never closed
                        stream.close()
        try:
            summary = batch.summary()
        except LedgerError as exc:  # the ledger broke under the run: say so, as a usage error
            return _usage(out, live, exc.message)
    if signals.received:
        _report(out, live, summary, exits.EXIT_INTERRUPTED, error, args.ledger, api=args.api)
        stopped = f"stopped by {_Signals.NAMES.get(signals.received[0], 'a signal')}"
        if summary.abandoned_this_run:
            stopped += f"; {summary.abandoned_this_run} requests abandoned in flight are in doubt"
        out.err(f"truebit: {stopped}; go on with the same command and --resume (ledger {args.ledger})")
        return exits.EXIT_INTERRUPTED
    if isinstance(error, ValidationError | LedgerError):
        code = exits.EXIT_USAGE
    elif error is not None:
        code = exits.EXIT_API_ERROR
    else:
        code = exit_code(summary)
    _report(out, live, summary, code, error, args.ledger, api=args.api)
    return code


def _stdin() -> IO[Any]:
    """Standard input through a reader of its own (a duplicate of its descriptor): the thread that
    reads ahead may be blocked in a read of it when the command ends, and the interpreter, closing
    ``sys.stdin`` at exit, would abort on the lock that read holds."""
    try:
        return open(os.dup(sys.stdin.fileno()), "rb")
    except (AttributeError, OSError, ValueError):  # no descriptor (a test's stream): as it is
        return getattr(sys.stdin, "buffer", sys.stdin)


def _run(batch: Batch, args: argparse.Namespace, items: Iterable[Any]) -> BatchSummary:
    options = {"version": args.task_version, "label": args.label}
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


def _usage(out: Output, live: bool, message: str) -> int:
    if live:
        out.err(f"truebit: {message}")
    else:
        error = {"type": "UsageError", "message": message}
        out.json({"event": "error", "ok": False, "exit_code": exits.EXIT_USAGE, "error": error})
    return exits.EXIT_USAGE


def _report(
    out: Output,
    live: bool,
    summary: BatchSummary,
    code: int,
    error: TruebitError | None,
    ledger: str,
    *,
    api: bool,
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
    return describe(error, api=api, waited=0.0, command="batch")
