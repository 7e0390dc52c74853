"""Fuzzing the facade's response handling: whatever comes back, the outcome is a typed result or a
``TruebitError`` subclass, never another exception.

Bodies are generated from the spec's own response schemas (every operation, every documented status)
and from an adversarial grammar: unknown enum values, extra fields, nulls, wrong types, HTML error
pages, empty and truncated bodies, non-standard statuses, Retry-After in both forms and garbage.
The number of examples per operation comes from the hypothesis profile (tests/conftest.py:
150 in ``make test``, 2000 in ``make fuzz``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from truebit_facade import (
    ApiTaskResult,
    Execution,
    FunctionResult,
    PollPolicy,
    RetryPolicy,
    Truebit,
    TruebitError,
)

SPEC = Path(__file__).resolve().parents[2] / "openapi" / "truebit-api.json"
FUZZ = settings(
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)

OPERATIONS = {
    "executeTaskByName": ("/task/function/execute-by-name", "POST"),
    "executeApiTaskByName": ("/task/api/execute-by-name", "POST"),
    "getFunctionExecutionStatus": ("/task/function/execution-status/{executionId}", "GET"),
    "getApiExecutionStatus": ("/task/api/execution-status/{executionId}", "GET"),
}


def _schema_strategies() -> dict[str, st.SearchStrategy[tuple[int, Any]]]:
    import schemathesis
    from schemathesis.generation.jsonschema.builder import build

    schema = schemathesis.openapi.from_path(str(SPEC))
    out = {}
    for op_id, (path, method) in OPERATIONS.items():
        operation = schema[path][method]
        spec_op = json.loads(SPEC.read_text())["paths"][path][method.lower()]
        branches = []
        for code in spec_op["responses"]:
            resolved = operation.responses.find_by_status_code(int(code)).get_schema()
            branches.append(st.tuples(st.just(int(code)), build(resolved.schema, draft=20, formats={})))
        out[op_id] = st.one_of(branches)
    return out


SCHEMA_BODIES = _schema_strategies()

JSON_LEAF = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20)
)
JSON = st.recursive(
    JSON_LEAF,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
KNOWN_FIELDS = [
    "executionId", "clearTextSolution", "verificationStatus", "status", "totalTransferredBytes", "errorMsg",
    "output", "executionStatus", "senderAddress", "signature", "v", "r", "s", "message", "signedError",
    "request", "response",
]  # fmt: skip
STATUS_WORDS = st.sampled_from(
    ["Success", "Running", "Indeterminate", "Error", "Cancelled", "succeed", "failed", "", "SUCCESS"]
)


@st.composite
def adversarial_object(draw: st.DrawFn, depth: int = 0) -> Any:
    """Objects shaped like the API's, with wrong types, nulls, unknown enum values and extra fields."""
    keys = draw(st.lists(st.sampled_from(KNOWN_FIELDS) | st.text(max_size=6), max_size=7, unique=True))
    obj: dict[str, Any] = {}
    for key in keys:
        if depth < 2 and key in ("clearTextSolution", "signature", "totalTransferredBytes"):
            obj[key] = draw(adversarial_object(depth + 1) | JSON)
        elif key in ("verificationStatus", "status", "executionStatus"):
            obj[key] = draw(STATUS_WORDS | JSON_LEAF)
        elif key == "executionId":
            obj[key] = draw(st.text(min_size=0, max_size=12) | JSON_LEAF)
        else:
            obj[key] = draw(JSON)
    return obj


def _encode(body: Any) -> bytes:
    return json.dumps(body).encode()


RAW_BODIES = st.one_of(
    adversarial_object().map(_encode),
    JSON.map(_encode),
    st.just(b""),
    st.just(b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
    st.just(b"upstream connect error or disconnect/reset before headers"),
    adversarial_object()
    .map(_encode)
    .flatmap(lambda b: st.integers(0, max(0, len(b) - 1)).map(lambda n: b[:n])),
    st.binary(max_size=40),
)
STATUSES = st.one_of(
    st.sampled_from([200, 200, 200, 400, 401, 402, 404, 408, 429, 499, 500, 502, 503, 520, 599]),
    st.integers(100, 599),
)
RETRY_AFTER = st.one_of(
    st.none(),
    st.integers(0, 5).map(str),
    st.just("Wed, 21 Oct 2015 07:28:00 GMT"),
    st.just("Fri, 31 Dec 2099 23:59:59 GMT"),
    st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=10),
)


def _call(op_id: str, status: int, content: bytes, retry_after: str | None) -> Any:
    clock = [0.0]

    def handler(request: httpx.Request) -> httpx.Response:
        headers = {"content-type": "application/json"}
        if retry_after is not None:
            headers["retry-after"] = retry_after
        return httpx.Response(status, content=content, headers=headers)

    def sleep(seconds: float) -> None:
        clock[0] += seconds

    tb = Truebit(
        api_key="fuzz-key",
        base_url="http://fuzz.test",
        http_client=httpx.Client(transport=httpx.MockTransport(handler)),
        clock=lambda: clock[0],
        sleep=sleep,
        wait_timeout=30,
        retry=RetryPolicy(attempts=2),
        poll=PollPolicy(initial=5, maximum=10),
    )
    with tb:
        if op_id == "executeTaskByName":
            return tb.functions.run("ns", "task", "input", raise_on_failure=bool(status % 2))
        if op_id == "executeApiTaskByName":
            return tb.api_tasks.run(
                "ns", "task", path="/p/{id}", params={"id": 1}, raise_on_failure=bool(status % 2)
            )
        if op_id == "getFunctionExecutionStatus":
            return tb.functions.wait("exec-1") if status % 2 else tb.functions.get("exec-1")
        return tb.api_tasks.wait("exec-1") if status % 2 else tb.api_tasks.get("exec-1")


def _check(op_id: str, status: int, content: bytes, retry_after: str | None) -> None:
    try:
        outcome = _call(op_id, status, content, retry_after)
    except TruebitError as exc:
        str(exc), repr(exc)  # rendering an error must not fail either
        return
    assert isinstance(outcome, FunctionResult | ApiTaskResult | Execution), type(outcome)
    repr(outcome)


@pytest.mark.parametrize("op_id", list(OPERATIONS))
def test_bodies_from_the_spec_give_results_or_typed_errors(op_id: str) -> None:
    @FUZZ
    @given(SCHEMA_BODIES[op_id], RETRY_AFTER)
    def run(status_body: tuple[int, Any], retry_after: str | None) -> None:
        status, body = status_body
        _check(op_id, status, _encode(body), retry_after)

    run()


@pytest.mark.parametrize("op_id", list(OPERATIONS))
def test_adversarial_answers_give_results_or_typed_errors(op_id: str) -> None:
    @FUZZ
    @given(STATUSES, RAW_BODIES, RETRY_AFTER)
    def run(status: int, content: bytes, retry_after: str | None) -> None:
        _check(op_id, status, content, retry_after)

    run()
