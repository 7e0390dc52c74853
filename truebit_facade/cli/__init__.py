"""The ``truebit`` command: run function tasks, call API tasks, submit them, read or wait for
executions, run batches, serve the sandbox.

    truebit run 3a2b5129 fibonacci 22 --total-solutions 3
    truebit call NAMESPACE TASK --path '/store/order/{orderId}' --param orderId=2 --header 'X-Key: ...'
    truebit submit 3a2b5129 fibonacci 22          # the execution id at once
    truebit status EXECUTION_ID --wait
    truebit sandbox --port 8080

Configuration comes from ``TRUEBIT_API_KEY`` and ``TRUEBIT_BASE_URL`` (``--base-url`` overrides the
latter; the key is never taken from the command line, where shell history and ``ps`` would keep it).
A result goes to stdout (the output alone, or one JSON object with ``--json``), everything else to
stderr. The exit codes are the ``EXIT_*`` constants. Standard library only (argparse).

The modules, one job each: ``_parsing`` (the one parser of every command) with ``_options`` (the
option groups) and ``_values`` (the options' values), ``_commands`` (what each command does) with
``_waiting`` (waiting for an execution without losing its id to a Ctrl-C), ``_batch`` (the batch
command) with ``_batch_input`` (its JSON-lines input), ``_render`` (text and
``--json`` output), ``_advice`` (errors in command-line terms), ``_status_line`` (the live line on a
terminal), ``_exits`` (the exit codes), ``_entry`` (``main``).

This module imports only the exit codes, and ``main`` imports the rest when called, so that a Ctrl-C
while they load is an interruption like any other (exit code 130, one line, JSON with ``--json``), not
a traceback; ``truebit batch`` (``_batch``, over the batch's public names) is imported only when it
runs.
"""

import sys
from collections.abc import Sequence

from ._exits import (
    EXIT_API_ERROR,
    EXIT_INDETERMINATE,
    EXIT_INTERRUPTED,
    EXIT_NOT_FINISHED,
    EXIT_OK,
    EXIT_TASK_FAILED,
    EXIT_USAGE,
)

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


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``truebit`` command with ``argv`` (default ``sys.argv[1:]``); returns the exit code."""
    try:
        from ._entry import main as run
    except KeyboardInterrupt:  # a Ctrl-C while the command loads: what it means at any later point
        return _interrupted_loading(sys.argv[1:] if argv is None else argv)
    return run(argv)


def _interrupted_loading(argv: Sequence[str]) -> int:
    """Nothing was sent yet: one line (one JSON object with ``--json``) and the interrupted exit code.
    A second Ctrl-C while it is printed ends the command all the same, without a traceback."""
    try:
        from ._render import Output, interrupted

        return interrupted(Output("--json" in argv, ()), execution_id=None, api=False, submitting=False)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
