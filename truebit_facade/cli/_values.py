"""The values of ``truebit``'s options: the text typed, checked and converted, or an argparse error
that names what was expected (never quoting a header, which holds a secret)."""

from __future__ import annotations

import argparse
import json
import math
from typing import Any


def timeout(text: str) -> float | None:
    if text.strip().lower() in ("none", "never", "inf"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds or 'none', got {text!r}") from None
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"expected seconds >= 0 or 'none', got {text!r}")
    return value


def positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected seconds > 0, got {text!r}")
    return value


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
    # The message never quotes the argument: it holds a secret.
    name, sep, value = text.partition(":")
    if not sep or not name.strip() or not value.strip():
        raise argparse.ArgumentTypeError("expected 'Name: value' (quoted, as one argument)")
    return name.strip(), value.strip()


def json_body(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not valid JSON ({exc})") from None
