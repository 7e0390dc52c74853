"""Python client for Truebit's task-execution API.

    from truebit_facade import Truebit

    with Truebit() as tb:                                    # TRUEBIT_API_KEY, TRUEBIT_BASE_URL
        r = tb.functions.run("3a2b5129", "fibonacci", "22")  # waits for the verified result
        print(r.output, r.verification, r.solution.sender_address)

``AsyncTruebit`` mirrors it with ``await`` and ``async with``. Every error is a ``TruebitError``.
"""

# Each public name is loaded from its private module on first use (PEP 562), then kept in this
# module's globals: ``import truebit_facade`` loads no httpx, so that ``truebit`` (whose code runs only
# after this package's ``__init__``) can catch a Ctrl-C while the client loads. Type checkers and IDEs
# read the imports under ``TYPE_CHECKING``, and never see ``__getattr__``, which would make every
# misspelt name type-check. Those imports, ``_HOME_OF`` and ``__all__`` list the same names
# (tests/test_public_surface.py checks it).

import importlib
from typing import TYPE_CHECKING

from ._redact import configure_from_env as _configure_from_env
from ._version import __version__

if TYPE_CHECKING:
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
    from ._redact import scrub_secrets
    from ._settings import DEFAULT
    from ._status import ApiSolutionStatus, ApiTaskStatus, ExecutionStatus, VerificationStatus
    from ._sync_client import Truebit
    from ._sync_resources import ApiTasks, Functions

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

#: Where each public name is loaded from (the module the imports above name for type checkers).
_HOME_OF = {
    "AsyncTruebit": "_async_client",
    "AsyncApiTasks": "_async_resources",
    "AsyncFunctions": "_async_resources",
    "APIStatusError": "_errors",
    "AuthenticationError": "_errors",
    "BadRequestError": "_errors",
    "CallInterruptedError": "_errors",
    "ExecutionNotFoundError": "_errors",
    "MalformedResponseError": "_errors",
    "PaymentRequiredError": "_errors",
    "RateLimitedError": "_errors",
    "RequestTimeoutError": "_errors",
    "ServerError": "_errors",
    "TaskError": "_errors",
    "TaskFailedError": "_errors",
    "TransportError": "_errors",
    "TruebitError": "_errors",
    "UnexpectedStatusError": "_errors",
    "UnknownStatusError": "_errors",
    "ValidationError": "_errors",
    "VerificationIndeterminateError": "_errors",
    "WaitTimeoutError": "_errors",
    "ApiTaskResult": "_models",
    "Execution": "_models",
    "FunctionResult": "_models",
    "JsonArray": "_models",
    "JsonObject": "_models",
    "ResponseInfo": "_models",
    "Signature": "_models",
    "Solution": "_models",
    "TransferredBytes": "_models",
    "VerifiedApiTaskResult": "_models",
    "VerifiedFunctionResult": "_models",
    "to_builtin": "_models",
    "MAX_RETRY_AFTER": "_policy",
    "PollPolicy": "_policy",
    "RetryPolicy": "_policy",
    "is_retryable_status": "_policy",
    "scrub_secrets": "_redact",
    "DEFAULT": "_settings",
    "ApiSolutionStatus": "_status",
    "ApiTaskStatus": "_status",
    "ExecutionStatus": "_status",
    "VerificationStatus": "_status",
    "Truebit": "_sync_client",
    "ApiTasks": "_sync_resources",
    "Functions": "_sync_resources",
}


def _load(name: str) -> object:
    """The public ``name`` from its private module, kept in the globals so that it loads once."""
    module = _HOME_OF.get(name)
    if module is None:  # AttributeError: ``from truebit_facade import sandbox`` then finds the submodule
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


if not TYPE_CHECKING:  # hidden from type checkers, for which it would make every name exist
    __getattr__ = _load

_configure_from_env()
