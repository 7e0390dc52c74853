"""The status vocabulary of the API and the terminal rule, in the one place the client and the sandbox
share.

The values are the generated enums of the spec (``make regen``): a status added upstream appears here
with no edit. Each parses a value newer than the spec as a member named ``UNKNOWN`` that keeps the raw
string (see ``openapi/templates/str_enum.py.jinja``), so a newer service never crashes this client.

The terminal rule is the published state machine's: ``Running`` is the only state that has not ended.
Anything else, a value this client does not know included, has ended.
"""

from __future__ import annotations

import enum
from typing import Final

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

__all__ = ["ApiSolutionStatus", "ApiTaskStatus", "ExecutionStatus", "VerificationStatus"]

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


def is_terminal(status: str | None) -> bool:
    """Whether an execution in ``status`` has ended: anything but ``Running``. An absent status is
    not a status answer at all (the reader rejects it); here it counts as not ended."""
    return status is not None and status != RUNNING


def is_known(member: enum.Enum) -> bool:
    """Whether ``member`` is a value of the spec this client was generated from."""
    return member._value_ in type(member)._value2member_map_
