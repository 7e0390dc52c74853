"""The ``truebit`` command's layout: a package of modules with one job each, its public names where
they were, and the console script and ``python -m`` reaching the same ``main``."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import truebit_facade
from truebit_facade import cli

PACKAGE = Path(truebit_facade.__file__).parent / "cli"
ROOT = Path(__file__).resolve().parents[2]


def test_cli_is_a_package_of_small_modules() -> None:
    assert PACKAGE.is_dir() and not (PACKAGE.parent / "cli.py").exists()
    modules = {p.name: len(p.read_text().splitlines()) for p in PACKAGE.glob("*.py")}
    assert {"_parsing.py", "_render.py", "_status_line.py", "_commands.py", "_entry.py"} <= modules.keys()
    assert all(lines < 400 for lines in modules.values()), modules


def test_the_public_names_are_re_exported() -> None:
    from truebit_facade.cli import _exits

    assert callable(cli.main) and cli.__all__ == sorted(cli.__all__)
    assert set(cli.__all__) == {"main"} | {name for name in vars(_exits) if name.startswith("EXIT_")}
    assert (cli.EXIT_OK, cli.EXIT_TASK_FAILED, cli.EXIT_USAGE, cli.EXIT_INDETERMINATE) == (0, 1, 2, 3)
    assert (cli.EXIT_API_ERROR, cli.EXIT_NOT_FINISHED, cli.EXIT_INTERRUPTED) == (4, 5, 130)
    assert cli.EXIT_USAGE is _exits.EXIT_USAGE


def test_the_console_script_and_python_m_reach_main() -> None:
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["truebit"] == "truebit_facade.cli:main"
    module, _, name = scripts["truebit"].partition(":")
    assert getattr(__import__(module, fromlist=[name]), name) is cli.main
    installed = [ep for ep in metadata.entry_points(group="console_scripts") if ep.name == "truebit"]
    if installed:  # the editable install's metadata, when present
        assert installed[0].load() is cli.main
    done = subprocess.run(
        [sys.executable, "-m", "truebit_facade.cli", "--version"], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0 and done.stdout == f"truebit-facade {truebit_facade.__version__}\n"


def _fresh(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)


def test_the_batch_command_lives_in_the_cli_and_loads_only_when_it_runs() -> None:
    # One command line: the batch package holds the batch, not a command of its own.
    assert not (PACKAGE.parent / "batch" / "_cli.py").exists()
    assert (PACKAGE / "_batch.py").is_file()
    done = _fresh(
        "import contextlib, io, sys\n"
        "from truebit_facade import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    for argv in (['--help'], ['run', '--help'], ['batch', '--help'], ['status', '-V']):\n"
        "        assert cli.main(argv) == 0, argv\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('truebit_facade.batch'))\n"
        "assert not loaded, loaded\n"
        "assert 'truebit_facade.cli._batch' not in sys.modules\n"
    )
    assert done.returncode == 0, done.stderr


def test_commands_other_than_sandbox_do_not_import_the_sandbox() -> None:
    # Its dependencies (starlette, wasmtime) cost every `truebit run` time, and may not be installed.
    done = _fresh(
        "import contextlib, io, sys\n"
        "from truebit_facade import cli\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    for argv in (['--help'], ['run', '--help'], ['batch', '--help'], ['status', '-V']):\n"
        "        assert cli.main(argv) == 0, argv\n"
        "assert 'truebit_facade.sandbox' not in sys.modules\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    assert cli.main(['sandbox', '--help']) == 0\n"
        "assert 'truebit_facade.sandbox.__main__' in sys.modules\n"
    )
    assert done.returncode == 0, done.stderr
