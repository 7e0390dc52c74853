"""The sandbox's HTTP API over loopback with raw httpx: shapes, status codes, modes, signatures."""

from __future__ import annotations

import re
import time
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from truebit_facade.sandbox import NodeFault, Sandbox
from truebit_facade.sandbox._nodes import node_private_key
from truebit_facade.signing import address_of, recover_signer, sandbox_solution_hash

from .sandbox_helpers import EXECUTE, STATUS, SandboxFactory, body, client_for, wait_terminal

SOLUTION_KEYS = {"output", "executionStatus", "senderAddress", "signature"}


def assert_signed(execution_id: str, solution: dict[str, Any]) -> None:
    signature = solution["signature"]
    assert signature["v"] in (27, 28)
    assert re.fullmatch("[0-9a-f]{64}", signature["r"]) and re.fullmatch("[0-9a-f]{64}", signature["s"])
    digest = sandbox_solution_hash(execution_id, solution["output"], solution["executionStatus"])
    assert recover_signer(digest, SimpleNamespace(**signature)) == solution["senderAddress"]


def test_sync_fibonacci_with_three_nodes(client: httpx.Client) -> None:
    response = client.post(EXECUTE, json=body(input="22", totalSolutions=3, requiredSolutions=3))
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    data = response.json()
    assert set(data) == {"executionId", "clearTextSolution", "verificationStatus"}
    assert data["verificationStatus"] == "Success"
    solution = data["clearTextSolution"]
    assert set(solution) == SOLUTION_KEYS
    assert (solution["output"], solution["executionStatus"]) == ("17711", "succeed")
    assert solution["senderAddress"] == address_of(node_private_key("truebit-sandbox", 0))
    assert_signed(data["executionId"], solution)
    assert client.get(STATUS + data["executionId"]).json() == data


@pytest.mark.parametrize(
    ("n", "expected"), [(0, "0"), (1, "1"), (2, "1"), (50, "12586269025"), (90, "2880067194370816120")]
)
def test_fibonacci_over_http(client: httpx.Client, n: int, expected: str) -> None:
    data = client.post(EXECUTE, json=body(input=str(n))).json()
    assert data["clearTextSolution"]["output"] == expected


def test_echo_json(client: httpx.Client) -> None:
    text = '{"name": "Zoë", "values": [1, 2.5, null], "nested": {"ok": true}}'
    data = client.post(EXECUTE, json=body("echo", text, totalSolutions=2, requiredSolutions=2)).json()
    assert data["clearTextSolution"]["output"] == text
    assert data["verificationStatus"] == "Success"
    assert_signed(data["executionId"], data["clearTextSolution"])


@pytest.mark.parametrize(
    ("task", "gas", "prefix"),
    [
        ("loop", None, "out of gas"),
        ("loop", "1000", "out of gas"),
        ("trap", None, "trap:"),
        ("echo", None, "empty output"),
    ],
)
def test_failing_tasks(client: httpx.Client, task: str, gas: str | None, prefix: str) -> None:
    extra = {} if gas is None else {"gasLimit": gas}
    data = client.post(EXECUTE, json=body(task, "", totalSolutions=3, requiredSolutions=2, **extra)).json()
    solution = data["clearTextSolution"]
    assert solution["executionStatus"] == "failed"
    assert solution["output"].startswith(prefix)
    assert data["verificationStatus"] == "Success"  # every node agrees that it fails
    assert_signed(data["executionId"], solution)


def test_gas_limit_from_the_request(client: httpx.Client) -> None:
    assert client.post(EXECUTE, json=body(input="90", gasLimit="1000000")).json()["clearTextSolution"][
        "output"
    ] == ("2880067194370816120")
    failed = client.post(EXECUTE, json=body(input="90", gasLimit="100")).json()["clearTextSolution"]
    assert failed == {
        **failed,
        "executionStatus": "failed",
        "output": "out of gas: the gas limit of 100 steps was exhausted",
    }
    huge = client.post(EXECUTE, json=body(input="5", gasLimit="9" * 500)).json()["clearTextSolution"]
    assert huge["output"] == "5"


def test_async_mode_answers_at_once_then_status_turns_terminal(client: httpx.Client) -> None:
    response = client.post(EXECUTE, json=body(input="30", **{"async": True}))
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"executionId"}
    final = wait_terminal(client, data["executionId"])
    assert final["clearTextSolution"]["output"] == "832040"
    assert final["verificationStatus"] == "Success"


def test_sync_hold_expiry_returns_the_id_alone(make_sandbox: SandboxFactory) -> None:
    sandbox = make_sandbox(hold_seconds=0.3, faulty_nodes={0: NodeFault("slow", 1.0)})
    with client_for(sandbox) as client:
        started = time.monotonic()
        response = client.post(EXECUTE, json=body(input="10"))
        held = time.monotonic() - started
        assert response.status_code == 200
        assert set(response.json()) == {"executionId"}
        assert 0.25 < held < 0.9
        execution_id = response.json()["executionId"]
        running = client.get(STATUS + execution_id).json()
        assert running == {"executionId": execution_id, "verificationStatus": "Running"}
        final = wait_terminal(client, execution_id)
        assert final["verificationStatus"] == "Success"
        assert time.monotonic() - started >= 0.95
        assert final["clearTextSolution"]["output"] == "55"


def test_execution_ids_are_unguessable(client: httpx.Client) -> None:
    ids = {client.post(EXECUTE, json=body(**{"async": True})).json()["executionId"] for _ in range(20)}
    assert len(ids) == 20
    assert all(re.fullmatch("[0-9a-f]{32}", i) for i in ids)


# -- errors --------------------------------------------------------------------------------------


def _without(key: str) -> dict[str, Any]:
    value = body()
    del value[key]
    return value


BAD_BODIES: list[tuple[str, Any]] = [
    *[
        (f"missing {k}", _without(k))
        for k in (
            "namespace",
            "taskName",
            "async",
            "input",
            "totalSolutions",
            "requiredSolutions",
            "taskRequesterTimestamp",
        )
    ],
    ("array", [body()]),
    ("string", "hello"),
    ("null", None),
    ("async as string", body(**{"async": "false"})),
    ("async as int", body(**{"async": 0})),
    ("total as bool", body(totalSolutions=True)),
    ("timestamp as bool", body(taskRequesterTimestamp=False)),
    ("total as string", body(totalSolutions="1")),
    ("total fractional", body(totalSolutions=1.5)),
    ("timestamp negative", body(taskRequesterTimestamp=-1)),
    ("timestamp too large", body(taskRequesterTimestamp=2**32)),
    ("version too large", body(version=2**32)),
    ("version as bool", body(version=True)),
    ("namespace as int", body(namespace=1)),
    ("input as object", body(input={"a": 1})),
    ("label as null", body(label=None)),
    ("gasLimit as int", body(gasLimit=1000)),
    ("gasLimit negative", body(gasLimit="-1")),
    ("gasLimit with letters", body(gasLimit="12a")),
    ("gasLimit empty", body(gasLimit="")),
    ("gasLimit trailing newline", body(gasLimit="12\n")),
    ("gasLimit unicode digits", body(gasLimit="\u0661\u0662")),
    ("total zero", body(totalSolutions=0, requiredSolutions=0)),
    ("required zero", body(requiredSolutions=0)),
    ("required above total", body(totalSolutions=2, requiredSolutions=3)),
    ("total above max", body(totalSolutions=17, requiredSolutions=1)),
    ("unknown namespace", body(namespace="ffffffff")),
    ("unknown task", body(taskName="nope")),
    ("unknown version", body(version=99)),
    ("version 0", body(version=0)),
    ("unknown label", body(label="nope")),
]


@pytest.mark.parametrize(("case", "payload"), BAD_BODIES, ids=[c for c, _ in BAD_BODIES])
def test_bad_bodies_are_400(client: httpx.Client, case: str, payload: Any) -> None:
    response = client.post(EXECUTE, json=payload)
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"message"} and response.json()["message"]


@pytest.mark.parametrize(
    "raw",
    [b"", b"{", b"not json", b'{"a": NaN', b"\xff\xfe", b"[" * 100_000, b'{"namespace": "\\ud800"}',
     b'{"namespace": "3a2b5129", "taskName": "echo", "async": false, "input": "\\udc00", "totalSolutions": 1,'
     b' "requiredSolutions": 1, "taskRequesterTimestamp": 1}'],
)  # fmt: skip
def test_invalid_json_is_400(client: httpx.Client, raw: bytes) -> None:
    response = client.post(EXECUTE, content=raw, headers={"content-type": "application/json"})
    assert response.status_code == 400
    assert "message" in response.json()


def test_too_large_body_is_400(client: httpx.Client) -> None:
    response = client.post(EXECUTE, json=body("echo", "x" * (1 << 20)))
    assert response.status_code == 400
    assert "larger than" in response.json()["message"]


def test_extra_fields_and_integral_floats_are_accepted(client: httpx.Client) -> None:
    payload = body(
        input="7", totalSolutions=2.0, requiredSolutions=1, extra={"anything": [1]}, label="stable", version=1
    )
    response = client.post(EXECUTE, json=payload)
    assert response.status_code == 200
    assert response.json()["clearTextSolution"]["output"] == "13"


def test_label_latest_and_version(client: httpx.Client) -> None:
    assert client.post(EXECUTE, json=body(label="latest")).json()["verificationStatus"] == "Success"
    assert client.post(EXECUTE, json=body(version=1)).json()["verificationStatus"] == "Success"


def test_required_solutions_bounds(client: httpx.Client) -> None:
    for total in (1, 4, 16):
        for required in (1, total):
            response = client.post(EXECUTE, json=body(totalSolutions=total, requiredSolutions=required))
            assert response.status_code == 200
            assert response.json()["verificationStatus"] == "Success"


@pytest.mark.parametrize("headers", [{}, {"x-api-key": ""}, {"x-api-key": "wrong"}])
def test_missing_or_unknown_key_is_401(shared_sandbox: Sandbox, headers: dict[str, str]) -> None:
    with httpx.Client(base_url=shared_sandbox.url) as client:
        response = client.post(EXECUTE, json=body(), headers=headers)
        assert response.status_code == 401
        assert set(response.json()) == {"message"}
        assert client.post(EXECUTE, content=b"{", headers=headers).status_code == 401  # auth first


def test_status_needs_no_key(client: httpx.Client, shared_sandbox: Sandbox) -> None:
    execution_id = client.post(EXECUTE, json=body()).json()["executionId"]
    with httpx.Client(base_url=shared_sandbox.url) as anonymous:
        assert anonymous.get(STATUS + execution_id).status_code == 200


def test_out_of_credit_is_402(make_sandbox: SandboxFactory) -> None:
    sandbox = make_sandbox(api_keys={"paying": 2, "rich": None})
    with client_for(sandbox, "paying") as client:
        assert client.post(EXECUTE, json=body(taskName="nope")).status_code == 400  # refused: costs nothing
        assert client.post(EXECUTE, json=body()).status_code == 200
        assert client.post(EXECUTE, json=body(**{"async": True})).status_code == 200
        response = client.post(EXECUTE, json=body())
        assert response.status_code == 402
        assert set(response.json()) == {"message"}
        assert client.post(EXECUTE, json=body(totalSolutions=0)).status_code == 400  # body checked first
    with client_for(sandbox, "rich") as client:
        assert all(client.post(EXECUTE, json=body()).status_code == 200 for _ in range(5))
    assert sandbox.api_key == "paying"


@pytest.mark.parametrize("execution_id", ["0" * 32, "nope", "a%2Fb", "%F0%9F%98%80", "x" * 2000])
def test_unknown_execution_is_404(client: httpx.Client, execution_id: str) -> None:
    response = client.get(STATUS + execution_id)
    assert response.status_code == 404
    assert set(response.json()) == {"message"}


@pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE", "OPTIONS", "TRACE", "GET"])
def test_other_methods_on_execute_are_405(client: httpx.Client, method: str) -> None:
    response = client.request(method, EXECUTE)
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert set(response.json()) == {"message"}


@pytest.mark.parametrize("method", ["PATCH", "PUT", "DELETE", "OPTIONS", "TRACE", "POST"])
def test_other_methods_on_status_are_405(client: httpx.Client, method: str) -> None:
    response = client.request(method, STATUS + "abc")
    assert response.status_code == 405
    assert "GET" in response.headers["allow"]
    assert set(response.json()) == {"message"}


@pytest.mark.parametrize(
    "path", ["/", "/task", "/task/function/execution-status/", "/task/function/execute-by-name/x"]
)
def test_unknown_paths_are_json_404(client: httpx.Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.json() == {"message": "not found"}


def test_a_sandbox_fault_gives_verification_error(make_sandbox: SandboxFactory) -> None:
    sandbox = make_sandbox()

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise OSError("disk full")

    sandbox.dispatcher.runner.run = broken  # type: ignore[method-assign,unused-ignore]
    with client_for(sandbox) as client:
        data = client.post(EXECUTE, json=body()).json()
    assert data["verificationStatus"] == "Error"
    assert data["clearTextSolution"]["executionStatus"] == "failed"
    assert data["clearTextSolution"]["output"] == "sandbox error: OSError: disk full"
    assert_signed(data["executionId"], data["clearTextSolution"])


# -- nodes and verification ----------------------------------------------------------------------


def test_node_addresses_are_distinct_and_deterministic(client: httpx.Client) -> None:
    addresses = [address_of(node_private_key("truebit-sandbox", i)) for i in range(3)]
    assert len(set(addresses)) == 3
    assert all(re.fullmatch("0x[0-9a-fA-F]{40}", a) for a in addresses)
    seen = {
        client.post(EXECUTE, json=body(totalSolutions=3, requiredSolutions=3)).json()["clearTextSolution"][
            "senderAddress"
        ]
        for _ in range(3)
    }
    assert seen == {addresses[0]}


def test_a_wrong_node_makes_unanimity_indeterminate(make_sandbox: SandboxFactory) -> None:
    sandbox = make_sandbox(faulty_nodes={0: NodeFault("wrong_output")})
    with client_for(sandbox) as client:
        data = client.post(EXECUTE, json=body(totalSolutions=3, requiredSolutions=3)).json()
        assert data["verificationStatus"] == "Indeterminate"
        # the largest group (the two honest nodes) is reported
        assert data["clearTextSolution"]["output"] == "17711"
        assert data["clearTextSolution"]["senderAddress"] == address_of(
            node_private_key("truebit-sandbox", 1)
        )
        assert_signed(data["executionId"], data["clearTextSolution"])
        majority = client.post(EXECUTE, json=body(totalSolutions=3, requiredSolutions=2)).json()
        assert majority["verificationStatus"] == "Success"
        assert majority["clearTextSolution"]["output"] == "17711"
        alone = client.post(EXECUTE, json=body(totalSolutions=1, requiredSolutions=1)).json()
        assert alone["verificationStatus"] == "Success"  # one faulty node, nothing to compare with
        assert alone["clearTextSolution"]["output"] == "17711 [wrong answer from faulty node 0]"
        assert_signed(alone["executionId"], alone["clearTextSolution"])


def test_faulty_nodes_never_agree_with_each_other(make_sandbox: SandboxFactory) -> None:
    sandbox = make_sandbox(faulty_nodes={1: NodeFault("wrong_output"), 2: NodeFault("wrong_output")})
    with client_for(sandbox) as client:
        data = client.post(EXECUTE, json=body(totalSolutions=3, requiredSolutions=2)).json()
    assert data["verificationStatus"] == "Indeterminate"
    assert data["clearTextSolution"]["output"] == "17711"  # ties: the first to arrive (node 0)


def test_silent_and_slow_nodes(make_sandbox: SandboxFactory) -> None:
    sandbox = make_sandbox(
        verification_timeout_seconds=0.5,
        faulty_nodes={1: NodeFault("slow", 0.2), 2: NodeFault("silent"), 3: NodeFault("slow", 5.0)},
    )
    with client_for(sandbox) as client:
        started = time.monotonic()
        slow_ok = client.post(EXECUTE, json=body(totalSolutions=2, requiredSolutions=2)).json()
        assert slow_ok["verificationStatus"] == "Success"
        assert 0.15 < time.monotonic() - started < 0.45
        started = time.monotonic()
        silent = client.post(EXECUTE, json=body(totalSolutions=3, requiredSolutions=3)).json()
        assert silent["verificationStatus"] == "Indeterminate"
        assert 0.45 < time.monotonic() - started < 1.5  # waited for the whole window
        assert silent["clearTextSolution"]["output"] == "17711"
        too_slow = client.post(EXECUTE, json=body(totalSolutions=4, requiredSolutions=2)).json()
        assert too_slow["verificationStatus"] == "Success"  # nodes 0 and 1 suffice
        only_silent = make_sandbox(verification_timeout_seconds=0.2, faulty_nodes={0: NodeFault("silent")})
    with client_for(only_silent) as client:
        nothing = client.post(EXECUTE, json=body()).json()
        assert nothing == {"executionId": nothing["executionId"], "verificationStatus": "Indeterminate"}


# -- bounds --------------------------------------------------------------------------------------


def test_concurrent_executions_are_bounded_and_queued(make_sandbox: SandboxFactory) -> None:
    from truebit_facade.sandbox import TaskRegistry, default_registry

    registry: TaskRegistry = default_registry()
    registry.add_function_task(
        "slow",
        "spin",
        registry.resolve_function("3a2b5129", "loop").wasm,
        gas_limit_default=2**63,
        wall_clock_seconds=0.3,
    )
    sandbox = make_sandbox(registry=registry, max_concurrent_executions=1)
    with client_for(sandbox) as client:
        started = time.monotonic()
        ids = [
            client.post(EXECUTE, json=body(namespace="slow", taskName="spin", **{"async": True})).json()[
                "executionId"
            ]
            for _ in range(3)
        ]
        time.sleep(0.1)
        assert sandbox.dispatcher.active == 1
        assert sandbox.dispatcher.queued == 2
        assert all(client.get(STATUS + i).json()["verificationStatus"] == "Running" for i in ids)
        finals = [wait_terminal(client, i) for i in ids]
        elapsed = time.monotonic() - started
    assert all(f["clearTextSolution"]["output"].startswith("time limit") for f in finals)
    assert sandbox.dispatcher.peak_active == 1
    assert elapsed >= 0.85  # one after the other


def test_retained_results_are_bounded(make_sandbox: SandboxFactory) -> None:
    sandbox = make_sandbox(max_retained_results=3)
    with client_for(sandbox) as client:
        ids = [client.post(EXECUTE, json=body(input=str(i))).json()["executionId"] for i in range(6)]
        assert [client.get(STATUS + i).status_code for i in ids] == [404, 404, 404, 200, 200, 200]
    assert sandbox.dispatcher.store.counts() == {"Success": 3}


def test_started_counter(make_sandbox: SandboxFactory) -> None:
    sandbox = make_sandbox()
    with client_for(sandbox) as client:
        client.post(EXECUTE, json=body(input="3"))
        client.post(EXECUTE, json=body(input="3"))
        client.post(EXECUTE, json=body(input="4"))
        client.post(EXECUTE, json=body(taskName="nope"))
    assert sandbox.dispatcher.started_total == 3
    assert sorted(sandbox.dispatcher.started_by_body.values()) == [1, 2]
