"""Contains all the data models used in inputs/outputs"""

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
