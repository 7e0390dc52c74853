"""Redaction: the one place that decides what is secret and hides it.

Secret are the API key (header ``x-api-key``) and every value of ``input.headers`` of an API task
(they are the caller's credentials for the target API). They are replaced in what the library logs,
in reprs and in the body excerpts that errors carry.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

logger = logging.getLogger("truebit_facade")

REDACTED = "[REDACTED]"
_MAX_LOGGED = 2000


def redact_body(body: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a request body with every ``input.headers`` value replaced."""
    out = dict(body)
    inp = out.get("input")
    if isinstance(inp, Mapping) and isinstance(inp.get("headers"), Mapping):
        out["input"] = {**inp, "headers": dict.fromkeys(inp["headers"], REDACTED)}
    return out


def secrets_of(api_key: str | None, body: Mapping[str, Any] | None) -> tuple[str, ...]:
    found = [api_key] if api_key else []
    inp = (body or {}).get("input")
    if isinstance(inp, Mapping) and isinstance(inp.get("headers"), Mapping):
        found.extend(v for v in inp["headers"].values() if isinstance(v, str) and v)
    # Longest first, so a secret containing another is replaced whole.
    return tuple(sorted(set(found), key=len, reverse=True))


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every occurrence of a secret replaced (for echoes in server answers), also in
    the forms a JSON encoder writes it (escaped quotes and backslashes, ``\\uXXXX``, ``\\/``)."""
    for secret in secrets:
        if len(secret) >= 3:
            for form in _spellings(secret):
                text = text.replace(form, REDACTED)
    return text


@functools.lru_cache(maxsize=1024)  # a client's few secrets, spelt once each
def _spellings(secret: str) -> tuple[str, ...]:
    # The secret as sent (UTF-8) but read back by a server as latin-1 or cp1252 (mojibake): an HTTP
    # header value echoed that way would otherwise slip past.
    variants = {secret}
    raw = secret.encode("utf-8", "surrogatepass")
    for codec in ("latin-1", "cp1252"):
        with contextlib.suppress(UnicodeDecodeError):  # cp1252 leaves five bytes undefined
            variants.add(raw.decode(codec))
    forms: set[str] = set()
    for variant in variants:
        forms.add(variant)
        for ascii_only in (True, False):
            escaped = json.dumps(variant, ensure_ascii=ascii_only)[1:-1]
            forms.update((escaped, escaped.replace("/", "\\/")))
    return tuple(sorted(forms, key=len, reverse=True))


#: The shortest secret whose presence *inside* an execution id refuses the id. Shorter ones refuse it
#: only when they are the whole id: a random id of 32 hex digits holds a given 3-character value by
#: chance (a header value of "123", say) about once in 130 ids, and refusing it would lose its task.
MIN_SECRET_IN_ID = 8


def reveals(value: str, secrets: Iterable[str]) -> bool:
    """Whether showing ``value`` (an execution id the server assigned) would show a secret: it is
    one, or holds one of ``MIN_SECRET_IN_ID`` characters or more, in any spelling ``scrub`` knows."""
    for secret in secrets:
        if value == secret:
            return True
        if len(secret) >= MIN_SECRET_IN_ID:
            for form in _spellings(secret):
                if form in value:
                    return True
    return False


def scrub_json(value: Any, secrets: tuple[str, ...]) -> Any:
    if not secrets:
        return value
    if isinstance(value, str):
        # A string that *is* a secret goes whatever its length (an echoed header value of "42").
        return REDACTED if value in secrets else scrub(value, secrets)
    if isinstance(value, dict):
        return {
            scrub(k, secrets) if isinstance(k, str) else k: scrub_json(v, secrets) for k, v in value.items()
        }
    if isinstance(value, list):
        return [scrub_json(v, secrets) for v in value]
    return value


def scrub_secrets(value: Any, secrets: Iterable[str]) -> Any:
    """``value`` (text, or JSON data: dicts, lists, strings...) with every occurrence of each secret
    replaced by ``[REDACTED]``, in the spellings a server echoes it in (as sent, JSON-escaped,
    re-decoded as latin-1). The client's one scrubber, public for wings such as the batch."""
    ordered = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))
    return scrub_json(value, ordered)


def mask_key(api_key: str | None) -> str:
    return "None" if api_key is None else "'***'"


def logging_requests() -> bool:
    """Whether requests and answers are logged (DEBUG): a driver skips timing them when not."""
    return logger.isEnabledFor(logging.DEBUG)


def log_request(method: str, path: str, body: Callable[[], Any], attempt: int) -> None:
    """Log one request at DEBUG: ``input.headers`` values and the API key replaced."""
    if not logger.isEnabledFor(logging.DEBUG):
        return
    value = body()
    shown = "" if value is None else " body=" + _clip(json.dumps(redact_body(value), ensure_ascii=False))
    again = f" (attempt {attempt})" if attempt > 1 else ""
    logger.debug("request %s %s%s x-api-key=%s%s", method, path, again, REDACTED, shown)


def log_response(
    method: str, path: str, status: int, elapsed: float, content: bytes, book: SecretBook
) -> None:
    if not logger.isEnabledFor(logging.DEBUG):
        return
    secrets = book.known()
    longest = max((len(x) for x in secrets), default=0)
    window = content[: _MAX_LOGGED + 4 * longest].decode("utf-8", "replace")
    text = scrub(window, secrets)[:_MAX_LOGGED]  # scrubbed before the cut: a cut secret would leak
    logger.debug("response %s %s -> %d in %.1f ms body=%s", method, path, status, elapsed * 1000, text)


def log_sleep(seconds: float, why: str) -> None:
    """A retry at INFO (something failed and is being ridden out), a poll at DEBUG."""
    level = logging.INFO if why.startswith("retry") else logging.DEBUG
    if logger.isEnabledFor(level):
        logger.log(level, "%s: waiting %.2f s", why or "waiting", seconds)


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_LOGGED else text[:_MAX_LOGGED] + "...(truncated)"


#: The loggers of the HTTP stack under the client: they print what the server sent (a reason phrase,
#: header values, h11's quotes of a bad line) when the application turns them on (root at DEBUG).
_STACK_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


class _EchoFilter:
    """A ``logging`` filter for the stack's loggers: every secret of every live client scrubbed from
    the record (a server may echo one), also as httpcore writes it (inside a ``bytes`` repr). It runs
    only for records those loggers emit, in any thread, and never raises (a filter's exception would
    reach the call that logged)."""

    def __init__(self) -> None:
        import threading
        import weakref

        self.lock = threading.Lock()
        self.books: weakref.WeakSet[SecretBook] = weakref.WeakSet()

    def filter(self, record: Any) -> bool:
        try:
            with self.lock:
                books = list(self.books)
            found = {s for book in books for s in book.known()}
            if not found:
                return True
            found |= {repr(s.encode("utf-8", "surrogatepass"))[2:-1] for s in found}
            message = record.getMessage()
            scrubbed = scrub(message, sorted(found, key=len, reverse=True))
            if scrubbed != message:
                record.msg, record.args = scrubbed, None
        except Exception:  # a record that cannot be read or scrubbed is dropped, never shown raw
            return False
        return True


_ECHOES: _EchoFilter | None = None
_ECHOES_LOCK = threading.Lock()


def _watch_stack_logs(book: SecretBook) -> None:
    global _ECHOES
    with _ECHOES_LOCK:
        if _ECHOES is None:
            _ECHOES = _EchoFilter()
            for name in _STACK_LOGGERS:
                logging.getLogger(name).addFilter(_ECHOES)
        echoes = _ECHOES
    with echoes.lock:
        echoes.books.add(book)


class SecretBook:
    """What one client must never show: its API key and the ``input.headers`` values of its recent API
    tasks (a target may echo them in a later status answer). Bounded; shared by threads."""

    _SIZE = 256

    def __init__(self, api_key: str | None) -> None:
        import threading
        from collections import OrderedDict

        self._api_key = api_key
        self._lock = threading.Lock()
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._known: tuple[str, ...] | None = None
        _watch_stack_logs(self)

    def __repr__(self) -> str:
        return f"<SecretBook of {len(self._recent) + bool(self._api_key)} secrets>"

    def remember(self, secrets: Iterable[str]) -> None:
        with self._lock:
            changed = False
            for s in secrets:
                if s and s != self._api_key:
                    self._recent[s] = None
                    self._recent.move_to_end(s)
                    changed = True
            while len(self._recent) > self._SIZE:
                self._recent.popitem(last=False)
            if changed:
                self._known = None

    def known(self) -> tuple[str, ...]:
        """Every secret, longest first (so one that contains another is replaced whole)."""
        known = self._known  # read on every request and answer; changed only by remember()
        if known is None:
            with self._lock:
                found = set(self._recent)
                if self._api_key:
                    found.add(self._api_key)
                self._known = known = tuple(sorted(found, key=len, reverse=True))
        return known


def configure_from_env() -> None:
    """``TRUEBIT_LOG=debug|info`` turns on this package's logging to stderr (as ``OPENAI_LOG`` does),
    secrets still redacted: requests and answers at debug, retries and waits at info. Unset leaves
    logging to the application; any other value does too, with a warning. Called once, at import."""
    import os
    import sys

    given = os.environ.get("TRUEBIT_LOG")
    level = {"debug": logging.DEBUG, "info": logging.INFO}.get((given or "").strip().lower())
    if level is None:
        if given is not None:  # set, but not to a level: say so rather than stay silent
            import warnings

            warnings.warn(
                f"TRUEBIT_LOG={given!r} is not a level: use 'debug' or 'info', or unset it",
                RuntimeWarning,
                stacklevel=2,
            )
        return
    if any(getattr(h, "_truebit_env", False) for h in logger.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    handler._truebit_env = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(level)
