"""The few rules that read a request body as JSON (not through the generated models) use the wire
names of the spec: pinned here against the generated models, so that a bump renaming ``input`` or
``headers`` fails this test instead of letting a header value through unredacted."""

from __future__ import annotations

import contextlib

from truebit_facade import rules
from truebit_facade._generated.models.execute_api_task_by_name_body import ExecuteApiTaskByNameBody
from truebit_facade._generated.models.execute_api_task_by_name_body_input import (
    ExecuteApiTaskByNameBodyInput,
)
from truebit_facade._generated.models.execute_api_task_by_name_body_input_headers import (
    ExecuteApiTaskByNameBodyInputHeaders,
)
from truebit_facade._redact import secrets_of

SECRET = "Bearer s3cr3t-token-value"


def _wire_body() -> dict[str, object]:
    call = ExecuteApiTaskByNameBodyInput(path="/orders", method="GET")
    call.headers = ExecuteApiTaskByNameBodyInputHeaders.from_dict({"Authorization": SECRET})
    model = ExecuteApiTaskByNameBody(
        namespace="3a2b5129", task_name="orders", async_=False, input_=call, execution_timeout=1000
    )
    return model.to_dict()


def test_redaction_finds_the_headers_where_the_generated_model_writes_them() -> None:
    body = _wire_body()
    redacted = rules.redact_body(body)
    assert SECRET not in repr(redacted)
    assert SECRET in repr(body)  # a copy: the body sent is untouched
    assert rules.REDACTED in repr(redacted)


def test_the_secrets_of_a_body_are_its_header_values() -> None:
    assert secrets_of("key-123", _wire_body()) == tuple(sorted({SECRET, "key-123"}, key=len, reverse=True))


def test_the_fields_results_read_are_the_generated_models_fields() -> None:
    """Every name ``extra`` leaves out is one the generated response model knows (a renamed field
    would otherwise vanish from both the result and ``extra``)."""
    from truebit_facade._answers import API_READ, FUNCTION_READ
    from truebit_facade._generated.models.execute_api_sync_response import ExecuteApiSyncResponse
    from truebit_facade._generated.models.execute_task_sync_response import ExecuteTaskSyncResponse

    for model, read in ((ExecuteTaskSyncResponse, FUNCTION_READ), (ExecuteApiSyncResponse, API_READ)):
        body = {"executionId": "e1", "unknownField": 1}
        parsed = model.from_dict(body)
        assert set(parsed.additional_properties) == {"unknownField"}
        known = {name for name in read if name != "executionId"}
        for name in known:  # each read name is consumed by the model (not left as unknown)
            # The model knows the name when it tries to parse the value (and fails on None).
            with contextlib.suppress(TypeError, ValueError, KeyError, AttributeError):
                assert name not in model.from_dict({"executionId": "e1", name: None}).additional_properties
