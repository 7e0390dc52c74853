"""The status vocabularies of the API and which of their values end an execution.

Every enum has an ``UNKNOWN`` member: a value a newer service sends that this client does not know
does not crash it (the raw value stays in the result's ``raw``).
"""

from __future__ import annotations

import enum

__all__ = ["ApiTaskStatus", "ExecutionStatus", "VerificationStatus"]


class _OpenEnum(enum.StrEnum):
    @classmethod
    def _missing_(cls, value: object) -> _OpenEnum:
        return cls("__unknown__")

    @classmethod
    def parse(cls, value: str | None) -> _OpenEnum | None:
        """The member for a wire value; ``None`` when absent; ``UNKNOWN`` for anything new."""
        return None if value is None else cls(value)


class VerificationStatus(_OpenEnum):
    """A function task's consensus state (``verificationStatus``)."""

    SUCCESS = "Success"
    RUNNING = "Running"
    INDETERMINATE = "Indeterminate"
    ERROR = "Error"
    UNKNOWN = "__unknown__"


class ExecutionStatus(_OpenEnum):
    """One solution's outcome (``clearTextSolution.executionStatus`` / ``.status``)."""

    SUCCEED = "succeed"
    FAILED = "failed"
    UNKNOWN = "__unknown__"


class ApiTaskStatus(_OpenEnum):
    """An API task's state (top-level ``status``)."""

    SUCCESS = "Success"
    RUNNING = "Running"
    ERROR = "Error"
    UNKNOWN = "__unknown__"


RUNNING_STATES = frozenset({VerificationStatus.RUNNING, ApiTaskStatus.RUNNING})
