"""``truebit batch`` on the sandbox: JSON lines in and out, --resume, --results, exit codes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from truebit_facade import cli
from truebit_facade.sandbox import Sandbox


@pytest.fixture
def env(truebit_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    monkeypatch.setenv("TRUEBIT_BASE_URL", truebit_sandbox.url)
    monkeypatch.setenv("TRUEBIT_API_KEY", truebit_sandbox.api_key)
    return truebit_sandbox


def lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines()]


@pytest.mark.timeout(120)
def test_batch_command(env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inputs = tmp_path / "in.jsonl"
    inputs.write_text('"10"\n\n{"key": "twenty", "input": "20"}\n"22"\n')
    ledger = str(tmp_path / "fib.ledger")
    argv = ["batch", "3a2b5129", "fibonacci", str(inputs), "--ledger", ledger]

    assert cli.main(argv) == cli.EXIT_OK
    out = lines(capsys.readouterr().out)  # not a terminal: nothing but JSON lines
    finished = {e["key"]: e["output"] for e in out if e["event"] == "finished"}
    assert finished == {"0": "55", "twenty": "6765", "2": "17711"}
    assert out[-1]["event"] == "summary" and out[-1]["complete"] and out[-1]["exit_code"] == 0

    assert cli.main(argv) == cli.EXIT_USAGE  # an existing ledger needs --resume
    assert "--resume" in lines(capsys.readouterr().out)[-1]["error"]["message"]

    assert cli.main([*argv, "--resume"]) == cli.EXIT_OK
    summary = lines(capsys.readouterr().out)[-1]
    assert summary["submitted_this_run"] == 0 and summary["finished"] == 3

    assert cli.main(["batch", "3a2b5129", "fibonacci", "--ledger", ledger, "--results", "input"]) == 0
    assert [r["output"] for r in lines(capsys.readouterr().out)] == ["55", "6765", "17711"]

    inputs.write_text('"10"\n\n{"key": "twenty", "input": "21"}\n"22"\n')  # a changed input
    assert cli.main([*argv, "--resume"]) == cli.EXIT_USAGE
    error = next(e for e in lines(capsys.readouterr().out) if e["event"] == "error")["error"]
    assert error["type"] == "InputChangedError" and "twenty" in error["message"]


@pytest.mark.timeout(120)
def test_batch_from_stdin_with_failures(
    env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('"x"\n"y"\n'))
    argv = ["--json", "batch", "3a2b5129", "trap", "--ledger", str(tmp_path / "t.ledger")]
    assert cli.main(argv) == cli.EXIT_TASK_FAILED
    out = lines(capsys.readouterr().out)
    assert [e["ok"] for e in out if e["event"] == "finished"] == [False, False]

    monkeypatch.setattr("sys.stdin", io.StringIO("not json\n"))
    argv = ["batch", "3a2b5129", "echo", "-", "--ledger", str(tmp_path / "bad.ledger")]
    assert cli.main(argv) == cli.EXIT_USAGE
    assert "line 1" in lines(capsys.readouterr().out)[0]["error"]["message"]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("hold", ["always", "never"])
def test_batch_hold_option(
    env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], hold: str
) -> None:
    # echo ends at once: held, each result comes in its submit's answer; never held, one read each.
    inputs = tmp_path / "in.jsonl"
    inputs.write_text("".join(f'"{hold}-{i}"\n' for i in range(6)))
    argv = ["batch", "3a2b5129", "echo", str(inputs), "--ledger", str(tmp_path / "h.ledger"), "--hold", hold]
    assert cli.main(argv) == cli.EXIT_OK
    summary = lines(capsys.readouterr().out)[-1]
    assert summary["finished_ok"] == 6
    if hold == "always":
        assert summary["reads_per_task"] == 0.0
    else:
        assert summary["reads_per_task"] >= 1.0


def test_batch_help_lists_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["batch", "--help"]) == 0
    assert "resume with --resume" in capsys.readouterr().out


@pytest.mark.timeout(120)
def test_an_interrupted_batch_prints_its_summary_and_how_to_go_on(
    env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from truebit_facade.batch import Batch

    inputs = tmp_path / "in.jsonl"
    inputs.write_text('"10"\n"11"\n')
    ledger = str(tmp_path / "stop.ledger")

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt  # what Ctrl-C raises in the running batch

    monkeypatch.setattr(Batch, "run_functions", interrupted)
    code = cli.main(["batch", "3a2b5129", "fibonacci", str(inputs), "--ledger", ledger])
    captured = capsys.readouterr()
    assert code == cli.EXIT_INTERRUPTED == 130
    summary = lines(captured.out)[-1]
    assert summary["event"] == "summary" and summary["exit_code"] == 130
    assert "--resume" in captured.err and ledger in captured.err
