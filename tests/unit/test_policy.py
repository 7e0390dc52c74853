"""The polling and retry policies: pure maths, checked without clocks or sleeps."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from truebit_facade import PollPolicy, RetryPolicy
from truebit_facade._policy import Deadline, is_retryable_status, parse_retry_after


@pytest.mark.parametrize("elapsed", [0, 0.3, 1, 5, 42, 600, 3600, 86400])
def test_poll_delay_is_bounded_by_a_fraction_of_elapsed_plus_initial(elapsed: float) -> None:
    policy = PollPolicy()
    rng = random.Random(7)
    for _ in range(200):
        d = policy.delay(elapsed, rng=rng)
        assert 0 < d <= max(policy.initial, min(policy.maximum, policy.fraction * elapsed))
        assert d >= (1 - policy.jitter) * min(policy.maximum, max(policy.initial, policy.fraction * elapsed))


def test_poll_delay_honours_retry_after_as_a_lower_bound() -> None:
    assert PollPolicy().delay(1.0, retry_after=7.5) == 7.5
    assert PollPolicy(jitter=0).delay(1000.0, retry_after=2.0) == 30.0


def test_poll_policy_accepts_timedelta_and_rejects_nonsense() -> None:
    p = PollPolicy(initial=timedelta(milliseconds=250), maximum=timedelta(minutes=1))
    assert (p.initial, p.maximum) == (0.25, 60.0)
    with pytest.raises(ValueError):
        PollPolicy(initial=5, maximum=1)
    with pytest.raises(ValueError):
        PollPolicy(jitter=1.5)


def test_retry_backoff_grows_caps_and_stops_after_attempts() -> None:
    policy = RetryPolicy(attempts=6, initial=1, maximum=4, base=2)
    rng = random.Random(1)
    delays = [policy.delay(n, rng=rng) for n in range(1, 6)]
    for n, d in enumerate(delays, start=1):
        full = min(4, 2 ** (n - 1))
        assert d is not None and full / 2 <= d <= full
    assert policy.delay(6) is None


def test_retry_after_is_honoured_up_to_its_cap() -> None:
    policy = RetryPolicy(max_retry_after=60)
    assert policy.delay(1, retry_after=30) == 30
    assert policy.delay(1, retry_after=61) is None
    assert RetryPolicy.none().delay(1) is None


@pytest.mark.parametrize(
    ("status", "retryable"),
    [
        (200, False),
        (400, False),
        (404, False),
        (408, True),
        (429, True),
        (500, True),
        (520, True),
        (599, True),
    ],
)
def test_retryable_statuses(status: int, retryable: bool) -> None:
    assert is_retryable_status(status) is retryable


def test_parse_retry_after_both_forms_and_garbage() -> None:
    now = datetime(2026, 11, 25, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("Wed, 25 Nov 2026 12:00:30 GMT", now=now) == 30.0
    assert parse_retry_after("Wed, 25 Nov 2026 11:00:00 GMT", now=now) == 0.0
    for bad in (None, "", "soon", "-3", "nan", "inf", "Wed, 99 Foo 2026"):
        assert parse_retry_after(bad, now=now) is None


def test_deadline() -> None:
    d = Deadline.after(10, now=100)
    assert d.remaining(104) == 6 and not d.expired(104) and d.expired(110)
    assert d.clip(30, now=105) == 5
    forever = Deadline.after(None, now=0)
    assert forever.remaining(1e9) is None and not forever.expired(1e9) and forever.clip(3, 1e9) == 3
