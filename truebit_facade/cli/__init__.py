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

The modules, one job each: ``_parsing`` (the one parser of every command) with ``_values`` (the
options' values), ``_commands`` (what each command does) with ``_waiting`` (waiting for an execution
without losing its id to a Ctrl-C), ``_render`` (text and ``--json`` output), ``_advice`` (errors in
command-line terms), ``_status_line`` (the live line on a terminal), ``_exits`` (the exit codes),
``_entry`` (``main``).

This module imports only the exit codes, and ``main`` imports the rest when called: the batch command
(``truebit_facade.batch._cli``, which the commands import) can use the leaf modules ``_exits``,
``_values`` and ``_status_line`` without an import circle.
"""

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
    from ._entry import main as run

    return run(argv)
