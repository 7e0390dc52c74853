"""A client's configuration: checked once, at construction, then frozen. Pure: no I/O.

Every argument is type-checked here, so a wrong one fails when the client is made, never later after a
task was submitted.
"""

from __future__ import annotations

import dataclasses
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Final, TypeVar
from urllib.parse import urlsplit

from ._errors import ValidationError
from ._policy import Deadline, PollPolicy, RetryPolicy
from ._validation import API_KEY, duration

__all__ = ["DEFAULT", "Settings", "Timeout"]

DEFAULT_BASE_URL: Final[str] = "https://run.truebit.network"
#: How long ``run`` and ``wait`` wait in all, unless told otherwise. Long enough for real tasks, short
#: enough that a stuck execution surfaces; the error carries the execution id to resume with ``wait``.
DEFAULT_WAIT_TIMEOUT: Final[float] = 1800.0
#: How long the service holds a sync-mode execute request before answering with the id alone.
DEFAULT_SYNC_HOLD: Final[float] = 60.0
#: Added to the hold for the wall-clock bound of a sync-mode request (network, queueing at the hub).
SYNC_MARGIN: Final[float] = 15.0
#: The wall-clock bound of one request (headers and body together), and of connecting.
DEFAULT_REQUEST_TIMEOUT: Final[float] = 30.0
DEFAULT_CONNECT_TIMEOUT: Final[float] = 10.0
#: The largest answer read; a real one is a few kilobytes (an API task's output a few megabytes).
DEFAULT_MAX_RESPONSE_BYTES: Final[int] = 32 * 1024 * 1024
#: A host name (letters, digits, dots, dashes) or an IP address (IPv6 without its brackets); compiled
#: (and cached) by ``re`` when a client is first made, not when the package is imported.
_HOST = r"[\w.-]+|[0-9A-Fa-f:.]+"


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT"


#: The sentinel for "use the client's setting", distinct from ``None`` ("no deadline").
DEFAULT: Final[_Default] = _Default()

Timeout = float | timedelta | None | _Default


class _Keep:
    def __repr__(self) -> str:
        return "KEEP"


#: "Leave this setting as it is" in ``with_options`` (where ``None`` means "no deadline").
KEEP: Final[_Keep] = _Keep()


def _from_env(name: str) -> str | None:
    """An environment variable's value; ``None`` when unset. Set but empty (a CI secret that did not
    resolve, ``export X=``) is an error, never a silent default: for the base URL the default is the
    production service."""
    value = os.environ.get(name)
    if value is not None and not value.strip():
        field = "api_key" if name == "TRUEBIT_API_KEY" else "base_url"
        raise ValidationError(field, f"{name} is set but empty: give it a value, or unset it for the default")
    return value


def _api_key(value: object) -> str | None:
    key = value if value is not None else _from_env("TRUEBIT_API_KEY")
    if key is not None and (not isinstance(key, str) or not API_KEY.fullmatch(key)):
        # Never echo the key: the message says only what is wrong with it.
        raise ValidationError("api_key", "must be a non-empty string of visible ASCII characters")
    return key


def _base_url(value: object) -> str:
    url = value if value is not None else _from_env("TRUEBIT_BASE_URL") or DEFAULT_BASE_URL
    if not isinstance(url, str):
        raise ValidationError("base_url", f"must be a string, not {type(url).__name__}")
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 or 0xD800 <= ord(c) <= 0xDFFF for c in url):
        raise ValidationError("base_url", "must not contain spaces, control characters or lone surrogates")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError on a port that is not a number in range
    except ValueError:
        raise ValidationError("base_url", "must be an http:// or https:// URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname or not re.fullmatch(_HOST, parts.hostname):
        raise ValidationError("base_url", "must be an http:// or https:// URL with a valid host name")
    if parts.username is not None or parts.query or parts.fragment or "?" in url or "#" in url:
        raise ValidationError("base_url", "must not carry a query, a fragment or credentials")
    return url.rstrip("/")


_P = TypeVar("_P", PollPolicy, RetryPolicy)


def _policy(field: str, value: object, cls: type[_P]) -> _P:
    """A poll or retry policy: ``None`` gives the default one."""
    if value is None:
        return cls()
    if not isinstance(value, cls):
        raise ValidationError(field, f"must be a {cls.__name__} (or None), not {type(value).__name__}")
    return value


def _positive_int(field: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValidationError(field, "must be a positive integer")
    return value


_CHANGEABLE = ("wait_timeout", "request_timeout", "sync_hold", "poll", "retry", "max_response_bytes")


@dataclass(frozen=True, repr=False)
class Settings:
    """What one client was configured with. ``api_key`` never appears in a repr."""

    api_key: str | None
    base_url: str
    wait_timeout: float | None
    request_timeout: float
    connect_timeout: float
    sync_hold: float
    poll: PollPolicy
    retry: RetryPolicy
    max_response_bytes: int
    clock: Callable[[], float]

    @classmethod
    def make(
        cls,
        *,
        api_key: object = None,
        base_url: object = None,
        wait_timeout: object = DEFAULT_WAIT_TIMEOUT,
        request_timeout: object = DEFAULT_REQUEST_TIMEOUT,
        connect_timeout: object = DEFAULT_CONNECT_TIMEOUT,
        sync_hold: object = DEFAULT_SYNC_HOLD,
        poll: object = None,
        retry: object = None,
        max_response_bytes: object = DEFAULT_MAX_RESPONSE_BYTES,
        clock: Callable[[], float] = time.monotonic,
    ) -> Settings:
        if not callable(clock):
            raise ValidationError("clock", "must be a callable returning seconds")
        return cls(
            api_key=_api_key(api_key),
            base_url=_base_url(base_url),
            wait_timeout=None if wait_timeout is None else duration("wait_timeout", wait_timeout),
            request_timeout=duration("request_timeout", request_timeout, positive=True),
            connect_timeout=duration("connect_timeout", connect_timeout, positive=True),
            sync_hold=duration("sync_hold", sync_hold),
            poll=_policy("poll", poll, PollPolicy),
            retry=_policy("retry", retry, RetryPolicy),
            max_response_bytes=_positive_int("max_response_bytes", max_response_bytes),
            clock=clock,
        )

    def __repr__(self) -> str:
        return f"Settings(base_url={self.base_url!r}, api_key={'None' if self.api_key is None else '***'})"

    def replace(self, **changes: object) -> Settings:
        """A copy with ``changes`` (of the fields in ``_CHANGEABLE``) checked as the constructor checks
        them; the key and the URL stay as they are (no environment is read again)."""
        current = {f: getattr(self, f) for f in _CHANGEABLE}
        checked = Settings.make(
            api_key="checked-elsewhere",
            base_url=self.base_url,
            clock=self.clock,
            connect_timeout=self.connect_timeout,
            **{**current, **changes},
        )
        return dataclasses.replace(self, **{f: getattr(checked, f) for f in _CHANGEABLE})

    def deadline(self, timeout: Timeout) -> Deadline:
        """The overall deadline of one call, from now."""
        if isinstance(timeout, _Default):
            value = self.wait_timeout
        elif timeout is None:
            value = None
        else:
            value = duration("timeout", timeout)
        return Deadline.after(value, self.clock())

    def require_key(self) -> None:
        if self.api_key is None:
            raise ValidationError("api_key", "no API key: pass api_key= or set TRUEBIT_API_KEY")
