"""The ``truebit`` command in-process over a mock service: exit codes, output, usage errors, secrets."""

from __future__ import annotations

import io
import json
from typing import Any

import httpx
import pytest

from truebit_facade import cli

from .conftest import API_KEY, MockService, function_body, respond

SECRET = "hdr-secret-value-42"


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def no_secrets(*texts: str) -> None:
    for text in texts:
        assert SECRET not in text
        assert API_KEY not in text


# --- outcomes and exit codes ---------------------------------------------------------------------


def test_run_prints_the_output_on_stdout_and_a_summary_on_stderr(
    service: MockService, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["run", "3a2b5129", "fibonacci", "22", "--total-solutions", "3"], capsys)
    assert code == cli.EXIT_OK == 0
    assert out == "17711\n"
    assert "exec-1" in err and "Success" in err and "\r" not in err + out
    [body] = service.bodies()
    assert body["input"] == "22" and body["totalSolutions"] == body["requiredSolutions"] == 3
    assert body["async"] is False  # sync mode under the default deadline


def test_run_json_is_one_object_with_the_result(
    service: MockService, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli(["--json", "run", "3a2b5129", "fibonacci", "22"], capsys)
    assert code == 0 and err == ""
    data = json.loads(out)
    assert data["ok"] is True and data["exit_code"] == 0 and data["kind"] == "function"
    assert data["execution_id"] == "exec-1" and data["status"] == "Success"
    assert data["execution_status"] == "succeed" and data["output"] == "17711"
    assert data["signature"] == {"v": 27, "r": "1" * 64, "s": "2" * 64}
    # --json after the command works too
    assert json.loads(run_cli(["run", "3a2b5129", "fibonacci", "22", "--json"], capsys)[1])["ok"] is True


@pytest.mark.parametrize(
    ("verification", "execution_status", "code", "error_type"),
    [
        ("Success", "failed", cli.EXIT_TASK_FAILED, "TaskFailedError"),
        ("Error", "failed", cli.EXIT_TASK_FAILED, "TaskFailedError"),
        ("Indeterminate", "succeed", cli.EXIT_INDETERMINATE, "VerificationIndeterminateError"),
    ],
)
def test_task_outcomes_have_their_exit_codes(
    service: MockService,
    capsys: pytest.CaptureFixture[str],
    verification: str,
    execution_status: str,
    code: int,
    error_type: str,
) -> None:
    service.handler = lambda r: respond(
        function_body(verification=verification, execution_status=execution_status, output="boom")
    )
    rc, out, err = run_cli(["run", "ns", "t", "x"], capsys)
    assert rc == code and out == ""
    assert err.startswith(f"truebit: {error_type}: ") and err.count("\n") == 1 and "exec-1" in err
    assert "Traceback" not in err
    rc, out, err = run_cli(["--json", "run", "ns", "t", "x"], capsys)
    data = json.loads(out)
    assert rc == code and data["ok"] is False and data["exit_code"] == code
    assert data["error"]["type"] == error_type and data["error"]["execution_id"] == "exec-1"
    assert data["output"] == "boom" and data["status"] == verification


def test_wait_deadline_prints_the_id_and_the_resume_command(
    service: MockService, capsys: pytest.CaptureFixture[str]
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            return respond({"executionId": "slow-1"})
        return respond(function_body("slow-1", verification="Running"))

    service.handler = handler
    rc, out, err = run_cli(["run", "ns", "t", "x", "--timeout", "5"], capsys)
    assert rc == cli.EXIT_NOT_FINISHED == 5
    assert "slow-1" in err and "resume with: truebit status slow-1 --wait" in err and err.count("\n") == 1
    assert service.bodies()[0]["async"] is True  # a deadline shorter than the hold: the id is never lost
    rc, out, err = run_cli(["--json", "run", "ns", "t", "x", "--timeout", "5"], capsys)
    data = json.loads(out)
    assert rc == 5 and data["execution_id"] == "slow-1" and data["resume"] == "truebit status slow-1 --wait"
    assert data["error"]["type"] == "WaitTimeoutError" and data["status"] == "Running"


@pytest.mark.parametrize(
    ("status", "error_type"),
    [
        (400, "BadRequestError"),
        (401, "AuthenticationError"),
        (402, "PaymentRequiredError"),
        (500, "ServerError"),
    ],
)
def test_api_errors_exit_4(
    service: MockService, capsys: pytest.CaptureFixture[str], status: int, error_type: str
) -> None:
    service.handler = lambda r: respond({"message": "no"}, status)
    rc, out, err = run_cli(["run", "ns", "t", "x"], capsys)
    assert rc == cli.EXIT_API_ERROR == 4 and out == ""
    assert err.startswith(f"truebit: {error_type}: HTTP {status}: no") and err.count("\n") == 1
    rc, out, _ = run_cli(["run", "ns", "t", "x", "--json"], capsys)
    error = json.loads(out)["error"]
    assert rc == 4 and error["type"] == error_type and error["status_code"] == status
    assert error["message"].startswith(f"HTTP {status}: no")


@pytest.mark.parametrize("said", ["HTTP 400: Bad Request", "HTTP 400 - Bad Request", "Bad Request"])
def test_error_text_says_the_status_once(
    service: MockService, capsys: pytest.CaptureFixture[str], said: str
) -> None:
    # A proxy's message that starts with the status itself: still one mention, in text and JSON.
    service.handler = lambda r: respond({"message": said}, 400)
    rc, _, err = run_cli(["run", "ns", "t", "x"], capsys)
    assert rc == 4 and err == "truebit: BadRequestError: HTTP 400: Bad Request\n"
    rc, out, _ = run_cli(["--json", "run", "ns", "t", "x"], capsys)
    message = json.loads(out)["error"]["message"]
    assert message == "HTTP 400: Bad Request" and "BadRequestError" not in message


def test_network_errors_exit_4_in_one_line(service: MockService, capsys: pytest.CaptureFixture[str]) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    service.handler = handler
    rc, out, err = run_cli(["run", "ns", "t", "x"], capsys)
    assert rc == 4 and out == "" and err.startswith("truebit: TransportError: ") and err.count("\n") == 1
    rc, _, err = run_cli(["--debug", "run", "ns", "t", "x"], capsys)
    assert rc == 4 and "Traceback (most recent call last)" in err and "ConnectError" in err


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["run", "ns", "t"],
        ["run", "ns", "t", "x", "--total-solutions", "many"],
        ["run", "ns", "t", "x", "--timeout", "-1"],
        ["run", "ns", "t", "x", "--total-solutions", "0"],  # caught by the client, before sending
        ["run", "ns", "t", "x", "--total-solutions", "2", "--required-solutions", "3"],
        ["run", " ", "t", "x"],
        ["call", "ns", "t"],  # no --path
        ["call", "ns", "t", "--path", "/x", "--param", "novalue"],
        ["call", "ns", "t", "--path", "/x", "--body", "{not json"],
        ["call", "ns", "t", "--path", "/x", "--method", "BREW"],
        ["status"],
        ["frobnicate"],
        ["run", "ns", "t", "x", "--version", "2"],  # the task's version is --task-version now
        ["run", "ns", "t", "x", "--task-version", "1", "--label", "stable"],
        ["submit", "ns", "t"],  # a function task needs INPUT
        ["submit", "ns", "t", "--api"],  # an API task needs --path
        ["submit", "ns", "t", "x", "--api", "--path", "/x"],  # and takes no INPUT
        ["submit", "ns", "t", "--api", "--path", "/x", "--gas-limit", "5"],
        ["submit", "ns", "t", "x", "--path", "/x"],  # call options need --api
        ["submit", "ns", "t", "x", "--header", "X-A: b"],
        ["submit", "ns", "t", "x", "--async"],
    ],
)
def test_usage_errors_exit_2_and_send_nothing(
    service: MockService, capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    rc, out, err = run_cli(argv, capsys)
    assert rc == cli.EXIT_USAGE == 2
    assert out == "" and err and "Traceback" not in err
    assert service.requests == []


def test_no_api_key_is_a_usage_error_naming_the_variable(
    service: MockService, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRUEBIT_API_KEY")
    rc, _, err = run_cli(["run", "ns", "t", "x"], capsys)
    assert (
        rc == 2
        and err
        == "truebit: no API key: set TRUEBIT_API_KEY (for a local sandbox, the key it printed at start)\n"
    )
    assert service.requests == []


def test_json_usage_errors_are_json_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--json", "run", "3a2b5129", "fibonacci"]) == 2
    body = json.loads(capsys.readouterr().out)
    assert body["ok"] is False and body["exit_code"] == 2 and body["error"]["type"] == "UsageError"


def test_json_usage_errors_print_nothing_else(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--json", "bogus"]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["error"]["type"] == "UsageError" and captured.err == ""


PYTHON_ADVICE = (
    "api_key=",
    "pass ",
    "wait(",
    "total_solutions",
    "required_solutions",
    ".result",
    "timedelta",
)


def json_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    cli.main(["--json", *argv])
    error: dict[str, Any] = json.loads(capsys.readouterr().out)["error"]
    for advice in PYTHON_ADVICE:
        assert advice not in error["message"], error
    return error


def test_json_errors_give_command_line_advice(
    service: MockService, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    error = json_error(["run", "ns", "t", "x", "--total-solutions", "2", "--required-solutions", "3"], capsys)
    assert error["field"] == "--required-solutions"
    assert error["message"] == "invalid --required-solutions: must be <= --total-solutions (2), got 3"
    error = json_error(["run", "ns", "t", "x", "--task-version", "1", "--label", "stable"], capsys)
    assert error["field"] == "--task-version" and "--task-version or --label" in error["message"]
    error = json_error(["call", "ns", "t", "--path", "/a/{id}"], capsys)
    assert error["field"] == "--param" and "path parameter 'id'" in error["message"]

    def refused(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    service.handler = refused
    error = json_error(["status", "e-1"], capsys)  # the client says: call wait('e-1') to resume
    assert "resume with: truebit status e-1 --wait" in error["message"]
    assert "--base-url" in error["message"]
    error = json_error(["status", "e-1", "--api"], capsys)
    assert "resume with: truebit status e-1 --wait --api" in error["message"]

    monkeypatch.delenv("TRUEBIT_API_KEY")  # the client says: pass api_key= or set TRUEBIT_API_KEY
    error = json_error(["run", "ns", "t", "x"], capsys)
    assert error["field"] == "TRUEBIT_API_KEY" and error["message"].startswith(
        "no API key: set TRUEBIT_API_KEY"
    )
    monkeypatch.setenv("TRUEBIT_API_KEY", " ")
    error = json_error(["run", "ns", "t", "x"], capsys)
    assert error["message"] == "TRUEBIT_API_KEY is set but empty: give it a value"
    assert service.bodies() == []  # nothing was submitted


def test_help_lists_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run_cli(["--help"], capsys)
    assert rc == 0
    for line in ("exit codes:", "TRUEBIT_API_KEY", "truebit status ID --wait", "130"):
        assert line in out
    assert run_cli(["run", "--help"], capsys)[0] == 0
    rc, out, _ = run_cli(["--version"], capsys)
    assert rc == 0 and out.startswith("truebit-facade ")
    for argv in (["run", "--version"], ["call", "-V"], ["submit", "--version"], ["status", "--version"]):
        assert run_cli(argv, capsys)[:2] == (0, out)
    assert "submit" in run_cli(["--help"], capsys)[1]


def test_task_version_is_the_task_s_version(service: MockService, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cli(["run", "ns", "t", "x", "--task-version", "3"], capsys)[0] == 0
    assert service.bodies()[-1]["version"] == 3
    service.handler = lambda r: respond(api_body(r))
    assert run_cli(["call", "ns", "t", "--path", "/p", "--label", "stable"], capsys)[0] == 0
    assert service.bodies()[-1]["label"] == "stable" and "version" not in service.bodies()[-1]
    count = len(service.requests)
    # The old spelling is refused, never answered with a version string where the output would be.
    rc, out, err = run_cli(["run", "ns", "t", "x", "--version", "3"], capsys)
    assert rc == cli.EXIT_USAGE and out == "" and "--task-version 3" in err
    assert len(service.requests) == count
    rc, out, _ = run_cli(["--json", "call", "ns", "t", "--path", "/p", "--version", "2"], capsys)
    assert rc == 2 and "--task-version 2" in json.loads(out)["error"]["message"]
    # truebit batch takes the same option, from the same option group.
    from truebit_facade.cli._parsing import build_parser

    args = build_parser().parse_args(["batch", "ns", "t", "--ledger", "l.db", "--task-version", "4"])
    assert args.task_version == 4


# --- --async and status ---------------------------------------------------------------------------


def test_async_prints_the_execution_id_at_once(
    service: MockService, capsys: pytest.CaptureFixture[str]
) -> None:
    service.handler = lambda r: respond({"executionId": "new-1"})
    rc, out, err = run_cli(["run", "ns", "t", "x", "--async"], capsys)
    assert rc == 0 and out == "new-1\n" and "truebit status new-1 --wait" in err
    assert service.bodies()[0]["async"] is True and len(service.requests) == 1
    rc, out, _ = run_cli(["--json", "call", "ns", "api", "--path", "/p", "--async"], capsys)
    data = json.loads(out)
    assert data["execution_id"] == "new-1" and data["kind"] == "api" and data["finished"] is False
    assert data["resume"] == "truebit status new-1 --wait --api"


def test_submit_prints_the_execution_id_at_once(
    service: MockService, capsys: pytest.CaptureFixture[str]
) -> None:
    service.handler = lambda r: respond({"executionId": "new-2"})
    rc, out, err = run_cli(
        ["submit", "ns", "fib", "22", "--total-solutions", "3", "--task-version", "2"], capsys
    )
    assert (rc, out) == (0, "new-2\n") and "truebit status new-2 --wait" in err
    [body] = service.bodies()
    assert body["async"] is True and body["input"] == "22" and body["totalSolutions"] == 3
    assert body["version"] == 2 and len(service.requests) == 1

    argv = ["submit", "ns", "pets", "--api", "--path", "/order/{id}", "--param", "id=7", "--method", "post"]
    rc, out, _ = run_cli(["--json", *argv, "--header", f"X-Token: {SECRET}", "--body", "{}"], capsys)
    data = json.loads(out)
    assert (
        rc == 0
        and data["kind"] == "api"
        and data["execution_id"] == "new-2"
        and data["status"] == "Submitted"
    )
    assert data["resume"] == "truebit status new-2 --wait --api"
    call = service.bodies()[-1]["input"]
    assert call["path"] == "/order/{id}" and call["params"] == {"id": 7} and call["method"] == "POST"
    assert call["headers"] == {"X-Token": SECRET} and service.bodies()[-1]["executionTimeout"] == 30000
    no_secrets(out)


def test_status_reads_once_and_says_whether_it_finished(
    service: MockService, capsys: pytest.CaptureFixture[str]
) -> None:
    service.handler = lambda r: respond(function_body("e-9", verification="Running"))
    rc, out, err = run_cli(["status", "e-9"], capsys)
    assert rc == cli.EXIT_NOT_FINISHED and out == "" and "truebit status e-9 --wait" in err
    assert [r.url.path for r in service.requests] == ["/task/function/execution-status/e-9"]
    assert "x-api-key" in service.requests[0].headers

    service.handler = lambda r: respond(function_body("e-9"))
    rc, out, err = run_cli(["status", "e-9"], capsys)
    assert rc == 0 and out == "17711\n"
    service.handler = lambda r: respond(function_body("e-9", execution_status="failed", output="trap"))
    rc, out, err = run_cli(["--json", "status", "e-9"], capsys)
    assert rc == 1 and json.loads(out)["ok"] is False


@pytest.mark.parametrize(
    ("verification", "execution_status", "code"),
    [
        ("Success", "failed", cli.EXIT_TASK_FAILED),
        ("Error", "failed", cli.EXIT_TASK_FAILED),
        ("Indeterminate", "succeed", cli.EXIT_INDETERMINATE),
    ],
)
def test_a_failed_task_reads_the_same_from_run_status_and_status_wait(
    service: MockService,
    capsys: pytest.CaptureFixture[str],
    verification: str,
    execution_status: str,
    code: int,
) -> None:
    service.handler = lambda r: respond(
        function_body("e-4", verification=verification, execution_status=execution_status, output="boom")
    )
    for flags in ([], ["--json"], ["--debug"]):
        seen = {
            tuple(argv): run_cli([*flags, *argv], capsys)
            for argv in (["run", "ns", "t", "x"], ["status", "e-4"], ["status", "e-4", "--wait"])
        }
        texts = {
            (rc, out, err if "--debug" not in flags else err.splitlines()[-1])
            for rc, out, err in seen.values()
        }
        assert len(texts) == 1, seen
        [(rc, out, err)] = texts
        assert rc == code
        if flags == ["--json"]:
            assert json.loads(out)["error"]["execution_id"] == "e-4" and err == ""
        else:
            assert out == "" and err.startswith("truebit: ") and "e-4" in err and "boom" in err


def test_a_failed_api_task_reads_the_same_from_call_and_status(
    service: MockService, capsys: pytest.CaptureFixture[str]
) -> None:
    answers: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":  # the call; the status reads answer the same
            answers.append(api_body(request, "Error"))
        return respond(answers[-1])

    service.handler = handler
    rc, out, err = run_cli(["call", "ns", "t", "--path", "/p"], capsys)
    assert rc == cli.EXIT_TASK_FAILED and out == "" and err.startswith("truebit: TaskFailedError: ")
    for argv in (["status", "api-1", "--api"], ["status", "api-1", "--api", "--wait"]):
        assert run_cli(argv, capsys) == (rc, out, err)


def test_status_wait_polls_until_the_end(service: MockService, capsys: pytest.CaptureFixture[str]) -> None:
    answers = iter(["Running", "Running", "Success"])
    service.handler = lambda r: respond(function_body("e-2", verification=next(answers)))
    rc, out, _ = run_cli(["status", "e-2", "--wait", "--timeout", "none"], capsys)
    assert rc == 0 and out == "17711\n" and len(service.requests) == 3


def test_status_not_found_hints_at_api_tasks(
    service: MockService, capsys: pytest.CaptureFixture[str]
) -> None:
    service.handler = lambda r: respond({"message": "execution id not found"}, 404)
    rc, _, err = run_cli(["status", "e-3"], capsys)
    assert rc == 4 and "ExecutionNotFoundError" in err and "add --api" in err
    rc, _, err = run_cli(["status", "e-3", "--api"], capsys)
    assert rc == 4 and "add --api" not in err
    assert service.requests[-1].url.path == "/task/api/execution-status/e-3"


# --- API tasks and secrets -------------------------------------------------------------------------


def api_body(request: httpx.Request, status: str = "Success") -> dict[str, Any]:
    sent = json.loads(request.content)
    return {
        "executionId": "api-1",
        "status": status,
        # A target API that echoes what it received, headers included.
        "clearTextSolution": {
            "output": {"echo": sent["input"]},
            "status": "succeed",
            "senderAddress": "0xhub",
        },
        "totalTransferredBytes": {"request": 10, "response": 20},
        "errorMsg": f"echo {SECRET}" if status == "Error" else None,
    }


CALL = [
    "call",
    "ns",
    "petstore",
    "--path",
    "/store/order/{orderId}",
    "--param",
    "orderId=12345",
    "--param",
    "verbose=true",
    "--param",
    "name=fido",
    "--param",
    'tags=["a", "b"]',
    "--header",
    f"X-Api-Token: {SECRET}",
    "--header",
    "X-Other:  second",
    "--body",
    '{"qty": 2}',
    "--method",
    "post",
    "--execution-timeout",
    "12.5",
]


def test_call_sends_params_as_json_values_headers_and_body(
    service: MockService, capsys: pytest.CaptureFixture[str]
) -> None:
    service.handler = lambda r: respond(api_body(r))
    rc, out, err = run_cli(CALL, capsys)
    assert rc == 0, err
    [body] = service.bodies()
    call = body["input"]
    assert call["params"] == {"orderId": 12345, "verbose": True, "name": "fido", "tags": ["a", "b"]}
    assert call["headers"] == {"X-Api-Token": SECRET, "X-Other": "second"}
    assert (
        call["body"] == {"qty": 2} and call["method"] == "POST" and call["path"] == "/store/order/{orderId}"
    )
    assert body["executionTimeout"] == 12500
    assert json.loads(out)["echo"]["headers"]["X-Api-Token"] == "[REDACTED]"
    no_secrets(out, err)


@pytest.mark.parametrize("flags", [[], ["--json"], ["--debug"], ["--json", "--debug"]])
@pytest.mark.parametrize("status", ["Success", "Error"])
def test_header_values_and_the_key_are_never_printed(
    service: MockService, capsys: pytest.CaptureFixture[str], flags: list[str], status: str
) -> None:
    service.handler = lambda r: respond(api_body(r, status))
    rc, out, err = run_cli([*flags, *CALL], capsys)
    assert rc == (0 if status == "Success" else 1)
    assert "second" not in out + err  # every header value, not only the first
    no_secrets(out, err)
    if "--json" in flags:
        json.loads(out)


def test_header_values_are_not_printed_by_errors_either(
    service: MockService, capsys: pytest.CaptureFixture[str]
) -> None:
    # The service refusing the call and quoting the request back.
    service.handler = lambda r: respond({"message": f"bad header {SECRET} for key {API_KEY}"}, 400)
    for flags in ([], ["--json"], ["--debug"]):
        rc, out, err = run_cli([*flags, *CALL], capsys)
        assert rc == 4
        no_secrets(out, err)
    # Bad headers, well formed or not, including a value mis-quoted into two arguments.
    for bad in (
        ["--header", f"NoColon{SECRET}"],
        ["--header", "X-Token:", SECRET],
        ["--header", f"bad name: {SECRET}"],
    ):
        rc, out, err = run_cli(["--debug", "call", "ns", "t", "--path", "/x", *bad], capsys)
        assert rc == 2
        no_secrets(out, err)


def test_an_empty_header_value_is_sent_as_one(
    service: MockService, capsys: pytest.CaptureFixture[str]
) -> None:
    # HTTP allows an empty field value (RFC 9110, 5.5) and the spec's input.headers any string.
    service.handler = lambda r: respond(api_body(r))
    rc, out, err = run_cli(["--json", "call", "ns", "t", "--path", "/x", "--header", "X-Flag:"], capsys)
    assert rc == 0, err
    assert service.bodies()[-1]["input"]["headers"] == {"X-Flag": ""}
    # An empty value is no secret: the output's empty strings stay as they are.
    assert json.loads(out)["output"]["echo"]["headers"] == {"X-Flag": ""} and "[REDACTED]" not in out
    rc, _, err = run_cli(["submit", "ns", "t", "--api", "--path", "/x", "--header", "X-Flag: "], capsys)
    assert rc == 0 and service.bodies()[-1]["input"]["headers"] == {"X-Flag": ""}


@pytest.mark.parametrize(
    ("header", "says"),
    [
        (f"X-Token {SECRET}", "expected 'NAME: VALUE' with a colon"),
        (f": {SECRET}", "the header's name, before the colon, is empty"),
    ],
)
def test_a_bad_header_says_what_is_wrong_without_its_value(
    service: MockService, capsys: pytest.CaptureFixture[str], header: str, says: str
) -> None:
    for command in (["call", "ns", "t", "--path", "/x"], ["batch", "ns", "t", "--api", "--ledger", "l.db"]):
        rc, out, err = run_cli([*command, "--header", header], capsys)
        assert (rc, out) == (2, "") and f"argument --header: {says}" in err, err
        no_secrets(out, err)
    assert service.requests == []


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["run", "ns", "pets", "x"], "call it with: truebit call ns pets --path PATH"),
        (["submit", "ns", "pets", "x"], "add --api: truebit submit ns pets --api --path PATH"),
        (["call", "ns", "fib", "--path", "/x"], "run it with: truebit run ns fib INPUT"),
        (["submit", "ns", "fib", "--api", "--path", "/x"], "drop --api: truebit submit ns fib INPUT"),
    ],
)
def test_the_wrong_kind_of_task_is_answered_with_the_command_that_runs_it(
    service: MockService, capsys: pytest.CaptureFixture[str], argv: list[str], hint: str
) -> None:
    # As the sandbox words it: the advice is about the HTTP API, which the user of truebit never sees.
    kind = "a function task, not an API task" if argv[2] == "fib" else "an API task, not a function task"
    other = "function" if argv[2] == "fib" else "api"
    message = f"{argv[1]}/{argv[2]} v1 is {kind}: execute it with POST /task/{other}/execute-by-name"
    service.handler = lambda r: respond({"message": message}, 400)
    rc, out, err = run_cli(argv, capsys)
    assert (rc, out) == (4, "")
    assert err == f"truebit: BadRequestError: HTTP 400: {argv[1]}/{argv[2]} v1 is {kind}: {hint}\n"
    rc, out, _ = run_cli(["--json", *argv], capsys)
    assert json.loads(out)["error"]["message"].endswith(f"is {kind}: {hint}")
    # Worded without the task's name (another service): the hint still comes, with placeholders.
    service.handler = lambda r: respond({"message": f"this is {kind}"}, 400)
    _, _, err = run_cli(["run", "ns", "pets", "x"], capsys)
    assert "this is " in err and ("truebit call NAMESPACE TASK" in err or "truebit run NAMESPACE TASK" in err)


# --- base URL, input and output -----------------------------------------------------------------


def test_base_url_option_and_variable(
    service: MockService, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run_cli(["--base-url", "http://other.test:9", "run", "ns", "t", "x"], capsys)[0] == 0
    assert service.requests[-1].url.host == "other.test"
    rc, _, err = run_cli(["--base-url", "ftp://x", "run", "ns", "t", "x"], capsys)
    assert rc == 2 and "--base-url" in err


def test_a_malformed_base_url_is_one_line_and_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRUEBIT_API_KEY", "k-123456")
    monkeypatch.setenv("TRUEBIT_BASE_URL", "http://[::1")
    assert cli.main(["run", "3a2b5129", "fibonacci", "1"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_input_from_stdin_and_output_printed_as_is(
    service: MockService, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("line one\nline two\n"))
    service.handler = lambda r: respond(function_body(output=json.loads(r.content)["input"]))
    rc, out, _ = run_cli(["run", "ns", "echo", "-"], capsys)
    assert rc == 0 and service.bodies()[0]["input"] == "line one\nline two\n"
    assert out == "line one\nline two\n"  # no newline added to one that has it


def test_an_output_with_a_lone_surrogate_is_printed_escaped_not_a_crash(
    service: MockService, capsys: pytest.CaptureFixture[str]
) -> None:
    odd = {
        "executionId": "e-1",
        "verificationStatus": "Success",
        "clearTextSolution": {"output": "a\ud800b", "executionStatus": "succeed"},
    }
    service.handler = lambda r: respond(odd)
    rc, out, err = run_cli(["run", "ns", "t", "1"], capsys)
    assert rc == 0 and "a" in out and "b" in out, err
    rc, out, _ = run_cli(["--json", "run", "ns", "t", "1"], capsys)
    assert rc == 0 and json.loads(out)["execution_id"] == "e-1"


@pytest.mark.parametrize(
    "argv", [["batch", "-V"], ["sandbox", "-V"], ["sandbox", "--version"], ["status", "-V"]]
)
def test_the_program_version_after_any_command(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, _ = run_cli(argv, capsys)
    assert rc == 0 and out.startswith("truebit-facade ")


def test_version_with_a_value_suggests_task_version_only_where_it_exists(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rc, _, err = run_cli(["status", "e-1", "--version", "1"], capsys)
    assert rc == 2 and "--task-version" not in err
    rc, _, err = run_cli(["run", "ns", "t", "x", "--version", "2"], capsys)
    assert rc == 2 and "--task-version 2" in err
