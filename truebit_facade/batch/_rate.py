"""The request-rate limit of a batch: a token bucket that backs off on 429 and recovers. Pure: no
clock of its own (every method takes ``now``), so it is tested on a virtual clock."""

from __future__ import annotations

import math

from .. import MAX_RETRY_AFTER, ValidationError

__all__ = ["TokenBucket"]


class TokenBucket:
    """At most ``rate`` requests per second on average, bursts of up to ``burst`` (default: one
    second's worth). ``rate=None`` sets no limit but the pauses below.

    On a 429 (:meth:`penalize`) every request pauses until the server's ``Retry-After`` (or, without
    one, an exponential backoff of 1, 2, 4 ... 30 s over consecutive 429s), and the rate is halved
    (never below ``min_rate``; once per pause: the 429s of requests already sent do not cut again); it then grows back linearly to ``rate`` over ``recovery`` seconds
    (additive increase, multiplicative decrease, as TCP does). With ``rate=None`` only the pause
    applies: there is no rate to halve."""

    def __init__(
        self,
        rate: float | None,
        *,
        burst: float | None = None,
        min_rate: float = 0.5,
        recovery: float = 30.0,
        max_backoff: float = 30.0,
    ) -> None:
        if rate is not None and (not math.isfinite(rate) or rate <= 0):
            raise ValidationError("rate", "must be a positive number of requests per second, or None")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate or 1.0)
        self.min_rate = min(min_rate, rate) if rate is not None else min_rate
        self.recovery = recovery
        self.max_backoff = max_backoff
        self._tokens = self.burst
        self._at: float | None = None
        self._cut_rate: float | None = None  # the rate right after the last 429
        self._cut_at = -math.inf
        self.paused_until = -math.inf
        self._strikes = 0  # consecutive 429s, for the backoff without Retry-After
        self.penalties = 0

    def current_rate(self, now: float) -> float | None:
        """The allowed rate at ``now`` (``None``: unlimited)."""
        if self.rate is None:
            return None
        if self._cut_rate is None:
            return self.rate
        grown = self._cut_rate + (self.rate - self._cut_rate) * (now - self._cut_at) / self.recovery
        return min(self.rate, max(self._cut_rate, grown))

    def _refill(self, now: float) -> None:
        rate = self.current_rate(now)
        if self._at is not None and rate is not None and now > self._at:
            self._tokens = min(self.burst, self._tokens + (now - self._at) * rate)
        self._at = now if self._at is None else max(self._at, now)

    def wait(self, now: float) -> float:
        """Seconds until a request may go (0: now)."""
        pause = max(0.0, self.paused_until - now)
        rate = self.current_rate(now)
        if rate is None:
            return pause
        self._refill(now)
        if self._tokens >= 1.0:
            return pause
        return max(pause, (1.0 - self._tokens) / rate)

    def take(self, now: float) -> None:
        """Spend one token (call after :meth:`wait` said 0)."""
        if self.rate is not None:
            self._refill(now)
            self._tokens -= 1.0
        if now > self.paused_until + 1.0:
            self._strikes = 0  # requests went through since the last pause: the next 429 starts over

    def penalize(self, now: float, retry_after: float | None) -> None:
        """A 429 came back: pause, and halve the rate."""
        self.penalties += 1
        # The answers to requests sent before the pause began arrive during it: one cut per pause,
        # as TCP halves its window once per round trip, not once per lost packet.
        repeated = now < self.paused_until
        if not repeated:
            self._strikes += 1
        backoff = min(self.max_backoff, 2.0 ** (self._strikes - 1))
        pause = min(retry_after, MAX_RETRY_AFTER) if retry_after is not None else backoff
        self.paused_until = max(self.paused_until, now + pause)
        rate = self.current_rate(now)
        if rate is not None and not repeated:
            self._cut_rate = max(self.min_rate, rate / 2)
            self._cut_at = now
            self._refill(now)
            self._tokens = min(self._tokens, 0.0)
