"""What a batch writes of an answer: scrubbed of the header values its request sent, in every encoding
a target may echo them in.

The client's scrubber (``truebit_facade.scrub_secrets``) replaces a secret as text: as sent, JSON-
escaped, re-decoded as latin-1. A ledger outlives the process, so the batch also replaces the forms
that text scanning would miss: percent-encoded (a query string echoed back), hex and base64 (at any
alignment inside a longer base64 text: ``Basic <base64(user:secret)>``), and the secret's bytes inside
a binary answer, which the service hands over as ``{"base64": ...}`` (decoded, scrubbed, re-encoded).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import functools
import json
import urllib.parse
from typing import Any

from .. import scrub_secrets, to_builtin

__all__ = ["scrub_stored"]

REDACTED = "[REDACTED]"
#: A base64 core shorter than this is not replaced: it would match ordinary text by chance.
_MIN_CORE = 6


def _base64_cores(raw: bytes) -> set[str]:
    """The part of ``base64(x + raw + y)`` that depends on ``raw`` alone, for each alignment of
    ``raw`` (0, 1 or 2 bytes into a group of three), in the standard and URL-safe alphabets."""
    cores: set[str] = set()
    for shift in range(3):
        encoded = base64.b64encode(b"\0" * shift + raw + b"\0\0").decode("ascii")
        start = (0, 2, 3)[shift]  # characters that also carry the bytes before the secret
        end = ((shift + len(raw)) * 8) // 6  # characters fully inside the secret's bits
        core = encoded[start:end]
        if len(core) >= _MIN_CORE:
            cores.update((core, core.replace("+", "-").replace("/", "_")))
    return cores


@functools.lru_cache(maxsize=256)
def _forms(secret: str) -> tuple[tuple[str, ...], tuple[bytes, ...]]:
    """Text forms (longest first) and byte forms of one secret."""
    raw = secret.encode("utf-8", "surrogatepass")
    text = {
        secret,
        urllib.parse.quote(secret, safe=""),
        urllib.parse.quote_plus(secret, safe=""),
        urllib.parse.quote(secret),
        raw.hex(),
        raw.hex().upper(),
        *_base64_cores(raw),
    }
    text = {form for form in text if len(form) >= 3}
    binary = {form.encode("utf-8", "surrogatepass") for form in text}
    binary.add(raw)
    with contextlib.suppress(UnicodeEncodeError):
        binary.add(secret.encode("latin-1"))
    binary.add(secret.encode("utf-16-le", "surrogatepass"))
    return tuple(sorted(text, key=len, reverse=True)), tuple(sorted(binary, key=len, reverse=True))


def _scrub_text(text: str, secrets: tuple[str, ...]) -> str:
    for secret in secrets:
        for form in _forms(secret)[0]:
            if form in text:
                text = text.replace(form, REDACTED)
    return text


def _scrub_base64(text: str, secrets: tuple[str, ...]) -> str:
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return _scrub_text(text, secrets)
    scrubbed = data
    for secret in secrets:
        for form in _forms(secret)[1]:
            scrubbed = scrubbed.replace(form, REDACTED.encode())
    # Any base64 text: re-encoded (the bytes changed) and still checked as text.
    return _scrub_text(base64.b64encode(scrubbed).decode("ascii"), secrets)


def _walk(value: Any, secrets: tuple[str, ...], key: object = None) -> Any:
    if isinstance(value, str):
        return _scrub_base64(value, secrets) if key == "base64" else _scrub_text(value, secrets)
    if isinstance(value, dict):
        return {
            (_scrub_text(k, secrets) if isinstance(k, str) else k): _walk(v, secrets, k)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_walk(v, secrets) for v in value]
    return value


def scrub_stored(value: Any, secrets: tuple[str, ...]) -> Any:
    """``value`` (an answer's JSON) as the ledger may keep it: see the module docstring."""
    usable = tuple(s for s in secrets if s)
    if not usable or not _may_hold(value, usable):
        return value  # as it came: a read-only result's JSON is stored as it is
    return _walk(scrub_secrets(to_builtin(value), usable), usable)


#: Characters whose secret the client's scrubber may also find spelt otherwise (JSON-escaped,
#: re-decoded as latin-1): a secret of printable ASCII without them has no other spelling.
_RESPELT = frozenset('"\\/')
#: The JSON text :func:`_may_hold` searches (``/`` and every printable ASCII character but ``"`` and
#: ``\\`` are written as they are).
_TEXT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _plain(secret: str) -> bool:
    return secret.isascii() and secret.isprintable() and not _RESPELT.intersection(secret)


@functools.lru_cache(maxsize=256)  # a batch's few sets of secrets, asked twice per finished task
def _all_plain(secrets: tuple[str, ...]) -> bool:
    return all(_plain(secret) for secret in secrets)


def _may_hold(value: Any, secrets: tuple[str, ...]) -> bool:
    """Whether scrubbing could change ``value`` (most answers hold no secret: the walk that rebuilds
    them is then skipped). Sure only for plain secrets (see :data:`_RESPELT`) and no binary field;
    otherwise it says yes. The value is looked at as its JSON text, made in C: a plain secret is
    written there as it is wherever a string or key holds it (JSON escapes none of its characters),
    so a form found nowhere in the text is in no string. One found across two tokens, or in a
    number, is a false alarm, which costs the walk, never a secret."""
    if not _all_plain(secrets):
        return True
    if isinstance(value, str):
        text = value
        if value in secrets:  # a whole string, however short
            return True
    else:
        try:
            text = _TEXT.encode(value)
        except (TypeError, ValueError, RecursionError):
            return True  # not JSON data: the walk decides
        if '"base64":' in text:
            return True
        for secret in secrets:
            if f'"{secret}"' in text:  # a whole string or key, however short
                return True
    for secret in secrets:
        for form in _forms(secret)[0]:
            if form in text:
                return True
    return False
