"""What a status read answered 404 says, against the real sandbox: an unknown execution id and a
base URL that is not the task API's (a newcomer's ``TRUEBIT_BASE_URL=.../api/v1``) both come back as
404 in the API's error shape, so the message must point at both the other task kind and the URL."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from truebit_facade import ExecutionNotFoundError, Truebit

NS = "3a2b5129"


def test_the_sandbox_answers_an_unknown_id_and_an_unknown_route_alike(truebit_sandbox: Any) -> None:
    # The premise: the shape of the two answers is the same, only the free text differs.
    unknown_id = httpx.get(f"{truebit_sandbox.url}/task/function/execution-status/0123456789abcdef")
    unknown_route = httpx.get(f"{truebit_sandbox.url}/api/v1/task/function/execution-status/0123456789abcdef")
    assert unknown_id.status_code == unknown_route.status_code == 404
    assert set(unknown_id.json()) == set(unknown_route.json()) == {"message"}


@pytest.mark.parametrize("suffix", ["", "/api/v1"])
@pytest.mark.parametrize(
    ("kind", "other"),
    [
        ("functions", "it may be an API task's id: use api_tasks instead of functions"),
        ("api_tasks", "it may be a function task's id: use functions instead of api_tasks"),
    ],
)
def test_a_status_read_404_names_the_url_the_base_url_and_the_other_kind(
    truebit_sandbox: Any, suffix: str, kind: str, other: str
) -> None:
    base = truebit_sandbox.url + suffix
    with Truebit(api_key=truebit_sandbox.api_key, base_url=base) as client:
        resource = getattr(client, kind)
        for read in (resource.get, resource.wait):
            with pytest.raises(ExecutionNotFoundError) as caught:
                read("0123456789abcdef", timeout=10)
            text = str(caught.value)
            path = "function" if kind == "functions" else "api"
            assert f"GET {base}/task/{path}/execution-status/0123456789abcdef found no execution" in text
            assert "check TRUEBIT_BASE_URL (or base_url)" in text and text.endswith(other)
            assert caught.value.execution_id == "0123456789abcdef"


def test_an_id_of_the_other_kind_gets_both_hints(truebit_client: Truebit) -> None:
    execution = truebit_client.functions.submit(NS, "fibonacci", "5")
    with pytest.raises(ExecutionNotFoundError) as caught:
        truebit_client.api_tasks.get(execution.execution_id)
    assert str(caught.value).endswith("it may be a function task's id: use functions instead of api_tasks")
    assert truebit_client.functions.wait(execution.execution_id).output == "5"
