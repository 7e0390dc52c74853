"""What a batch runs: the job (task kind, namespace, task, shared options) and its items, with the
stable key of each item, the digest that detects a changed input on resume, and scrubbing of secrets.

Nothing secret leaves this module in a form that could be written to disk: the digest covers an API
task's header *names* but never their values (see :func:`item_digest` for why), and :func:`scrub`
removes header values from anything the service sends back before it is stored.
"""

from __future__ import annotations

import hmac
import json
import math
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Literal

import attrs

from .. import ValidationError

__all__ = ["BatchItem", "ItemDigest", "Job", "item_digest", "item_secrets"]

Kind = Literal["function", "api"]

#: Keys longer than this are refused: a key is an identifier, not a payload.
MAX_KEY_LENGTH = 512
#: The deepest nesting of an input (as the sandbox's JSON bodies): deeper data is refused before any
#: row is written, rather than failing in a recursive encoder on the way to the service.
MAX_INPUT_DEPTH = 64
#: The largest input, as compact JSON (UTF-8 bytes).
MAX_INPUT_BYTES = 8 << 20
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@attrs.frozen
class BatchItem:
    """One input with a key of your choosing (default: its position in the input stream, ``"0"``,
    ``"1"``...). ``value`` is a function task's input, or the mapping of an API task's call (``path``,
    ``method``, ``params``, ``headers``, ``body``, ...). The key identifies the row in the ledger: give
    each input the same key on every run."""

    key: str
    value: Any


@attrs.frozen
class Job:
    """The task every item runs and the ``submit`` options shared by all of them. ``headers`` (API
    tasks) are kept apart from ``options`` because they are secrets: they are sent, never stored."""

    kind: Kind
    namespace: str
    task: str
    options: Mapping[str, Any] = attrs.field(factory=dict)
    headers: Mapping[str, str] | None = None

    def identity(self) -> dict[str, str]:
        """What the ledger records of the job (no options: they may be large; their digest is in
        every row)."""
        return {"kind": self.kind, "namespace": self.namespace, "task": self.task}

    def call(self, value: Any) -> dict[str, Any]:
        """The keyword arguments of ``submit`` for one item (API tasks: headers merged, the item's win)."""
        if self.kind == "function":
            return {**self.options, "input": value}
        if not isinstance(value, Mapping):
            raise ValidationError("calls", "each API task call must be a mapping of submit's arguments")
        call = {**self.options, **value}
        headers = {**(self.headers or {}), **(value.get("headers") or {})}
        call["headers"] = headers or None
        return call


def check_key(key: object) -> str:
    """A key as the ledger keeps it: non-empty text of at most :data:`MAX_KEY_LENGTH` characters,
    valid Unicode (no lone surrogate: it could not be written), no control characters."""
    if not isinstance(key, str) or not key or len(key) > MAX_KEY_LENGTH:
        raise ValidationError("key", f"a batch key must be a non-empty string of at most {MAX_KEY_LENGTH}")
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            "key", "a batch key must be valid Unicode text (it has a lone surrogate)"
        ) from None
    if _CONTROL.search(key):
        raise ValidationError("key", "a batch key must not contain control characters")
    return key


def check_value(value: Any, field: str = "input") -> None:
    """An input is JSON data (mappings with string keys, lists, text, finite numbers, booleans,
    ``None``; ``timedelta`` for durations), nested at most :data:`MAX_INPUT_DEPTH` deep, its text
    valid Unicode. Checked without recursion, so 10,000 levels are refused, not a ``RecursionError``."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            _text(field, node)
        elif node is None or isinstance(node, bool | int | timedelta):
            continue
        elif isinstance(node, float):
            if not math.isfinite(node):
                raise ValidationError(field, "must be JSON data: NaN and infinities are not")
        elif isinstance(node, Mapping | list | tuple):
            if depth > MAX_INPUT_DEPTH:
                raise ValidationError(field, f"is nested deeper than {MAX_INPUT_DEPTH} levels")
            if isinstance(node, Mapping):
                for name, child in node.items():
                    if not isinstance(name, str):
                        raise ValidationError(field, "must be JSON data: object keys are strings")
                    _text(field, name)
                    stack.append((child, depth + 1))
            else:
                stack.extend((child, depth + 1) for child in node)
        else:
            raise ValidationError(field, f"must be JSON data, not {type(node).__name__}")


def _text(field: str, text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(field, "must be valid Unicode text (it has a lone surrogate)") from None


def key_of(item: Any, position: int) -> tuple[str, Any]:
    """The key and value of an input (a :class:`BatchItem`'s own key, else its position), both
    checked: nothing is written for an input that could not be sent."""
    if isinstance(item, BatchItem):
        key, value = check_key(item.key), item.value
    else:
        key, value = str(position), item
    check_value(value)
    return key, value


def item_secrets(job: Job, value: Any) -> tuple[str, ...]:
    """The header values an item sends (longest first): scrubbed from whatever is stored."""
    if job.kind != "api":
        return ()
    found = set((job.headers or {}).values())
    if isinstance(value, Mapping) and isinstance(value.get("headers"), Mapping):
        found.update(str(v) for v in value["headers"].values())
    return tuple(sorted((s for s in found if s), key=len, reverse=True))


def _public(job: Job, value: Any) -> tuple[list[str], Any]:
    """The item as the digest sees it: its header names (the job's and its own), its call without
    the header values."""
    headers = dict(job.headers or {})
    item = value
    if job.kind == "api" and isinstance(value, Mapping):
        item = dict(value)
        if isinstance(item.get("headers"), Mapping):
            headers.update(item.pop("headers"))
    return sorted(str(name).lower() for name in headers), item


def _jsonable(value: Any) -> Any:
    if isinstance(value, timedelta):
        return value.total_seconds()
    raise ValidationError("inputs", f"a batch input must be JSON data, not {type(value).__name__}")


#: Made once: ``json.dumps`` with options builds an encoder on every call (two per input).
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=_jsonable)


def canonical(value: Any) -> bytes:
    try:
        return _CANONICAL.encode(value).encode("utf-8")
    except (TypeError, ValueError, RecursionError) as exc:  # after check_value: only a caller's odd type
        raise ValidationError("inputs", f"a batch input must be JSON data ({type(exc).__name__})") from None


class ItemDigest:
    """HMAC-SHA256, keyed with the ledger's random salt, of everything that defines an item's
    execution: the canonical JSON of ``{"header_names", "item", "job", "options"}`` (the job, its
    shared options, the item, and the *names* of the headers it injects). The job's part is encoded
    once: the bytes are those of the whole object, so every ledger's digests stay as they were.

    Header values are left out on purpose. A salted hash stored next to its salt does not protect a
    low-entropy secret (whoever has the file can hash guesses), so the only safe digest of a credential
    is none. And a rotated credential is not a different task: resuming with a renewed token must not
    be refused as a changed input. The salt still keeps the digests of two ledgers from being compared
    (the same input does not give the same digest in another ledger)."""

    __slots__ = ("_job", "_salt", "_tail")

    def __init__(self, salt: bytes, job: Job) -> None:
        self._salt, self._job = salt, job
        # Keys in sorted order, as canonical() writes them: header_names, item, job, options.
        self._tail = (
            b',"job":' + canonical(job.identity()) + b',"options":' + canonical(dict(job.options)) + b"}"
        )

    def __call__(self, value: Any) -> str:
        names, item = _public(self._job, value)
        data = b'{"header_names":' + canonical(names) + b',"item":' + canonical(item) + self._tail
        if len(data) > MAX_INPUT_BYTES:
            raise ValidationError("input", f"is larger than {MAX_INPUT_BYTES >> 20} MiB as JSON")
        return hmac.digest(self._salt, data, "sha256").hex()


def item_digest(salt: bytes, job: Job, value: Any) -> str:
    """One item's digest (see :class:`ItemDigest`)."""
    return ItemDigest(salt, job)(value)
