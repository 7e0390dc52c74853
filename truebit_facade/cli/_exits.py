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
