"""Typed, immutable results, built from the raw JSON the service sent.

Each result keeps the whole body (``raw``, read-only) including fields this version does not know
(``extra``), and can give the generated model for it (``raw_model()``), the escape hatch to
``generated_client`` for whoever needs it.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from ._status import (
    ApiSolutionStatus,
    ApiTaskStatus,
    ExecutionStatus,
    VerificationStatus,
    is_terminal,
    meaning,
)

if TYPE_CHECKING:
    from ._generated.models.execute_api_sync_response import ExecuteApiSyncResponse
    from ._generated.models.execute_task_sync_response import ExecuteTaskSyncResponse

__all__ = [
    "ApiTaskResult",
    "Execution",
    "FunctionResult",
    "Signature",
    "Solution",
    "TransferredBytes",
    "VerifiedApiTaskResult",
    "VerifiedFunctionResult",
]

TaskKind = Literal["function", "api"]


def _read_only(self: Any, *args: Any, **kwargs: Any) -> Any:
    raise TypeError(f"{type(self).__name__} is read-only: results are immutable (copy it with to_builtin())")


class JsonObject(dict[str, Any]):
    """A JSON object from the service, read-only. It is a ``dict`` for everything but mutation, so it
    compares equal to plain dicts and ``json.dumps`` takes it."""

    __slots__ = ()
    __setitem__ = __delitem__ = clear = pop = popitem = setdefault = update = __ior__ = _read_only

    def __reduce__(self) -> Any:  # copy, deepcopy and pickle give a plain dict
        return (dict, (dict(self),))


class JsonArray(list[Any]):
    """A JSON array from the service, read-only; a ``list`` for everything but mutation."""

    __slots__ = ()
    __setitem__ = __delitem__ = append = extend = insert = pop = remove = clear = _read_only
    sort = reverse = __iadd__ = __imul__ = _read_only

    def __reduce__(self) -> Any:
        return (list, (list(self),))


def freeze(value: Any) -> Any:
    """Parsed JSON made read-only. Recursive while that is cheap; iterative past a depth where a
    deeply nested body could overflow the stack."""
    if type(value) is dict:
        if not value:
            return _EMPTY
        try:
            return _freeze(value, 0)
        except _TooDeep:
            return _freeze_deep(value)
    if type(value) is list:
        try:
            return _freeze(value, 0)
        except _TooDeep:
            return _freeze_deep(value)
    return value


class _TooDeep(Exception):
    pass


def _freeze(value: Any, depth: int) -> Any:
    if depth > 100:
        raise _TooDeep
    if type(value) is dict:
        return JsonObject(
            {k: (_freeze(v, depth + 1) if type(v) in _CONTAINERS else v) for k, v in value.items()}
        )
    return JsonArray([_freeze(v, depth + 1) if type(v) in _CONTAINERS else v for v in value])


_CONTAINERS = (dict, list)


def _freeze_deep(value: Any) -> Any:
    done: dict[int, Any] = {}
    stack: list[tuple[Any, bool]] = [(value, False)]
    while stack:
        node, children_done = stack.pop()
        if children_done:
            if isinstance(node, dict):
                done[id(node)] = JsonObject((k, done.get(id(v), v)) for k, v in node.items())
            else:
                done[id(node)] = JsonArray(done.get(id(v), v) for v in node)
            continue
        stack.append((node, True))
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, False) for child in children if isinstance(child, dict | list))
    return done[id(value)]


def to_builtin(value: Any) -> Any:
    """Plain, mutable ``dict``/``list`` JSON again (for the generated models or to edit a copy)."""
    if isinstance(value, Mapping):
        return {k: to_builtin(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_builtin(v) for v in value]
    return value


thaw = to_builtin
_EMPTY = JsonObject()


class ResponseInfo:
    """The HTTP answer a result was read from: ``status_code`` and ``headers`` (read-only, names in
    lower case; any value that carries one of the client's secrets is redacted). The escape hatch for
    what the service says beside the body (rate-limit headers, request ids...)."""

    __slots__ = ("_headers", "_raw", "_secrets", "status_code")

    def __init__(
        self, status_code: int, headers: Mapping[str, str], secrets: Callable[[], tuple[str, ...]]
    ) -> None:
        self.status_code = status_code
        self._raw = headers
        self._secrets = secrets
        self._headers: JsonObject | None = None

    @property
    def headers(self) -> Mapping[str, str]:
        if self._headers is None:  # made on first use: most callers never look
            from ._redact import scrub

            secrets = self._secrets()
            self._headers = JsonObject({k.lower(): scrub(v, secrets) for k, v in self._raw.items()})
        return self._headers

    def __repr__(self) -> str:
        return f"ResponseInfo(status_code={self.status_code})"

    def __reduce__(self) -> Any:  # picklable, headers already scrubbed
        headers = dict(self.headers)
        return (ResponseInfo, (self.status_code, headers, tuple))


@dataclass(frozen=True)
class Execution:
    """A submitted execution: pass ``execution_id`` to ``get`` or ``wait``."""

    execution_id: str
    kind: TaskKind
    #: The HTTP answer of the execute request (status and headers).
    response: ResponseInfo | None = field(default=None, repr=False, compare=False)
    #: ``submit(..., hold=True)`` only: the task's final result when it ended within the service's
    #: hold (a ``FunctionResult`` or an ``ApiTaskResult``, failed ones included), else ``None``.
    result: FunctionResult | ApiTaskResult | None = field(default=None, repr=False, compare=False)


@dataclass(frozen=True)
class Signature:
    """An Ethereum-style secp256k1 signature: ``v`` in {27, 28}, ``r`` and ``s`` as 64 hex characters."""

    v: int
    r: str
    s: str


@dataclass(frozen=True)
class Solution:
    """One node's solution (``clearTextSolution``) of a function task."""

    # Not in the repr: a task may echo whatever reaches it, a secret included.
    output: str | None = field(repr=False)
    execution_status: ExecutionStatus | None
    sender_address: str | None
    signature: Signature | None

    def recover_signer(self, message_hash: bytes | str) -> str:
        """The address whose key signed ``message_hash``; see :mod:`truebit_facade.signing` for what
        this proves. Compare it with ``sender_address``."""
        from .signing import recover_signer

        if self.signature is None:
            raise ValueError("this solution carries no signature")
        return recover_signer(message_hash, self.signature)


class _State(ABC):
    """What both kinds of result say about where their execution is, from its two statuses: the
    execution's (``verificationStatus`` of a function task, ``status`` of an API task), then its
    solution's (``executionStatus`` / ``clearTextSolution.status``)."""

    __slots__ = ()

    @abstractmethod
    def _statuses(self) -> tuple[enum.Enum | None, enum.Enum | None]: ...

    @property
    def status_value(self) -> str | None:
        """The raw execution status (``verificationStatus`` or ``status``), also when this client
        does not know the value."""
        status = self._statuses()[0]
        return None if status is None else str(status.value)

    @property
    def is_terminal(self) -> bool:
        """True once the execution has ended: any status but ``Running``, an unknown one included."""
        return is_terminal(self.status_value)

    @property
    def status_known(self) -> bool:
        """False when the service sent a status value newer than this client's spec (or one whose
        meaning ``_status`` does not say yet, after a regeneration)."""
        a, b = self._statuses()
        return (a is None or meaning(a) is not None) and (b is None or meaning(b) is not None)


@dataclass(frozen=True)
class FunctionResult(_State):
    """The state of a function-task execution: verified output, consensus status, signed solution.

    ``verification`` is ``Success`` only when enough nodes agreed; ``ok`` says whether the output can be
    trusted. ``run`` raises :class:`TaskFailedError` / :class:`VerificationIndeterminateError` rather than
    return a result that is not ``ok`` (unless asked not to).
    """

    execution_id: str
    verification: VerificationStatus | None
    solution: Solution | None
    raw: Mapping[str, Any] = field(repr=False)
    extra: Mapping[str, Any] = field(repr=False, default_factory=JsonObject)
    #: The HTTP answer this state was read from (status and headers): the raw-response escape hatch.
    response: ResponseInfo | None = field(default=None, repr=False, compare=False)

    @property
    def output(self) -> str | None:
        """The task's ``output.txt``, as the reported solution carries it."""
        return None if self.solution is None else self.solution.output

    @property
    def execution_status(self) -> ExecutionStatus | None:
        return None if self.solution is None else self.solution.execution_status

    def _statuses(self) -> tuple[enum.Enum | None, enum.Enum | None]:
        return self.verification, self.execution_status

    @property
    def ok(self) -> bool:
        """Verified success: consensus reached and the solution says ``succeed``."""
        v, es = self.verification, self.execution_status
        if v is VerificationStatus.SUCCESS and es is ExecutionStatus.SUCCEED:
            return True  # the usual answer, without the lookups below
        return meaning(v) == "success" and meaning(es) == "success"

    def raw_model(self) -> ExecuteTaskSyncResponse:
        """The body as the generated model, the low-level escape hatch."""
        from ._generated.models.execute_task_sync_response import ExecuteTaskSyncResponse

        return _generated(ExecuteTaskSyncResponse, self.raw)


@dataclass(frozen=True)
class TransferredBytes:
    """Bytes exchanged with the target API (``totalTransferredBytes``), which the service bills."""

    request: int | None
    response: int | None


@dataclass(frozen=True)
class ApiTaskResult(_State):
    """The state of an API-task execution: the target's answer and the hub's status."""

    execution_id: str
    status: ApiTaskStatus | None
    # Not in the repr: a target that echoes its request headers would show the caller's secrets.
    output: Any = field(repr=False)
    solution_status: ApiSolutionStatus | None
    sender_address: str | None
    transferred_bytes: TransferredBytes | None
    error_message: str | None = field(repr=False)  # the target's words, which may echo headers
    raw: Mapping[str, Any] = field(repr=False)
    extra: Mapping[str, Any] = field(repr=False, default_factory=JsonObject)
    #: The HTTP answer this state was read from (status and headers): the raw-response escape hatch.
    response: ResponseInfo | None = field(default=None, repr=False, compare=False)

    def _statuses(self) -> tuple[enum.Enum | None, enum.Enum | None]:
        return self.status, self.solution_status

    @property
    def ok(self) -> bool:
        solution = self.solution_status
        return meaning(self.status) == "success" and (solution is None or meaning(solution) == "success")

    def raw_model(self) -> ExecuteApiSyncResponse:
        """The body as the generated model, the low-level escape hatch."""
        from ._generated.models.execute_api_sync_response import ExecuteApiSyncResponse

        return _generated(ExecuteApiSyncResponse, self.raw)


# The verified types are not dataclasses of their own: they narrow their parent's field types, and
# keep its methods (a decorator would make all of them again at import: a tenth of the import).
class VerifiedFunctionResult(FunctionResult):
    """A :class:`FunctionResult` that is a verified success (``ok``): what ``run`` and ``wait``
    return (unless ``raise_on_failure=False``). Its ``verification``, ``solution`` and ``output`` are
    never ``None``. Every result read as ``ok`` has this type, so ``isinstance(r, VerifiedFunctionResult)``
    is the test ``r.ok`` makes, and narrows the type too."""

    verification: VerificationStatus
    solution: Solution

    @property
    def output(self) -> str:
        """The verified ``output.txt`` (an answer claiming success without one is refused as
        malformed, so a verified result always has it)."""
        return self.solution.output or ""


class VerifiedApiTaskResult(ApiTaskResult):
    """An :class:`ApiTaskResult` that is a verified success (``ok``): what ``run`` and ``wait``
    return (unless ``raise_on_failure=False``). Its ``status`` is never ``None``."""

    status: ApiTaskStatus


Result = TypeVar("Result", FunctionResult, ApiTaskResult)


def is_verified(result: FunctionResult | ApiTaskResult) -> bool:
    return isinstance(result, VerifiedFunctionResult | VerifiedApiTaskResult)


D = TypeVar("D")


def made(cls: type[D], fields: dict[str, Any]) -> D:
    """An instance of the frozen dataclass ``cls`` from *all* its fields: the instance dict its
    ``__init__`` would store, without that ``__init__``'s ``object.__setattr__`` field by field, which
    cost more than the rest of reading an answer (the results of every answer are made here)."""
    instance = object.__new__(cls)
    instance.__dict__.update(fields)
    return instance


def result_of(cls: type[Result], fields: dict[str, Any]) -> Result:
    """The result of an answer, made from all its fields, as its verified type when it is ``ok``:
    the one place that decides."""
    result = made(cls, fields)
    if result.ok:  # the same fields, as the subclass (frozen: its __setattr__ refuses)
        verified = VerifiedFunctionResult if cls is FunctionResult else VerifiedApiTaskResult
        object.__setattr__(result, "__class__", verified)
    return result


M = TypeVar("M", "ExecuteTaskSyncResponse", "ExecuteApiSyncResponse")


def _generated(model: type[M], raw: Mapping[str, Any]) -> M:
    """Parse with a generated model; its parsers raise bare errors on values newer than the spec."""
    from ._base_errors import MalformedResponseError

    try:
        return model.from_dict(to_builtin(raw))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise MalformedResponseError(
            f"the generated model {model.__name__} cannot represent this body ({exc}); use .raw instead"
        ) from None
