"""Polling and retry policies: pure maths, no I/O, no clock of their own.

They are separate settings on purpose: *polling* decides how often to ask "is it done yet?" while
an execution runs; *retrying* decides what to do when one HTTP request fails. Both honour a server
hint (``Retry-After``) and both stay within the caller's overall deadline.
"""

from __future__ import annotations

import email.utils
import http
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from ._errors import ValidationError
from ._validation import duration

__all__ = ["MAX_RETRY_AFTER", "PollPolicy", "RetryPolicy", "is_retryable_status", "parse_retry_after"]

#: The longest server hint (``Retry-After``) that is waited for, in seconds: the retry policy's default
#: ``max_retry_after``, and the longest pause of a batch (``truebit_facade.batch``) whatever the hint.
#: One number, so that the client and the batch cannot disagree on how long a server may park them.
MAX_RETRY_AFTER = 120.0


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValidationError("policy", f"must be a finite number, not {value!r}")
    return float(value)


def _set(policy: Any, **values: Any) -> None:
    """Set fields of a frozen policy from its own __init__."""
    for name, value in values.items():
        object.__setattr__(policy, name, value)


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError("retry", f"RetryPolicy.attempts must be an integer, not {type(value).__name__}")
    return value


#: The longest ``Retry-After`` a poll honours (a longer hint is read as this).
_POLL_HINT_CEILING = 600.0
#: The default schedule's early reads: the first after 50 ms, each then as long as the age, up to 1 s.
_DEFAULT_FIRST = 0.05
_DEFAULT_INITIAL = 1.0


@dataclass(frozen=True, init=False)
class PollPolicy:
    """How often a running execution is read.

    The delay before the next read grows with the time the execution has already run (its age):
    ``min(maximum, max(first, min(age, initial), fraction * age))``, shortened at random by up to
    ``jitter`` (a fraction) so that many waiters do not read in lockstep. So the first reads come
    early and each waits as long as the execution has run (50 ms, 100 ms, 200 ms...: a task that ends
    in a few milliseconds is seen within about ``first``), up to ``initial``; from then on a task is
    seen finished at most about ``fraction`` of its duration late (10% by default), while a task of
    an hour costs a few hundred reads instead of thousands. ``first`` is 50 ms with the default
    ``initial`` (1 s); given ``initial`` alone, ``first`` equals it: a fixed delay of ``initial`` until
    ``fraction`` of the age exceeds it, as before early reads existed. A ``Retry-After`` from the
    service is honoured as a lower bound. Durations accept seconds or ``timedelta``.
    """

    initial: float
    fraction: float
    maximum: float
    jitter: float
    first: float

    # Written out so that type checkers see what is accepted (seconds or a timedelta) while the
    # fields are plain floats.
    def __init__(
        self,
        initial: float | timedelta | None = None,
        fraction: float = 0.1,
        maximum: float | timedelta = 30.0,
        jitter: float = 0.2,
        first: float | timedelta | None = None,
    ) -> None:
        _set(
            self,
            initial=_DEFAULT_INITIAL if initial is None else duration("PollPolicy.initial", initial),
            maximum=duration("PollPolicy.maximum", maximum),
        )
        _set(self, fraction=_number(fraction))
        _set(self, jitter=_number(jitter))
        if first is None:
            first = _DEFAULT_FIRST if initial is None else self.initial
        # A first delay above ``initial`` is ``initial`` (``PollPolicy(initial=0.01)`` stays valid).
        _set(self, first=min(duration("PollPolicy.first", first), self.initial))
        self._check()

    def _check(self) -> None:
        if not (self.initial >= 0 and self.maximum >= self.initial):
            raise ValidationError("poll", "PollPolicy needs 0 <= initial <= maximum")
        if not (self.fraction >= 0 and 0 <= self.jitter < 1):
            raise ValidationError("poll", "PollPolicy needs fraction >= 0 and 0 <= jitter < 1")

    def delay(
        self, elapsed: float, *, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float:
        """Seconds to wait before the next read, ``elapsed`` seconds after the execution started."""
        age = max(elapsed, 0.0)
        base = min(self.maximum, max(self.first, min(age, self.initial), self.fraction * age))
        if self.jitter:
            base *= 1.0 - self.jitter * (rng or random).random()
        if retry_after is not None:
            # A hint is a lower bound, up to a ceiling: a hint of days must not park a wait.
            base = max(base, min(retry_after, max(self.maximum, _POLL_HINT_CEILING)))
        return base


@dataclass(frozen=True, init=False)
class RetryPolicy:
    """What to do when one request fails with a transient fault.

    Retried: status reads that failed on the connection or with 408, 425, 429 or 5xx, and *any*
    request (execute included) whose connection failed before a byte was sent. Never retried: an
    execute request that may have reached the service (the API has no idempotency key; a retry could
    run and bill the task twice).

    The wait before retry ``n`` (1-based) is ``min(maximum, initial * base ** (n - 1))`` with "full
    jitter" (a random point between half and all of it), or the server's ``Retry-After`` when larger,
    up to ``max_retry_after``; a longer hint is not waited for and the error is raised.
    ``attempts`` counts the first try. The caller's deadline always wins.
    """

    attempts: int
    initial: float
    maximum: float
    base: float
    max_retry_after: float

    def __init__(
        self,
        attempts: int = 6,
        initial: float | timedelta = 0.5,
        maximum: float | timedelta = 10.0,
        base: float = 2.0,
        max_retry_after: float | timedelta = MAX_RETRY_AFTER,
    ) -> None:
        _set(self, attempts=_count(attempts), initial=duration("RetryPolicy.initial", initial))
        _set(self, maximum=duration("RetryPolicy.maximum", maximum), base=_number(base))
        _set(self, max_retry_after=duration("RetryPolicy.max_retry_after", max_retry_after))
        self._check()

    def _check(self) -> None:
        if self.attempts < 1:
            raise ValidationError("retry", "RetryPolicy.attempts counts the first try: at least 1")
        if not (0 <= self.initial <= self.maximum) or self.base < 1:
            raise ValidationError("retry", "RetryPolicy needs 0 <= initial <= maximum and base >= 1")

    def delay(
        self, retry_number: int, *, retry_after: float | None = None, rng: random.Random | None = None
    ) -> float | None:
        """Seconds to wait before retry ``retry_number`` (1-based), or ``None`` to give up."""
        if retry_number >= self.attempts:
            return None
        if retry_after is not None and retry_after > self.max_retry_after:
            return None
        backoff = min(self.maximum, self.initial * self.base ** (retry_number - 1))
        backoff *= 0.5 + 0.5 * (rng or random).random()
        return max(backoff, retry_after or 0.0)

    @classmethod
    def none(cls) -> RetryPolicy:
        """Never retry."""
        return cls(attempts=1)


RETRYABLE_STATUSES = frozenset({408, 425, 429})
_STANDARD = frozenset(int(s) for s in http.HTTPStatus)


def is_standard_status(status: int) -> bool:
    """Whether ``status`` is a registered HTTP status (499, 520 and 599 are not: proxies invent them)."""
    return status in _STANDARD


def is_retryable_status(status: int) -> bool:
    """Worth another try on a read: throttling, timeouts, 5xx and any non-standard code."""
    return status in RETRYABLE_STATUSES or status >= 500 or not is_standard_status(status)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP-date; ``None`` when absent or
    unreadable (a bad hint is ignored, never an error)."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        pass
    else:
        return number if math.isfinite(number) and number >= 0 else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class Deadline:
    """An overall deadline on a monotonic clock; ``None`` means no deadline (explicitly)."""

    __slots__ = ("at",)

    def __init__(self, at: float | None) -> None:
        self.at = at

    def __repr__(self) -> str:
        return f"Deadline({self.at!r})"

    @classmethod
    def after(cls, timeout: float | None, now: float) -> Deadline:
        return cls(None if timeout is None else now + timeout)

    def remaining(self, now: float) -> float | None:
        return None if self.at is None else max(0.0, self.at - now)

    def expired(self, now: float) -> bool:
        return self.at is not None and now >= self.at

    def clip(self, delay: float, now: float) -> float:
        """``delay`` shortened so that it ends at the deadline at the latest."""
        left = self.remaining(now)
        return delay if left is None else min(delay, left)
