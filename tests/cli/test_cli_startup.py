"""A Ctrl-C while ``truebit`` is still loading (its imports take seconds on a loaded machine) is an
interruption like any other: exit code 130 and one line, or with ``--json`` one JSON object, never a
traceback. The installed console script runs in a real process and gets a real SIGINT, at a point made
certain by an audit hook (``sitecustomize`` on ``PYTHONPATH``) that blocks the import of a chosen
module until the signal comes: the command's own code has no test hook."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

# Blocks once, at the import of $TRUEBIT_TEST_BLOCK_IMPORT: says so on fd $TRUEBIT_TEST_READY_FD,
# then sleeps; the SIGINT's KeyboardInterrupt leaves the sleep and fails that import, as a Ctrl-C there would.
SITECUSTOMIZE = """\
import os, sys, time

_target = os.environ.get("TRUEBIT_TEST_BLOCK_IMPORT")


def _block(event, args):
    global _target
    if event == "import" and _target is not None and args[0] == _target:
        _target = None
        os.write(int(os.environ["TRUEBIT_TEST_READY_FD"]), b"!")
        time.sleep(600)


sys.addaudithook(_block)
"""


def _command() -> list[str]:
    script = Path(sys.executable).with_name("truebit")  # the console script of this environment
    return [str(script)] if script.exists() else [sys.executable, "-m", "truebit_facade.cli"]


def _default_sigint() -> None:
    # Python installs its Ctrl-C handler only over the default disposition: a parent (a CI runner,
    # nohup) that ignores SIGINT would pass the ignoring on.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _interrupted_while_importing(module: str, argv: list[str], tmp_path: Path) -> tuple[int, str, str]:
    (tmp_path / "sitecustomize.py").write_text(SITECUSTOMIZE)
    ready, ready_w = os.pipe()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")])),
        "TRUEBIT_TEST_BLOCK_IMPORT": module,
        "TRUEBIT_TEST_READY_FD": str(ready_w),
        "TRUEBIT_API_KEY": "startup-test-key",
        "TRUEBIT_BASE_URL": "http://127.0.0.1:9",  # nothing is sent: the Ctrl-C comes first
    }
    proc = subprocess.Popen(
        [*_command(), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        pass_fds=[ready_w],
        cwd=tmp_path,
        preexec_fn=_default_sigint,
        start_new_session=True,  # the signal reaches the child only
    )
    try:
        os.close(ready_w)
        # A bound against a child that never gets there, not a speed requirement.
        assert select.select([ready], [], [], 120)[0], "the child never reached the import"
        assert os.read(ready, 1) == b"!"
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        os.close(ready)
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, out, err


# httpx: the client's heaviest import, which truebit_facade defers to the first use of a name, so that it
# comes after main started; truebit_facade.cli._entry: the command's own modules, loaded by main;
# truebit_facade.cli._batch: the batch command's, loaded when it runs.
@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("module", "argv"),
    [
        ("httpx", ["run", "3a2b5129", "fibonacci", "22"]),
        ("truebit_facade.cli._entry", ["run", "3a2b5129", "fibonacci", "22"]),
        ("truebit_facade.cli._batch", ["batch", "3a2b5129", "fibonacci", "-", "--ledger", "x.ledger"]),
    ],
)
def test_ctrl_c_while_loading_is_an_interruption(module: str, argv: list[str], tmp_path: Path) -> None:
    code, out, err = _interrupted_while_importing(module, argv, tmp_path)
    assert (code, out) == (130, ""), err
    assert err.startswith("truebit: interrupted") and err.count("\n") == 1, err
    assert "Traceback" not in err

    code, out, err = _interrupted_while_importing(module, ["--json", *argv], tmp_path)
    assert (code, err) == (130, ""), err
    body = json.loads(out)
    assert body["ok"] is False and body["exit_code"] == 130 and body["error"]["type"] == "Interrupted"
    assert not (tmp_path / "x.ledger").exists()
