"""Checks of user input, run before any network I/O. Each failure is a ``ValidationError`` naming
the field. Messages never quote a header value or the API key."""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from ._errors import ValidationError

UINT32_MAX = 4294967295
#: Compact JSON as the wire carries it, made once (json.dumps with options builds an encoder per call).
COMPACT_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})
# RFC 9110 token characters: what a header name may contain.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # used with fullmatch: "$" would allow a final "\n"
#: What an API key may be: visible ASCII (a pasted BOM or non-breaking space would crash the header).
API_KEY = re.compile(r"[\x21-\x7e]+")
_TEMPLATE_PARAM = re.compile(r"\{([^{}]*)\}")


@functools.cache
def _patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    # Made on first need: their Unicode ranges make them the slowest part of importing the package.
    return (
        re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]"),  # C0, DEL, C1 and Unicode line breaks
        # A header value may contain tab (RFC 9110) but no other control character.
        re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]"),
    )


def _has_control(value: str) -> bool:
    """Whether ``value`` holds a C0, DEL or C1 control character or a Unicode line break. Printable
    text (most of it) holds none of them, which ``str.isprintable`` says in C; only the rest is searched."""
    return not value.isprintable() and _patterns()[0].search(value) is not None


def _bad_in_header_value(value: str) -> bool:
    """As :func:`_has_control`, tab allowed."""
    return not value.isprintable() and _patterns()[1].search(value) is not None


def duration(field: str, value: object, *, positive: bool = False) -> float:
    """A duration given as seconds (a number) or a ``timedelta``, as finite seconds >= 0 (> 0 with
    ``positive``): the one check of every timeout, hold and backoff a user gives."""
    if isinstance(value, bool) or not isinstance(value, int | float | timedelta):
        raise ValidationError(field, "must be seconds (a number) or a timedelta")
    secs = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if not math.isfinite(secs) or secs < 0 or (positive and secs == 0):
        raise ValidationError(field, f"must be a finite number of seconds {'> 0' if positive else '>= 0'}")
    return secs


def name(field: str, value: object) -> str:
    """A namespace or task name: a non-blank string without control characters."""
    if not isinstance(value, str):
        raise ValidationError(field, f"must be a string, not {type(value).__name__}")
    text(field, value)
    if not value.strip():
        raise ValidationError(field, "must not be empty or blank")
    if _has_control(value):
        raise ValidationError(field, "must not contain control characters")
    return value


def optional_name(field: str, value: object) -> str | None:
    return None if value is None else name(field, value)


def uint32(field: str, value: object, *, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, f"must be an integer, not {type(value).__name__}")
    if not minimum <= value <= UINT32_MAX:
        raise ValidationError(field, f"must be between {minimum} and {UINT32_MAX}, got {value}")
    return value


def solutions(total: object, required: object) -> tuple[int, int]:
    total_ = uint32("total_solutions", total, minimum=1)
    required_ = uint32("required_solutions", required, minimum=1)
    if required_ > total_:
        raise ValidationError("required_solutions", f"must be <= total_solutions ({total_}), got {required_}")
    return total_, required_


def gas_limit(value: object) -> str | None:
    """An instruction budget as the decimal string the API wants."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("gas_limit", f"must be an integer, not {type(value).__name__}")
    if value < 1:
        raise ValidationError("gas_limit", f"must be positive, got {value}")
    return str(value)


def execution_id(value: object) -> str:
    if not isinstance(value, str):
        raise ValidationError("execution_id", f"must be a string, not {type(value).__name__}")
    text("execution_id", value)
    if not value.strip():
        raise ValidationError("execution_id", "must not be empty or blank")
    if "/" in value or "\\" in value or value in (".", ".."):
        raise ValidationError("execution_id", "must not contain '/' or be a dot segment")
    if _has_control(value) or value != value.strip():
        raise ValidationError("execution_id", "must not contain control characters or surrounding spaces")
    return value


def json_value(field: str, value: object) -> str:
    """``value`` as compact JSON; fails on what JSON cannot carry (sets, NaN, lone surrogates...)."""
    try:
        encoded = COMPACT_JSON.encode(value)
        encoded.encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:
        raise ValidationError(field, f"is not JSON-serialisable ({type(exc).__name__})") from None
    return encoded


def text(field: str, value: str) -> str:
    """Text that can be sent: a lone surrogate (``"\\ud800"``) cannot be written as UTF-8."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(field, "is not valid Unicode text (lone surrogate)") from None
    return value


def headers(value: object, field: str = "headers") -> dict[str, str]:
    """``input.headers`` (or ``extra_headers``): names are HTTP tokens; values are strings with no CR,
    LF or other control characters (header injection). The message names the header, never its value."""
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError(field, f"must be a mapping of names to values, not {type(value).__name__}")
    checked: dict[str, str] = {}
    for key, val in value.items():
        if not isinstance(key, str) or not _TOKEN.fullmatch(key):
            shown = repr(key) if isinstance(key, str) and not _has_control(key) else "a header name"
            raise ValidationError(field, f"{shown} is not a valid header name")
        if not isinstance(val, str):
            raise ValidationError(f"{field}[{key!r}]", f"value must be a string, not {type(val).__name__}")
        if _bad_in_header_value(val):
            raise ValidationError(f"{field}[{key!r}]", "value must not contain CR, LF or control characters")
        text(f"{field}[{key!r}]", val)
        checked[key] = val
    return checked


#: Headers of a request that this client sets itself and ``extra_headers`` may not replace.
OWN_HEADERS = frozenset(
    {
        "x-api-key",
        "host",
        "content-type",
        "content-length",
        "transfer-encoding",
        "connection",
        "accept-encoding",
    }
)


def extra_headers(value: object) -> dict[str, str]:
    """Headers added to one request (``extra_headers=``): the header rules, and none of ours."""
    checked = headers(value, "extra_headers")
    for name, val in checked.items():
        if not val.isascii():  # sent as an HTTP header of this request: ASCII only
            raise ValidationError(f"extra_headers[{name!r}]", "value must be ASCII")
        if name.lower() in OWN_HEADERS:
            raise ValidationError("extra_headers", f"{name!r} is set by this client and cannot be replaced")
    return checked


def extra_body(value: object, body: Mapping[str, Any]) -> dict[str, Any]:
    """Fields added to one request body (``extra_body=``): for a field the service accepts before
    this client version knows it. A field this client sets cannot be replaced (its checks would be
    bypassed); the value must be JSON."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise ValidationError("extra_body", "must be a mapping of field names to JSON values")
    for name in value:
        if name in body:
            raise ValidationError("extra_body", f"{name!r} is set by this client; use its own argument")
    json_value("extra_body", dict(value))
    return dict(value)


def method(value: object) -> str:
    if not isinstance(value, str) or value.upper() not in HTTP_METHODS:
        raise ValidationError("method", f"must be one of {', '.join(sorted(HTTP_METHODS))}")
    return value.upper()


def api_path(path: object, params: Mapping[str, Any]) -> str:
    """An API-task path template: relative to the task's server, every ``{name}`` filled by params."""
    if not isinstance(path, str) or not path.strip():
        raise ValidationError("path", "must be a non-empty string")
    if not path.startswith("/") or path.startswith("//") or "://" in path:
        raise ValidationError("path", "must be a path template starting with a single '/', not a URL")
    if _has_control(path) or " " in path:
        raise ValidationError("path", "must not contain spaces or control characters")
    text("path", path)
    for param in _TEMPLATE_PARAM.findall(path):
        if not param:
            raise ValidationError("path", "has an empty '{}' template parameter")
        if param not in params:
            raise ValidationError("params", f"missing path parameter {param!r} used in the path template")
    return path


def params(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise ValidationError("params", f"must be a mapping, not {type(value).__name__}")
    for key, val in value.items():
        if not isinstance(key, str) or not key:
            raise ValidationError("params", "parameter names must be non-empty strings")
        if isinstance(val, float) and not math.isfinite(val):
            raise ValidationError(f"params[{key!r}]", "must be a finite number")
    json_value("params", dict(value))
    return dict(value)
