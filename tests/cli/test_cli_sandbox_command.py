"""``truebit sandbox``: the sandbox's own options on the one parser (the same Namespace its own parser
reads), its usage errors, and the install hint without the sandbox extra."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from truebit_facade import cli


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(argv)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def fake_sandbox(monkeypatch: pytest.MonkeyPatch, main: Any) -> None:
    """The sandbox's command module with its real options and ``main`` replaced."""
    import sys
    import types

    real = pytest.importorskip("truebit_facade.sandbox.__main__")
    fake = types.ModuleType("truebit_facade.sandbox.__main__")
    fake.add_arguments = real.add_arguments  # type: ignore[attr-defined]
    fake.main = main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "truebit_facade.sandbox.__main__", fake)


def test_sandbox_gets_the_options_its_own_parser_reads(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import argparse

    sandbox_main = pytest.importorskip("truebit_facade.sandbox.__main__")
    seen: list[argparse.Namespace] = []

    def serve(args: argparse.Namespace) -> int:
        seen.append(args)
        return 0

    fake_sandbox(monkeypatch, serve)
    argv = ["--port", "0", "--hold", "1.5", "--faulty", "1:slow:2", "--no-examples"]
    assert cli.main(["sandbox", *argv]) == 0
    assert cli.main(["--debug", "sandbox"]) == 0
    own = argparse.ArgumentParser()
    sandbox_main.add_arguments(own)
    [given, defaults] = seen
    cli_only = {"command", "json", "debug", "base_url"}
    assert {k: v for k, v in vars(given).items() if k not in cli_only} == vars(own.parse_args(argv))
    assert given.port == 0 and given.hold == 1.5 and given.no_examples is True
    assert defaults.debug is True and defaults.port == own.parse_args([]).port
    assert capsys.readouterr().out == ""


def test_sandbox_usage_errors_name_truebit_sandbox(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_sandbox(monkeypatch, lambda args: pytest.fail("the sandbox must not start"))
    rc, out, err = run_cli(["sandbox", "--port", "many"], capsys)
    assert rc == cli.EXIT_USAGE and out == ""
    assert err.startswith("usage: truebit sandbox ") and "truebit sandbox: error: argument --port" in err
    rc, out, _ = run_cli(["--json", "sandbox", "--bogus"], capsys)
    assert rc == 2 and json.loads(out)["error"]["type"] == "UsageError"


HINT = "truebit: the sandbox needs the 'sandbox' extra: pip install 'truebit-facade[sandbox]'"


def test_sandbox_without_the_extra_is_a_usage_error_with_the_install_hint() -> None:
    # A fresh interpreter where starlette (one of the extra's dependencies) cannot be imported.
    import subprocess
    import sys

    code = (
        "import sys\n"
        "sys.modules['starlette'] = None\n"
        "from truebit_facade import cli\n"
        "for argv in (['sandbox'], ['sandbox', '--port', '0'], ['sandbox', '--help'], ['--json', 'sandbox']):\n"
        "    print(cli.main(argv), flush=True)\n"
        "assert 'truebit_facade.sandbox._app' not in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    codes, json_line = done.stdout.splitlines()[:3], done.stdout.splitlines()[3]
    assert codes == ["2", "2", "2"] and json.loads(json_line)["error"]["type"] == "UsageError"
    assert done.stdout.splitlines()[4] == "2"
    lines = done.stderr.splitlines()
    assert len(lines) == 3 and all(
        re.fullmatch(rf"{re.escape(HINT)} \(missing module starlette[\w.]*\)", x) for x in lines
    )


def test_sandbox_missing_a_dependency_it_imports_when_it_starts(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def sandbox_main(args: Any) -> int:
        raise ModuleNotFoundError("No module named 'uvicorn'", name="uvicorn")

    fake_sandbox(monkeypatch, sandbox_main)
    rc, out, err = run_cli(["sandbox", "--port", "0"], capsys)
    assert (rc, out, err) == (cli.EXIT_USAGE, "", f"{HINT} (missing module uvicorn)\n")
