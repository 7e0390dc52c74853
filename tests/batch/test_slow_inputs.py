"""An input stream that stops arriving (a pipe whose writer pauses, a generator that waits) holds
nothing: the answers already in are committed, and a stop (a real SIGINT to a real ``truebit batch``
process, ``Batch.stop()`` from another thread) ends the run at once, with no row left in doubt.
Against a sandbox in its own process (uvicorn on 127.0.0.1). Bounded: 12 inputs, a few seconds."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from truebit_facade import Truebit
from truebit_facade.batch import Batch

NS = "3a2b5129"
COUNT = 12

# Exec the CLI with SIGINT ignored, so that its own handler is what makes it work.
_IGNORING = (
    "import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
    "os.execv(sys.executable, [sys.executable, '-m', 'truebit_facade.cli', *sys.argv[1:]])"
)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[str, str]]:
    from truebit_facade.sandbox import sandbox_process

    with sandbox_process("--hold", "1", "--max-concurrent", "8") as served:
        yield served


def _states(ledger: Path) -> dict[str, int]:
    with sqlite3.connect(ledger) as db:
        return {state: n for state, n in db.execute("SELECT state, COUNT(*) FROM rows GROUP BY state")}


def _until(check: object, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_paused_pipe_holds_nothing_and_a_sigint_stops_at_once(
    sandbox: tuple[str, str], tmp_path: Path
) -> None:
    url, key = sandbox
    ledger = tmp_path / "b.ledger"
    env = dict(os.environ, TRUEBIT_BASE_URL=url, TRUEBIT_API_KEY=key)
    cmd = [
        sys.executable,
        "-c",
        _IGNORING,
        "--json",
        "batch",
        NS,
        "echo",
        "--ledger",
        str(ledger),
        "--hold",
        "never",
    ]
    child = subprocess.Popen(
        cmd,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        assert child.stdin is not None
        child.stdin.write(b"".join(b'"slow-pipe-%d"\n' % i for i in range(COUNT)))
        child.stdin.flush()  # and the pipe stays open: the next line never comes
        # Every input that came is submitted and its result committed, while the pipe waits.
        _until(lambda: ledger.exists() and _states(ledger).get("finished", 0) == COUNT)
        child.send_signal(signal.SIGINT)
        began = time.monotonic()
        out, err = child.communicate(timeout=20)
        took = time.monotonic() - began
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 130, err.decode()
    assert took < 10, took  # not held by the read of the pipe
    assert _states(ledger) == {"finished": COUNT}
    assert b'"stopping"' in out


def test_a_generator_that_waits_holds_nothing_and_a_stop_ends_the_run(
    sandbox: tuple[str, str], tmp_path: Path
) -> None:
    url, key = sandbox
    released = threading.Event()

    def inputs() -> Iterator[str]:
        for i in range(COUNT):
            yield f"slow-gen-{i}"
        released.wait(60)  # the stream pauses: more work may come later

    ledger = tmp_path / "g.ledger"
    with (
        Truebit(api_key=key, base_url=url) as tb,
        Batch(tb, ledger, concurrency=4, rate=None, hold=False) as batch,
    ):

        def stop_once_done() -> None:
            _until(lambda: batch.summary().finished_ok == COUNT)
            batch.stop()

        stopper = threading.Thread(target=stop_once_done, daemon=True)
        stopper.start()
        began = time.monotonic()
        try:
            summary = batch.run_functions(NS, "echo", inputs())
        finally:
            released.set()
        took = time.monotonic() - began
        stopper.join(5)
    assert summary.finished_ok == COUNT and summary.stopped
    assert summary.in_doubt == 0
    assert took < 20
