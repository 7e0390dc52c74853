"""The polling and retry policies: pure maths, checked without clocks or sleeps."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from truebit_facade import PollPolicy, RetryPolicy
from truebit_facade._policy import Deadline, is_retryable_status, parse_retry_after


@pytest.mark.parametrize("elapsed", [0, 0.01, 0.3, 1, 5, 42, 600, 3600, 86400])
def test_poll_delay_is_the_age_early_then_a_fraction_of_it(elapsed: float) -> None:
    policy = PollPolicy()
    full = min(policy.maximum, max(policy.first, min(elapsed, policy.initial), policy.fraction * elapsed))
    rng = random.Random(7)
    for _ in range(200):
        d = policy.delay(elapsed, rng=rng)
        assert (1 - policy.jitter) * full <= d <= full
        # Never later than the age (early) or 10% of it (late), and never later than the budget.
        assert d <= max(policy.first, elapsed, 0.1 * elapsed) and d <= 0.1 * elapsed + 1


def test_first_equal_to_initial_is_a_fixed_delay_until_the_fraction_takes_over() -> None:
    policy = PollPolicy(initial=0.5, first=0.5, jitter=0)
    assert [policy.delay(e) for e in (0, 0.2, 4, 10)] == [0.5, 0.5, 0.5, 1.0]
    assert PollPolicy(initial=0.01, first=0.05).first == 0.01  # a first delay above initial is initial
    # Given initial alone, the first delay is initial: the schedule of policies written before
    # early reads existed is unchanged.
    assert PollPolicy(initial=2).first == 2 and PollPolicy(initial=2, first=0.1).first == 0.1
    assert (PollPolicy().first, PollPolicy().initial) == (0.05, 1.0)


def _reads_until_seen(policy: PollPolicy, duration: float, rng: random.Random) -> tuple[int, float]:
    """Status reads of a task submitted at 0 that ends at ``duration``, polled from 0 on the virtual
    clock as the flow does (sleep ``delay(age)``, read); (reads, how late it was seen)."""
    now, reads = 0.0, 0
    while True:
        now += policy.delay(now, rng=rng)
        reads += 1
        if now >= duration:
            return reads, now - duration


def test_a_task_of_5_ms_is_seen_within_100_ms_in_a_handful_of_reads() -> None:
    rng = random.Random(3)
    for _ in range(200):
        reads, late = _reads_until_seen(PollPolicy(), 0.005, rng)
        assert reads <= 4 and 0.005 + late <= 0.1


@pytest.mark.parametrize("duration", [0.3, 2.5, 9.0, 61.0, 700.0, 3600.0])
def test_long_tasks_cost_no_more_reads_than_the_old_schedule_and_stay_within_budget(duration: float) -> None:
    old = PollPolicy(initial=0.5, first=0.5)  # the schedule before early reads
    rng = random.Random(11)
    new_reads, old_reads, lates = [], [], []
    for _ in range(100):
        reads, late = _reads_until_seen(PollPolicy(), duration, rng)
        new_reads.append(reads)
        lates.append(late)
        old_reads.append(_reads_until_seen(old, duration, rng)[0])
    if duration >= 600:
        assert sum(new_reads) <= sum(old_reads)
    assert sorted(lates)[94] <= 0.1 * duration + 1  # p95 delay within 10% of the duration + 1 s


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


def test_run_in_async_mode_sees_a_quick_task_at_the_first_reads(harness: Any) -> None:
    """The whole call on the virtual clock: a deadline too short for the hold submits in async mode,
    and a task that ends 5 ms after submission is seen within 0.1 s, in at most 4 status reads."""
    start = harness.clock.now
    done = {
        "executionId": "e1",
        "verificationStatus": "Success",
        "clearTextSolution": {"output": "1", "executionStatus": "succeed"},
    }

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            assert json.loads(request.content)["async"] is True
            return httpx.Response(200, json={"executionId": "e1"})
        if harness.clock.now - start >= 0.005:
            return httpx.Response(200, json=done)
        return httpx.Response(200, json={"executionId": "e1", "verificationStatus": "Running"})

    tb = harness.client(handler)
    assert harness(tb.functions.run("ns", "fib", "1", timeout=30)).output == "1"
    reads = [r for r in harness.requests if r.method == "GET"]
    assert 1 <= len(reads) <= 4 and harness.clock.now - start <= 0.1
