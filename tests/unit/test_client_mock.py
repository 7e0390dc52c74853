"""Client behaviour on a mock transport: run-and-wait, polling, retries, deadlines, failures.

Mock transports are for what a real server would not readily produce on demand (exact fault
sequences, non-standard statuses, malformed bodies); the end-to-end tests use the sandbox.
"""

from __future__ import annotations

import _thread
import asyncio
import json
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from truebit_facade import (
    AsyncTruebit,
    MalformedResponseError,
    PollPolicy,
    RateLimitedError,
    RequestTimeoutError,
    RetryPolicy,
    ServerError,
    TaskFailedError,
    TransportError,
    TruebitError,
    ValidationError,
    VerificationIndeterminateError,
    VerificationStatus,
    WaitTimeoutError,
)
from truebit_facade._many import map_bounded

from .conftest import Harness

SOLUTION = {
    "output": "17711",
    "executionStatus": "succeed",
    "senderAddress": "0x1",
    "signature": {"v": 27, "r": "1" * 64, "s": "2" * 64},
}


def done(execution_id: str = "e1", verification: str = "Success", status: str = "succeed") -> dict[str, Any]:
    return {
        "executionId": execution_id,
        "clearTextSolution": {**SOLUTION, "executionStatus": status},
        "verificationStatus": verification,
    }


def test_a_task_ending_within_the_hold_costs_exactly_one_request(harness: Harness) -> None:
    tb = harness.client(lambda r: httpx.Response(200, json=done()))
    result = harness(tb.functions.run("ns", "fib", "22", total_solutions=3, required_solutions=2))
    assert result.output == "17711" and result.verification is VerificationStatus.SUCCESS
    assert len(harness.requests) == 1
    sent = json.loads(harness.requests[0].content)
    assert sent["async"] is False and sent["totalSolutions"] == 3 and sent["requiredSolutions"] == 2
    assert harness.requests[0].headers["x-api-key"] == "test-key-123456"
    assert harness.requests[0].extensions["timeout"]["read"] >= 60 + 10


def test_hold_expiry_falls_back_to_polling_until_terminal(harness: Harness) -> None:
    reads = iter([{"executionId": "e1", "verificationStatus": "Running"}] * 4 + [done()])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"executionId": "e1"})
        assert request.url.path == "/task/function/execution-status/e1"
        return httpx.Response(200, json=next(reads))

    tb = harness.client(handler)
    result = harness(tb.functions.run("ns", "fib", "22"))
    assert result.ok and len(harness.requests) == 6
    assert harness.clock.sleeps and all(s > 0 for s in harness.clock.sleeps)


def test_short_deadline_uses_async_mode_so_the_id_is_never_lost(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            assert json.loads(request.content)["async"] is True
            return httpx.Response(200, json={"executionId": "e7"})
        return httpx.Response(200, json={"executionId": "e7", "verificationStatus": "Running"})

    tb = harness.client(handler)
    with pytest.raises(WaitTimeoutError) as info:
        harness(tb.functions.run("ns", "fib", "22", timeout=10))
    err = info.value
    assert err.execution_id == "e7" and err.last_status == "Running" and "wait('e7')" in str(err)
    assert err.last_result is not None and err.last_result.execution_id == "e7"
    assert 9.9 <= harness.clock.now - 1000 <= 10.0 + 1e-6


def test_wait_polls_adaptively_and_timeout_none_waits_for_a_long_task(harness: Harness) -> None:
    finish_at = harness.clock.now + 3 * 3600

    def handler(request: httpx.Request) -> httpx.Response:
        if harness.clock.now >= finish_at:
            return httpx.Response(200, json=done("e2"))
        return httpx.Response(200, json={"executionId": "e2", "verificationStatus": "Running"})

    tb = harness.client(handler, wait_timeout=60)
    result = harness(tb.functions.wait("e2", timeout=None))
    assert result.ok
    assert len(harness.requests) < 3 * 3600 / 20  # far fewer reads than fixed 1 s polling
    assert harness.clock.now - finish_at <= 30.0  # seen within the poll cap


def test_wait_honours_retry_after_on_a_running_status(harness: Harness) -> None:
    answers = iter(
        [
            httpx.Response(
                200, json={"executionId": "e", "verificationStatus": "Running"}, headers={"Retry-After": "9"}
            ),
            httpx.Response(200, json=done("e")),
        ]
    )
    tb = harness.client(lambda r: next(answers))
    harness(tb.functions.wait("e"))
    assert harness.clock.sleeps == [9.0]


def test_status_reads_retry_transient_faults_honouring_retry_after(harness: Harness) -> None:
    answers = iter(
        [
            httpx.Response(503, headers={"Retry-After": "3"}),
            httpx.Response(429, headers={"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}),  # in the past
            httpx.Response(520, text="<html>origin error</html>"),
            httpx.Response(200, json=done()),
        ]
    )
    tb = harness.client(lambda r: next(answers), retry=RetryPolicy(attempts=5, initial=0.1, maximum=0.2))
    result = harness(tb.functions.get("e1"))
    assert result.ok and len(harness.requests) == 4
    assert harness.clock.sleeps[0] == 3.0 and all(s <= 0.2 for s in harness.clock.sleeps[1:])


def test_get_gives_up_after_the_retry_attempts(harness: Harness) -> None:
    tb = harness.client(lambda r: httpx.Response(502), retry=RetryPolicy(attempts=3, initial=0, maximum=0))
    with pytest.raises(ServerError) as info:
        harness(tb.functions.get("e1"))
    assert len(harness.requests) == 3 and info.value.execution_id == "e1"


def test_failed_reads_inside_a_wait_follow_the_retry_policy_alone(harness: Harness) -> None:
    answers = iter([httpx.Response(503)] * 2 + [httpx.Response(200, json=done())])
    tb = harness.client(lambda r: next(answers), retry=RetryPolicy(attempts=3, initial=0, maximum=0))
    assert harness(tb.functions.wait("e1")).ok and len(harness.requests) == 3


def test_a_steady_503_inside_a_wait_ends_after_the_policys_attempts(harness: Harness) -> None:
    # One policy per event: the retry policy's attempts, not retries multiplied by polls.
    tb = harness.client(lambda r: httpx.Response(503), wait_timeout=30)
    with pytest.raises(ServerError) as caught:
        harness(tb.functions.wait("e1"))
    assert len(harness.requests) == RetryPolicy().attempts
    assert caught.value.execution_id == "e1" and harness.clock.now - 1000.0 < 30


@pytest.mark.parametrize("status", [500, 502, 503, 520, 429, 408])
def test_an_execute_post_is_never_resent_after_an_answer(harness: Harness, status: int) -> None:
    tb = harness.client(
        lambda r: httpx.Response(status, json={"message": "busy"}, headers={"Retry-After": "1"})
    )
    with pytest.raises(TruebitError) as info:
        harness(tb.functions.run("ns", "fib", "22"))
    assert len(harness.requests) == 1
    if status >= 500:
        assert info.value.may_have_submitted and "may have been submitted" in str(info.value)  # type: ignore[attr-defined]
    if status == 429:
        assert isinstance(info.value, RateLimitedError) and info.value.retry_after == 1


@pytest.mark.parametrize(
    "exc", [httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("dropped"), httpx.ReadError("reset")]
)
def test_an_execute_post_that_may_have_been_sent_is_not_resent(harness: Harness, exc: Exception) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    tb = harness.client(handler)
    with pytest.raises(TransportError) as info:
        harness(tb.functions.run("ns", "fib", "22"))
    assert len(harness.requests) == 1 and info.value.may_have_submitted
    assert "may have been submitted" in str(info.value)
    assert isinstance(info.value, RequestTimeoutError) == isinstance(exc, httpx.TimeoutException)


def test_an_execute_post_that_never_connected_is_retried(harness: Harness) -> None:
    answers: list[Any] = [
        httpx.ConnectError("refused"),
        httpx.ConnectTimeout("t"),
        httpx.Response(200, json=done()),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        assert isinstance(answer, httpx.Response)
        return answer

    tb = harness.client(handler)
    assert harness(tb.functions.run("ns", "fib", "22")).ok
    assert len(harness.requests) == 3


def test_failed_and_indeterminate_results_raise_unless_asked_not_to(harness: Harness) -> None:
    tb = harness.client(lambda r: httpx.Response(200, json=done(verification="Error", status="failed")))
    with pytest.raises(TaskFailedError) as info:
        harness(tb.functions.run("ns", "trap", "x"))
    assert info.value.execution_id == "e1" and info.value.result.execution_id == "e1"
    tb = harness.client(lambda r: httpx.Response(200, json=done(verification="Indeterminate")))
    with pytest.raises(VerificationIndeterminateError):
        harness(tb.functions.run("ns", "fib", "22"))
    result = harness(tb.functions.run("ns", "fib", "22", raise_on_failure=False))
    assert result.verification is VerificationStatus.INDETERMINATE and not result.ok


def test_malformed_execute_answer_is_typed_and_says_it_may_have_submitted(harness: Harness) -> None:
    tb = harness.client(lambda r: httpx.Response(200, text="<html>maintenance</html>"))
    with pytest.raises(MalformedResponseError) as info:
        harness(tb.functions.run("ns", "fib", "22"))
    assert info.value.may_have_submitted


def test_submit_returns_at_once(harness: Harness) -> None:
    tb = harness.client(lambda r: httpx.Response(200, json={"executionId": "s1"}))
    execution = harness(tb.functions.submit("ns", "fib", "22"))
    assert execution.execution_id == "s1" and execution.kind == "function"
    assert json.loads(harness.requests[0].content)["async"] is True


def test_api_task_run_sends_milliseconds_and_reads_the_result(harness: Harness) -> None:
    body = {
        "executionId": "a1",
        "status": "Success",
        "clearTextSolution": {"output": {"ok": True}, "status": "succeed"},
        "totalTransferredBytes": {"request": 10, "response": 20},
    }
    tb = harness.client(lambda r: httpx.Response(200, json=body))
    result = harness(
        tb.api_tasks.run(
            "ns",
            "custom",
            path="/anything/{Id}",
            params={"Id": 5},
            headers={"Authorization": "Bearer t0ken"},
            execution_timeout=2.5,
        )
    )
    assert result.output == {"ok": True} and result.transferred_bytes.response == 20
    sent = json.loads(harness.requests[0].content)
    assert sent["executionTimeout"] == 2500
    assert sent["input"] == {
        "path": "/anything/{Id}",
        "method": "GET",
        "params": {"Id": 5},
        "headers": {"Authorization": "Bearer t0ken"},
    }


def test_run_many_keeps_order_and_loses_nothing(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        n = json.loads(request.content)["input"]
        if n == "3":
            return httpx.Response(500, json={"message": "boom"})
        return httpx.Response(200, json={**done(f"e{n}"), "clearTextSolution": {**SOLUTION, "output": n}})

    tb = harness.client(handler)
    results = harness(tb.functions.run_many("ns", "echo", [str(i) for i in range(8)], concurrency=3))
    assert [getattr(r, "output", None) for r in results] == ["0", "1", "2", None, "4", "5", "6", "7"]
    assert isinstance(results[3], ServerError)


def test_poll_settings_are_separate_from_retry_settings(harness: Harness) -> None:
    reads = iter([{"executionId": "e", "verificationStatus": "Running"}] * 3 + [done("e")])
    tb = harness.client(
        lambda r: httpx.Response(200, json=next(reads)), poll=PollPolicy(initial=2, maximum=2, jitter=0)
    )
    harness(tb.functions.wait("e"))
    assert harness.clock.sleeps == [2.0, 2.0, 2.0]


def test_secrets_never_reach_logs_reprs_or_errors(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    key, token = "sk-live-VERYSECRET", "tok-ABCDEF-123"

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":  # a target that echoes what it got, even on error
            return httpx.Response(500, json={"message": f"failed with {token} and {key}"})
        return httpx.Response(200, json={"executionId": "a", "status": "Error", "errorMsg": f"echo {token}"})

    caplog.set_level(logging.DEBUG, logger="truebit_facade")
    tb = harness.client(handler, api_key=key)
    texts = [repr(tb), repr(tb.functions), repr(tb.api_tasks)]
    calls: list[Callable[[], Any]] = [
        lambda: tb.api_tasks.run("ns", "t", path="/p", headers={"X-Token": token}),
        lambda: tb.api_tasks.wait("a"),
    ]
    for call in calls:
        with pytest.raises(TruebitError) as info:
            harness(call())
        texts += [str(info.value), repr(info.value), json.dumps(getattr(info.value, "body", None))]
    texts += [record.getMessage() for record in caplog.records]
    assert len(caplog.records) >= 4
    for text in texts:
        assert key not in text and token not in text, text


@pytest.mark.parametrize("kind", ["functions", "api_tasks"])
def test_an_unknown_status_ends_wait_at_the_first_read(harness: Harness, kind: str) -> None:
    from tests.support import unknown_value
    from truebit_facade import ApiTaskStatus, UnknownStatusError

    vocabulary = VerificationStatus if kind == "functions" else ApiTaskStatus
    new = unknown_value(vocabulary, "Paused")
    field = "verificationStatus" if kind == "functions" else "status"
    # No solution attached: before the terminal rule this polled until the deadline.
    tb = harness.client(lambda r: httpx.Response(200, json={"executionId": "e1", field: new}))
    with pytest.raises(UnknownStatusError) as caught:
        harness(getattr(tb, kind).wait("e1"))
    assert caught.value.status == new and caught.value.execution_id == "e1"
    assert caught.value.result.status_value == new
    assert len(harness.requests) == 1 and harness.clock.sleeps == []


def test_on_status_through_both_clients(harness: Harness) -> None:
    answers = iter(
        [
            httpx.Response(200, json={"executionId": "e1", "verificationStatus": "Running"}),
            httpx.Response(200, json=done()),
        ]
    )
    tb = harness.client(lambda r: next(answers))
    seen: list[Any] = []
    assert harness(tb.functions.wait("e1", on_status=seen.append)).ok
    assert [r.status_value for r in seen] == ["Running", "Success"]
    with pytest.raises(TruebitError, match="on_status"):
        harness(tb.functions.wait("e1", on_status=5))  # type: ignore[call-overload]


def test_with_options_is_a_light_copy_sharing_the_pool(harness: Harness) -> None:
    tb = harness.client(lambda r: httpx.Response(503))
    quick = tb.with_options(retry=RetryPolicy.none(), timeout=5)
    assert quick.settings.retry.attempts == 1 and quick.settings.wait_timeout == 5
    assert tb.settings.retry.attempts == RetryPolicy().attempts  # the original is unchanged
    assert quick._pool() is tb._pool()  # one connection pool
    with pytest.raises(ServerError):
        harness(quick.functions.get("e1"))
    assert len(harness.requests) == 1  # no retry on the copy
    with pytest.raises(TruebitError, match="retry"):
        tb.with_options(retry="x")  # type: ignore[arg-type]
    with pytest.raises(TruebitError, match="not both"):
        tb.with_options(timeout=1, wait_timeout=2)
    assert quick.with_options(poll=PollPolicy(initial=2)).settings.retry.attempts == 1  # copies stack
    # Made by the constructor like any client: the same attributes, the origin's secrets and pool.
    assert sorted(vars(quick)) == sorted(vars(tb)) and quick._secrets is tb._secrets
    assert quick.functions._client is quick and quick.settings.api_key == tb.settings.api_key
    if isinstance(quick, AsyncTruebit):
        harness(quick.aclose())
    else:
        quick.close()
    assert tb._pool() is not None  # closing a copy closes nothing


def test_a_copy_of_a_client_with_its_own_http_client_still_sends_the_key(harness: Harness) -> None:
    tb = harness.client(lambda r: httpx.Response(200, json=done()))
    harness(tb.with_options(timeout=5).functions.get("e1"))
    assert harness.requests[-1].headers["x-api-key"] == "test-key-123456"


@pytest.mark.parametrize("phase", ["execute", "status"])
def test_a_ctrl_c_carries_the_execution_id_whenever_it_is_known(harness: Harness, phase: str) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if (request.method == "POST") == (phase == "execute"):
            raise KeyboardInterrupt
        return httpx.Response(200, json={"executionId": "e1"})

    tb = harness.client(handler)
    with pytest.raises(KeyboardInterrupt) as caught:
        harness(tb.functions.run("ns", "fib", "22"))
    known = None if phase == "execute" else "e1"
    assert caught.value.execution_id == known  # type: ignore[attr-defined]
    expected = "may have been submitted" if known is None else "may still be running"
    assert any(expected in note for note in caught.value.__notes__)


def test_a_ctrl_c_during_wait_carries_the_id_it_was_given(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise KeyboardInterrupt

    tb = harness.client(handler)
    with pytest.raises(KeyboardInterrupt) as caught:
        harness(tb.functions.wait("e9"))
    assert caught.value.execution_id == "e9"  # type: ignore[attr-defined]


def test_extra_headers_and_extra_body_reach_the_wire_and_the_status_reads(harness: Harness) -> None:
    answers = iter([httpx.Response(200, json={"executionId": "e1"}), httpx.Response(200, json=done())])
    tb = harness.client(lambda r: next(answers))
    result = harness(
        tb.functions.run(
            "ns", "fib", "22", extra_headers={"X-Trace": "t-secret-777"}, extra_body={"priority": 3}
        )
    )
    assert result.ok
    post, get = harness.requests
    assert json.loads(post.content)["priority"] == 3 and post.headers["x-trace"] == "t-secret-777"
    assert get.headers["x-trace"] == "t-secret-777"  # the status reads of the same call carry them too
    assert post.headers["x-api-key"] == "test-key-123456"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"extra_body": {"async": True}}, "extra_body"),  # the client's own field: use its argument
        ({"extra_body": {"n": float("nan")}}, "extra_body"),
        ({"extra_body": ["x"]}, "extra_body"),
        ({"extra_headers": {"X-API-Key": "other"}}, "extra_headers"),
        ({"extra_headers": {"Accept-Encoding": "br"}}, "extra_headers"),
        ({"extra_headers": {"X-Ok": "a\r\nb"}}, "extra_headers['X-Ok']"),
    ],
)
def test_extras_are_checked_before_any_io(harness: Harness, kwargs: dict[str, Any], field: str) -> None:

    tb = harness.client(lambda r: pytest.fail("nothing may be sent"))
    with pytest.raises(ValidationError) as caught:
        harness(tb.functions.submit("ns", "fib", "22", **kwargs))
    assert caught.value.field == field


def test_extra_header_values_are_never_logged(harness: Harness, caplog: pytest.LogCaptureFixture) -> None:
    tb = harness.client(lambda r: httpx.Response(500, text="echo t-secret-777"))
    with caplog.at_level(logging.DEBUG, logger="truebit_facade"), pytest.raises(ServerError) as caught:
        harness(tb.functions.get("e1", extra_headers={"X-Trace": "t-secret-777"}))
    assert "t-secret-777" not in caplog.text and "t-secret-777" not in str(caught.value)


def test_the_raw_response_of_a_result_has_status_and_headers_but_no_secret(harness: Harness) -> None:
    answer = httpx.Response(
        200, json=done(), headers={"X-Request-Id": "r-1", "X-Echo": "key test-key-123456", "Retry-After": "0"}
    )
    tb = harness.client(lambda r: answer)
    result = harness(tb.functions.run("ns", "fib", "22"))
    assert result.response is not None and result.response.status_code == 200
    assert result.response.headers["x-request-id"] == "r-1"
    assert "test-key-123456" not in result.response.headers["x-echo"]  # the API key never shows
    submitted = harness(tb.functions.submit("ns", "fib", "22"))
    assert submitted.response is not None and submitted.response.headers["x-request-id"] == "r-1"
    assert "test-key-123456" not in repr(result) + repr(result.response)


def _done(**cts: Any) -> dict[str, Any]:
    return {
        "executionId": "e1",
        "verificationStatus": "Success",
        "clearTextSolution": {"output": "1", "executionStatus": "succeed", **cts},
    }


def test_a_2xx_execute_answer_keeps_its_execution_id(harness: Harness) -> None:
    tb = harness.client(lambda r: httpx.Response(202, json={"executionId": "x9"}))
    assert harness(tb.functions.submit("ns", "t", "1")).execution_id == "x9"


def test_polling_honours_retry_after_on_server_errors(harness: Harness) -> None:
    answers = iter(
        [httpx.Response(503, headers={"Retry-After": "40"})] * 2 + [httpx.Response(200, json=_done())]
    )
    tb = harness.client(lambda r: next(answers), retry=RetryPolicy(attempts=3))
    harness(tb.functions.wait("e1"))
    assert harness.clock.sleeps == [40.0, 40.0]


def test_wait_timeout_error_counts_from_the_start_of_run(harness: Harness) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            harness.clock.now += 8  # a slow submission
            return httpx.Response(200, json={"executionId": "e"})
        return httpx.Response(200, json={"executionId": "e", "verificationStatus": "Running"})

    tb = harness.client(handler)
    with pytest.raises(Exception) as info:
        harness(tb.functions.run("ns", "t", "1", timeout=2))
    assert "after 8.0 s" in str(info.value)


def test_an_interrupted_map_bounded_returns_at_once_and_stops_the_others() -> None:
    abort = threading.Event()
    stopped = []

    def patient() -> str:
        abort.wait(30)
        stopped.append(abort.is_set())
        return "stopped"

    # A real Ctrl-C, with Python's own handler installed here: nothing depends on how the parent
    # disposed of SIGINT (nohup and some CI runners ignore it, and children inherit that).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        threading.Timer(0.1, os.kill, (os.getpid(), signal.SIGINT)).start()
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            map_bounded([patient, patient], 3, abort)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert time.monotonic() - started < 5
    deadline = time.monotonic() + 5
    while len(stopped) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert stopped == [True, True]


# --- found by a black-box review of the redesigned core ------------------------------------------


def test_a_huge_retry_after_on_a_running_answer_is_capped_not_a_crash(harness: Harness) -> None:
    answers = iter(
        [httpx.Response(200, json={"executionId": "e1", "verificationStatus": "Running"}, headers={"Retry-After": h})
         for h in ("1e300", "Fri, 31 Dec 9999 23:59:59 GMT")]
        + [httpx.Response(200, json=done())]
    )  # fmt: skip
    tb = harness.client(lambda r: next(answers))
    assert harness(tb.functions.wait("e1", timeout=None)).ok
    assert harness.clock.sleeps and max(harness.clock.sleeps) <= 600


@pytest.mark.parametrize("secret", ["Bearer  tok\tsecret-XYZ", "tok-" + "z" * 40])
def test_an_echoed_secret_never_leaks_through_excerpts_or_reprs(harness: Harness, secret: str) -> None:
    message = "target rejected " + secret + " " + "x" * 300
    tb = harness.client(
        lambda r: httpx.Response(200, json={"executionId": "a1", "status": "Error", "errorMsg": message})
    )
    with pytest.raises(TaskFailedError) as caught:
        harness(tb.api_tasks.run("ns", "t", path="/x", headers={"Authorization": secret}))
    shown = str(caught.value) + repr(caught.value) + repr(caught.value.result)
    for part in secret.split():
        assert part not in shown


def test_a_secret_crossing_the_excerpt_cut_is_scrubbed_whole(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    key = "test-key-123456"
    tb = harness.client(
        lambda r: httpx.Response(503, text="x" * 192 + key, headers={"content-type": "text/plain"})
    )
    with caplog.at_level(logging.DEBUG, logger="truebit_facade"), pytest.raises(ServerError) as caught:
        harness(tb.functions.get("e1"))
    assert key[:6] not in str(caught.value)
    body = "y" * (2000 - 8) + key
    tb2 = harness.client(
        lambda r: httpx.Response(200, json={"executionId": "e1", "verificationStatus": "Running", "p": body})
    )
    harness(tb2.functions.get("e1"))
    assert key[:6] not in caplog.text


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda tb: tb.functions.run("ns", "t\ud800", "1"), "task"),
        (lambda tb: tb.functions.submit("n\udfff", "t", "1"), "namespace"),
        (lambda tb: tb.functions.run("ns", "t", "1", label="l\ud800"), "label"),
        (lambda tb: tb.functions.get("e\ud800"), "execution_id"),
        (lambda tb: tb.api_tasks.run("ns", "t", path="/x\ud800"), "path"),
        (lambda tb: tb.api_tasks.run("ns", "t", path="/x", headers={"A": "\ud800"}), "headers['A']"),
        (lambda tb: tb.functions.run("ns", "t", "1", extra_headers={"X-A": "é"}), "extra_headers['X-A']"),
        (lambda tb: tb.functions.run("ns", "t", "1", raise_on_failure="no"), "raise_on_failure"),
    ],
)
def test_odd_text_and_flags_are_validation_errors(harness: Harness, call: Any, field: str) -> None:
    from truebit_facade import ValidationError

    tb = harness.client(lambda r: pytest.fail("nothing may be sent"))
    with pytest.raises(ValidationError) as caught:
        harness(call(tb))
    assert caught.value.field == field


def test_a_base_url_with_a_lone_surrogate_and_a_negative_hint_ceiling_are_refused() -> None:
    from truebit_facade import Truebit, ValidationError

    with pytest.raises(ValidationError, match="base_url"):
        Truebit(api_key="k", base_url="http://x/\ud800")
    with pytest.raises(ValidationError, match="max_retry_after"):
        RetryPolicy(max_retry_after=-1)


def test_an_interrupted_run_many_tells_every_id_it_received(harness: Harness) -> None:
    # Sync: a Ctrl-C (delivered to the main thread while e2 is polled); async: the task that runs the
    # run_many is cancelled then (a first cancellation lets the read in flight finish).
    holder: dict[str, Any] = {}

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return httpx.Response(200, json={"executionId": "e" + json.loads(request.content)["input"]})
        eid = request.url.path.rsplit("/", 1)[-1]
        if eid == "e2":
            if harness.flavour == "sync":
                if not holder.get("interrupted"):  # one Ctrl-C: a graceful stop, not an abandon
                    holder["interrupted"] = True
                    _thread.interrupt_main()  # a Ctrl-C reaches the main thread, wherever the read runs
            else:
                holder["task"].cancel()
        return httpx.Response(200, json=done(eid))

    tb = harness.client(handler)

    def start() -> Any:  # the sync flavour runs at the call, so it must be made inside pytest.raises
        return tb.functions.run_many("ns", "fib", ["0", "1", "2", "3"], concurrency=1)

    async def main() -> Any:
        holder["task"] = asyncio.current_task()
        return await start()

    # Python's own SIGINT handler for the test, whatever this process inherited (a CI runner may ignore
    # SIGINT, and interrupt_main() then does nothing).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(
            KeyboardInterrupt if harness.flavour == "sync" else asyncio.CancelledError
        ) as caught:
            harness(main() if harness.flavour == "async" else start())
    finally:
        signal.signal(signal.SIGINT, previous)
    # (the sync pool's one thread may have started e3 before the interruption reached the caller)
    assert caught.value.execution_ids[:3] == ["e0", "e1", "e2"]  # type: ignore[attr-defined]
    assert any("e2" in note and "wait()" in note for note in caught.value.__notes__)
