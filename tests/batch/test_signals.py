"""``truebit batch`` in a real process, interrupted by real signals at random points, resumed each
time, against a sandbox in its own process (uvicorn on 127.0.0.1): a first SIGINT or SIGTERM lets the
requests in flight finish, so no row is ever left in doubt, no input starts twice, every summary's
counts are the sandbox's for that run, and the last resume completes the batch.

The child starts with SIGINT and SIGTERM *ignored* (set before exec, as a parent shell or a CI runner
may leave them): the command installs its own handlers, so the test does not depend on what the
process inherits. Bounded: 12 rounds of at most a few seconds each, 320 inputs."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import cli_with_signals_ignored

NS = "3a2b5129"
N = 320


@pytest.fixture
def sandbox() -> Iterator[tuple[str, str]]:
    from truebit_facade.sandbox import sandbox_process

    with sandbox_process("--hold", "1", "--max-concurrent", "8") as served:
        yield served


def _stats(url: str) -> dict[str, Any]:
    stats: dict[str, Any] = httpx.get(f"{url}/_sandbox/stats").json()
    return stats


def _settled(url: str) -> dict[str, Any]:
    """The counters once nothing is queued or running (a submitted execution starts when it gets a slot)."""
    deadline = time.monotonic() + 20
    while True:
        stats = _stats(url)
        if (stats["active"] == 0 and stats["queued"] == 0) or time.monotonic() > deadline:
            return stats
        time.sleep(0.05)


def _start(
    url: str, key: str, inputs: Path, ledger: Path, out: Path, resume: bool, rate: str = "20"
) -> subprocess.Popen[bytes]:
    env = dict(os.environ, TRUEBIT_BASE_URL=url, TRUEBIT_API_KEY=key)
    cmd = cli_with_signals_ignored("--json", "batch", NS, "echo", str(inputs), "--ledger", str(ledger))
    cmd += ["--rate", rate, "--concurrency", "8", *(["--resume"] if resume else [])]
    with out.open("wb") as stdout:
        return subprocess.Popen(cmd, env=env, stdout=stdout, stderr=subprocess.PIPE, start_new_session=True)


def _events(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]


@pytest.mark.timeout(180)
def test_sigint_and_sigterm_at_random_points_leave_nothing_in_doubt(
    sandbox: tuple[str, str], tmp_path: Path
) -> None:
    url, key = sandbox
    inputs = tmp_path / "inputs.jsonl"
    texts = [f"signal-{i:04d}" for i in range(N)]
    inputs.write_text("".join(json.dumps({"key": f"k{i}", "input": t}) + "\n" for i, t in enumerate(texts)))
    ledger = tmp_path / "run.ledger"
    rng = random.Random(18)
    rounds: list[tuple[str, int, int, int]] = []
    signals = [signal.SIGINT] * 9 + [signal.SIGTERM] * 3
    for number, signum in enumerate(signals):
        before = _settled(url)["startedTotal"]
        out = tmp_path / f"round-{number}.out"
        child = _start(url, key, inputs, ledger, out, resume=ledger.exists())
        # A random point once the run is under way: between its first submits and a second later.
        started = time.monotonic()
        while child.poll() is None and "submitted" not in out.read_text() and time.monotonic() - started < 20:
            time.sleep(0.01)
        time.sleep(rng.uniform(0.0, 0.6))
        if child.poll() is None:
            child.send_signal(signum)
        code = child.wait(30)
        stderr = child.stderr.read().decode() if child.stderr else ""
        lines = _events(out)
        summary = lines[-1]
        assert summary["event"] == "summary", (lines[-3:], stderr)
        assert code in (130, 0), (code, stderr)
        if code == 130:
            assert summary["stopped"] and summary["exit_code"] == 130
            assert any(e["event"] == "stopping" for e in lines)
            assert "--resume" in stderr
        after = _settled(url)
        # Nothing in doubt, ever: every request in flight at the signal finished and was committed.
        assert summary["in_doubt"] == 0 and summary["submitting"] == 0 and summary["abandoned_this_run"] == 0
        # The run's own counts are the sandbox's: what it submitted is what started.
        assert summary["submitted_this_run"] == after["startedTotal"] - before
        assert summary["submitted_this_run"] == sum(e["event"] == "submitted" for e in lines)
        assert summary["ended_this_run"] == sum(e["event"] in ("finished", "failed") for e in lines)
        assert max(after["startedByInput"].values(), default=0) <= 1  # no input started twice
        rounds.append((signum.name, code, summary["submitted_this_run"], summary["finished"]))
        if summary["complete"]:
            break

    final_out = tmp_path / "final.out"
    final = _start(url, key, inputs, ledger, final_out, resume=True, rate="none")
    assert final.wait(90) == 0, final.stderr.read().decode() if final.stderr else ""
    summary = _events(final_out)[-1]
    assert summary["complete"] and summary["finished_ok"] == N and summary["in_doubt"] == 0
    started = _settled(url)["startedByInput"]
    assert all(started.get(text) == 1 for text in texts)  # every input ran, exactly once
    interrupted = [r for r in rounds if r[1] == 130]
    assert len(interrupted) >= 10, rounds
    print(f"\n{len(rounds)} rounds (signal, exit, submitted, finished so far): {rounds}")
