"""Every error the client raises, in one hierarchy under :class:`TruebitError`.

    TruebitError
    ├── ValidationError                 bad input, raised before any network I/O (also a ValueError)
    ├── APIStatusError                  the service answered with an error status
    │   ├── BadRequestError             400 (with the BlockchainSignedError fields when present)
    │   ├── AuthenticationError         401
    │   ├── PaymentRequiredError        402
    │   ├── ExecutionNotFoundError      404 on a status read
    │   ├── RateLimitedError            429 (retry_after)
    │   ├── ServerError                 5xx and non-standard codes such as 520
    │   └── UnexpectedStatusError       any other status
    ├── MalformedResponseError          a body that is not what the API promises
    ├── TransportError                  no usable answer: connection failed, reset or timed out
    │   └── RequestTimeoutError
    ├── WaitTimeoutError                the overall deadline passed; carries the execution id
    ├── CallInterruptedError            the call was interrupted (run_many stopped); carries the id
    └── TaskError                       the task ended without a verified success; carries the result
        ├── TaskFailedError
        ├── VerificationIndeterminateError
        └── UnknownStatusError          it ended in a status newer than this client (raw value in .status)

The root, ``ValidationError`` and ``MalformedResponseError`` are defined in ``_base_errors`` (below the
results, which raise them) and re-exported here. Errors never contain the API key or ``input.headers`` values: messages are built from our own
words, the status and a scrubbed excerpt of the body.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._base_errors import MalformedResponseError, TruebitError, ValidationError

if TYPE_CHECKING:
    import httpx

    from ._models import ApiTaskResult, FunctionResult

#: The result a task error carries: ``FunctionResult`` from ``functions``, ``ApiTaskResult`` from
#: ``api_tasks``; ``except TaskFailedError as err`` leaves it open, ``TaskFailedError[FunctionResult]``
#: says which.
R = TypeVar("R", bound="FunctionResult | ApiTaskResult")

__all__ = [
    "APIStatusError",
    "AuthenticationError",
    "BadRequestError",
    "CallInterruptedError",
    "ExecutionNotFoundError",
    "MalformedResponseError",
    "PaymentRequiredError",
    "RateLimitedError",
    "RequestTimeoutError",
    "ServerError",
    "TaskError",
    "TaskFailedError",
    "TransportError",
    "TruebitError",
    "UnexpectedStatusError",
    "UnknownStatusError",
    "ValidationError",
    "VerificationIndeterminateError",
    "WaitTimeoutError",
]


class APIStatusError(TruebitError):
    """The service answered with an error status.

    ``status_code``, ``body`` (parsed JSON, scrubbed of secrets, or ``None``) and ``response`` (the raw
    ``httpx.Response``, the escape hatch) describe the answer. ``may_have_submitted`` is true when the
    failed request was an execute call that the service may nonetheless have started.
    """

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        body: Any = None,
        response: httpx.Response | None = None,
        execution_id: str | None = None,
        may_have_submitted: bool = False,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, execution_id=execution_id)
        self.status_code = status_code
        self.body = body
        self.response = response
        self.may_have_submitted = may_have_submitted
        #: The server's ``Retry-After`` hint in seconds, when it sent one (429 and 503 often do).
        self.retry_after = retry_after


class BadRequestError(APIStatusError):
    """400: the service refused the request (unknown task, invalid body, ...).

    When the body is a ``BlockchainSignedError``, its fields are in ``blockchain`` (``signedError``,
    ``chainId``, ``blockHash``, ``blockNumber``, the registry contracts, ``status``); otherwise ``None``.
    """

    def __init__(self, message: str, *, blockchain: dict[str, Any] | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.blockchain = blockchain

    @property
    def signed_error(self) -> str | None:
        return None if self.blockchain is None else self.blockchain.get("signedError")


class AuthenticationError(APIStatusError):
    """401: the API key is missing, unknown or revoked."""


class PaymentRequiredError(APIStatusError):
    """402: the account behind the API key cannot pay for the execution."""


class ExecutionNotFoundError(APIStatusError):
    """404: no execution with that id (wrong id, wrong task kind, or expired)."""


class RateLimitedError(APIStatusError):
    """429: slow down. ``retry_after`` is the server's hint in seconds, when it gave one."""


class ServerError(APIStatusError):
    """5xx, or a non-standard status (499, 520, 599...) from a proxy or load balancer."""


class UnexpectedStatusError(APIStatusError):
    """A registered status the API does not document (403, 409, 418, ...)."""


class TransportError(TruebitError):
    """No usable answer: the connection failed, was dropped or timed out.

    ``may_have_submitted`` is true when an execute request may have reached the service: it is then
    not retried (the API has no idempotency key), and the task may be running and billed.
    """

    def __init__(self, message: str, *, may_have_submitted: bool = False, execution_id: str | None = None):
        super().__init__(message, execution_id=execution_id)
        self.may_have_submitted = may_have_submitted


class RequestTimeoutError(TransportError):
    """One HTTP request took longer than its timeout."""


class WaitTimeoutError(TruebitError, TimeoutError):
    """The overall deadline passed before the execution ended. Nothing is lost: resume with
    ``wait(err.execution_id)``. ``last_status`` and ``last_result`` are what was last seen."""

    execution_id: str  # always known: the deadline can only pass after the execution was accepted

    def __init__(
        self,
        message: str,
        *,
        execution_id: str,
        last_status: str | None,
        last_result: FunctionResult | ApiTaskResult | None,
    ) -> None:
        super().__init__(message, execution_id=execution_id)
        self.last_status = last_status
        self.last_result = last_result


class CallInterruptedError(TruebitError):
    """The call was stopped from outside (an interrupted ``run_many``) before it ended. When an
    execution id had been received, ``execution_id`` has it: the task may still be running."""


class TaskError(TruebitError, Generic[R]):
    """The execution ended without a verified success. ``result`` holds everything that came back."""

    result: R

    def __init__(self, message: str, *, result: R) -> None:
        super().__init__(message, execution_id=result.execution_id)
        self.result = result


class TaskFailedError(TaskError[R]):
    """The task failed (trap, out of gas, empty output, target API error) or verification says Error."""


class VerificationIndeterminateError(TaskError[R]):
    """The nodes did not agree, or too few answered in time: the output is not verified."""


class UnknownStatusError(TaskError[R]):
    """The execution ended (its status is not ``Running``) in a status value this client version does
    not know: the service is newer than the spec it was generated from. ``status`` is the raw value;
    ``result`` holds everything that came back. Upgrade the client to interpret it."""

    def __init__(self, message: str, *, result: R, status: str) -> None:
        super().__init__(message, result=result)
        self.status = status
