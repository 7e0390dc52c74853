"""Bounds on an execution's input, checked before any other work and before any credit is taken.

Past them a request is a 400 whose message names the bound (the :class:`ApiInputLimits` field, or
``max_input_bytes`` / ``scratch_bytes`` for a function task), never a value: a header value is a
credential, and a path or parameter may carry one too. Each check is linear in the size of the input,
so an oversized request costs about as much as reading it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ._validation import ApiInput, RequestError

__all__ = ["ApiInputLimits", "check_api_input", "check_function_input"]


@dataclass(frozen=True)
class ApiInputLimits:
    """How large an API task's ``input`` may be.

    ``max_headers``: how many ``input.headers``; ``max_header_bytes``: their names and values together
    (UTF-8 bytes); ``max_path_chars``: ``input.path``; ``max_params``: how many ``input.params``
    (a list value counts each item); ``max_param_chars``: each parameter name and value.
    """

    max_headers: int = 64
    max_header_bytes: int = 16384
    max_path_chars: int = 2048
    max_params: int = 64
    max_param_chars: int = 2048

    def __post_init__(self) -> None:
        for name in ("max_headers", "max_header_bytes", "max_path_chars", "max_params", "max_param_chars"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")


def check_api_input(call: ApiInput, limits: ApiInputLimits) -> None:
    """:class:`RequestError` (400) naming the first bound ``call`` goes beyond."""
    if len(call.headers) > limits.max_headers:
        raise RequestError(f"'input.headers': more than {limits.max_headers} headers (max_headers)")
    size = 0
    for name, value in call.headers.items():
        size += len(name) + len(value.encode("utf-8", "surrogatepass"))
        if size > limits.max_header_bytes:
            raise RequestError(
                f"'input.headers': names and values longer than {limits.max_header_bytes} bytes in all"
                " (max_header_bytes)"
            )
    if len(call.path) > limits.max_path_chars:
        raise RequestError(f"'input.path' is longer than {limits.max_path_chars} characters (max_path_chars)")
    count = 0
    for name, value in call.params.items():
        items: list[Any] = value if isinstance(value, list) else [value]
        count += len(items)
        if count > limits.max_params:
            raise RequestError(f"'input.params': more than {limits.max_params} values (max_params)")
        if len(name) > limits.max_param_chars or any(
            _too_long(item, limits.max_param_chars) for item in items
        ):
            raise RequestError(
                f"'input.params': a name or value is longer than {limits.max_param_chars} characters"
                " (max_param_chars)"
            )


def check_function_input(text: str, *, max_input_bytes: int, scratch_bytes: int) -> None:
    """:class:`RequestError` (400) if a function task's input (``input.txt``) is larger than
    ``max_input_bytes`` (``SandboxConfig``) or than the task's whole file quota (``scratch_bytes``)."""
    if len(text) <= min(max_input_bytes, scratch_bytes) // 4:  # at most 4 bytes a character
        return
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > max_input_bytes:
        raise RequestError(
            f"input too large: 'input' is {size} bytes in UTF-8, more than {max_input_bytes} (max_input_bytes)"
        )
    if size > scratch_bytes:
        raise RequestError(
            f"input too large: 'input' is {size} bytes in UTF-8, more than the task's file quota of"
            f" {scratch_bytes} bytes (scratch_bytes)"
        )


def _too_long(value: Any, limit: int) -> bool:
    if isinstance(value, str):
        return len(value) > limit
    if isinstance(value, dict | list):  # refused later as a value of the wrong shape; bounded here
        return len(str(value)) > limit
    return len(repr(value)) > limit
