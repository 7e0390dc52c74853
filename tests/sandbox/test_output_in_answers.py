"""An output the sandbox accepts is one a client can read; a large answer costs the server no render
per read, and readers share one copy of it.

A real program (``tests/wasm_programs/src/c_controls.c``, clang and wasi-libc) writes the characters a
JSON string escapes (controls, quote, backslash): valid UTF-8 that grows up to sixfold in the answer.
The output bound counts the answer's JSON text, so such an output either fits the bound (and the
client reads it back byte for byte, through the status read too) or fails as too large, with a
typed failure: never an answer over the client's size bound. The sandbox is served on 127.0.0.1.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from truebit_facade import TaskFailedError, Truebit
from truebit_facade.sandbox import Sandbox, SandboxConfig, TaskLimits, default_registry
from truebit_facade.sandbox._store import ExecutionStore

PROGRAMS = Path(__file__).resolve().parents[1] / "wasm_programs"
NAMESPACE = "7e57c0de"
LIMIT = 1 << 20  # a 1 MiB output bound: the answers stay small enough for a quick test
CYCLE = "".join(chr(c) for c in range(1, 32)) + '"\\'


def expected(count: int) -> str:
    return (CYCLE * (count // len(CYCLE) + 1))[:count]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    registry = default_registry()
    registry.load_tasks_file(PROGRAMS / "tasks.toml")
    config = SandboxConfig(hold_seconds=10.0, default_limits=TaskLimits(output_bytes=LIMIT))
    with Sandbox(config, registry) as sb:
        yield sb


@pytest.fixture(scope="module")
def client(sandbox: Sandbox) -> Iterator[Truebit]:
    # A client whose answer bound is the sandbox's output bound and a little: what it accepts fits.
    with Truebit(
        api_key=sandbox.api_key, base_url=sandbox.url, wait_timeout=30.0, max_response_bytes=LIMIT + 4096
    ) as tb:
        yield tb


def test_an_output_that_fits_as_json_text_comes_back_byte_for_byte(client: Truebit) -> None:
    count = LIMIT // 7  # about 6x in the answer: just under the bound
    result = client.functions.run(NAMESPACE, "c_controls", str(count))
    assert result.output == expected(count)
    # The status read of the finished execution: the stored answer, sent in pieces (> 64 KiB).
    again = client.functions.get(result.execution_id)
    assert again.output == expected(count) and again.ok


def test_an_output_over_the_bound_as_json_text_fails_as_too_large(client: Truebit) -> None:
    count = LIMIT // 3  # a third of the bound in bytes, twice the bound as JSON text
    with pytest.raises(TaskFailedError) as caught:
        client.functions.run(NAMESPACE, "c_controls", str(count))
    assert "output too large" in str(caught.value)
    assert "as the answer's JSON text" in str(caught.value)
    assert caught.value.result.execution_id  # answered and readable, with its id


def test_a_large_answer_is_sent_as_stored_with_its_length(client: Truebit, sandbox: Sandbox) -> None:
    count = 200_000
    eid = client.functions.submit(NAMESPACE, "c_controls", str(count)).execution_id
    client.functions.wait(eid)
    with httpx.Client(base_url=sandbox.url) as http:
        first = http.get(f"/task/function/execution-status/{eid}")
        second = http.get(f"/task/function/execution-status/{eid}")
    assert first.status_code == 200 and first.headers["content-type"] == "application/json"
    assert int(first.headers["content-length"]) == len(first.content)
    assert first.content == second.content
    assert json.loads(first.content)["clearTextSolution"]["output"] == expected(count)


def test_a_reader_that_takes_nothing_does_not_stop_the_others(client: Truebit, sandbox: Sandbox) -> None:
    eid = client.functions.submit(NAMESPACE, "c_controls", str(LIMIT // 7)).execution_id
    client.functions.wait(eid)
    host, port = httpx.URL(sandbox.url).host, httpx.URL(sandbox.url).port
    stalled = []
    try:
        for _ in range(4):  # readers that send the request and never read the answer
            s = socket.create_connection((host, port), timeout=5)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.sendall(f"GET /task/function/execution-status/{eid} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            stalled.append(s)
        time.sleep(0.2)
        with httpx.Client(base_url=sandbox.url, timeout=10) as http:
            answer = http.get(f"/task/function/execution-status/{eid}")
        assert json.loads(answer.content)["clearTextSolution"]["output"] == expected(LIMIT // 7)
    finally:
        for s in stalled:
            s.close()


def test_readers_of_one_execution_share_its_encoded_answer(tmp_path: Path) -> None:
    store = ExecutionStore(str(tmp_path / "store.db"))
    store.create("e1", "function", {"input": "x"})
    body = {"executionId": "e1", "verificationStatus": "Success", "clearTextSolution": {"output": "é\u0001"}}
    store.finish("e1", "Success", body)
    first, second = store.answer("e1"), store.answer("e1")
    assert first is not None and second is not None
    assert first[1] is second[1]  # one bytes object for every reader
    assert json.loads(first[1] or b"") == body
    reopened = ExecutionStore(str(tmp_path / "store.db"))  # from the file: the same bytes as sent
    assert reopened.answer("e1") == first
    assert reopened.answer("e1", "api") is None and reopened.answer("missing") is None


def test_the_bound_counts_the_escapes_not_the_quotes() -> None:
    from truebit_facade.sandbox._task_dir import output_text

    assert output_text(b"a" * 1000, 1000) == ("a" * 1000, "")  # plain text: its size, as before
    assert output_text(b"\x01" * 166, 1000)[1] == ""  # 996 bytes as JSON text
    assert output_text(b"\x01" * 167, 1000)[1].startswith("output too large: output.txt is 167 bytes, 1002")
    assert output_text(b'"\\' * 250, 1000)[1] == ""  # each escaped in two bytes: exactly 1000
    assert output_text(b'"\\' * 251, 1000)[1].startswith("output too large")
