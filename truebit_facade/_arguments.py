"""The resources' own arguments, checked before anything is sent: which options each kind of call
takes (``run_many`` checks a mapping's keys against them), and the flags ``run`` and ``wait`` share.
Pure: no I/O."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any, Generic, Literal, Required, TypedDict, TypeVar

from ._errors import ValidationError
from ._models import ApiTaskResult, FunctionResult
from ._settings import Timeout

__all__ = [
    "API_OPTIONS",
    "FUNCTION_OPTIONS",
    "ApiOptions",
    "ApiRun",
    "ApiRunAnyOutcome",
    "FunctionOptions",
    "FunctionRun",
    "FunctionRunAnyOutcome",
    "check_flags",
    "check_keywords",
]


R = TypeVar("R", FunctionResult, ApiTaskResult)


class _TaskOptions(TypedDict, total=False):
    #: The task's version to run, or the ``label`` that names one (not both); default: the latest.
    version: int | None
    label: str | None
    #: Sent as given, for what the service accepts before this client knows it (the API is a beta);
    #: they cannot replace what the client sets itself.
    extra_headers: Mapping[str, str] | None
    extra_body: Mapping[str, Any] | None


class FunctionOptions(_TaskOptions, total=False):
    """What a function task's request takes besides its name and input (``submit``'s options, and
    ``run``'s): ``total_solutions`` (default 1) nodes run the task and ``required_solutions``
    (default: all of them) must agree; ``gas_limit`` is the instruction budget (default: the task's);
    ``requester_timestamp`` (default: now, in Unix seconds); ``version`` or ``label``;
    ``extra_headers`` and ``extra_body``."""

    total_solutions: int
    required_solutions: int | None
    gas_limit: int | None
    requester_timestamp: int | None


class ApiOptions(_TaskOptions, total=False):
    """What an API task's request takes besides its name (``submit``'s options, and ``run``'s):
    ``path`` (required) and ``method`` (default ``GET``) name the call of the task's manifest;
    ``params`` fill the path's ``{name}`` templates and the query; ``headers`` are injected into the
    outgoing call (secret: never logged); ``body`` is its JSON body; ``execution_timeout`` (default
    30 s, seconds or a ``timedelta``) bounds it; ``version`` or ``label``; ``extra_headers`` and
    ``extra_body``."""

    path: Required[str]
    method: str
    params: Mapping[str, Any] | None
    headers: Mapping[str, str] | None
    body: Any
    execution_timeout: float | timedelta


class _WaitOptions(TypedDict, Generic[R], total=False):
    #: How long to wait in all, in seconds or a ``timedelta`` (default: the client's
    #: ``wait_timeout``; ``None``: no deadline).
    timeout: Timeout
    #: Called with each state whose status differs from the previous one (the first included).
    on_status: Callable[[R], object] | None


class _Verified(TypedDict, total=False):
    #: True (the default): a result that is not a verified success raises, so what returns is
    #: verified (and typed so).
    raise_on_failure: Literal[True]


class _AnyOutcome(TypedDict):
    #: Given as a bool (False: a failed result is returned, not raised): the result is then typed
    #: as the plain one.
    raise_on_failure: bool


class FunctionRun(FunctionOptions, _WaitOptions[FunctionResult], _Verified, total=False):
    """``functions.run``'s options: the request's, ``timeout``, ``on_status``."""


class FunctionRunAnyOutcome(FunctionOptions, _WaitOptions[FunctionResult], _AnyOutcome, total=False):
    """``functions.run``'s options with ``raise_on_failure`` given as a bool."""


class ApiRun(ApiOptions, _WaitOptions[ApiTaskResult], _Verified, total=False):
    """``api_tasks.run``'s options: the request's, ``timeout``, ``on_status``."""


class ApiRunAnyOutcome(ApiOptions, _WaitOptions[ApiTaskResult], _AnyOutcome, total=False):
    """``api_tasks.run``'s options with ``raise_on_failure`` given as a bool."""


# The keys of a request's options (``run_many`` checks a call's against them).
FUNCTION_OPTIONS = tuple(FunctionOptions.__annotations__)
API_OPTIONS = tuple(ApiOptions.__annotations__)


def check_keywords(options: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    if not options:
        return
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValidationError(unknown[0], f"is not an option here (allowed: {', '.join(allowed)})")


def check_flags(on_status: object, raise_on_failure: object = True) -> None:
    """The call's own flags, checked before anything is sent."""
    if on_status is not None and not callable(on_status):
        raise ValidationError("on_status", "must be a callable taking the result, or None")
    if not isinstance(raise_on_failure, bool):
        raise ValidationError("raise_on_failure", "must be True or False")
