"""The exit codes of ``truebit``, and which one an error earns."""

from __future__ import annotations

from typing import Final

from .._errors import TaskError, ValidationError, VerificationIndeterminateError, WaitTimeoutError

EXIT_OK: Final = 0  #: the task succeeded and was verified (or, with submit / --async, was submitted)
EXIT_TASK_FAILED: Final = 1  #: the task ended in failure (trap, out of gas, target API error...)
EXIT_USAGE: Final = 2  #: bad command line or input, no API key, or a missing extra; nothing was sent
EXIT_INDETERMINATE: Final = 3  #: the nodes did not agree, or too few answered: the output is not verified
EXIT_API_ERROR: Final = 4  #: the service refused the request, or it could not be reached
EXIT_NOT_FINISHED: Final = 5  #: the wait deadline passed (or, without --wait, still running): resume later
EXIT_INTERRUPTED: Final = 130  #: Ctrl-C

#: Each exit code and what it means, as ``truebit --help`` lists them (docs/cli.md, "Exit codes").
MEANINGS: Final = (
    (EXIT_OK, "success: the task ended verified (submit, or --async: submitted)"),
    (EXIT_TASK_FAILED, "the task failed (trap, out of gas, empty output, target API error)"),
    (EXIT_USAGE, "usage error: bad arguments or input, no API key, or a missing extra (nothing was sent)"),
    (EXIT_INDETERMINATE, "verification indeterminate: nodes disagreed or too few answered in time"),
    (EXIT_API_ERROR, "API or network error: the service refused the request or could not be reached"),
    (
        EXIT_NOT_FINISHED,
        "not finished: the wait deadline passed (or, for status without --wait, still\n"
        "running); the execution id is printed: resume with `truebit status ID --wait`",
    ),
    (EXIT_INTERRUPTED, "interrupted (Ctrl-C); the execution id, when there is one, is printed"),
)


def exit_code(exc: BaseException) -> int:
    """The exit code of a command that ended on ``exc``."""
    if isinstance(exc, VerificationIndeterminateError):
        return EXIT_INDETERMINATE
    if isinstance(exc, TaskError):
        return EXIT_TASK_FAILED
    if isinstance(exc, WaitTimeoutError):
        return EXIT_NOT_FINISHED
    if isinstance(exc, ValidationError):
        return EXIT_USAGE
    return EXIT_API_ERROR
