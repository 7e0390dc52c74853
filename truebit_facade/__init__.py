"""Python client for Truebit's task-execution API.

    from truebit_facade import Truebit

    with Truebit() as tb:                                    # TRUEBIT_API_KEY, TRUEBIT_BASE_URL
        r = tb.functions.run("3a2b5129", "fibonacci", "22")  # waits for the verified result
        print(r.output, r.verification, r.solution.sender_address)

``AsyncTruebit`` mirrors it with ``await`` and ``async with``. Every error is a ``TruebitError``.
"""

from ._async_client import AsyncTruebit
from ._async_resources import AsyncApiTasks, AsyncFunctions
from ._errors import (
    APIStatusError,
    AuthenticationError,
    BadRequestError,
    CallInterruptedError,
    ExecutionNotFoundError,
    MalformedResponseError,
    PaymentRequiredError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
    TaskError,
    TaskFailedError,
    TransportError,
    TruebitError,
    UnexpectedStatusError,
    UnknownStatusError,
    ValidationError,
    VerificationIndeterminateError,
    WaitTimeoutError,
)
from ._models import (
    ApiTaskResult,
    Execution,
    FunctionResult,
    JsonArray,
    JsonObject,
    ResponseInfo,
    Signature,
    Solution,
    TransferredBytes,
    VerifiedApiTaskResult,
    VerifiedFunctionResult,
    to_builtin,
)
from ._policy import MAX_RETRY_AFTER, PollPolicy, RetryPolicy, is_retryable_status
from ._redact import configure_from_env as _configure_from_env
from ._redact import scrub_secrets
from ._settings import DEFAULT
from ._status import ApiSolutionStatus, ApiTaskStatus, ExecutionStatus, VerificationStatus
from ._sync_client import Truebit
from ._sync_resources import ApiTasks, Functions
from ._version import __version__

__all__ = [
    "DEFAULT",
    "MAX_RETRY_AFTER",
    "APIStatusError",
    "ApiSolutionStatus",
    "ApiTaskResult",
    "ApiTaskStatus",
    "ApiTasks",
    "AsyncApiTasks",
    "AsyncFunctions",
    "AsyncTruebit",
    "AuthenticationError",
    "BadRequestError",
    "CallInterruptedError",
    "Execution",
    "ExecutionNotFoundError",
    "ExecutionStatus",
    "FunctionResult",
    "Functions",
    "JsonArray",
    "JsonObject",
    "MalformedResponseError",
    "PaymentRequiredError",
    "PollPolicy",
    "RateLimitedError",
    "RequestTimeoutError",
    "ResponseInfo",
    "RetryPolicy",
    "ServerError",
    "Signature",
    "Solution",
    "TaskError",
    "TaskFailedError",
    "TransferredBytes",
    "TransportError",
    "Truebit",
    "TruebitError",
    "UnexpectedStatusError",
    "UnknownStatusError",
    "ValidationError",
    "VerificationIndeterminateError",
    "VerificationStatus",
    "VerifiedApiTaskResult",
    "VerifiedFunctionResult",
    "WaitTimeoutError",
    "__version__",
    "is_retryable_status",
    "scrub_secrets",
    "to_builtin",
]

_configure_from_env()
