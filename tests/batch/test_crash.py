"""The batch process SIGKILLed mid-run against a sandbox in its own process (file DB, uvicorn on
127.0.0.1), then run again on the same ledger: the sandbox's start counters prove that every input
ran exactly once, except those reported in doubt (which ran at most once: never silently again), and
every result is in the ledger. Bounded in count (400 inputs) and time."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

NS = "3a2b5129"
N = 400


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[str, str]]:
    from truebit_facade.sandbox import sandbox_process

    db = tmp_path / "sandbox.db"
    with sandbox_process("--db", str(db), "--hold", "1", "--max-concurrent", "8") as served:
        yield served


def _count(ledger: Path, state: str) -> int:
    if not ledger.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{ledger}?mode=ro", uri=True, timeout=1) as db:
            (n,) = db.execute("SELECT COUNT(*) FROM rows WHERE state = ?", (state,)).fetchone()
            return int(n)
    except sqlite3.Error:  # the table may not exist yet
        return 0


def _batch(url: str, key: str, inputs: Path, ledger: Path, out: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = dict(os.environ, TRUEBIT_BASE_URL=url, TRUEBIT_API_KEY=key)
    cmd = [sys.executable, "-m", "truebit_facade.cli", "--json", "batch", NS, "echo", str(inputs)]
    cmd += ["--ledger", str(ledger), "--rate", "80", "--concurrency", "16", *extra]
    with out.open("wb") as stdout:
        return subprocess.Popen(cmd, env=env, stdout=stdout, stderr=subprocess.STDOUT, start_new_session=True)


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_sigkill_mid_run_then_resume_runs_everything_exactly_once(
    sandbox: tuple[str, str], tmp_path: Path
) -> None:
    url, key = sandbox
    inputs = tmp_path / "inputs.jsonl"
    inputs.write_text(
        "".join(json.dumps({"key": f"k{i}", "input": f"crash-{i:04d}"}) + "\n" for i in range(N))
    )
    ledger = tmp_path / "run.ledger"

    first = _batch(url, key, inputs, ledger, tmp_path / "first.out")
    deadline = time.monotonic() + 60
    while _count(ledger, "finished") < N // 5:
        assert first.poll() is None, (tmp_path / "first.out").read_text()[-2000:]
        assert time.monotonic() < deadline, "the first run made no progress"
        time.sleep(0.02)
    # Preferably while a submit is on the wire (a committed "submitting" row), the case that matters.
    soon = time.monotonic() + 5
    while _count(ledger, "submitting") == 0 and time.monotonic() < soon and first.poll() is None:
        time.sleep(0.001)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(10)
    killed_at = _count(ledger, "finished")
    open_at_kill = _count(ledger, "submitted")
    assert killed_at < N, "the run ended before it could be killed"

    second = _batch(url, key, inputs, ledger, tmp_path / "second.out", "--resume")
    assert second.wait(150) in (0, 5), (tmp_path / "second.out").read_text()[-2000:]
    lines = [json.loads(line) for line in (tmp_path / "second.out").read_text().splitlines()]
    summary = lines[-1]
    reported_in_doubt = {e["key"] for e in lines if e.get("event") == "in_doubt"}
    submitted_again = {e["key"] for e in lines if e.get("event") == "submitted"}

    started = httpx.get(f"{url}/_sandbox/stats").json()["startedByInput"]
    with sqlite3.connect(ledger) as db:
        rows = db.execute("SELECT key, state, execution_id, output FROM rows").fetchall()
    assert len(rows) == N
    states = {state for _, state, _, _ in rows}
    assert states <= {"finished", "in_doubt"}, states
    for row_key, state, execution_id, output in rows:
        text = f"crash-{int(row_key[1:]):04d}"
        if state == "finished":
            assert started.get(text) == 1, (row_key, started.get(text))  # ran once, never twice
            assert execution_id and json.loads(output) == text  # its result is in the ledger
        else:
            assert row_key in reported_in_doubt and row_key not in submitted_again
            assert started.get(text, 0) <= 1  # the POST may or may not have arrived: never resent
    in_doubt = len(reported_in_doubt)
    assert summary["event"] == "summary" and summary["in_doubt"] == in_doubt
    assert summary["finished"] == N - in_doubt and summary["complete"] is (in_doubt == 0)
    print(
        f"\nkilled after {killed_at}/{N} finished, {open_at_kill} open; resumed: {summary['submitted_this_run']} submitted, "
        f"{summary['ended_this_run']} ended, {in_doubt} in doubt; "
        f"every finished input started exactly once ({sum(started.values())} starts in all)"
    )
