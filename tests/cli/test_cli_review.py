"""Regressions from review: JSON on usage errors, one line for a malformed base URL, valid JSON
whatever the header values are."""

from __future__ import annotations

import json

import pytest

from truebit_facade import cli


def test_json_usage_errors_are_json_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--json", "run", "3a2b5129", "fibonacci"]) == 2
    body = json.loads(capsys.readouterr().out)
    assert body["ok"] is False and body["exit_code"] == 2 and body["error"]["type"] == "UsageError"


def test_a_malformed_base_url_is_one_line_and_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRUEBIT_API_KEY", "k-123456")
    monkeypatch.setenv("TRUEBIT_BASE_URL", "http://[::1")
    assert cli.main(["run", "3a2b5129", "fibonacci", "1"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_json_stays_valid_when_header_values_look_like_json_tokens(truebit_api_sandbox: object) -> None:
    import subprocess
    import sys

    sb = truebit_api_sandbox
    env = {"TRUEBIT_API_KEY": sb.api_key, "TRUEBIT_BASE_URL": sb.url, "PATH": ""}  # type: ignore[attr-defined]
    proc = subprocess.run(
        [sys.executable, "-m", "truebit_facade.cli", "--json", "call", "3a2b5129", "custom", "--path", "/anything/{Id}",
         "--param", "Id=5", "--header", "X-Flag: true", "--header", "X-N: null", "--header", "X-Limit: 163"],
        capture_output=True, text=True, env=env, timeout=60,
    )  # fmt: skip
    body = json.loads(proc.stdout)
    assert body["ok"] is True and body["kind"] == "api"


def test_json_usage_errors_print_nothing_else(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["--json", "bogus"]) == 2
    captured = capsys.readouterr()
    assert json.loads(captured.out)["error"]["type"] == "UsageError" and captured.err == ""
