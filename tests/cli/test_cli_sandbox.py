"""The ``truebit`` command end to end against the local dispatcher on loopback (skipped without it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest

from truebit_facade import cli

NS = "3a2b5129"
StartSandbox = Callable[..., Any]


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    assert "\r" not in captured.out + captured.err  # not a terminal: nothing animated
    return code, captured.out, captured.err


def test_success_failure_and_api_errors(
    sandbox_factory: StartSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox_factory()
    assert run_cli(["run", NS, "fibonacci", "22", "--total-solutions", "3"], capsys)[:2] == (0, "17711\n")

    rc, out, _ = run_cli(["--json", "run", NS, "echo", '{"a": [1, 2]}'], capsys)
    data = json.loads(out)
    assert rc == 0 and data["ok"] and data["output"] == '{"a": [1, 2]}' and data["sender_address"]

    rc, out, err = run_cli(["run", NS, "trap", "x"], capsys)
    assert rc == cli.EXIT_TASK_FAILED and out == "" and "TaskFailedError" in err and "trap" in err

    rc, out, _ = run_cli(["run", NS, "loop", "x", "--gas-limit", "1000000", "--json"], capsys)
    data = json.loads(out)
    assert rc == 1 and data["execution_status"] == "failed" and "gas" in data["output"]

    rc, _, err = run_cli(["run", NS, "no-such-task", "x"], capsys)
    assert rc == cli.EXIT_API_ERROR and err.startswith("truebit: BadRequestError: HTTP 400: ")
    assert err.count("HTTP 400") == 1 and err.count("BadRequestError") == 1

    rc, _, err = run_cli(["status", "0123456789abcdef", "--wait"], capsys)
    assert rc == 4 and "ExecutionNotFoundError" in err


def test_wrong_api_key_is_an_api_error_that_never_shows_the_key(
    sandbox_factory: StartSandbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox_factory()
    monkeypatch.setenv("TRUEBIT_API_KEY", "wrong-key-9876543210")
    for flags in ([], ["--json"], ["--debug"]):
        rc, out, err = run_cli([*flags, "run", NS, "echo", "hi"], capsys)
        assert rc == 4 and "AuthenticationError" in out + err
        assert "wrong-key-9876543210" not in out + err


def test_indeterminate_exits_3(sandbox_factory: StartSandbox, capsys: pytest.CaptureFixture[str]) -> None:
    from truebit_facade.sandbox import NodeFault

    sandbox_factory(faulty_nodes={1: NodeFault("wrong_output")})
    rc, out, err = run_cli(["run", NS, "fibonacci", "10", "--total-solutions", "2"], capsys)
    assert rc == cli.EXIT_INDETERMINATE and "VerificationIndeterminateError" in err
    rc, out, _ = run_cli(
        ["run", NS, "fibonacci", "10", "--total-solutions", "3", "--required-solutions", "2"], capsys
    )
    assert (rc, out) == (0, "55\n")


def test_wait_deadline_exits_5_and_status_wait_resumes(
    sandbox_factory: StartSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    from truebit_facade.sandbox import NodeFault

    sandbox_factory(faulty_nodes={0: NodeFault("slow", 1.0)})
    rc, out, err = run_cli(["--json", "run", NS, "fibonacci", "22", "--timeout", "0.3"], capsys)
    data = json.loads(out)
    assert rc == cli.EXIT_NOT_FINISHED and data["error"]["type"] == "WaitTimeoutError"
    execution_id = data["execution_id"]
    assert data["resume"] == f"truebit status {execution_id} --wait"

    rc, out, err = run_cli(["status", execution_id], capsys)
    assert rc == 5 and f"truebit status {execution_id} --wait" in err  # still running
    rc, out, err = run_cli(["status", execution_id, "--wait", "--timeout", "30"], capsys)
    assert (rc, out) == (0, "17711\n")


def test_a_failed_task_reads_the_same_from_run_status_and_status_wait(
    sandbox_factory: StartSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    sandbox_factory()
    rc, out, _ = run_cli(["submit", NS, "trap", "x"], capsys)
    execution_id = out.strip()
    assert rc == 0 and execution_id
    rc, _, err = run_cli(["status", execution_id, "--wait"], capsys)
    assert rc == cli.EXIT_TASK_FAILED and err.startswith(
        f"truebit: TaskFailedError: execution {execution_id}: "
    )
    assert run_cli(["status", execution_id], capsys) == (rc, "", err)
    rc_run, out_run, err_run = run_cli(["run", NS, "trap", "x"], capsys)
    run_id = err_run.split()[3].rstrip(":")
    assert (rc_run, out_run, err_run.replace(run_id, execution_id)) == (rc, "", err)
    for argv in (["run", NS, "trap", "x"], ["status", execution_id], ["status", execution_id, "--wait"]):
        rc, out, _ = run_cli(["--json", *argv], capsys)
        data = json.loads(out)
        assert rc == 1 and data["error"]["type"] == "TaskFailedError" and data["execution_status"] == "failed"


def test_submit_then_status(sandbox_factory: StartSandbox, capsys: pytest.CaptureFixture[str]) -> None:
    sandbox_factory()
    rc, out, err = run_cli(["submit", NS, "fibonacci", "30", "--task-version", "1"], capsys)
    execution_id = out.strip()
    assert rc == 0 and out == f"{execution_id}\n" and f"truebit status {execution_id} --wait" in err
    rc, out, _ = run_cli(["status", execution_id, "--wait"], capsys)
    assert (rc, out) == (0, "832040\n")


def test_sandbox_help_says_truebit_sandbox(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("truebit_facade.sandbox.__main__", reason="the sandbox extra is not installed")
    rc, out, _ = run_cli(["sandbox", "--help"], capsys)
    assert rc == 0 and out.startswith("usage: truebit sandbox [-h]") and "--port PORT" in out
    assert "truebit-sandbox [" not in out and "python -m" not in out.splitlines()[0]


def test_json_stays_valid_when_header_values_look_like_json_tokens(truebit_api_sandbox: Any) -> None:
    sb = truebit_api_sandbox
    env = {"TRUEBIT_API_KEY": sb.api_key, "TRUEBIT_BASE_URL": sb.url, "PATH": ""}
    proc = subprocess.run(
        [sys.executable, "-m", "truebit_facade.cli", "--json", "call", NS, "custom", "--path", "/anything/{Id}",
         "--param", "Id=5", "--header", "X-Flag: true", "--header", "X-N: null", "--header", "X-Limit: 163"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    body = json.loads(proc.stdout)
    assert body["ok"] is True and body["kind"] == "api"


def test_async_then_status(sandbox_factory: StartSandbox, capsys: pytest.CaptureFixture[str]) -> None:
    sandbox_factory()
    rc, out, _ = run_cli(["run", NS, "fibonacci", "30", "--async"], capsys)
    execution_id = out.strip()
    assert rc == 0 and execution_id
    rc, out, _ = run_cli(["--json", "status", execution_id, "--wait"], capsys)
    assert rc == 0 and json.loads(out)["output"] == "832040"


def test_the_installed_command_in_a_subprocess(sandbox_factory: StartSandbox) -> None:
    sandbox_factory()

    def truebit(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "truebit_facade.cli", *argv],
            capture_output=True,
            text=True,
            timeout=60,
            env=os.environ.copy(),
            check=False,
        )

    done = truebit("run", NS, "fibonacci", "22")
    assert (done.returncode, done.stdout) == (0, "17711\n") and "\r" not in done.stderr
    done = truebit("run", NS, "trap", "x", "--json")
    assert done.returncode == 1 and json.loads(done.stdout)["error"]["type"] == "TaskFailedError"
    assert done.stderr == ""
    assert truebit("run", NS).returncode == 2


@pytest.mark.timeout(120)
def test_truebit_sandbox_serves_until_sigint(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real ``truebit sandbox`` command (not ``truebit-sandbox``), its options parsed by the one parser."""
    pytest.importorskip("truebit_facade.sandbox.__main__", reason="the sandbox extra is not installed")
    import signal

    child = (
        "import signal, sys\n"
        "signal.signal(signal.SIGINT, signal.default_int_handler)\n"  # whatever this process inherited
        "from truebit_facade.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    argv = ["sandbox", "--port", "0", "--api-key", "cli-sandbox-key-42", "--log-level", "warning"]
    proc = subprocess.Popen(
        [sys.executable, "-c", child, *argv], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()  # blocks until it listens (or exits: then the line is empty)
        assert first.startswith("Truebit sandbox listening on http://127.0.0.1:"), first
        assert proc.stdout.readline() == "API key: cli-sandbox-key-42\n"
        monkeypatch.setenv("TRUEBIT_BASE_URL", first.split()[-1])
        monkeypatch.setenv("TRUEBIT_API_KEY", "cli-sandbox-key-42")
        assert run_cli(["run", NS, "fibonacci", "22"], capsys)[:2] == (0, "17711\n")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=60)
        if proc.stdout is not None:
            proc.stdout.close()


def test_the_wrong_kind_of_task_says_which_command_runs_it(
    truebit_api_sandbox: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sandbox refuses it in the API's terms ("execute it with POST /task/..."); truebit in its own."""
    monkeypatch.setenv("TRUEBIT_BASE_URL", truebit_api_sandbox.url)
    monkeypatch.setenv("TRUEBIT_API_KEY", truebit_api_sandbox.api_key)
    rc, out, err = run_cli(["run", NS, "custom", "x"], capsys)
    assert (rc, out) == (cli.EXIT_API_ERROR, "")
    assert err.endswith(
        "is an API task, not a function task: call it with: truebit call 3a2b5129 custom --path PATH\n"
    )
    rc, out, err = run_cli(["call", NS, "fibonacci", "--path", "/x"], capsys)
    assert (rc, out) == (cli.EXIT_API_ERROR, "")
    assert err.endswith(
        "is a function task, not an API task: run it with: truebit run 3a2b5129 fibonacci INPUT\n"
    )
    rc, out, _ = run_cli(["--json", "submit", NS, "custom", "x"], capsys)
    assert json.loads(out)["error"]["message"].endswith(
        "add --api: truebit submit 3a2b5129 custom --api --path PATH"
    )
    assert "POST" not in err + out
    # An empty header value goes out as one (HTTP allows it), echoed back by the example target.
    rc, out, err = run_cli(["--json", "call", NS, "custom", "--path", "/anything/{Id}", "--param", "Id=1",
                            "--header", "X-Empty:"], capsys)  # fmt: skip
    assert rc == 0, err
    assert json.loads(out)["output"]["headers"]["x-empty"] == ""
