"""The start counters' keys: canonical JSON, and the SHA-256 stand-in for long keys."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from ..rules import redact_body

__all__ = ["MAX_COUNTER_KEY", "canonical_json", "counted_body", "counter_key"]

#: Counter keys longer than this are replaced by their SHA-256, so counters stay small.
MAX_COUNTER_KEY = 1024


def counter_key(text: str) -> str:
    """The key a start counter uses for ``text``: itself, or ``sha256:<hex>`` when longer than
    :data:`MAX_COUNTER_KEY` characters."""
    if len(text) <= MAX_COUNTER_KEY:
        return text
    return "sha256:" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def canonical_json(value: Any) -> str:
    """The key of the start counters: JSON with sorted keys, no spaces, non-ASCII kept."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def counted_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """A request body as the counters (and the store) see it: an API request's ``input.headers``
    values redacted (by the client's one redaction rule)."""
    return redact_body(body) if isinstance(body.get("input"), dict) else dict(body)
