"""Durability: SQLite storage, restarts, executions interrupted by a stop or a kill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from truebit_facade.sandbox import DEV_API_KEY, NodeFault
from truebit_facade.sandbox._store import ExecutionStore

from .sandbox_helpers import EXECUTE, STATUS, SandboxFactory, body, client_for, wait_terminal


def test_store_eviction_and_kinds(tmp_path: Path) -> None:
    store = ExecutionStore(str(tmp_path / "x.db"), max_retained=2)
    for i in range(4):
        store.create(f"id{i}", "function", {"n": i})
    store.create("api0", "api", {})
    for i in range(3):
        store.finish(f"id{i}", "Success", {"executionId": f"id{i}", "verificationStatus": "Success"})
    assert store.get("id0") is None  # the oldest finished is evicted
    assert store.get("id1") == ("Success", {"executionId": "id1", "verificationStatus": "Success"})
    assert store.get("id3") == ("Running", None)  # running ones are never evicted
    assert store.get("api0", "function") is None and store.get("api0", "api") == ("Running", None)
    assert store.request_of("id3") == {"n": 3}
    store.close()
    reopened = ExecutionStore(str(tmp_path / "x.db"), max_retained=2)
    assert reopened.interrupted == 2
    assert reopened.get("id3") == ("Error", {"executionId": "id3", "verificationStatus": "Error"})
    assert reopened.counts() == {"Error": 2}  # eviction again keeps max_retained finished rows
    reopened.close()


def test_restart_with_a_db_file_keeps_finished_executions(
    make_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    db = str(tmp_path / "sandbox.db")
    first = make_sandbox(db_path=db)
    with client_for(first) as client:
        done = client.post(EXECUTE, json=body(input="40", totalSolutions=3, requiredSolutions=2)).json()
    first.stop()
    second = make_sandbox(db_path=db)
    with client_for(second) as client:
        assert client.get(STATUS + done["executionId"]).json() == done
        assert client.post(EXECUTE, json=body()).status_code == 200


def test_stopping_ends_running_executions_with_error(make_sandbox: SandboxFactory, tmp_path: Path) -> None:
    db = str(tmp_path / "sandbox.db")
    first = make_sandbox(db_path=db, faulty_nodes={0: NodeFault("slow", 30)}, verification_timeout_seconds=60)
    with client_for(first) as client:
        execution_id = client.post(EXECUTE, json=body(**{"async": True})).json()["executionId"]
        assert client.get(STATUS + execution_id).json()["verificationStatus"] == "Running"
    started = time.monotonic()
    first.stop()
    assert time.monotonic() - started < 3
    second = make_sandbox(db_path=db)
    with client_for(second) as client:
        assert client.get(STATUS + execution_id).json() == {
            "executionId": execution_id,
            "verificationStatus": "Error",
        }


def _start_cli(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "truebit_facade.sandbox", "--port", "0", "--log-level", "warning", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    assert first.startswith("Truebit sandbox listening on http://127.0.0.1:"), first
    assert process.stdout.readline().strip() == f"API key: {DEV_API_KEY}"
    return process, first.split()[-1]


def test_cli_serves_and_a_killed_sandbox_answers_after_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.db")
    tasks = tmp_path / "tasks.json"
    fibonacci = Path(__file__).parents[2] / "truebit_facade" / "sandbox" / "tasks" / "fibonacci.wat"
    tasks.write_text(json.dumps({"tasks": [{"namespace": "mine", "name": "fib", "path": str(fibonacci)}]}))
    process, url = _start_cli(
        "--db", db, "--tasks", str(tasks), "--faulty", "1:slow:60", "--verification-timeout", "120"
    )
    try:
        with httpx.Client(base_url=url, headers={"x-api-key": DEV_API_KEY}, timeout=10) as client:
            done = client.post(EXECUTE, json=body(namespace="mine", taskName="fib", input="12")).json()
            assert done["clearTextSolution"]["output"] == "144"
            pending = client.post(
                EXECUTE, json=body(totalSolutions=2, requiredSolutions=2, **{"async": True})
            ).json()
            assert client.get(STATUS + pending["executionId"]).json()["verificationStatus"] == "Running"
    finally:
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
    process, url = _start_cli("--db", db)
    try:
        with httpx.Client(base_url=url, timeout=10) as client:
            assert client.get(STATUS + done["executionId"]).json() == done
            interrupted = wait_terminal(client, pending["executionId"])
            assert interrupted == {"executionId": pending["executionId"], "verificationStatus": "Error"}
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(10) == 0


def test_cli_reports_a_bad_tasks_file(tmp_path: Path) -> None:
    tasks = tmp_path / "tasks.toml"
    tasks.write_text('[[task]]\nnamespace = "n"\nname = "x"\npath = "missing.wat"\n')
    result = subprocess.run(
        [sys.executable, "-m", "truebit_facade.sandbox", "--tasks", str(tasks)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "missing.wat" in result.stderr


def test_stopping_answers_held_sync_requests_at_once(make_sandbox: SandboxFactory) -> None:
    import threading

    sandbox = make_sandbox(
        hold_seconds=60, faulty_nodes={0: NodeFault("slow", 30)}, verification_timeout_seconds=60
    )
    answers: list[httpx.Response | Exception] = []

    def held() -> None:
        with client_for(sandbox) as client:
            try:
                answers.append(client.post(EXECUTE, json=body()))
            except httpx.HTTPError as exc:
                answers.append(exc)

    thread = threading.Thread(target=held)
    thread.start()
    deadline = time.monotonic() + 5
    while sandbox.dispatcher.started_total == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    started = time.monotonic()
    sandbox.stop()
    thread.join(10)
    assert time.monotonic() - started < 2
    (answer,) = answers
    assert isinstance(answer, httpx.Response)
    assert answer.json()["verificationStatus"] == "Error"
