"""API tasks over loopback with raw httpx: the example target, manifests, headers, credentials, security."""

from __future__ import annotations

import json
import logging
import re
import socket
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

import truebit_facade.sandbox
from truebit_facade.sandbox import ApiCredentials, Sandbox, TaskRegistry
from truebit_facade.sandbox._nodes import hub_private_key
from truebit_facade.sandbox.example_target import (
    EXAMPLE_BASIC,
    EXAMPLE_TARGET_KEY,
    ExampleTarget,
    example_manifest,
    register_example_api_task,
)
from truebit_facade.signing import address_of

from .sandbox_helpers import (
    API_EXECUTE,
    API_STATUS,
    EXECUTE,
    STATS,
    STATUS,
    SandboxFactory,
    api_body,
    body,
    client_for,
    wait_api_terminal,
)

FIBONACCI_WAT = Path(truebit_facade.sandbox.__file__).parent / "tasks" / "fibonacci.wat"
RESPONSE_KEYS = {"executionId", "clearTextSolution", "status", "totalTransferredBytes"}


def run(client: httpx.Client, payload: dict[str, Any]) -> dict[str, Any]:
    response = client.post(API_EXECUTE, json=payload)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def refused(client: httpx.Client, payload: Any) -> str:
    data = json.dumps(payload)  # ASCII escapes: lone surrogates survive
    response = client.post(API_EXECUTE, content=data, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"message"}
    message: str = response.json()["message"]
    return message


# -- the happy path --------------------------------------------------------------------------------


def test_the_docs_example_call(api_client: httpx.Client, example_target: ExampleTarget) -> None:
    headers = {
        "Authorization": "Bearer TARGET-TOKEN",
        "X-Custom-Header": "CustomValue123",
        "Accept": "application/json",
    }
    data = run(api_client, api_body(headers=headers, timeout_ms=30000))
    assert set(data) == RESPONSE_KEYS
    assert re.fullmatch("[0-9a-f]{32}", data["executionId"])
    assert data["status"] == "Success"
    solution = data["clearTextSolution"]
    assert set(solution) == {"output", "status", "senderAddress"}
    assert solution["status"] == "succeed"
    assert solution["senderAddress"] == address_of(hub_private_key("truebit-sandbox"))
    echo = solution["output"]
    assert (echo["method"], echo["path"], echo["Id"], echo["args"]) == ("GET", "/anything/12345", "12345", {})
    echoed = echo["headers"]  # the target echoes what it got; the sandbox scrubs the injected values
    assert echoed["authorization"] == echoed["x-custom-header"] == "[REDACTED]"
    received = {k.lower(): v for k, v in example_target.requests[-1].headers.items()}
    assert received["authorization"] == "Bearer TARGET-TOKEN"  # injected into the outgoing call
    assert received["x-custom-header"] == "CustomValue123"
    assert received["accept"] == "application/json"
    assert "x-api-key" not in received  # the caller's Truebit key is never forwarded
    assert received["host"] == example_target.url.removeprefix("http://")
    assert api_client.get(API_STATUS + data["executionId"]).json() == data


def test_transferred_bytes_are_plausible(api_client: httpx.Client) -> None:
    data = run(api_client, api_body())
    sent, got = data["totalTransferredBytes"]["request"], data["totalTransferredBytes"]["response"]
    output = json.dumps(data["clearTextSolution"]["output"], separators=(",", ":"))
    assert len("GET /anything/12345 HTTP/1.1\r\nHost: 127.0.0.1:1\r\n\r\n") < sent < 1000
    assert len("HTTP/1.1 200 OK\r\n\r\n") + len(output) <= got < len(output) + 1000
    posted = run(
        api_client, api_body("/store/order", "POST", body={"petId": 1, "quantity": 3, "status": "placed"})
    )
    assert posted["totalTransferredBytes"]["request"] > sent  # the body is counted
    text = run(api_client, api_body("/text"))
    assert text["totalTransferredBytes"]["response"] >= len("hello from the example target\n") + 17


def test_a_concrete_path_matching_a_template(api_client: httpx.Client) -> None:
    data = run(api_client, api_body("/anything/777", params={}))
    assert data["clearTextSolution"]["output"]["Id"] == "777"
    same = run(api_client, api_body("/anything/777", params={"Id": 777}))
    assert same["clearTextSolution"]["output"]["path"] == "/anything/777"
    assert "both in the path and in params" in refused(
        api_client, api_body("/anything/777", params={"Id": 1})
    )
    assert "'Id'" in refused(api_client, api_body("/anything/abc", params={}))  # Id is an integer


def test_a_literal_path_wins_over_a_template(api_client: httpx.Client) -> None:
    latest = run(api_client, api_body("/store/order/latest"))
    assert latest["clearTextSolution"]["output"]["id"] == 100
    seven = run(api_client, api_body("/store/order/{orderId}", params={"orderId": 7}))
    assert seven["clearTextSolution"]["output"]["id"] == 7


def test_query_parameters(api_client: httpx.Client, example_target: ExampleTarget) -> None:
    params = {"q": "a b/c&d=e", "limit": 5, "tag": ["x", "y"]}
    data = run(api_client, api_body("/search", params=params))
    assert data["clearTextSolution"]["output"] == {"q": "a b/c&d=e", "limit": "5", "tags": ["x", "y"]}
    assert example_target.requests[-1].query == "q=a%20b%2Fc%26d%3De&limit=5&tag=x&tag=y"
    as_text = run(
        api_client, api_body("/search", params={"q": "z", "limit": "7"})
    )  # a string spelling an int
    assert as_text["clearTextSolution"]["output"]["limit"] == "7"
    in_path = run(api_client, api_body("/search?q={term}&limit=3", params={"term": "abc"}))
    assert in_path["clearTextSolution"]["output"] == {"q": "abc", "limit": "3", "tags": []}


@pytest.mark.parametrize(
    ("path", "params", "named"),
    [
        ("/search", {}, "'q'"),
        ("/search", {"q": "x", "limit": "many"}, "'limit'"),
        ("/search", {"q": "x", "limit": 1000}, "'limit'"),
        ("/search", {"q": ""}, "'q'"),
        ("/search", {"q": "x", "page": 2}, "'page'"),
        ("/search", {"q": {"nested": 1}}, "'q'"),
        ("/anything/{Id}", {}, "'Id'"),
        ("/anything/{Id}", {"Id": 1, "foo": 2}, "'foo'"),
        ("/anything/{Id}", {"Id": [1, 2]}, "'Id'"),
        ("/anything/{Id}", {"Id": None}, "'Id'"),
        ("/store/order/{orderId}", {"orderId": 0}, "'orderId'"),
        ("/search?q={term}", {}, "'term'"),
        ("/search?page=2", {"q": "x"}, "'page'"),
        ("/text", {"x": 1}, "'x'"),
    ],
)
def test_parameter_errors_name_the_parameter(
    api_client: httpx.Client, path: str, params: dict[str, Any], named: str
) -> None:
    assert named in refused(api_client, api_body(path, params=params))


def test_method_must_be_declared(api_client: httpx.Client) -> None:
    message = refused(api_client, api_body(method="POST"))
    assert '"POST"' in message and "/anything/{Id}" in message and "GET" in message
    assert "input.method" in refused(api_client, api_body(method="FETCH"))
    assert run(api_client, api_body(method="get"))["status"] == "Success"  # case-insensitive


def test_request_body_is_validated(api_client: httpx.Client) -> None:
    order = "/store/order"
    ok = run(api_client, api_body(order, "POST", body={"petId": 9, "quantity": 2, "complete": True}))
    assert ok["clearTextSolution"]["output"] == {
        "id": 101,
        "status": "placed",
        "complete": True,
        "petId": 9,
        "quantity": 2,
    }
    cases = [
        ({"petId": 1}, "'quantity'"),
        ({"petId": 1, "quantity": 0}, "input.body.quantity"),
        ({"petId": 1, "quantity": 1.5}, "input.body.quantity"),
        ({"petId": 1, "quantity": 1, "status": "lost"}, "input.body.status"),
        ({"petId": 1, "quantity": 1, "color": "red"}, "'color'"),
        ({"petId": True, "quantity": 1}, "input.body.petId"),
        ([1, 2], "input.body"),
    ]
    for payload, named in cases:
        assert named in refused(api_client, api_body(order, "POST", body=payload)), payload
    assert "missing required input.body" in refused(api_client, api_body(order, "POST"))
    assert "declares no request body" in refused(api_client, api_body("/text", body={"a": 1}))
    note = run(api_client, api_body("/notes", "POST", body="plain words"))
    assert note["clearTextSolution"]["output"] == {
        "received": "plain words",
        "contentType": "text/plain; charset=utf-8",
    }


# -- security --------------------------------------------------------------------------------------

HOSTILE_PATHS = [
    "http://evil.example/anything/1",
    "https://127.0.0.1/anything/1",
    "//evil.example/anything/1",
    "///anything/1",
    "anything/1",
    "",
    "javascript:alert(1)",
    "http:/anything/1",
    "/anything/../secure",
    "/anything/./1",
    "/anything/1/..",
    "/anything/%2e%2e/secure",
    "/anything/%2E%2E/secure",
    "/anything/%2fsecure",
    "/anything/1%2F2",
    "/anything/%5c..%5csecure",
    "/anything/%252e%252e",
    "/anything/%zz",
    "/anything/1#fragment",
    "/anything/1\\..\\secure",
    "/anything/ 1",
    "/anything/1\r\nHost: evil",
    "/anything/{Other}",
    "/nowhere",
    "/anything/1?next=http://evil.example/",
]


@pytest.mark.parametrize("path", HOSTILE_PATHS)
def test_hostile_paths_are_refused_before_any_call(
    api_client: httpx.Client, example_target: ExampleTarget, path: str
) -> None:
    before = len(example_target.requests)
    refused(api_client, api_body(path, params={"Id": 1}))
    assert len(example_target.requests) == before


def test_path_values_cannot_inject_segments(
    make_sandbox: SandboxFactory, example_target: ExampleTarget
) -> None:
    manifest = example_manifest(example_target.url)
    manifest["paths"]["/anything/{Id}"]["get"]["parameters"][0]["schema"] = {"type": "string"}
    registry = TaskRegistry()
    registry.add_api_task("ns", "loose", manifest)
    sandbox = make_sandbox(registry=registry)
    with client_for(sandbox) as client:
        loose = {"namespace": "ns", "taskName": "loose"}
        data = run(client, api_body(params={"Id": "x?y=1#z w"}, top=loose))
        assert data["clearTextSolution"]["output"]["Id"] == "x?y=1#z w"
        assert example_target.requests[-1].raw_path == "/anything/x%3Fy%3D1%23z%20w"
        run(client, api_body(params={"Id": "a/../b"}, top=loose))
        assert example_target.requests[-1].raw_path == "/anything/a%2F..%2Fb"  # one segment, still
        for value in ("..", ".", ""):
            message = refused(
                client, api_body(params={"Id": value}, top={"namespace": "ns", "taskName": "loose"})
            )
            assert "'Id'" in message


def test_input_headers_are_checked(api_client: httpx.Client, api_sandbox: Sandbox) -> None:
    cases: list[tuple[Any, str]] = [
        ({"X-Bad": "a\r\nInjected: yes"}, "'X-Bad'"),
        ({"X-Bad": "a\nb"}, "'X-Bad'"),
        ({"X-Num": 5}, "'X-Num'"),
        ({"Bad Name": "v"}, "header name"),
        ({"Host": "evil.example"}, "'Host'"),
        ({"content-length": "0"}, "'content-length'"),
        ({"Transfer-Encoding": "chunked"}, "'Transfer-Encoding'"),
        ({"A": "1", "a": "2"}, "twice"),
        (["X-Bad"], "input.headers"),
    ]
    for headers, named in cases:
        message = refused(api_client, api_body(headers=headers))
        assert named in message, (headers, message)
        assert "Injected" not in message and "evil.example" not in message
    message = refused(api_client, api_body(headers={"X-Forward": f"key={api_sandbox.api_key}"}))
    assert "Truebit API key" in message and api_sandbox.api_key not in message


def test_redirects_are_not_followed(api_client: httpx.Client, example_target: ExampleTarget) -> None:
    before = len(example_target.requests)
    data = run(api_client, api_body("/redirect"))
    assert data["status"] == "Success"
    assert data["clearTextSolution"]["output"]["statusCode"] == 302
    assert len(example_target.requests) == before + 1


@pytest.fixture
def secured(make_sandbox: SandboxFactory, example_target: ExampleTarget) -> Sandbox:
    registry = TaskRegistry()
    manifest = example_manifest(example_target.url)
    registry.add_api_task(
        "sec", "by-header", manifest, credentials=ApiCredentials(header={"X-Target-Key": EXAMPLE_TARGET_KEY})
    )
    registry.add_api_task("sec", "by-basic", manifest, credentials=ApiCredentials(basic=EXAMPLE_BASIC))
    registry.add_api_task("sec", "none", manifest)
    return make_sandbox(registry=registry)


def test_credentials_are_injected_and_never_shown(
    secured: Sandbox, example_target: ExampleTarget, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = [
        EXAMPLE_TARGET_KEY,
        EXAMPLE_BASIC[1],
        "ZGVtbzpkZW1vLXBhc3N3b3Jk",
    ]  # the last: base64 of user:pw
    texts: list[str] = []
    with client_for(secured) as client:
        for task, scheme in (("by-header", "header"), ("by-basic", "basic")):
            response = client.post(
                API_EXECUTE, json=api_body("/secure", top={"namespace": "sec", "taskName": task})
            )
            texts.append(response.text)
            data = response.json()
            assert data["clearTextSolution"]["output"] == {"authorized": True, "scheme": scheme}
            texts.append(client.get(API_STATUS + data["executionId"]).text)
            texts.append(json.dumps(secured.dispatcher.store.request_of(data["executionId"])))
        # credentials win over an input header of the same name
        payload = api_body(
            "/secure",
            headers={"X-Target-Key": "from-input"},
            top={"namespace": "sec", "taskName": "by-header"},
        )
        data = run(client, payload)
        assert data["clearTextSolution"]["output"]["authorized"] is True
        assert example_target.requests[-1].headers["x-target-key"] == EXAMPLE_TARGET_KEY
        # without credentials the target refuses: Error, with a message that names no secret
        denied = run(client, api_body("/secure", top={"namespace": "sec", "taskName": "none"}))
        assert (
            denied["status"] == "Error" and denied["errorMsg"] == "the target answered HTTP 401 Unauthorized"
        )
        texts.append(client.get(STATS).text)
    texts += [repr(task) for task in secured.registry.tasks()] + [caplog.text]
    for text in texts:
        for secret in secrets:
            assert secret not in text


def test_input_header_values_are_redacted_everywhere_but_the_call(
    api_client: httpx.Client, api_sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "input-header-secret-4711"
    data = run(api_client, api_body("/status/500", headers={"Authorization": f"Bearer {secret}"}))
    assert data["status"] == "Error" and secret not in data["errorMsg"]
    stored = api_sandbox.dispatcher.store.request_of(data["executionId"])
    assert stored is not None and stored["input"]["headers"] == {"Authorization": "[REDACTED]"}
    assert secret not in api_client.get(STATS).text
    assert secret not in caplog.text
    payload = api_body(headers={"Authorization": f"Bearer {secret}"})
    assert api_sandbox.dispatcher.started_count(payload) == 0
    run(api_client, payload)
    assert api_sandbox.dispatcher.started_count(payload) == 1


def test_credentials_validation_and_repr() -> None:
    credentials = ApiCredentials(header={"X-Key": "very-secret"}, basic=("u", "pw-secret"))
    assert "very-secret" not in repr(credentials) and "pw-secret" not in str(credentials)
    assert credentials.headers()["Authorization"].startswith("Basic ")
    for bad in (
        {"header": {"X-Key": "a\r\nb"}},
        {"header": {"Bad Name": "v"}},
        {"header": {"Host": "x"}},
        {"basic": ("us:er", "pw")},
        {"header": {"Authorization": "x"}, "basic": ("u", "p")},
    ):
        with pytest.raises(ValueError):
            ApiCredentials(**bad)


# -- answers ---------------------------------------------------------------------------------------


def test_non_json_and_non_object_answers_are_wrapped(api_client: httpx.Client) -> None:
    text = run(api_client, api_body("/text"))["clearTextSolution"]["output"]
    assert text == {
        "statusCode": 200,
        "contentType": "text/plain; charset=utf-8",
        "text": "hello from the example target\n",
    }
    listing = run(api_client, api_body("/list"))["clearTextSolution"]["output"]
    assert listing == {"statusCode": 200, "contentType": "application/json", "json": [1, 2, 3]}
    empty = run(api_client, api_body("/status/{code}", params={"code": 204}))
    assert empty["status"] == "Success"
    assert empty["clearTextSolution"]["output"] == {"statusCode": 204, "contentType": "", "text": ""}


@pytest.mark.parametrize("code", [400, 404, 418, 500, 503])
def test_target_errors_give_status_error(api_client: httpx.Client, code: int) -> None:
    data = run(api_client, api_body("/status/{code}", params={"code": code}))
    assert set(data) == RESPONSE_KEYS | {"errorMsg"}
    assert data["status"] == "Error"
    assert data["clearTextSolution"]["status"] == "failed"
    assert data["clearTextSolution"]["output"] == {"status": code}
    assert data["errorMsg"].startswith(f"the target answered HTTP {code}")


def test_execution_timeout_is_milliseconds(api_client: httpx.Client) -> None:
    started = time.monotonic()
    data = run(api_client, api_body("/slow", params={"seconds": 5}, timeout_ms=200))
    elapsed = time.monotonic() - started
    # 200 means 200 ms: the call ends failed well before the target's 5 s answer (a promise with a
    # wide margin, not a speed: the lower bound says it did wait its 200 ms).
    assert 0.15 < elapsed < 4.0
    assert data["status"] == "Error" and data["clearTextSolution"]["status"] == "failed"
    assert data["clearTextSolution"]["output"] == {}
    assert data["errorMsg"] == "the target did not answer within 200 ms (executionTimeout)"
    assert data["totalTransferredBytes"]["request"] > 0 and data["totalTransferredBytes"]["response"] == 0
    quick = run(api_client, api_body("/slow", params={"seconds": 0.05}, timeout_ms=2000))
    assert quick["status"] == "Success" and quick["clearTextSolution"]["output"] == {"slept": 0.05}


def test_execution_timeout_is_capped(make_sandbox: SandboxFactory, api_registry: TaskRegistry) -> None:
    sandbox = make_sandbox(registry=api_registry, max_execution_timeout_seconds=0.2)
    with client_for(sandbox) as client:
        data = run(client, api_body("/slow", params={"seconds": 1}, timeout_ms=4294967295))
    assert data["errorMsg"] == "the target did not answer within 200 ms (executionTimeout)"


def test_unreachable_target_is_an_error(make_sandbox: SandboxFactory, example_target: ExampleTarget) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nobody listens there once closed
    registry = TaskRegistry()
    register_example_api_task(registry, f"http://127.0.0.1:{port}")
    sandbox = make_sandbox(registry=registry)
    with client_for(sandbox) as client:
        data = run(client, api_body(headers={"X-Token": "unreachable-secret"}))
    assert data["status"] == "Error"
    assert data["errorMsg"].startswith(f"cannot connect to the target at 127.0.0.1:{port}")
    assert "unreachable-secret" not in data["errorMsg"]
    assert data["totalTransferredBytes"] == {"request": 0, "response": 0}


def test_response_size_is_bounded(make_sandbox: SandboxFactory, api_registry: TaskRegistry) -> None:
    sandbox = make_sandbox(registry=api_registry, max_api_response_bytes=10)
    with client_for(sandbox) as client:
        data = run(client, api_body("/text"))
    assert data["status"] == "Error" and "larger than 10 bytes" in data["errorMsg"]


# -- modes, kinds and errors -----------------------------------------------------------------------


def test_async_and_running(make_sandbox: SandboxFactory, api_registry: TaskRegistry) -> None:
    sandbox = make_sandbox(registry=api_registry, hold_seconds=0.3)
    with client_for(sandbox) as client:
        started = time.monotonic()
        answer = client.post(API_EXECUTE, json=api_body("/slow", params={"seconds": 0.8}))
        assert 0.25 < time.monotonic() - started < 0.75
        assert set(answer.json()) == {"executionId"}  # the hold expired
        execution_id = answer.json()["executionId"]
        assert client.get(API_STATUS + execution_id).json() == {
            "executionId": execution_id,
            "status": "Running",
        }
        final = wait_api_terminal(client, execution_id)
        assert final["status"] == "Success" and final["clearTextSolution"]["output"] == {"slept": 0.8}
        started = time.monotonic()
        immediate = client.post(
            API_EXECUTE, json=api_body("/slow", params={"seconds": 0.2}, top={"async": True})
        )
        assert time.monotonic() - started < 0.15
        assert set(immediate.json()) == {"executionId"}
        assert wait_api_terminal(client, immediate.json()["executionId"])["status"] == "Success"


def test_kinds_do_not_mix(api_client: httpx.Client) -> None:
    message = refused(api_client, api_body(top={"taskName": "fibonacci"}))
    assert "function task" in message and "/task/function/execute-by-name" in message
    response = api_client.post(EXECUTE, json=body("custom"))
    assert response.status_code == 400
    assert (
        "API task" in response.json()["message"] and "/task/api/execute-by-name" in response.json()["message"]
    )
    function_id = api_client.post(EXECUTE, json=body()).json()["executionId"]
    api_id = run(api_client, api_body())["executionId"]
    assert api_client.get(API_STATUS + function_id).status_code == 404
    assert api_client.get(STATUS + api_id).status_code == 404
    assert api_client.get(STATUS + function_id).status_code == 200


def _without(key: str) -> dict[str, Any]:
    value = api_body()
    del value[key]
    return value


def _without_input(key: str) -> dict[str, Any]:
    value = api_body()
    del value["input"][key]
    return value


BAD_API_BODIES: list[tuple[str, Any]] = [
    *[(f"missing {k}", _without(k)) for k in ("namespace", "taskName", "async", "input", "executionTimeout")],
    *[(f"missing input.{k}", _without_input(k)) for k in ("path", "method")],
    ("array", [api_body()]),
    ("input as string", api_body(top={"input": "/anything/1"})),
    ("input.path as int", api_body(top={"input": {"path": 1, "method": "GET"}})),
    ("input.method as int", api_body(method=1)),  # type: ignore[arg-type]
    ("params as list", api_body(params=[1])),
    ("async as string", api_body(top={"async": "false"})),
    ("timeout zero", api_body(timeout_ms=0)),
    ("timeout negative", api_body(timeout_ms=-1)),
    ("timeout too large", api_body(timeout_ms=2**32)),
    ("timeout as string", api_body(top={"executionTimeout": "1000"})),
    ("timeout fractional", api_body(top={"executionTimeout": 1.5})),
    ("version as bool", api_body(top={"version": True})),
    ("unknown task", api_body(top={"taskName": "nope"})),
    ("unknown namespace", api_body(top={"namespace": "ffffffff"})),
    ("unknown version", api_body(top={"version": 9})),
    ("unknown label", api_body(top={"label": "nope"})),
    ("lone surrogate in params", api_body(params={"Id": "\ud800"})),
]


@pytest.mark.parametrize(("case", "payload"), BAD_API_BODIES, ids=[c for c, _ in BAD_API_BODIES])
def test_bad_api_bodies_are_400(api_client: httpx.Client, case: str, payload: Any) -> None:
    refused(api_client, payload)


def test_auth_credit_methods_and_unknown_ids(
    make_sandbox: SandboxFactory, api_registry: TaskRegistry
) -> None:
    sandbox = make_sandbox(registry=api_registry, api_keys={"paying": 1})
    with httpx.Client(base_url=sandbox.url) as anonymous:
        assert anonymous.post(API_EXECUTE, json=api_body()).status_code == 401
        assert anonymous.post(API_EXECUTE, content=b"{", headers={"x-api-key": "wrong"}).status_code == 401
    with client_for(sandbox, "paying") as client:
        assert client.post(API_EXECUTE, json=api_body(method="POST")).status_code == 400  # costs nothing
        assert client.post(API_EXECUTE, json=api_body()).status_code == 200
        out = client.post(API_EXECUTE, json=api_body())
        assert out.status_code == 402 and set(out.json()) == {"message"}
        for method in ("GET", "PUT", "DELETE", "PATCH"):
            answer = client.request(method, API_EXECUTE)
            assert answer.status_code == 405 and answer.headers["allow"] == "POST"
        assert client.post(API_STATUS + "abc").status_code == 405
        missing = client.get(API_STATUS + "0" * 32)
        assert missing.status_code == 404 and set(missing.json()) == {"message"}
    assert sandbox.dispatcher.started_total == 1


def test_labels_and_versions_are_shared_with_function_tasks(
    api_registry: TaskRegistry, example_target: ExampleTarget
) -> None:
    second = register_example_api_task(api_registry, example_target.url, labels=("beta",))
    assert second.version == 2 and second.task_id.startswith("api_") and len(second.task_id) == 68
    assert api_registry.resolve("3a2b5129", "custom") is second
    assert api_registry.resolve("3a2b5129", "custom", label="stable").version == 1
    with pytest.raises(ValueError, match="function task"):
        register_example_api_task(api_registry, example_target.url, name="fibonacci")
    with pytest.raises(ValueError, match="api task"):
        api_registry.add_function_task("3a2b5129", "custom", api_registry.resolve("3a2b5129", "echo").wasm)  # type: ignore[union-attr]


def test_stats_endpoint(api_client: httpx.Client, api_sandbox: Sandbox) -> None:
    api_client.delete(STATS)
    run(api_client, api_body(params={"Id": 424242}))
    api_client.post(EXECUTE, json=body(input="7"))
    refused(api_client, api_body(params={"Id": "x"}))
    with httpx.Client(base_url=api_sandbox.url) as anonymous:
        stats = anonymous.get(STATS).json()
    assert stats["startedTotal"] == 2
    assert stats["startedByTask"] == {"3a2b5129/custom@1": 1, "3a2b5129/fibonacci@1": 1}
    assert stats["startedByInput"]["7"] == 1
    assert sum(stats["startedByBody"].values()) == 2
    assert stats["faults"] is None
    assert api_client.delete(STATS).json()["startedTotal"] == 0


# -- manifests and tasks files ---------------------------------------------------------------------


def test_manifest_sources_and_errors(tmp_path: Path, example_target: ExampleTarget) -> None:
    registry = TaskRegistry()
    manifest = example_manifest(example_target.url)
    path = tmp_path / "m.json"
    path.write_text(json.dumps(manifest))
    from_dict = registry.add_api_task("ns", "a", manifest)
    from_path = registry.add_api_task("ns", "b", path)
    from_text = registry.add_api_task("ns", "c", str(path))
    from_json = registry.add_api_task("ns", "d", json.dumps(manifest))
    assert len({t.task_id for t in (from_dict, from_path, from_text, from_json)}) == 1
    moved = registry.add_api_task("ns", "e", manifest, base_url="http://127.0.0.1:9/v1")
    assert moved.manifest.base_url == "http://127.0.0.1:9/v1"
    broken: list[Any] = [
        {"openapi": "2.0", **{k: v for k, v in manifest.items() if k != "openapi"}},
        {k: v for k, v in manifest.items() if k != "servers"},
        {**manifest, "servers": [{"url": "/relative"}]},
        {**manifest, "servers": [{"url": "ftp://host/"}]},
        {**manifest, "paths": {}},
        {**manifest, "paths": {"no-slash": {"get": {}}}},
        "{not json",
        tmp_path / "missing.json",
    ]
    for bad in broken:
        with pytest.raises((ValueError, OSError)):
            registry.add_api_task("ns", "bad", bad)


def test_tasks_file_with_an_api_task(
    tmp_path: Path,
    example_target: ExampleTarget,
    monkeypatch: pytest.MonkeyPatch,
    make_sandbox: SandboxFactory,
) -> None:
    (tmp_path / "target.json").write_text(json.dumps(example_manifest("http://127.0.0.1:1")))
    monkeypatch.setenv("EXAMPLE_KEY_FOR_TEST", EXAMPLE_TARGET_KEY)
    (tmp_path / "tasks.toml").write_text(
        f"""
[[task]]
kind = "api"
namespace = "files"
name = "target"
manifest = "target.json"
base_url = "{example_target.url}"
labels = ["stable"]
description = "from a file"
[task.credentials]
header_env = {{ "X-Target-Key" = "EXAMPLE_KEY_FOR_TEST" }}

[[task]]
namespace = "files"
name = "fib"
path = "{FIBONACCI_WAT.as_posix()}"
"""
    )
    registry = TaskRegistry()
    loaded = registry.load_tasks_file(tmp_path / "tasks.toml")
    assert [task.kind for task in loaded] == ["api", "function"]
    assert EXAMPLE_TARGET_KEY not in repr(loaded[0])
    sandbox = make_sandbox(registry=registry)
    with client_for(sandbox) as client:
        data = run(
            client, api_body("/secure", top={"namespace": "files", "taskName": "target", "label": "stable"})
        )
    assert data["clearTextSolution"]["output"] == {"authorized": True, "scheme": "header"}
    bad = tmp_path / "bad.toml"
    for entry in (
        'kind = "api"\nnamespace = "n"\nname = "x"\nmanifest = "target.json"\npath = "x.wat"',
        'kind = "rpc"\nnamespace = "n"\nname = "x"\nmanifest = "target.json"',
        'kind = "api"\nnamespace = "n"\nname = "x"\nmanifest = "target.json"\n[task.credentials]\nheader_env = { "K" = "NOT_SET_ANYWHERE_42" }',
        'kind = "api"\nnamespace = "n"\nname = "x"\nmanifest = "target.json"\n[task.credentials]\nbasic = ["only-user"]',
    ):
        bad.write_text("[[task]]\n" + entry + "\n")
        with pytest.raises(ValueError):
            TaskRegistry().load_tasks_file(bad)


def test_required_header_parameters(make_sandbox: SandboxFactory, example_target: ExampleTarget) -> None:
    manifest = example_manifest(example_target.url)
    manifest["paths"]["/secure"]["get"]["parameters"] = [
        {"name": "X-Request-ID", "in": "header", "required": True, "schema": {"type": "string"}}
    ]
    registry = TaskRegistry()
    registry.add_api_task("h", "plain", manifest)
    registry.add_api_task(
        "h", "cred", manifest, credentials=ApiCredentials(header={"X-Request-ID": "from-task"})
    )
    sandbox = make_sandbox(registry=registry)
    with client_for(sandbox) as client:
        assert "'X-Request-ID'" in refused(
            client, api_body("/secure", top={"namespace": "h", "taskName": "plain"})
        )
        with_header = api_body(
            "/secure", headers={"x-request-id": "1"}, top={"namespace": "h", "taskName": "plain"}
        )
        assert run(client, with_header)["status"] == "Error"  # 401 from the target, but the call was made
        assert (
            run(client, api_body("/secure", top={"namespace": "h", "taskName": "cred"}))["status"] == "Error"
        )
    assert example_target.requests[-1].headers["x-request-id"] == "from-task"


def test_stopping_ends_a_running_api_call(
    make_sandbox: SandboxFactory, api_registry: TaskRegistry, tmp_path: Path
) -> None:
    db = str(tmp_path / "api.db")
    sandbox = make_sandbox(registry=api_registry, db_path=db)
    with client_for(sandbox) as client:
        execution_id = client.post(
            API_EXECUTE, json=api_body("/slow", params={"seconds": 5}, top={"async": True})
        ).json()["executionId"]
        time.sleep(0.1)
        assert client.get(API_STATUS + execution_id).json()["status"] == "Running"
    started = time.monotonic()
    sandbox.stop()
    assert time.monotonic() - started < 3
    again = make_sandbox(registry=api_registry, db_path=db)
    with client_for(again) as client:
        final = client.get(API_STATUS + execution_id).json()
    assert final == {
        "executionId": execution_id,
        "status": "Error",
        "errorMsg": "the sandbox stopped before the call ended",
    }


def test_credentials_and_injected_headers_never_come_back_even_when_the_target_echoes_them() -> None:
    from truebit_facade.sandbox import ApiCredentials, Sandbox, SandboxConfig, default_registry
    from truebit_facade.sandbox import register_example_api_task as register

    with ExampleTarget() as target:
        registry = default_registry()
        register(
            registry,
            target.url,
            credentials=ApiCredentials(header={"X-Target-Key": "S3CRET-HDR"}, basic=("demo", "S3CRET-PW")),
        )
        with (
            Sandbox(SandboxConfig(hold_seconds=2), registry) as sb,
            httpx.Client(base_url=sb.url, timeout=30) as client,
        ):
            body = {
                "namespace": "3a2b5129", "taskName": "custom", "async": False, "executionTimeout": 5000,
                "input": {"path": "/anything/{Id}", "method": "GET", "params": {"Id": 1}, "headers": {"X-Mine": "IN-HDR-VAL"}},
            }  # fmt: skip
            done = client.post("/task/api/execute-by-name", json=body, headers={"x-api-key": sb.api_key})
            status = client.get(f"/task/api/execution-status/{done.json()['executionId']}")
            stats = client.get("/_sandbox/stats")
        received = {k.lower(): v for k, v in target.requests[-1].headers.items()}
    assert received["x-target-key"] == "S3CRET-HDR" and received["x-mine"] == "IN-HDR-VAL"
    for text in (done.text, status.text, stats.text):
        for secret in ("S3CRET-HDR", "S3CRET-PW", "ZGVtbzpTM0NSRVQtUFc=", "IN-HDR-VAL"):
            assert secret not in text


def test_deeply_nested_bodies_are_a_400_and_cost_no_credit() -> None:
    from truebit_facade.sandbox import Sandbox, SandboxConfig

    with (
        Sandbox(SandboxConfig(hold_seconds=1, api_keys={"k": 1})) as sb,
        httpx.Client(base_url=sb.url) as client,
    ):
        deep = (
            '{"namespace":"3a2b5129","taskName":"echo","async":true,"input":"x","totalSolutions":1,'
            '"requiredSolutions":1,"taskRequesterTimestamp":1,"x":' + "[" * 600 + "]" * 600 + "}"
        )
        for path in ("/task/function/execute-by-name", "/task/api/execute-by-name"):
            answer = client.post(
                path, content=deep, headers={"x-api-key": "k", "content-type": "application/json"}
            )
            assert answer.status_code == 400, answer.text
        assert client.head("/task/function/execution-status/x").status_code == 405
        ok = client.post("/task/function/execute-by-name", content=deep.replace(',"x":' + "[" * 600 + "]" * 600, ""),
                         headers={"x-api-key": "k", "content-type": "application/json"})  # fmt: skip
        assert ok.status_code == 200, ok.text
