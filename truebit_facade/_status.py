"""The status vocabulary of the API and the terminal rule, in the one place the client and the sandbox
share.

The values are the generated enums of the spec (``make regen``): a status added upstream appears here
with no edit. Each parses a value newer than the spec as a member named ``UNKNOWN`` that keeps the raw
string (see ``openapi/templates/str_enum.py.jinja``), so a newer service never crashes this client.

The terminal rule is the published state machine's: ``Running`` is the only state that has not ended.
Anything else, a value this client does not know included, has ended.

What each known value *means* (running, a success, a failure, an undecided verification) is said
once, below, by an exhaustive ``match`` per vocabulary: a value a bump adds makes ``make typecheck``
fail there (mypy's exhaustiveness check), so its meaning is decided when the
client is regenerated, not assumed. A value newer than the client's spec means nothing here (``None``):
the result says so (``status_known`` is false) and ``run``/``wait`` end with ``UnknownStatusError``.
"""

from __future__ import annotations

import enum
from typing import Final, Literal, Never

from ._generated.models.execute_api_sync_response_clear_text_solution_status import (
    ExecuteApiSyncResponseClearTextSolutionStatus,
)
from ._generated.models.execute_api_sync_response_status import ExecuteApiSyncResponseStatus
from ._generated.models.execute_task_sync_response_clear_text_solution_execution_status import (
    ExecuteTaskSyncResponseClearTextSolutionExecutionStatus,
)
from ._generated.models.execute_task_sync_response_verification_status import (
    ExecuteTaskSyncResponseVerificationStatus,
)

__all__ = [
    "ApiSolutionStatus",
    "ApiTaskStatus",
    "ExecutionStatus",
    "Meaning",
    "VerificationStatus",
    "api_solution_meaning",
    "api_status_meaning",
    "execution_meaning",
    "meaning",
    "verification_meaning",
]

#: A function task's consensus state (``verificationStatus``).
VerificationStatus = ExecuteTaskSyncResponseVerificationStatus
#: One node's outcome of a function task (``clearTextSolution.executionStatus``).
ExecutionStatus = ExecuteTaskSyncResponseClearTextSolutionExecutionStatus
#: An API task's state (top-level ``status``).
ApiTaskStatus = ExecuteApiSyncResponseStatus
#: The outcome inside an API task's solution (``clearTextSolution.status``).
ApiSolutionStatus = ExecuteApiSyncResponseClearTextSolutionStatus

#: The one state that has not ended, the same word in both vocabularies.
RUNNING: Final[str] = VerificationStatus.RUNNING.value
assert ApiTaskStatus.RUNNING.value == RUNNING, "the spec gave the two kinds different running states"


def is_known(member: enum.Enum) -> bool:
    """Whether ``member`` is a value of the spec this client was generated from."""
    return member._value_ in type(member)._value2member_map_


def _undecided(status: Never) -> Meaning | None:
    """Where a value added by a bump lands: mypy says ``status`` is not ``Never`` (say what the value
    means in the ``match`` above it). At run time, until then, it means nothing, as an unknown value."""
    return None


#: What a known status value means for the execution.
Meaning = Literal["running", "success", "failure", "indeterminate"]


def verification_meaning(status: VerificationStatus) -> Meaning | None:
    """A function task's consensus state; ``None`` for a value newer than this client."""
    if not is_known(status):
        return None
    match status:
        case VerificationStatus.RUNNING:
            return "running"
        case VerificationStatus.SUCCESS:
            return "success"
        case VerificationStatus.INDETERMINATE:
            return "indeterminate"
        case VerificationStatus.ERROR:
            return "failure"
    return _undecided(status)


def execution_meaning(status: ExecutionStatus) -> Meaning | None:
    """One node's outcome of a function task; ``None`` for a value newer than this client."""
    if not is_known(status):
        return None
    match status:
        case ExecutionStatus.SUCCEED:
            return "success"
        case ExecutionStatus.FAILED:
            return "failure"
    return _undecided(status)


def api_status_meaning(status: ApiTaskStatus) -> Meaning | None:
    """An API task's state; ``None`` for a value newer than this client."""
    if not is_known(status):
        return None
    match status:
        case ApiTaskStatus.RUNNING:
            return "running"
        case ApiTaskStatus.SUCCESS:
            return "success"
        case ApiTaskStatus.ERROR:
            return "failure"
    return _undecided(status)


def api_solution_meaning(status: ApiSolutionStatus) -> Meaning | None:
    """The outcome inside an API task's solution; ``None`` for a value newer than this client."""
    if not is_known(status):
        return None
    match status:
        case ApiSolutionStatus.SUCCEED:
            return "success"
        case ApiSolutionStatus.FAILED:
            return "failure"
    return _undecided(status)


#: Each vocabulary's meanings by value, made once from the exhaustive functions above (a lookup per
#: result, not a ``match``).
_MEANINGS: Final[dict[type, dict[str, Meaning | None]]] = {
    VerificationStatus: {m.value: verification_meaning(m) for m in VerificationStatus},
    ExecutionStatus: {m.value: execution_meaning(m) for m in ExecutionStatus},
    ApiTaskStatus: {m.value: api_status_meaning(m) for m in ApiTaskStatus},
    ApiSolutionStatus: {m.value: api_solution_meaning(m) for m in ApiSolutionStatus},
}
_NOTHING: Final[dict[str, Meaning | None]] = {}


def meaning(member: enum.Enum | None) -> Meaning | None:
    """What a member of any of the four vocabularies means; ``None``: nothing known to this client
    (a value newer than its spec, or one a bump added whose meaning is not yet said above), or no
    status at all."""
    return None if member is None else _MEANINGS.get(type(member), _NOTHING).get(member._value_)


#: The values of the two task-state vocabularies whose executions have not ended.
_NOT_ENDED: Final = frozenset(
    value
    for vocabulary in (VerificationStatus, ApiTaskStatus)
    for value, said in _MEANINGS[vocabulary].items()
    if said == "running"
)


def is_terminal(status: str | None) -> bool:
    """Whether an execution in ``status`` has ended: anything but a running state (``Running``),
    an unknown value included. An absent status is not a status answer at all (the reader rejects
    it); here it counts as not ended."""
    return status is not None and status not in _NOT_ENDED
