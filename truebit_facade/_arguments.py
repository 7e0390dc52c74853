"""The resources' own arguments, checked before anything is sent: which options each kind of call
takes (``run_many`` checks a mapping's keys against them; the options themselves are typed in
:mod:`._options`), and the flags ``run`` and ``wait`` share. Pure: no I/O."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from ._errors import ValidationError
from ._models import TaskKind

__all__ = ["check_flags", "check_keywords", "options_of"]


@functools.cache
def options_of(kind: TaskKind) -> tuple[str, ...]:
    """The keys of a request's options, as :mod:`._options` types them."""
    from ._options import ApiOptions, FunctionOptions

    return tuple((FunctionOptions if kind == "function" else ApiOptions).__annotations__)


def check_keywords(options: Mapping[str, Any], kind: TaskKind) -> None:
    if not options:
        return
    allowed = options_of(kind)
    unknown = sorted(set(options) - set(allowed))
    if unknown:
        raise ValidationError(unknown[0], f"is not an option here (allowed: {', '.join(allowed)})")


def check_flags(on_status: object, raise_on_failure: object = True) -> None:
    """The call's own flags, checked before anything is sent."""
    if on_status is not None and not callable(on_status):
        raise ValidationError("on_status", "must be a callable taking the result, or None")
    if not isinstance(raise_on_failure, bool):
        raise ValidationError("raise_on_failure", "must be True or False")
