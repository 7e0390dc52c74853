"""An input stream that stops arriving (a pipe whose writer pauses; a generator that waits, given
through ``read_ahead``) holds nothing: the answers already in are committed, and a stop (a real
SIGINT to a real ``truebit batch`` process, ``Batch.stop()`` from another thread) ends the run at
once, with no row left in doubt. By default the inputs are taken on the batch's loop, where they were
made: an iterator tied to its thread works, and one reused after a stop loses nothing.
Against a sandbox in its own process (uvicorn on 127.0.0.1). Bounded: 12 inputs, a few seconds."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import cli_with_signals_ignored
from truebit_facade import Truebit
from truebit_facade.batch import Batch, BatchItem, read_ahead

NS = "3a2b5129"
COUNT = 12


@pytest.fixture(scope="module")
def sandbox() -> Iterator[tuple[str, str]]:
    from truebit_facade.sandbox import sandbox_process

    with sandbox_process("--hold", "1", "--max-concurrent", "8") as served:
        yield served


def _states(ledger: Path) -> dict[str, int]:
    """The ledger's rows by state; none while the batch has not yet written its tables."""
    try:
        with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True) as db:
            return {state: n for state, n in db.execute("SELECT state, COUNT(*) FROM rows GROUP BY state")}
    except sqlite3.OperationalError:
        return {}


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
    cmd = cli_with_signals_ignored("--json", "batch", NS, "echo", "--ledger", str(ledger), "--hold", "never")
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
        child.wait(timeout=20)  # stdin still open: the reader is still blocked in its read
        took = time.monotonic() - began
        assert child.stdout is not None and child.stderr is not None
        out, err = child.stdout.read(), child.stderr.read()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 130, err.decode()  # not an abort at exit on stdin's lock (-6)
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
            summary = batch.run_functions(NS, "echo", read_ahead(inputs()))
        finally:
            released.set()
        took = time.monotonic() - began
        stopper.join(5)
    assert summary.finished_ok == COUNT and summary.stopped
    assert summary.in_doubt == 0
    assert took < 20


def test_by_default_inputs_are_taken_where_the_batch_runs_and_a_reused_iterator_loses_none(
    sandbox: tuple[str, str], tmp_path: Path
) -> None:
    import sqlite3 as sqlite

    url, key = sandbox
    db = sqlite.connect(":memory:")  # usable only in this thread
    db.execute("CREATE TABLE t (v TEXT)")
    db.executemany("INSERT INTO t VALUES (?)", [(f"reuse-{i}",) for i in range(COUNT)])
    taken: list[str] = []

    def inputs() -> Iterator[BatchItem]:
        for (value,) in db.execute("SELECT v FROM t ORDER BY v"):
            taken.append(value)
            yield BatchItem(value, value)  # keyed: the second run goes on with the same keys

    stream = inputs()
    with (
        Truebit(api_key=key, base_url=url) as tb,
        Batch(tb, tmp_path / "r.ledger", concurrency=2, rate=None) as batch,
    ):
        first = batch.run_functions(NS, "echo", (x for _, x in zip(range(5), stream, strict=False)))
        rest = batch.run_functions(NS, "echo", stream)  # the same iterator goes on: nothing skipped
    assert first.finished_ok == 5 and rest.finished_ok == COUNT
    assert len(taken) == COUNT
