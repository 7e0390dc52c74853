"""The values of ``truebit``'s options: the text typed, checked and converted, or an argparse error
that names what was expected (never quoting a header, which holds a secret)."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any

#: What ``--timeout`` and ``--rate`` take for "no limit".
NO_LIMIT = ("none", "never", "inf")


def _number(text: str, expected: str, *, zero: bool = False, no_limit: bool = False) -> float:
    """``text`` as a finite number > 0 (>= 0 with ``zero``); the message names ``expected``."""
    alternative = " or 'none'" if no_limit else ""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}{alternative}, got {text!r}") from None
    if not (math.isfinite(value) and (value >= 0 if zero else value > 0)):
        bound = ">= 0" if zero else "> 0"
        raise argparse.ArgumentTypeError(f"expected {expected} {bound}{alternative}, got {text!r}")
    return value


def timeout(text: str) -> float | None:
    if text.strip().lower() in NO_LIMIT:
        return None
    return _number(text, "seconds", zero=True, no_limit=True)


def positive_seconds(text: str) -> float:
    return _number(text, "seconds")


def rate(text: str) -> float | None:
    """``truebit batch --rate``: requests per second, or 'none' for no limit."""
    if text.strip().lower() in NO_LIMIT:
        return None
    return _number(text, "requests per second", no_limit=True)


def param(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    try:
        value: Any = json.loads(raw)
    except ValueError:
        value = raw
    return name.strip(), value


def header(text: str) -> tuple[str, str]:
    """``'Name: value'``. An empty value (``'X-Flag:'``) is a header with an empty value: HTTP allows
    it (RFC 9110, section 5.5) and so does the spec's ``input.headers`` (any string). The message
    never quotes the argument: it holds a secret."""
    name, sep, value = text.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError("expected 'NAME: VALUE' with a colon (quoted, as one argument)")
    if not name.strip():
        raise argparse.ArgumentTypeError("the header's name, before the colon, is empty")
    return name.strip(), value.strip()


def json_body(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON ({exc})") from None
