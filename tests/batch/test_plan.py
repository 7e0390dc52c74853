"""The pure planner and token bucket on a virtual clock: no sockets, no sleeping."""

from __future__ import annotations

import itertools
import random

import pytest

from truebit_facade import (
    ExecutionNotFoundError,
    MalformedResponseError,
    PollPolicy,
    RateLimitedError,
    ServerError,
    TransportError,
    ValidationError,
)
from truebit_facade.batch._plan import (
    Adopt,
    Await,
    Done,
    OpenExecution,
    Planner,
    Read,
    Sleep,
    Submit,
    after_read_error,
    after_submit_error,
)
from truebit_facade.batch._rate import TokenBucket

POLL = PollPolicy(initial=1.0, fraction=0.1, maximum=10.0, jitter=0.0)


def planner(**kw: object) -> Planner:
    settings: dict[str, object] = {
        "concurrency": 4,
        "max_open": 3,
        "poll": POLL,
        "bucket": TokenBucket(None),
        "rng": random.Random(0),
    }
    settings.update(kw)
    return Planner(**settings)  # type: ignore[arg-type]


def test_submits_up_to_the_in_flight_cap_then_awaits() -> None:
    p = planner(concurrency=2, max_open=10)
    assert p.next(0.0, have_input=True) == Submit(None)
    assert p.next(0.0, have_input=True) == Submit(None)
    assert p.next(0.0, have_input=True) == Await()


def test_open_cap_holds_new_submissions_and_reads_follow_the_poll_schedule() -> None:
    p = planner(concurrency=10, max_open=2)
    for _ in range(2):
        assert p.next(0.0, have_input=True) == Submit(None)
    assert p.next(0.0, have_input=True) == Await()  # open cap reached, nothing to read yet
    a, b = OpenExecution(1, "a", "e1", 0.0), OpenExecution(2, "b", "e2", 0.0)
    p.submitted(a, 0.0)
    p.submitted(b, 0.5)
    # One heap for every open execution: the earliest read first, at initial (1 s) after its submit.
    assert p.next(0.6, have_input=True) == Sleep(1.0)
    assert p.next(1.0, have_input=True) == Read(a)
    assert p.next(1.0, have_input=True) == Sleep(1.5)
    p.read(a, 1.0, terminal=False)
    assert p.next(1.5, have_input=True) == Read(b)
    p.read(b, 1.5, terminal=True)  # b ended: room for one more submission
    assert p.next(1.5, have_input=True) == Submit(None)
    assert a.reads == 1 and b.reads == 1


def test_poll_delay_grows_with_the_age_of_the_execution() -> None:
    p = planner(concurrency=1, max_open=1)
    assert p.next(0.0, have_input=True) == Submit(None)
    e = OpenExecution(1, "a", "e1", 0.0)
    p.submitted(e, 0.0)
    now, reads = 0.0, []
    for _ in range(6):
        action = p.next(now, have_input=False)
        if isinstance(action, Sleep):
            now = action.until
            action = p.next(now, have_input=False)
        assert action == Read(e)
        reads.append(now)
        p.read(e, now, terminal=False)
    gaps = [b - a for a, b in itertools.pairwise(reads)]
    assert gaps == sorted(gaps) and gaps[0] == pytest.approx(1.0)
    assert p.next(now, have_input=False) == Sleep(pytest.approx(now + POLL.delay(now)))  # type: ignore[arg-type]


def test_done_only_when_nothing_is_open_or_in_flight() -> None:
    p = planner()
    assert p.next(0.0, have_input=False) == Done()
    assert p.next(0.0, have_input=True) == Submit(None)
    assert p.next(0.0, have_input=False) == Await()
    p.submit_ended()
    assert p.next(0.0, have_input=False) == Done()


def test_refused_submit_comes_back_after_retry_after_and_slows_the_bucket() -> None:
    bucket = TokenBucket(10.0)
    p = planner(bucket=bucket)
    assert p.next(0.0, have_input=True) == Submit(None)
    p.submit_refused("item", 0.0, 2.0, rate_limited=True)
    assert p.next(0.5, have_input=False) == Sleep(2.0)
    assert p.next(2.0, have_input=False) == Submit("item")
    assert bucket.penalties == 1


def test_sweep_adopts_open_executions_when_inputs_end() -> None:
    p = planner(max_open=3)
    p.sweep()
    assert p.next(0.0, have_input=False) == Adopt(3)
    e = OpenExecution(7, "x", "e7", -100.0)
    p.adopt([e], 0.0, exhausted=True)
    assert p.next(0.0, have_input=False) == Read(e)


def test_stop_drains_requests_in_flight() -> None:
    p = planner()
    assert p.next(0.0, have_input=True) == Submit(None)
    p.stop()
    assert p.next(0.0, have_input=True) == Await()
    p.submit_ended()
    assert p.next(0.0, have_input=True) == Done()


def test_read_failures_reschedule_or_fail() -> None:
    p = planner()
    p.adopt([e := OpenExecution(1, "a", "e1", 0.0)], 0.0)
    assert p.next(0.0, have_input=False) == Read(e)
    p.read_failed(e, 0.0, "retry", None)
    assert p.next(0.0, have_input=False) == Sleep(1.0)
    assert p.next(1.0, have_input=False) == Read(e)
    p.read_failed(e, 1.0, "slow_down", 5.0)  # Retry-After is a floor of the next read
    assert p.next(1.0, have_input=False) == Sleep(6.0)
    assert p.next(6.0, have_input=False) == Read(e)
    p.read_failed(e, 6.0, "failed", None)
    assert p.next(6.0, have_input=False) == Done()


def test_error_meanings() -> None:
    assert after_submit_error(TransportError("reset", may_have_submitted=True)) == "in_doubt"
    assert after_submit_error(ServerError("x", status_code=502, may_have_submitted=True)) == "in_doubt"
    assert after_submit_error(TransportError("refused")) == "retry"
    assert after_submit_error(RateLimitedError("x", status_code=429, retry_after=3)) == "retry"
    assert after_submit_error(ValidationError("input", "bad")) == "failed"
    # Not started, and no retry will start it: this server does not implement the call.
    assert after_submit_error(ServerError("x", status_code=501)) == "failed"
    assert after_read_error(ExecutionNotFoundError("x", status_code=404)) == "failed"
    assert after_read_error(MalformedResponseError("x")) == "failed"
    assert after_read_error(RateLimitedError("x", status_code=429)) == "slow_down"
    assert after_read_error(ServerError("x", status_code=503)) == "retry"
    assert after_read_error(TransportError("reset")) == "retry"


class TestTokenBucket:
    def test_rate_and_burst(self) -> None:
        b = TokenBucket(2.0, burst=2.0)
        for _ in range(2):
            assert b.wait(0.0) == 0
            b.take(0.0)
        assert b.wait(0.0) == pytest.approx(0.5)
        assert b.wait(0.5) == 0

    def test_429_pauses_halves_and_recovers(self) -> None:
        b = TokenBucket(10.0, recovery=30.0)
        b.penalize(0.0, 3.0)
        assert b.wait(0.0) == pytest.approx(3.0)
        assert b.current_rate(0.0) == pytest.approx(5.0)
        assert b.current_rate(15.0) == pytest.approx(7.5)
        assert b.current_rate(30.0) == pytest.approx(10.0)
        assert b.current_rate(300.0) == pytest.approx(10.0)

    def test_429s_of_one_burst_cut_the_rate_once(self) -> None:
        b = TokenBucket(8.0)
        for _ in range(5):
            b.penalize(0.0, 1.0)
        assert b.current_rate(0.0) == pytest.approx(4.0) and b.penalties == 5

    def test_backoff_without_retry_after_doubles(self) -> None:
        b = TokenBucket(None)
        b.penalize(0.0, None)
        assert b.wait(0.0) == pytest.approx(1.0)
        b.penalize(1.0, None)  # the next 429, right after the pause
        assert b.wait(1.0) == pytest.approx(2.0)
        assert b.current_rate(1.0) is None

    def test_invalid_rate(self) -> None:
        with pytest.raises(ValidationError):
            TokenBucket(0.0)


def test_reads_and_submits_take_turns_when_both_wait() -> None:
    p = planner(concurrency=10, max_open=10)
    assert p.next(0.0, have_input=True) == Submit(None)
    a = OpenExecution(1, "a", "e1", 0.0)
    b = OpenExecution(2, "b", "e2", 0.0)
    p.submitted(a, 0.0)
    p.adopt([b], 0.0)
    assert p.next(1.0, have_input=True) == Read(b)
    assert p.next(1.0, have_input=True) == Submit(None)
    assert p.next(1.0, have_input=True) == Read(a)
