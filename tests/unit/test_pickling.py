"""Results and errors cross process boundaries (process pools, task queues): they pickle."""

from __future__ import annotations

import json
import pickle
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from truebit_facade import (
    ApiTaskResult,
    BadRequestError,
    CallInterruptedError,
    Execution,
    FunctionResult,
    MalformedResponseError,
    ServerError,
    TaskFailedError,
    TransportError,
    TruebitError,
    UnknownStatusError,
    ValidationError,
    WaitTimeoutError,
)
from truebit_facade._answers import API, FUNCTION, read_status
from truebit_facade._wire import Answer

DONE = {
    "executionId": "e1",
    "clearTextSolution": {"output": "8", "executionStatus": "succeed", "senderAddress": "0x1"},
    "verificationStatus": "Success",
    "futureField": {"a": [1]},
}


def _function(body: dict[str, Any]) -> FunctionResult:
    return read_status(Answer(200, {}, json.dumps(body).encode()), FUNCTION, body["executionId"])


def test_results_pickle_and_compare_equal() -> None:
    result = _function(DONE)
    api = read_status(
        Answer(200, {}, json.dumps({"executionId": "a1", "status": "Success"}).encode()), API, "a1"
    )
    for value in (result, api, Execution("e1", "function")):
        again = pickle.loads(pickle.dumps(value))
        assert again == value and type(again) is type(value)
    assert isinstance(api, ApiTaskResult)


def test_a_result_with_a_status_newer_than_the_client_pickles() -> None:
    result = _function({**DONE, "verificationStatus": "Paused-new"})
    again = pickle.loads(pickle.dumps(result))
    assert again.status_value == "Paused-new" and not again.status_known


# Factories, not instances: the errors that carry a parsed result must not parse wire data at import
# time, so an API bump that changes a field fails these tests, not the collection of the whole suite.
ERRORS: dict[str, Callable[[], TruebitError]] = {
    "TruebitError": lambda: TruebitError("x", execution_id="e1"),
    "ValidationError": lambda: ValidationError("field", "is wrong"),
    "ServerError": lambda: ServerError(
        "HTTP 503", status_code=503, response=httpx.Response(503), execution_id="e1", retry_after=2.0
    ),
    "BadRequestError": lambda: BadRequestError("HTTP 400", status_code=400, blockchain={"signedError": "0x"}),
    "MalformedResponseError": lambda: MalformedResponseError(
        "bad", status_code=200, response=httpx.Response(200), execution_id="e1"
    ),
    "TransportError": lambda: TransportError("down", may_have_submitted=True, execution_id=None),
    "WaitTimeoutError": lambda: WaitTimeoutError(
        "late", execution_id="e1", last_status="Running", last_result=None
    ),
    "CallInterruptedError": lambda: CallInterruptedError("stopped", execution_id="e1"),
    "TaskFailedError": lambda: TaskFailedError("failed", result=_function(DONE)),
    "UnknownStatusError": lambda: UnknownStatusError("new", result=_function(DONE), status="Paused"),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_every_error_pickles_with_its_fields(name: str) -> None:
    error = ERRORS[name]()
    assert type(error).__name__ == name
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is type(error) and str(again) == str(error)
    assert again.execution_id == error.execution_id
    for name, value in vars(error).items():
        assert getattr(again, name) == (None if name == "response" else value), name
