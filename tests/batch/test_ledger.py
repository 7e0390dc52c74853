"""The ledger on real SQLite files: states, ordering, locking, another job's ledger."""

from __future__ import annotations

import datetime
import sqlite3
from pathlib import Path

import pytest

from truebit_facade.batch import Ledger, LedgerBusyError, LedgerError, RowState
from truebit_facade.batch._items import Job, item_digest

JOB = Job("function", "3a2b5129", "echo")


def test_transitions_are_on_disk_once_committed(ledger_path: Path) -> None:
    with Ledger(ledger_path) as ledger:
        run = ledger.bind(JOB)
        seq = ledger.insert("a", "d1", run)
        ledger.mark_submitting(seq)
        ledger.commit()
        # Another connection (as a process that starts after a crash would) sees "submitting".
        other = sqlite3.connect(ledger_path)
        assert other.execute("SELECT state, attempts FROM rows WHERE key = 'a'").fetchone() == (
            "submitting",
            1,
        )
        ledger.mark_submitted(seq, "e" * 32, 1.0)
        ledger.commit()
        assert other.execute("SELECT state, execution_id FROM rows").fetchone() == ("submitted", "e" * 32)
        other.close()


def test_recover_turns_submitting_into_in_doubt(ledger_path: Path) -> None:
    with Ledger(ledger_path) as ledger:
        run = ledger.bind(JOB)
        ledger.mark_submitting(ledger.insert("a", "d", run))
        ledger.insert("b", "d", run)
        ledger.commit()
    with Ledger(ledger_path) as ledger:
        ledger.bind(JOB)
        assert ledger.recover() == 1
        row = ledger.get("a")
        assert row is not None and row.state is RowState.IN_DOUBT and row.error is not None
        assert ledger.counts()["pending"] == 1


def test_failed_keeps_the_execution_id_and_orders(ledger_path: Path) -> None:
    with Ledger(ledger_path) as ledger:
        run = ledger.bind(JOB)
        seqs = [ledger.insert(str(i), "d", run) for i in range(1200)]  # more than a page
        for seq in seqs:
            ledger.mark_submitted(seq, f"{seq:032x}", 0.0)
        for seq in reversed(seqs):  # complete in reverse order
            if seq % 2:
                ledger.mark_finished(seq, ok=True, status="Success", output=str(seq), raw={}, reads=2, at=0.0)
            else:
                ledger.mark_failed(seq, {"type": "ExecutionNotFoundError", "message": "404"}, reads=1, at=0.0)
        ledger.commit()
        by_input = [r.seq for r in ledger.rows("input")]
        by_completion = [r.seq for r in ledger.rows("completion")]
        assert by_input == seqs and by_completion == seqs[::-1]
        failed = ledger.get("1")
        assert failed is not None and failed.state is RowState.FAILED and failed.execution_id == f"{2:032x}"
        counts = ledger.counts()
        assert (counts["finished"], counts["failed"], counts["reads"]) == (600, 600, 1800)


def test_one_process_at_a_time(ledger_path: Path) -> None:
    with Ledger(ledger_path), pytest.raises(LedgerBusyError):
        Ledger(ledger_path)
    Ledger(ledger_path).close()  # released


def test_another_jobs_ledger_is_refused(ledger_path: Path) -> None:
    with Ledger(ledger_path) as ledger:
        ledger.bind(JOB)
    with Ledger(ledger_path) as ledger, pytest.raises(LedgerError, match="another batch"):
        ledger.bind(Job("function", "3a2b5129", "fibonacci"))


def test_not_a_ledger(tmp_path: Path) -> None:
    path = tmp_path / "junk"
    path.write_bytes(b"not sqlite at all" * 100)
    with pytest.raises(LedgerError):
        Ledger(path)


@pytest.mark.parametrize(
    ("job", "value", "expected"),
    [
        (
            Job("function", "3a2b5129", "echo", {"timeout": datetime.timedelta(seconds=5)}),
            {"b": [1, 2.5, "\u00e9"], "a": None},
            "4864a1d6a4e6e131f74df0dc5d5e259364db98c1a3546146e93c2af4cb3aa4d8",
        ),
        (
            Job("api", "ns", "t", {"method": "GET"}, {"Authorization": "x"}),
            {"path": "/v1", "headers": {"X-Key": "s3cret"}, "params": {"z": 1, "a": 2}},
            "07211d487a2e3333c210774862f76ce718171272b66fbb27891cf78af9837929",
        ),
        (
            Job("function", "ns", "t"),
            "plain text input",
            "724df40bcb9a641f1d86252b91b8068c49de474e229fcfd74510241fd1e2f430",
        ),
    ],
)
def test_an_items_digest_is_the_one_every_ledger_was_written_with(
    job: Job, value: object, expected: str
) -> None:
    # Ledgers on disk hold these digests: a different one would refuse every input of a resumed
    # batch as changed. Computed by the first release's item_digest, with this salt.
    assert item_digest(bytes(range(16)), job, value) == expected
    rotated = (
        {**value, "headers": {"X-Key": "renewed"}}
        if isinstance(value, dict) and "headers" in value
        else value
    )
    assert item_digest(bytes(range(16)), job, rotated) == expected  # header values are not part of it
