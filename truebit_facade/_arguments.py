"""The resources' own arguments, checked before anything is sent: which options each kind of call
takes (``run_many`` checks a mapping's keys against them), and the flags ``run`` and ``wait`` share.
Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any, TypedDict

from ._errors import ValidationError

__all__ = [
    "API_OPTIONS",
    "FUNCTION_OPTIONS",
    "ApiOptions",
    "FunctionOptions",
    "check_flags",
    "check_keywords",
]


class _TaskOptions(TypedDict, total=False):
    #: The task's version to run, or the ``label`` that names one (not both); default: the latest.
    version: int | None
    label: str | None
    #: Sent as given, for what the service accepts before this client knows it (the API is a beta);
    #: they cannot replace what the client sets itself.
    extra_headers: Mapping[str, str] | None
    extra_body: Mapping[str, Any] | None


class FunctionOptions(_TaskOptions, total=False):
    """The options of ``functions.run`` and ``functions.submit`` (all optional): ``version`` or
    ``label``; ``total_solutions`` (default 1) nodes run the task and ``required_solutions`` (default:
    all of them) must agree; ``gas_limit`` is the instruction budget (default: the task's);
    ``requester_timestamp`` (default: now, in Unix seconds); ``extra_headers`` and ``extra_body``."""

    total_solutions: int
    required_solutions: int | None
    gas_limit: int | None
    requester_timestamp: int | None


class ApiOptions(_TaskOptions, total=False):
    """The options of ``api_tasks.run`` and ``api_tasks.submit`` besides ``path`` (all optional):
    ``method`` (default ``GET``); ``params`` fill the path's ``{name}`` templates and the query;
    ``headers`` are injected into the outgoing call (secret: never logged); ``body`` is its JSON body;
    ``execution_timeout`` (default 30 s, seconds or a ``timedelta``) bounds it; ``version`` or
    ``label``; ``extra_headers`` and ``extra_body``."""

    method: str
    params: Mapping[str, Any] | None
    headers: Mapping[str, str] | None
    body: Any
    execution_timeout: float | timedelta


# The keys ``run_many`` and the ``**options`` of run/submit accept (an unknown one is a ValidationError).
FUNCTION_OPTIONS = tuple(FunctionOptions.__annotations__)
API_OPTIONS = ("path", *ApiOptions.__annotations__)


def check_keywords(options: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValidationError(unknown[0], f"is not an option here (allowed: {', '.join(allowed)})")


def check_flags(on_status: object, raise_on_failure: object = True) -> None:
    """The call's own flags, checked before anything is sent."""
    if on_status is not None and not callable(on_status):
        raise ValidationError("on_status", "must be a callable taking the result, or None")
    if not isinstance(raise_on_failure, bool):
        raise ValidationError("raise_on_failure", "must be True or False")
