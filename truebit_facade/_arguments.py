"""The resources' own arguments, checked before anything is sent: which options each kind of call
takes (``run_many`` checks a mapping's keys against them), and the flags ``run`` and ``wait`` share.
Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._errors import ValidationError

__all__ = ["API_OPTIONS", "FUNCTION_OPTIONS", "check_flags", "check_keywords", "pick"]

# extra_headers / extra_body: sent as given, for what the service accepts before this client knows it
# (the API is a beta); they cannot replace what the client sets itself.
FUNCTION_OPTIONS = (
    "version",
    "label",
    "total_solutions",
    "required_solutions",
    "gas_limit",
    "requester_timestamp",
    "extra_headers",
    "extra_body",
)
API_OPTIONS = (
    "path",
    "method",
    "params",
    "headers",
    "body",
    "execution_timeout",
    "version",
    "label",
    "extra_headers",
    "extra_body",
)


def pick(given: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The options named ``names`` out of a call's ``locals()``."""
    return {name: given[name] for name in names}


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
