"""Request bodies and response interpretation, without sockets."""

from __future__ import annotations

import copy
import dataclasses
import json
import time
from datetime import timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support import Answer, api_body, function_body, read_answer, unknown_value
from truebit_facade import (
    ApiTaskResult,
    ApiTaskStatus,
    AuthenticationError,
    BadRequestError,
    Execution,
    ExecutionNotFoundError,
    FunctionResult,
    MalformedResponseError,
    PaymentRequiredError,
    RateLimitedError,
    ServerError,
    TaskFailedError,
    UnexpectedStatusError,
    ValidationError,
    VerificationIndeterminateError,
    VerifiedApiTaskResult,
    VerifiedFunctionResult,
)
from truebit_facade._answers import _loads
from truebit_facade._errors import UnknownStatusError
from truebit_facade._failures import outcome_error
from truebit_facade._models import TaskKind
from truebit_facade._status import ExecutionStatus, VerificationStatus, is_known
from truebit_facade._wire import execution_timeout_to_wire

from .conftest import Harness

SYNC: dict[str, Any] = {
    "executionId": "e1",
    "clearTextSolution": {
        "output": "17711",
        "executionStatus": "succeed",
        "senderAddress": "0x" + "ab" * 20,
        "signature": {"v": 27, "r": "1" * 64, "s": "2" * 64},
    },
    "verificationStatus": "Success",
}


def answer(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Answer:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return Answer(status, headers or {}, content)


def test_function_body_has_every_required_field_and_gas_as_decimal_string() -> None:
    body = function_body(
        "ns", "fib", "22", sync=True, gas_limit=10**12, total_solutions=3, requester_timestamp=5
    )
    assert body == {
        "namespace": "ns",
        "taskName": "fib",
        "async": False,
        "input": "22",
        "totalSolutions": 3,
        "requiredSolutions": 3,
        "taskRequesterTimestamp": 5,
        "gasLimit": "1000000000000",
    }


def test_function_body_defaults_timestamp_to_now_and_serialises_json_input() -> None:

    body = function_body("ns", "echo", {"a": [1, "é"]}, sync=False, version=2)
    assert abs(body["taskRequesterTimestamp"] - time.time()) < 5
    assert body["input"] == '{"a":[1,"é"]}'
    assert (body["version"], body["async"]) == (2, True)
    assert function_body("ns", "echo", "x", sync=False, label="stable")["label"] == "stable"
    with pytest.raises(ValidationError, match="not both"):  # the spec gives no precedence
        function_body("ns", "echo", "x", sync=False, version=2, label="stable")


def test_bodies_conform_to_the_generated_models() -> None:
    from truebit_facade._generated.models import ExecuteApiTaskByNameBody, ExecuteTaskByNameBody

    f = function_body("ns", "fib", "1", sync=True, gas_limit=5)
    assert ExecuteTaskByNameBody.from_dict(f).to_dict() == f
    a = api_body(
        "ns",
        "t",
        path="/a/{x}",
        method="post",
        sync=False,
        params={"x": 1},
        headers={"A": "b"},
        body={"k": 1},
    )
    assert ExecuteApiTaskByNameBody.from_dict(a).to_dict() == a
    assert a["input"]["method"] == "POST"


@pytest.mark.parametrize(
    ("given", "wire"),
    [(30, 30000), (0.5, 500), (timedelta(minutes=1), 60000), (0.0001, 1), (1.0005, 1001)],
)
def test_execution_timeout_is_sent_in_milliseconds(given: float | timedelta, wire: int) -> None:
    assert execution_timeout_to_wire(given) == wire
    assert (
        api_body("n", "t", path="/", method="GET", sync=True, execution_timeout=given)["executionTimeout"]
        == wire
    )


def test_sync_shape_is_a_result_and_async_shape_an_execution() -> None:
    result = read_answer(answer(SYNC), "function", "execute")
    assert isinstance(result, FunctionResult) and result.ok and result.output == "17711"
    assert result.solution is not None and result.solution.signature is not None
    assert result.solution.signature.v == 27
    assert read_answer(answer({"executionId": "e1"}), "function", "execute") == Execution("e1", "function")
    assert read_answer(answer({"executionId": "e1", "extra": 1}), "api", "execute") == Execution("e1", "api")


def test_unknown_fields_are_kept_and_the_result_is_read_only() -> None:
    result = read_answer(answer({**SYNC, "queue": {"pos": 3}}), "function", "status")
    assert isinstance(result, FunctionResult)
    assert result.extra["queue"]["pos"] == 3 and result.raw["queue"]["pos"] == 3
    with pytest.raises(TypeError):
        result.raw["executionId"] = "x"  # type: ignore[index]
    assert result.raw_model().additional_properties["queue"] == {"pos": 3}


def test_unknown_status_values_become_unknown_not_crashes() -> None:
    new, new_es = unknown_value(VerificationStatus), unknown_value(ExecutionStatus, "timeout")
    body = {**SYNC, "verificationStatus": new}
    body["clearTextSolution"] = {**SYNC["clearTextSolution"], "executionStatus": new_es}
    result = read_answer(answer(body), "function", "status")
    assert isinstance(result, FunctionResult)
    # A value newer than the spec parses (never a crash), keeps its raw value, and has ended: the
    # published state machine has one non-terminal state, Running.
    assert result.verification == new and result.status_value == new
    assert result.verification is not None and not is_known(result.verification)
    assert result.is_terminal and not result.status_known
    assert result.execution_status == new_es
    error = outcome_error(result)
    assert isinstance(error, UnknownStatusError) and error.status == new and new in str(error)
    assert error.execution_id == result.execution_id and error.result is result
    running = read_answer(answer({"executionId": "e", "verificationStatus": "Running"}), "function", "status")
    assert isinstance(running, FunctionResult) and not running.is_terminal


def test_api_result_fields() -> None:
    body = {
        "executionId": "a1",
        "status": "Success",
        "clearTextSolution": {"output": {"args": {}}, "status": "succeed", "senderAddress": "0x1"},
        "totalTransferredBytes": {"request": 194, "response": 438},
    }
    result = read_answer(answer(body), "api", "status")
    assert isinstance(result, ApiTaskResult) and result.ok
    assert result.status is ApiTaskStatus.SUCCESS and result.output == {"args": {}}
    assert (result.transferred_bytes.request, result.transferred_bytes.response) == (194, 438)  # type: ignore[union-attr]


def _rebuilt(value: Any) -> Any:
    """``value`` made again through its dataclass's own ``__init__`` (nested ones too)."""
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        return value
    fields = {f.name: _rebuilt(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return type(value)(**fields)


@pytest.mark.parametrize(
    ("kind", "body"),
    [
        ("function", SYNC),
        ("function", {"executionId": "e", "verificationStatus": "Running"}),
        ("function", {**SYNC, "verificationStatus": "Failure"}),
        (
            "api",
            {
                "executionId": "a1",
                "status": "Success",
                "clearTextSolution": {"output": {"a": 1}, "status": "succeed", "senderAddress": "0x1"},
                "totalTransferredBytes": {"request": 1, "response": 2},
                "errorMsg": "none",
            },
        ),
        ("api", {"executionId": "a1", "status": "Failure"}),
    ],
)
def test_results_read_from_answers_are_what_their_constructors_make(kind: TaskKind, body: Any) -> None:
    # Results are made from their instance dicts (models.made): every field is there, of the type
    # decided by ok, equal to (and with the same repr as) the result its __init__ makes.
    result = read_answer(answer(body), kind, "status", execution_id=body["executionId"])
    assert isinstance(result, FunctionResult | ApiTaskResult)
    again = _rebuilt(result)
    assert type(again) is type(result) and again == result and repr(again) == repr(result)
    assert vars(again).keys() == vars(result).keys()
    assert isinstance(result, VerifiedFunctionResult | VerifiedApiTaskResult) == result.ok


@pytest.mark.parametrize(
    ("status", "body", "cls"),
    [
        (400, {"message": "unknown task"}, BadRequestError),
        (401, {"message": "no"}, AuthenticationError),
        (402, {"message": "pay"}, PaymentRequiredError),
        (404, {"message": "gone"}, ExecutionNotFoundError),
        (429, {"message": "slow"}, RateLimitedError),
        (500, {"message": "boom"}, ServerError),
        (502, b"<html>bad gateway</html>", ServerError),
        (520, b"", ServerError),
        (599, b"x", ServerError),
        (499, b"", ServerError),  # non-standard codes are proxies speaking: server-side trouble
        (403, {"message": "forbidden"}, UnexpectedStatusError),
    ],
)
def test_status_codes_map_to_typed_errors(status: int, body: Any, cls: type[Exception]) -> None:
    with pytest.raises(cls) as info:
        read_answer(answer(body, status), "function", "status", execution_id="e9")
    assert info.value.status_code == status  # type: ignore[attr-defined]
    assert info.value.execution_id == "e9"  # type: ignore[attr-defined]


def test_blockchain_signed_error_is_told_apart_from_a_plain_bad_request() -> None:
    signed = {"message": "denied", "signedError": "0xsig", "chainId": "1", "blockNumber": 12, "status": 3}
    with pytest.raises(BadRequestError) as info:
        read_answer(answer(signed, 400), "function", "execute")
    assert info.value.blockchain is not None and info.value.signed_error == "0xsig"
    assert info.value.blockchain["blockNumber"] == 12 and "denied" in str(info.value)
    with pytest.raises(BadRequestError) as plain:
        read_answer(answer({"message": "bad"}, 400), "function", "execute")
    assert plain.value.blockchain is None and not plain.value.may_have_submitted


def test_rate_limit_carries_retry_after() -> None:
    with pytest.raises(RateLimitedError) as info:
        read_answer(answer({}, 429, {"retry-after": "12"}), "api", "status")
    assert info.value.retry_after == 12


def test_execute_server_error_says_the_task_may_have_been_submitted() -> None:
    with pytest.raises(ServerError) as info:
        read_answer(answer({"message": "x"}, 503), "function", "execute")
    assert info.value.may_have_submitted and "may have been submitted" in str(info.value)


@pytest.mark.parametrize(
    "content",
    [b"", b"<html>oops</html>", b'{"executionId": "e1", "clearTe', b"[1,2]", b'"str"', b"null", b"\xff\xfe"],
)
def test_malformed_bodies_are_typed_errors(content: bytes) -> None:
    with pytest.raises(MalformedResponseError) as info:
        read_answer(Answer(200, {}, content), "function", "execute")
    assert info.value.may_have_submitted


@pytest.mark.parametrize(
    "body",
    [
        {"verificationStatus": "Success"},
        {"executionId": 5},
        {"executionId": ""},
        {"executionId": "e", "clearTextSolution": "text"},
        {"executionId": "e", "clearTextSolution": {"output": 5}},
        {"executionId": "e", "verificationStatus": 3},
        {"executionId": "e", "clearTextSolution": {"signature": {"v": "x", "r": "1", "s": "2"}}},
        {"executionId": "e", "verificationStatus": None, "clearTextSolution": {"signature": []}},
    ],
)
def test_wrong_types_are_malformed_response_errors(body: dict[str, Any]) -> None:
    with pytest.raises(MalformedResponseError):
        read_answer(answer(body), "function", "status", execution_id=None)


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"clearTextSolution": "text"}, "clearTextSolution should be an object, got str"),
        (
            {"clearTextSolution": {"signature": []}},
            "clearTextSolution.signature should be an object, got list",
        ),
        ({"clearTextSolution": {"signature": None, "output": None}}, None),  # nulls are absent fields
    ],
)
def test_a_nested_field_that_is_no_object_is_named_in_the_error(
    body: dict[str, Any], where: str | None
) -> None:
    content = answer({"executionId": "e", "verificationStatus": "Running", **body})
    if where is None:
        result = read_answer(content, "function", "status", execution_id="e")
        assert isinstance(result, FunctionResult) and result.solution is not None
        return
    with pytest.raises(MalformedResponseError, match=where.replace(".", r"\.")):
        read_answer(content, "function", "status", execution_id="e")


def test_api_wrong_types() -> None:
    for body in (
        {"executionId": "e", "status": 1},
        {"executionId": "e", "totalTransferredBytes": {"request": "many"}},
        {"executionId": "e", "totalTransferredBytes": [1]},
        {"executionId": "e", "errorMsg": {"a": 1}},
    ):
        with pytest.raises(MalformedResponseError):
            read_answer(answer(body), "api", "status")


def test_outcome_errors() -> None:
    def result(v: str, es: str) -> FunctionResult:
        body = {
            **SYNC,
            "verificationStatus": v,
            "clearTextSolution": {**SYNC["clearTextSolution"], "executionStatus": es},
        }
        r = read_answer(answer(body), "function", "status")
        assert isinstance(r, FunctionResult)
        return r

    assert outcome_error(result("Success", "succeed")) is None
    assert isinstance(outcome_error(result("Indeterminate", "succeed")), VerificationIndeterminateError)
    assert isinstance(outcome_error(result("Error", "failed")), TaskFailedError)
    assert isinstance(outcome_error(result("Success", "failed")), TaskFailedError)
    api = read_answer(
        answer({"executionId": "a", "status": "Error", "errorMsg": "target down"}), "api", "status"
    )
    assert isinstance(api, ApiTaskResult)
    err = outcome_error(api)
    assert isinstance(err, TaskFailedError) and "target down" in str(err) and err.result is api


def _done(**cts: Any) -> dict[str, Any]:
    return {
        "executionId": "e1",
        "verificationStatus": "Success",
        "clearTextSolution": {"output": "1", "executionStatus": "succeed", **cts},
    }


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


@pytest.mark.parametrize("bad_id", ["a/b", "..", "", " ", 42, None])
def test_an_unusable_execution_id_from_the_server_is_malformed_not_a_validation_error(
    harness: Harness, bad_id: Any
) -> None:
    tb = harness.client(lambda r: httpx.Response(200, json={"executionId": bad_id}))
    for call in (lambda: tb.functions.submit("ns", "t", "1"), lambda: tb.functions.run("ns", "t", "1")):
        with pytest.raises(MalformedResponseError) as info:
            harness(call())
        assert info.value.may_have_submitted and "may have been submitted" in str(info.value)


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4),
    max_leaves=12,
)


@given(
    st.one_of(
        st.binary(max_size=40),
        st.tuples(
            st.dictionaries(st.text(max_size=5), _JSON_VALUES, max_size=4),
            st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-32-be"]),
            st.sampled_from(["", " ", "\n", " x", "{}", "\x00"]),
        ).map(lambda t: (json.dumps(t[0], ensure_ascii=False) + t[2]).encode(t[1], "surrogatepass")),
        st.binary(max_size=20).map(lambda b: b"{" + b),
    )
)
def test_the_answers_json_reader_is_json_loads(content: bytes) -> None:
    # The quick path for UTF-8 objects must not change what json.loads accepts, gives or refuses.
    def outcome(parse: Any) -> Any:
        try:
            return ("value", repr(parse(content)))
        except (ValueError, RecursionError) as exc:
            return ("error", type(exc))

    assert outcome(_loads) == outcome(json.loads)
