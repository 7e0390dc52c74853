"""How ``truebit run`` / ``call`` wait, over a mock service: poll mode (submit, then wait) on a terminal
or with ``--poll``, sync mode off one or with ``--sync``, and a Ctrl-C at any point after the submit
answered printing the execution id and the resume command."""

from __future__ import annotations

import io
import json
import os
import signal
from collections.abc import Iterator

import httpx
import pytest

from truebit_facade import cli

from .conftest import MockService, function_body, respond


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def python_sigint() -> Iterator[None]:
    """Python's own SIGINT handler, whatever this process inherited (SIGINT ignored under nohup/CI)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def polling(service: MockService, execution_id: str, states: list[str]) -> None:
    """The POST answers with the id alone; the status reads answer ``states`` in turn (the last repeats)."""
    answers = iter(states)
    last = [states[0]]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return respond({"executionId": execution_id})
        last[0] = next(answers, last[0])
        return respond(function_body(execution_id, verification=last[0]))

    service.handler = handler


def test_poll_submits_in_async_mode_then_waits(
    service: MockService, capsys: pytest.CaptureFixture[str]
) -> None:
    polling(service, "p-1", ["Running", "Success"])
    rc, out, err = run_cli(["run", "ns", "t", "22", "--poll"], capsys)
    assert (rc, out) == (0, "17711\n") and err.startswith("execution p-1: Success")
    assert [r.method for r in service.requests] == ["POST", "GET", "GET"]
    assert service.bodies()[0]["async"] is True
    assert service.requests[1].url.path == "/task/function/execution-status/p-1"


def test_sync_is_one_held_request(service: MockService, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run_cli(["run", "ns", "t", "22", "--sync"], capsys)
    assert (rc, out) == (0, "17711\n") and [r.method for r in service.requests] == ["POST"]
    assert service.bodies()[0]["async"] is False


@pytest.mark.parametrize(
    ("stdin_tty", "stderr_tty", "async_mode"),
    [(False, False, False), (True, False, True), (False, True, True), (True, True, True)],
)
def test_the_default_is_poll_on_a_terminal_and_sync_off_one(
    service: MockService,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    stdin_tty: bool,
    stderr_tty: bool,
    async_mode: bool,
) -> None:
    polling(service, "p-2", ["Success"])
    if stdin_tty:
        monkeypatch.setattr("sys.stdin", FakeTerminal())
    if stderr_tty:
        monkeypatch.setattr("sys.stderr", FakeTerminal())
    assert cli.main(["run", "ns", "t", "22"]) == 0
    assert service.bodies()[0]["async"] is async_mode
    # --sync / --poll win over the terminal test
    flag = "--sync" if async_mode else "--poll"
    assert cli.main(["run", "ns", "t", "22", flag]) == 0
    assert service.bodies()[-1]["async"] is not async_mode
    capsys.readouterr()


def test_poll_and_sync_together_are_a_usage_error(
    service: MockService, capsys: pytest.CaptureFixture[str]
) -> None:
    rc, out, err = run_cli(["run", "ns", "t", "x", "--poll", "--sync"], capsys)
    assert rc == cli.EXIT_USAGE and out == "" and "not allowed with argument" in err
    assert service.requests == []


def test_ctrl_c_while_polling_prints_the_id_and_the_resume_command(
    service: MockService, capsys: pytest.CaptureFixture[str]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return respond({"executionId": "p-3"})
        raise KeyboardInterrupt  # Ctrl-C during a status read

    service.handler = handler
    rc, out, err = run_cli(["run", "ns", "t", "x", "--poll"], capsys)
    assert (rc, out) == (cli.EXIT_INTERRUPTED, "")
    assert err == (
        "truebit: interrupted; execution p-3 may still be running; resume with: truebit status p-3 --wait\n"
    )
    rc, out, _ = run_cli(["--json", "call", "ns", "t", "--path", "/x", "--poll"], capsys)
    body = json.loads(out)
    assert rc == 130 and body["execution_id"] == "p-3" and body["error"]["type"] == "Interrupted"
    assert body["resume"] == "truebit status p-3 --wait --api"


def test_ctrl_c_during_the_submit_lets_it_finish_and_prints_the_id(
    service: MockService, capsys: pytest.CaptureFixture[str], python_sigint: None
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        assert request.method == "POST", "no status read after the Ctrl-C"
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C while the submit is in flight
        return respond({"executionId": "p-4"})

    service.handler = handler
    rc, out, err = run_cli(["run", "ns", "t", "x", "--poll"], capsys)
    assert (rc, out) == (130, "") and "resume with: truebit status p-4 --wait" in err
    assert "finishing 1 request — Ctrl-C again to abandon it" in err  # said, as stderr is no terminal
    assert len(service.requests) == 1
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # put back


def test_a_second_ctrl_c_during_the_submit_abandons_it_and_says_so(
    service: MockService, capsys: pytest.CaptureFixture[str], python_sigint: None
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        os.kill(os.getpid(), signal.SIGINT)
        os.kill(os.getpid(), signal.SIGINT)
        return respond({"executionId": "never-seen"})

    service.handler = handler
    rc, _, err = run_cli(["run", "ns", "t", "x", "--poll"], capsys)
    assert rc == 130 and "never-seen" not in err and "finishing 1 request" in err
    assert err.endswith(
        "truebit: interrupted before an execution id was received; the task may have been submitted\n"
    )
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_an_ignored_sigint_stays_ignored(
    service: MockService, capsys: pytest.CaptureFixture[str], python_sigint: None
) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as under nohup: the submit must not change it

    def handler(request: httpx.Request) -> httpx.Response:
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        os.kill(os.getpid(), signal.SIGINT)
        return respond({"executionId": "p-5"} if request.method == "POST" else function_body("p-5"))

    service.handler = handler
    assert run_cli(["run", "ns", "t", "x", "--poll"], capsys)[:2] == (0, "17711\n")


def test_the_deadline_covers_the_submit_too(service: MockService, capsys: pytest.CaptureFixture[str]) -> None:
    started = service.clock.now

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            service.clock.now += 3.0  # a slow submit
            return respond({"executionId": "p-6"})
        return respond(function_body("p-6", verification="Running"))

    service.handler = handler
    rc, out, _ = run_cli(["--json", "run", "ns", "t", "x", "--poll", "--timeout", "5"], capsys)
    body = json.loads(out)
    assert rc == cli.EXIT_NOT_FINISHED and body["execution_id"] == "p-6" and body["status"] == "Running"
    assert body["resume"] == "truebit status p-6 --wait"
    assert service.clock.now - started <= 5.0 + 1e-9  # 3 s submitting, at most 2 s polling


def test_errors_while_polling_carry_the_execution_id(
    service: MockService, capsys: pytest.CaptureFixture[str]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return respond({"executionId": "p-7"})
        return respond({"message": "no"}, 401)

    service.handler = handler
    rc, out, _ = run_cli(["--json", "run", "ns", "t", "x", "--poll"], capsys)
    error = json.loads(out)["error"]
    assert rc == cli.EXIT_API_ERROR and error["execution_id"] == "p-7"
    assert error["type"] == "AuthenticationError"
