"""Regression tests for defects found in review: each reproduces one finding."""

from __future__ import annotations

import copy
import json
import os
import signal
import threading
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.unit.wire_helpers import Answer, read_answer, unknown_value
from truebit_facade import (
    ApiTaskResult,
    FunctionResult,
    MalformedResponseError,
    PollPolicy,
    RetryPolicy,
    ServerError,
    TaskFailedError,
    Truebit,
    ValidationError,
)
from truebit_facade._errors import UnknownStatusError
from truebit_facade._failures import outcome_error
from truebit_facade._many import map_bounded
from truebit_facade._status import ExecutionStatus, VerificationStatus

from .conftest import Harness


def _done(**cts: Any) -> dict[str, Any]:
    return {
        "executionId": "e1",
        "verificationStatus": "Success",
        "clearTextSolution": {"output": "1", "executionStatus": "succeed", **cts},
    }


@pytest.mark.parametrize("name", ["X-Inject\n", "X\r\n", "X Y", "", "Ünï"])
def test_header_names_are_matched_whole(harness: Harness, name: str) -> None:
    tb = harness.client(lambda r: pytest.fail("touched"))
    with pytest.raises(ValidationError) as info:
        harness(tb.api_tasks.submit("ns", "t", path="/a", headers={name: "v"}))
    assert info.value.field == "headers"


@pytest.mark.parametrize("value", ["a\x85b", "a\u2028b", "a\x7fb", "a\x0bb"])
def test_header_values_refuse_c1_and_unicode_line_breaks(harness: Harness, value: str) -> None:
    tb = harness.client(lambda r: pytest.fail("touched"))
    with pytest.raises(ValidationError):
        harness(tb.api_tasks.submit("ns", "t", path="/a", headers={"X-A": value}))


@pytest.mark.parametrize("key", ["sk-clé-SECRET", "sk-SECRET\u00a0", "\ufeffsk-SECRET", "sk SECRET"])
def test_api_keys_must_be_visible_ascii_and_are_never_echoed(key: str) -> None:
    with pytest.raises(ValidationError) as info:
        Truebit(api_key=key, base_url="http://127.0.0.1:9")
    assert "SECRET" not in str(info.value) and "SECRET" not in repr(info.value.args)


@pytest.mark.parametrize("bad", ["abc", [1], -1, float("nan"), float("inf")])
def test_bad_timeouts_are_validation_errors(harness: Harness, bad: Any) -> None:
    tb = harness.client(lambda r: pytest.fail("touched"))
    with pytest.raises(ValidationError):
        harness(tb.functions.run("ns", "t", "1", timeout=bad))
    with pytest.raises(ValidationError):
        Truebit(api_key="k", wait_timeout=bad)


def test_policy_errors_are_validation_errors() -> None:
    with pytest.raises(ValidationError):
        PollPolicy(initial=3, maximum=1)
    with pytest.raises(ValidationError):
        RetryPolicy(attempts=0)


def test_an_unreadable_answer_is_malformed_and_may_have_submitted(harness: Harness) -> None:
    tb = harness.client(lambda r: httpx.Response(200, headers={"content-encoding": "gzip"}, content=b"xx"))
    with pytest.raises(MalformedResponseError) as info:
        harness(tb.functions.submit("ns", "t", "1"))
    assert info.value.may_have_submitted and len(harness.requests) == 1
    with pytest.raises(MalformedResponseError) as status:
        harness(tb.functions.get("e1"))
    assert not status.value.may_have_submitted


@pytest.mark.parametrize(
    ("kind", "content"),
    [
        (
            "function",
            b'{"executionId": "e", "clearTextSolution": {"signature": {"v": 1e400, "r": "a", "s": "b"}}}',
        ),
        ("api", b'{"executionId": "e", "status": "Success", "totalTransferredBytes": {"request": 1e400}}'),
        ("function", b"[" * 100_000 + b"]" * 100_000),
        ("api", b"[" * 100_000 + b"]" * 100_000),
    ],
)
def test_overflowing_and_deeply_nested_bodies_are_malformed(kind: str, content: bytes) -> None:
    with pytest.raises(MalformedResponseError):
        read_answer(Answer(200, {}, content), kind, "status")  # type: ignore[arg-type]
    with pytest.raises(ServerError):
        read_answer(Answer(500, {}, content), kind, "execute")  # type: ignore[arg-type]


def test_a_deep_but_valid_api_output_is_kept() -> None:
    deep: Any = "leaf"
    for _ in range(400):  # 800 levels: json parses it; a recursive freeze would not
        deep = {"a": [deep]}
    result = read_answer(
        Answer(
            200,
            {},
            json.dumps(
                {"executionId": "e", "status": "Success", "clearTextSolution": {"output": deep}}
            ).encode(),
        ),
        "api",
        "status",
    )
    assert isinstance(result, ApiTaskResult) and result.ok


def test_results_compare_equal_to_plain_json_dump_to_json_and_stay_read_only() -> None:
    body = {
        "executionId": "a",
        "status": "Success",
        "clearTextSolution": {"output": {"items": [1, {"a": 2}]}},
    }
    result = read_answer(Answer(200, {}, json.dumps(body).encode()), "api", "status")
    assert isinstance(result, ApiTaskResult)
    assert result.output == {"items": [1, {"a": 2}]} and result.output["items"] == [1, {"a": 2}]
    assert json.loads(json.dumps(result.raw)) == body
    with pytest.raises(TypeError):
        result.output["items"].append(3)
    with pytest.raises(TypeError):
        result.output["new"] = 1
    mutable = copy.deepcopy(result.output)
    mutable["items"].append(3)  # a copy is a plain, mutable dict
    assert result.output["items"] == [1, {"a": 2}]


def test_repr_of_an_api_result_does_not_show_the_output() -> None:
    body = {
        "executionId": "a",
        "status": "Success",
        "clearTextSolution": {"output": {"headers": {"X": "s3cr3t"}}},
    }
    result = read_answer(Answer(200, {}, json.dumps(body).encode()), "api", "status")
    assert "s3cr3t" not in repr(result)


def test_raw_model_on_a_newer_status_keeps_the_raw_value() -> None:
    # The generated enums parse values newer than the spec (openapi/templates/str_enum.py.jinja).
    result = read_answer(
        Answer(
            200, {}, json.dumps({**_done(), "verificationStatus": unknown_value(VerificationStatus)}).encode()
        ),
        "function",
        "status",
    )
    assert isinstance(result, FunctionResult)
    assert result.raw_model().verification_status == unknown_value(VerificationStatus)


def test_an_unknown_execution_status_is_a_plain_task_error_naming_it() -> None:
    result = read_answer(
        Answer(
            200, {}, json.dumps(_done(executionStatus=unknown_value(ExecutionStatus, "timedout"))).encode()
        ),
        "function",
        "status",
    )
    assert isinstance(result, FunctionResult)
    error = outcome_error(result)
    new = unknown_value(ExecutionStatus, "timedout")
    assert isinstance(error, UnknownStatusError) and error.status == new and new in str(error)
    failed = read_answer(
        Answer(200, {}, json.dumps(_done(executionStatus="failed")).encode()), "function", "status"
    )
    assert isinstance(outcome_error(failed), TaskFailedError)  # type: ignore[arg-type]


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


def test_execution_timeout_accepts_timedelta(harness: Harness) -> None:
    tb = harness.client(lambda r: httpx.Response(200, json={"executionId": "a"}))
    harness(tb.api_tasks.submit("ns", "t", path="/x", execution_timeout=timedelta(seconds=1.5)))
    assert json.loads(harness.requests[0].content)["executionTimeout"] == 1500


@pytest.mark.parametrize("bad_id", ["a/b", "..", "", " ", 42, None])
def test_an_unusable_execution_id_from_the_server_is_malformed_not_a_validation_error(
    harness: Harness, bad_id: Any
) -> None:
    tb = harness.client(lambda r: httpx.Response(200, json={"executionId": bad_id}))
    for call in (lambda: tb.functions.submit("ns", "t", "1"), lambda: tb.functions.run("ns", "t", "1")):
        with pytest.raises(MalformedResponseError) as info:
            harness(call())
        assert info.value.may_have_submitted and "may have been submitted" in str(info.value)


def test_base_url_must_be_a_plain_http_url() -> None:
    for bad in ("", "http://h?x=1", "http://h#f", "http://u:p@h", "ftp://h"):
        with pytest.raises(ValidationError):
            Truebit(api_key="k", base_url=bad)
