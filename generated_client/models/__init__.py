"""Contains all the data models used in inputs/outputs (each loaded on first use)"""

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .bad_request_response import BadRequestResponse
    from .blockchain_signed_error import BlockchainSignedError
    from .error import Error
    from .execute_api_sync_response import ExecuteApiSyncResponse
    from .execute_api_sync_response_clear_text_solution import (
        ExecuteApiSyncResponseClearTextSolution,
    )
    from .execute_api_sync_response_clear_text_solution_output import (
        ExecuteApiSyncResponseClearTextSolutionOutput,
    )
    from .execute_api_sync_response_clear_text_solution_status import (
        ExecuteApiSyncResponseClearTextSolutionStatus,
    )
    from .execute_api_sync_response_status import ExecuteApiSyncResponseStatus
    from .execute_api_sync_response_total_transferred_bytes import (
        ExecuteApiSyncResponseTotalTransferredBytes,
    )
    from .execute_api_task_by_name_body import ExecuteApiTaskByNameBody
    from .execute_api_task_by_name_body_input import ExecuteApiTaskByNameBodyInput
    from .execute_api_task_by_name_body_input_headers import (
        ExecuteApiTaskByNameBodyInputHeaders,
    )
    from .execute_api_task_by_name_body_input_params import (
        ExecuteApiTaskByNameBodyInputParams,
    )
    from .execute_task_async_response import ExecuteTaskAsyncResponse
    from .execute_task_by_name_body import ExecuteTaskByNameBody
    from .execute_task_sync_response import ExecuteTaskSyncResponse
    from .execute_task_sync_response_clear_text_solution import (
        ExecuteTaskSyncResponseClearTextSolution,
    )
    from .execute_task_sync_response_clear_text_solution_execution_status import (
        ExecuteTaskSyncResponseClearTextSolutionExecutionStatus,
    )
    from .execute_task_sync_response_clear_text_solution_signature import (
        ExecuteTaskSyncResponseClearTextSolutionSignature,
    )
    from .execute_task_sync_response_verification_status import (
        ExecuteTaskSyncResponseVerificationStatus,
    )

# Importing every model eagerly would cost the facade's import time a third; a model's module is
# imported when the model is first asked for (PEP 562), and type checkers see the imports above.
_MODULES = {
    "BadRequestResponse": ".bad_request_response",
    "BlockchainSignedError": ".blockchain_signed_error",
    "Error": ".error",
    "ExecuteApiSyncResponse": ".execute_api_sync_response",
    "ExecuteApiSyncResponseClearTextSolution": ".execute_api_sync_response_clear_text_solution",
    "ExecuteApiSyncResponseClearTextSolutionOutput": ".execute_api_sync_response_clear_text_solution_output",
    "ExecuteApiSyncResponseClearTextSolutionStatus": ".execute_api_sync_response_clear_text_solution_status",
    "ExecuteApiSyncResponseStatus": ".execute_api_sync_response_status",
    "ExecuteApiSyncResponseTotalTransferredBytes": ".execute_api_sync_response_total_transferred_bytes",
    "ExecuteApiTaskByNameBody": ".execute_api_task_by_name_body",
    "ExecuteApiTaskByNameBodyInput": ".execute_api_task_by_name_body_input",
    "ExecuteApiTaskByNameBodyInputHeaders": ".execute_api_task_by_name_body_input_headers",
    "ExecuteApiTaskByNameBodyInputParams": ".execute_api_task_by_name_body_input_params",
    "ExecuteTaskAsyncResponse": ".execute_task_async_response",
    "ExecuteTaskByNameBody": ".execute_task_by_name_body",
    "ExecuteTaskSyncResponse": ".execute_task_sync_response",
    "ExecuteTaskSyncResponseClearTextSolution": ".execute_task_sync_response_clear_text_solution",
    "ExecuteTaskSyncResponseClearTextSolutionExecutionStatus": ".execute_task_sync_response_clear_text_solution_execution_status",
    "ExecuteTaskSyncResponseClearTextSolutionSignature": ".execute_task_sync_response_clear_text_solution_signature",
    "ExecuteTaskSyncResponseVerificationStatus": ".execute_task_sync_response_verification_status",
}


def __getattr__(name: str) -> object:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = (
    "BadRequestResponse",
    "BlockchainSignedError",
    "Error",
    "ExecuteApiSyncResponse",
    "ExecuteApiSyncResponseClearTextSolution",
    "ExecuteApiSyncResponseClearTextSolutionOutput",
    "ExecuteApiSyncResponseClearTextSolutionStatus",
    "ExecuteApiSyncResponseStatus",
    "ExecuteApiSyncResponseTotalTransferredBytes",
    "ExecuteApiTaskByNameBody",
    "ExecuteApiTaskByNameBodyInput",
    "ExecuteApiTaskByNameBodyInputHeaders",
    "ExecuteApiTaskByNameBodyInputParams",
    "ExecuteTaskAsyncResponse",
    "ExecuteTaskByNameBody",
    "ExecuteTaskSyncResponse",
    "ExecuteTaskSyncResponseClearTextSolution",
    "ExecuteTaskSyncResponseClearTextSolutionExecutionStatus",
    "ExecuteTaskSyncResponseClearTextSolutionSignature",
    "ExecuteTaskSyncResponseVerificationStatus",
)
