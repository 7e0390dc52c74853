"""What a batch refuses before it can do harm: a second process on one ledger by another name
(symlink, hard link, relative path), a bad input line (stopping with exit 2 and its number, no row
left submitting or in doubt), a damaged ledger and another job's ledger (usage errors), and a server
hint of a day (the pause is the client's cap)."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from truebit_facade import MAX_RETRY_AFTER, AsyncTruebit, PollPolicy, cli
from truebit_facade.batch import AsyncBatch, Ledger, LedgerBusyError, LedgerError
from truebit_facade.batch._plan import Planner, Sleep, Submit
from truebit_facade.batch._rate import TokenBucket
from truebit_facade.sandbox import FaultConfig, Sandbox, SandboxConfig

NS = "3a2b5129"

_HOLD = (
    "import sys; from truebit_facade.batch import Ledger; ledger = Ledger(sys.argv[1]); "
    "print('ready', flush=True); sys.stdin.read()"
)


def test_a_second_process_on_one_ledger_by_any_name_is_refused(tmp_path: Path, monkeypatch: Any) -> None:
    ledger = tmp_path / "run.ledger"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLD, str(ledger)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == b"ready"
        (tmp_path / "alias.ledger").symlink_to(ledger)
        other = tmp_path / "elsewhere"
        other.mkdir()
        os.link(ledger, other / "hard.ledger")
        monkeypatch.chdir(other)
        for name in (
            tmp_path / "alias.ledger",
            other / "hard.ledger",
            Path("../run.ledger"),
            Path("hard.ledger"),
        ):
            probe = subprocess.run(
                [sys.executable, "-c", _HOLD, str(name)], input=b"", capture_output=True, timeout=60
            )
            assert probe.returncode != 0 and b"LedgerBusyError" in probe.stderr, (name, probe.stderr[-300:])
            with pytest.raises(LedgerBusyError):  # in this process too
                Ledger(name)
    finally:
        holder.communicate(b"", timeout=30)
    # Free again, but still two names: refused, since SQLite names its journal after the path.
    with pytest.raises(LedgerError, match="hard links"):
        Ledger(ledger)
    os.unlink(other / "hard.ledger")
    with Ledger(tmp_path / "alias.ledger"):  # one file, one name (and a symlink to it): fine
        pass


@pytest.fixture
def env(truebit_sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> Sandbox:
    monkeypatch.setenv("TRUEBIT_BASE_URL", truebit_sandbox.url)
    monkeypatch.setenv("TRUEBIT_API_KEY", truebit_sandbox.api_key)
    return truebit_sandbox


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


BAD_LINES = {
    "lone surrogate key": b'{"key": "k\\ud800", "input": "x"}\n',
    "10,000-deep nesting": b"[" * 10_000 + b"]" * 10_000 + b"\n",
    "invalid UTF-8": b'"caf\xe9"\n',
    "a 100 MB line": b'"' + b"a" * (100 << 20) + b'"\n',
}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_a_bad_line_stops_with_exit_2_and_its_number(
    case: str, env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = tmp_path / "in.jsonl"
    with inputs.open("wb") as f:
        f.write(b'"1"\n"2"\n\n')
        f.write(BAD_LINES[case])  # line 4
        f.write(b'"5"\n')
    ledger = tmp_path / "bad.ledger"
    code = cli.main(["--json", "batch", NS, "echo", str(inputs), "--ledger", str(ledger)])
    out = _lines(capsys.readouterr().out)
    assert code == cli.EXIT_USAGE
    error = next(e for e in out if e["event"] == "error")["error"]
    assert "line 4" in error["message"], error
    summary = out[-1]
    assert summary["event"] == "summary" and summary["exit_code"] == 2
    assert summary["in_doubt"] == summary["submitting"] == 0 and summary["wall_seconds"] > 0
    with sqlite3.connect(ledger) as db:
        states = {state for (state,) in db.execute("SELECT state FROM rows")}
    assert states <= {"pending", "submitted", "finished"}  # nothing submitting, nothing in doubt
    assert summary["submitted_this_run"] == sum(e["event"] == "submitted" for e in out)


@pytest.mark.timeout(60)
def test_a_damaged_ledger_and_another_job_s_ledger_are_usage_errors(
    env: Sandbox, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inputs = tmp_path / "in.jsonl"
    inputs.write_text('"1"\n"2"\n')
    ledger = tmp_path / "a.ledger"
    assert cli.main(["batch", NS, "echo", str(inputs), "--ledger", str(ledger)]) == 0
    assert cli.main(["batch", NS, "fibonacci", str(inputs), "--ledger", str(ledger), "--resume"]) == 2
    error = next(e for e in _lines(capsys.readouterr().out) if e["event"] == "error")["error"]
    assert "another batch" in error["message"]

    with sqlite3.connect(ledger) as db:  # checkpointed into the main file, then a page overwritten
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(ledger.read_bytes())
    page = 4096 if len(data) > 8192 else len(data) // 2
    data[page : page + 512] = os.urandom(512)
    ledger.write_bytes(bytes(data))
    code = cli.main(["batch", NS, "echo", str(inputs), "--ledger", str(ledger), "--resume"])
    assert code == 2, capsys.readouterr()
    assert "ledger" in capsys.readouterr().out


def test_a_day_long_retry_after_pauses_the_planner_for_the_shared_cap_only() -> None:
    """On a virtual clock: a refused submit and a refused status read, each with Retry-After: 86400."""
    planner = Planner(
        concurrency=4, max_open=10, poll=PollPolicy(initial=0.5, jitter=0.0), bucket=TokenBucket(None)
    )
    now = 1000.0
    action = planner.next(now, have_input=True)
    planner.submit_refused("item", now, 86400.0, rate_limited=True)
    action = planner.next(now, have_input=False)
    assert isinstance(action, Sleep) and action.until - now == MAX_RETRY_AFTER == 120.0

    from truebit_facade.batch._plan import OpenExecution

    later = now + MAX_RETRY_AFTER
    resent = planner.next(later, have_input=False)
    assert isinstance(resent, Submit) and resent.retry == "item"
    execution = OpenExecution(1, "k", "e1", later)
    planner.submitted(execution, later)
    planner._reads.clear()
    planner.in_flight += 1
    planner.read_failed(execution, later, "slow_down", 86400.0)
    action = planner.next(later, have_input=False)
    assert isinstance(action, Sleep) and action.until - later == pytest.approx(MAX_RETRY_AFTER)


class TestRetryAfterADay:
    """The same on the sandbox, through the real client: its hint reaches the batch whole (the
    client does not retry inside the batch's calls), and the batch's longest pause is the cap."""

    @pytest.fixture(params=["execute", "status"])
    def truebit_sandbox_config(self, request: Any) -> SandboxConfig:
        faults = FaultConfig(sequence=("429_seconds",), retry_after_seconds=86400, endpoints=(request.param,))
        return SandboxConfig(hold_seconds=1, faults=faults)

    @pytest.mark.timeout(60)
    def test_the_longest_pause_is_the_cap(
        self, truebit_sandbox: Sandbox, ledger_path: Path, monkeypatch: Any
    ) -> None:
        sleeps: list[float] = []
        original = Planner.next
        running: list[AsyncBatch] = []

        def spying(planner: Planner, now: float, *, have_input: bool) -> Any:
            action = original(planner, now, have_input=have_input)
            if isinstance(action, Sleep):
                sleeps.append(action.until - now)
                if action.until - now > 60:
                    running[0].stop()  # seen: no need to sit it out
            return action

        monkeypatch.setattr(Planner, "next", spying)

        async def main() -> Any:
            sb = truebit_sandbox
            async with (
                AsyncTruebit(api_key=sb.api_key, base_url=sb.url) as tb,
                # Async submits, so the status variant has a status read to refuse.
                AsyncBatch(tb, ledger_path, rate=None, poll=PollPolicy(initial=0.05), hold=False) as batch,
            ):
                running.append(batch)
                return await batch.run_functions(NS, "echo", ["day-0"])

        summary = asyncio.run(main())
        assert max(sleeps) == pytest.approx(MAX_RETRY_AFTER, abs=0.5), sleeps
        assert summary.rate_limited == 1 and summary.in_doubt == 0
