"""Everything the sync and async clients share that does no I/O: configuration, the decisions of the
send loop (retry or not, how long), the mapping of transport failures, and what ends a wait."""

from __future__ import annotations

import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Final

import httpx

from ._errors import (
    APIStatusError,
    MalformedResponseError,
    RequestTimeoutError,
    TransportError,
    TruebitError,
    ValidationError,
    WaitTimeoutError,
)
from ._failures import outcome_error
from ._models import ApiTaskResult, FunctionResult, TaskKind
from ._policy import Deadline, PollPolicy, RetryPolicy, is_retryable_status, seconds
from ._redact import mask_key, scrub
from ._validation import API_KEY
from ._version import __version__
from ._wire import Operation

DEFAULT_BASE_URL: Final[str] = "https://run.truebit.network"
#: How long ``run`` and ``wait`` wait in all, unless told otherwise. Long enough for real tasks, short
#: enough that a stuck execution surfaces; the error carries the execution id to resume with ``wait``.
DEFAULT_WAIT_TIMEOUT: Final[float] = 1800.0
#: How long the service holds a sync-mode execute request before answering with the id alone.
DEFAULT_SYNC_HOLD: Final[float] = 60.0
#: Added to the hold for the read timeout of a sync-mode request (network, queueing at the hub).
SYNC_MARGIN: Final[float] = 15.0
#: Per-request timeouts for everything but the sync-mode hold.
DEFAULT_HTTP_TIMEOUT: Final[httpx.Timeout] = httpx.Timeout(30.0, connect=10.0)


class _Default:
    def __repr__(self) -> str:
        return "DEFAULT"


#: The sentinel for "use the client's setting", distinct from ``None`` ("no deadline").
DEFAULT: Final[_Default] = _Default()

Timeout = float | timedelta | None | _Default

# Failures where the request provably never left this machine: safe to resend, even a POST.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.UnsupportedProtocol)


def _duration(field: str, value: object, *, positive: bool = False) -> float:
    """Seconds (a number or a ``timedelta``) checked: finite and >= 0 (> 0 with ``positive``)."""
    if isinstance(value, bool) or not isinstance(value, int | float | timedelta):
        raise ValidationError(field, "must be seconds (a number) or a timedelta")
    secs = seconds(value)
    if not math.isfinite(secs) or secs < 0 or (positive and secs == 0):
        raise ValidationError(field, f"must be a finite number of seconds {'> 0' if positive else '>= 0'}")
    return secs


class BaseClient:
    """Configuration and pure decisions; ``Truebit`` and ``AsyncTruebit`` add the I/O."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        wait_timeout: float | timedelta | None = DEFAULT_WAIT_TIMEOUT,
        http_timeout: httpx.Timeout | float = DEFAULT_HTTP_TIMEOUT,
        sync_hold: float | timedelta = DEFAULT_SYNC_HOLD,
        poll: PollPolicy | None = None,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        key = api_key if api_key is not None else os.environ.get("TRUEBIT_API_KEY") or None
        if key is not None and (not isinstance(key, str) or not API_KEY.fullmatch(key)):
            # Never echo the key: the message says only what is wrong with it.
            raise ValidationError("api_key", "must be a non-empty string of visible ASCII characters")
        url = base_url if base_url is not None else os.environ.get("TRUEBIT_BASE_URL") or DEFAULT_BASE_URL
        try:
            parsed = httpx.URL(url) if isinstance(url, str) else None
        except httpx.InvalidURL:
            parsed = None
        if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValidationError("base_url", "must be an http:// or https:// URL")
        if parsed.query or parsed.fragment or parsed.userinfo:
            raise ValidationError("base_url", "must not carry a query, a fragment or credentials")
        self._api_key = key
        self.base_url = url.rstrip("/")
        self.wait_timeout = None if wait_timeout is None else _duration("wait_timeout", wait_timeout)
        if not isinstance(http_timeout, httpx.Timeout):
            http_timeout = httpx.Timeout(_duration("http_timeout", http_timeout, positive=True))
        self.http_timeout = http_timeout
        self.sync_hold = _duration("sync_hold", sync_hold)
        self.poll = poll or PollPolicy()
        self.retry = retry or RetryPolicy()
        self._clock = clock
        # Set when a run_many is interrupted: waits still running stop at their next poll.
        self._abort = threading.Event()
        # Header values of recent API tasks, so that echoes in later status reads are scrubbed too.
        self._secrets: OrderedDict[str, None] = OrderedDict()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, api_key={mask_key(self._api_key)})"

    # --- configuration helpers ------------------------------------------------------------

    def _default_headers(self) -> dict[str, str]:
        headers = {"user-agent": f"truebit-facade/{__version__}", "accept": "application/json"}
        if self._api_key is not None:
            headers["x-api-key"] = self._api_key
        return headers

    def _require_key(self) -> None:
        if self._api_key is None:
            raise ValidationError("api_key", "no API key: pass api_key= or set TRUEBIT_API_KEY")

    def _deadline(self, timeout: Timeout) -> Deadline:
        if isinstance(timeout, _Default):
            value = self.wait_timeout
        elif timeout is None:
            value = None
        else:
            value = _duration("timeout", timeout)
        return Deadline.after(value, self._clock())

    def _use_sync_mode(self, deadline: Deadline) -> bool:
        """Sync mode only when the deadline leaves room for the whole hold; otherwise a short
        deadline would cut the held request and lose the execution id."""
        left = deadline.remaining(self._clock())
        return left is None or left >= self.sync_hold + SYNC_MARGIN

    def _request_timeout(self, op: Operation, sync: bool, deadline: Deadline) -> httpx.Timeout:
        """The timeouts of one attempt, from what is left of the deadline now.

        Connecting and waiting for a pooled connection are clipped for every request (nothing has
        been sent yet). A status read is clipped whole. An execute request, once sent, is not cut:
        cutting it would lose the execution id of a task that may be running."""
        t = self.http_timeout
        read = self.sync_hold + SYNC_MARGIN if sync else t.read
        connect, write, pool = t.connect, t.write, t.pool
        left = deadline.remaining(self._clock())
        if left is not None:
            room = max(1.0, left)  # even at the deadline, one last read gets a moment

            def clip(value: float | None) -> float:
                return room if value is None else min(value, room)

            connect, pool = clip(connect), clip(pool)
            if op == "status":
                read, write = clip(read), clip(write)
        return httpx.Timeout(connect=connect, read=read, write=write, pool=pool)

    def _remember(self, secrets: tuple[str, ...]) -> tuple[str, ...]:
        """Keep ``secrets`` for scrubbing later reads too; returns them."""
        for s in secrets:
            if s != self._api_key:
                self._secrets[s] = None
                self._secrets.move_to_end(s)
        while len(self._secrets) > 256:
            self._secrets.popitem(last=False)
        return secrets

    def _known_secrets(self, extra: tuple[str, ...] = ()) -> tuple[str, ...]:
        found = {*extra, *self._secrets}
        if self._api_key:
            found.add(self._api_key)
        return tuple(sorted(found, key=len, reverse=True))

    # --- decisions of the send loop ---------------------------------------------------------

    def _transport_error(
        self, exc: httpx.TransportError, op: Operation, secrets: tuple[str, ...]
    ) -> TransportError:
        sent = not isinstance(exc, _NOT_SENT)
        may_have_submitted = op == "execute" and sent
        cls = RequestTimeoutError if isinstance(exc, httpx.TimeoutException) else TransportError
        what = "timed out" if cls is RequestTimeoutError else "failed"
        detail = scrub(str(exc), secrets) or type(exc).__name__
        msg = f"{'execute' if op == 'execute' else 'status'} request {what}: {type(exc).__name__}: {detail}"
        if may_have_submitted:
            msg += (
                " (the task may have been submitted and billed; it was not resent, and no execution id "
                "was received)"
            )
        return cls(msg, may_have_submitted=may_have_submitted)

    def _unreadable_answer(
        self, exc: httpx.HTTPError, op: Operation, secrets: tuple[str, ...], execution_id: str | None
    ) -> MalformedResponseError:
        submitted = op == "execute"
        return MalformedResponseError(
            f"the answer could not be read: {type(exc).__name__}: {scrub(str(exc), secrets)}"
            + ("; the task may have been submitted (it was not resent)" if submitted else ""),
            execution_id=execution_id,
            may_have_submitted=submitted,
        )

    def _interrupted(self, kind: TaskKind, execution_id: str) -> TruebitError:
        return TruebitError(
            f"stopped waiting for {kind} execution {execution_id}: interrupted; resume with "
            f"wait({execution_id!r})",
            execution_id=execution_id,
        )

    def _retry_delay(
        self,
        op: Operation,
        retry_number: int,
        error: TruebitError,
        deadline: Deadline,
        retry_after: float | None = None,
    ) -> float | None:
        """Seconds to wait before resending, or ``None`` to raise ``error`` now."""
        if isinstance(error, TransportError):
            if error.may_have_submitted:
                return None
        elif isinstance(error, APIStatusError):
            if op == "execute" or not is_retryable_status(error.status_code):
                return None
        else:
            return None
        delay = self.retry.delay(retry_number, retry_after=retry_after)
        if delay is None:
            return None
        left = deadline.remaining(self._clock())
        if left is not None and delay > left:
            return None  # waiting would only end at the deadline with the same error
        return delay

    def _finish(
        self, result: FunctionResult | ApiTaskResult, raise_on_failure: bool, secrets: tuple[str, ...]
    ) -> Any:
        if raise_on_failure:
            error = outcome_error(result, self._known_secrets(secrets))
            if error is not None:
                raise error
        return result

    def _timestamp(self, value: object) -> int:
        """``taskRequesterTimestamp``: the caller's, or now in Unix seconds (wall clock, not monotonic)."""
        return int(time.time()) if value is None else value  # type: ignore[return-value]

    def _wait_timeout_error(
        self, kind: TaskKind, execution_id: str, last: FunctionResult | ApiTaskResult | None, waited: float
    ) -> WaitTimeoutError:
        status = None
        if isinstance(last, FunctionResult):
            status = last.raw.get("verificationStatus")
        elif isinstance(last, ApiTaskResult):
            status = last.raw.get("status")
        return WaitTimeoutError(
            f"gave up waiting for {kind} execution {execution_id} after {waited:.1f} s "
            f"(last status: {status or 'none'}); it may still finish: call wait({execution_id!r}) "
            "to resume",
            execution_id=execution_id,
            last_status=status if isinstance(status, str) else None,
            last_result=last,
        )
