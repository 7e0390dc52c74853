"""docs/cli.md and the ``truebit`` command agree: the help of every command, the documented options,
every documented exit code (each one produced against a real sandbox), and the documented transcript
of a wait deadline."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import truebit_facade
from truebit_facade import cli

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "cli.md").read_text()
NS = "3a2b5129"
VERSION = f"truebit-facade {truebit_facade.__version__}\n"
COMMANDS = ["run", "call", "submit", "status", "batch", "sandbox"]
StartSandbox = Callable[..., Any]


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def section(title: str) -> str:
    return DOC.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def documented_exit_codes() -> dict[int, str]:
    rows = re.findall(r"^\| (\d+) \| (.+) \|$", section("Exit codes"), re.MULTILINE)
    return {int(code): text for code, text in rows}


def help_exit_codes(text: str) -> set[int]:
    block = text.split("exit codes:\n", 1)[1].split("\n\n", 1)[0]
    return {int(m) for m in re.findall(r"^  (\d+)  ", block, re.MULTILINE)}


# --- help --------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [None, *COMMANDS])
def test_the_help_of_every_command(command: str | None, capsys: pytest.CaptureFixture[str]) -> None:
    if command == "sandbox":
        pytest.importorskip("truebit_facade.sandbox.__main__", reason="the sandbox extra is not installed")
    argv = ["--help"] if command is None else [command, "--help"]
    rc, out, err = run_cli(argv, capsys)
    prog = "truebit" if command is None else f"truebit {command}"
    assert (rc, err) == (0, "") and out.startswith(f"usage: {prog} [-h]")
    assert "-h, --help" in out and "\n  -V, --version " in out  # every command prints the version
    for garbage in ("[]", "[-V ]", "PROGRAM_VERSION", "==SUPPRESS=="):
        assert garbage not in out, (garbage, out)
    # Every option in the usage line is explained below it.
    usage = out.split("\n\n", 1)[0]
    for option in set(re.findall(r"\[(--[\w-]+)", usage)):
        assert re.search(rf"^  (-\w, )?{option}\b", out, re.MULTILINE), (option, out)
    if command in (None, "run", "call", "submit", "status", "batch"):
        assert help_exit_codes(out) <= set(documented_exit_codes())


def test_the_top_level_help_lists_every_command_and_the_documented_exit_codes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = run_cli(["--help"], capsys)[1]
    listed = re.findall(r"^    (\w+) ", out, re.MULTILINE)
    assert listed == COMMANDS
    assert help_exit_codes(out) == set(documented_exit_codes())


@pytest.mark.parametrize(
    "argv", [["-V"], ["--version"], *([c, "-V"] for c in COMMANDS), ["run", "--version"]]
)
def test_the_version_before_or_after_any_command(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    if argv[0] == "sandbox":
        pytest.importorskip("truebit_facade.sandbox.__main__", reason="the sandbox extra is not installed")
    assert run_cli(argv, capsys) == (0, VERSION, "")


@pytest.mark.parametrize(
    ("command", "table"),
    [("run", "truebit run NAMESPACE TASK INPUT"), ("call", "truebit call NAMESPACE TASK --path PATH")],
)
def test_the_documented_options_exist(command: str, table: str, capsys: pytest.CaptureFixture[str]) -> None:
    rows = DOC.split(f"**`{table}`**", 1)[1].split("\n\n", 2)[1]
    documented = re.findall(r"^\| `(--[\w-]+)", rows, re.MULTILINE)
    shared = ["--task-version", "--label", "--timeout", "--async", "--poll", "--sync", "--json", "--debug"]
    out = run_cli([command, "--help"], capsys)[1]
    assert documented
    for option in [*documented, *shared]:
        assert re.search(rf"^  {option}\b", out, re.MULTILINE), (command, option)


def test_truebit_sandbox_and_truebit_sandbox_have_the_same_options(
    capsys: pytest.CaptureFixture[str],
) -> None:
    pytest.importorskip("truebit_facade.sandbox.__main__", reason="the sandbox extra is not installed")
    own = subprocess.run(
        [sys.executable, "-m", "truebit_facade.sandbox", "--help"], capture_output=True, text=True, timeout=60
    )
    assert own.returncode == 0 and own.stdout.startswith("usage: truebit-sandbox [-h] [--host HOST]")
    ours = run_cli(["sandbox", "--help"], capsys)[1]

    def options(text: str) -> list[str]:
        return re.findall(r"^  (--[\w-]+.*?)(?:  |\n)", text, re.MULTILINE)

    assert options(ours) == options(own.stdout) and len(options(ours)) > 10
    assert ours.startswith("usage: truebit sandbox [-h] [-V] [--host HOST]")


# --- exit codes --------------------------------------------------------------------------------


@pytest.fixture
def python_sigint() -> Iterator[None]:
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def _slow(seconds: float) -> dict[str, Any]:
    from truebit_facade.sandbox import NodeFault

    return {"faulty_nodes": {0: NodeFault("slow", seconds)}, "verification_timeout_seconds": 30.0}


def _wrong() -> dict[str, Any]:
    from truebit_facade.sandbox import NodeFault

    return {"faulty_nodes": {1: NodeFault("wrong_output")}}


def _interrupted(capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    rc, out, _ = run_cli(["submit", NS, "fibonacci", "22"], capsys)
    assert rc == 0
    execution_id = out.strip()
    # A real SIGINT to this process while it waits (the node answers after 5 s).
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        rc, out, err = run_cli(["status", execution_id, "--wait"], capsys)
    finally:
        timer.cancel()
    assert f"resume with: truebit status {execution_id} --wait" in err
    return rc, out, err


# code: (the sandbox's configuration, what produces the code, a word its stderr has)
SCENARIOS: dict[int, tuple[Callable[[], dict[str, Any]], Any, str]] = {
    0: (dict, ["run", NS, "fibonacci", "22"], "Success"),
    1: (dict, ["run", NS, "trap", "x"], "TaskFailedError"),
    2: (dict, ["run", NS, "fibonacci"], "required: INPUT"),
    3: (_wrong, ["run", NS, "fibonacci", "10", "--total-solutions", "2"], "VerificationIndeterminateError"),
    4: (dict, ["run", NS, "no-such-task", "x"], "BadRequestError"),
    5: (lambda: _slow(2.0), ["run", NS, "fibonacci", "22", "--timeout", "0.3"], "resume with"),
    130: (lambda: _slow(5.0), _interrupted, "interrupted"),
}


def test_every_documented_exit_code_has_a_scenario() -> None:
    constants = {value for name, value in vars(cli).items() if name.startswith("EXIT_")}
    assert set(documented_exit_codes()) == set(SCENARIOS) == constants


@pytest.mark.parametrize("code", sorted(SCENARIOS))
def test_each_documented_exit_code(
    code: int, sandbox_factory: StartSandbox, capsys: pytest.CaptureFixture[str], python_sigint: None
) -> None:
    config, how, said = SCENARIOS[code]
    sandbox_factory(**config())
    rc, out, err = how(capsys) if callable(how) else run_cli(how, capsys)
    assert rc == code, (out, err)
    assert said in err


def test_no_api_key_is_exit_2_and_nothing_is_sent(
    sandbox_factory: StartSandbox, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    sandbox_factory()
    monkeypatch.delenv("TRUEBIT_API_KEY")
    rc, _, err = run_cli(["run", NS, "fibonacci", "22"], capsys)
    assert rc == 2 and err.startswith("truebit: no API key: set TRUEBIT_API_KEY")


# --- the documented transcript -----------------------------------------------------------------


def transcript() -> list[tuple[list[str], str]]:
    """The ``$ truebit ...`` commands of the "Exit codes" section's example and the line each printed."""
    block = section("Exit codes").split("```\n", 2)[1]
    lines = block.splitlines()
    return [
        (line[2:].split()[1:], lines[i + 1]) for i, line in enumerate(lines) if line.startswith("$ truebit")
    ]


def pattern(line: str) -> re.Pattern[str]:
    """A documented line as a pattern: ``5703...`` is any execution id, a number any number."""
    parts = re.split(r"(\w+\.\.\.|\d+(?:\.\d+)?)", line)
    return re.compile(
        "".join(
            r"[0-9a-f]+"
            if p.endswith("...")
            else r"\d+(?:\.\d+)?"
            if re.fullmatch(r"[\d.]+", p)
            else re.escape(p)
            for p in parts
        )
    )


@pytest.mark.timeout(120)
def test_the_documented_wait_deadline_transcript(
    sandbox_factory: StartSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    from truebit_facade.sandbox import TaskLimits

    # The sandbox stops a task after 10 s by default; 5 s here, which the pattern allows.
    sandbox_factory(default_limits=TaskLimits(wall_clock_seconds=5.0))
    [(run, said_run), (status, said_status)] = transcript()
    assert run[:3] == ["run", NS, "loop"] and "--timeout" in run
    rc, out, err = run_cli(run, capsys)
    assert (rc, out) == (cli.EXIT_NOT_FINISHED, "") and pattern(said_run).fullmatch(err.rstrip("\n")), err
    execution_id = err.split()[2]
    rc, out, err = run_cli([status[0], execution_id, *status[2:]], capsys)
    assert (rc, out) == (cli.EXIT_TASK_FAILED, "") and pattern(said_status).fullmatch(err.rstrip("\n")), err
