"""Executions in SQLite (stdlib ``sqlite3``): in memory by default, or a file that survives restarts.

One row per execution: id, kind (``function`` or ``api``), status (``Running`` until the execution ends,
then ``Success`` / ``Indeterminate`` / ``Error``), the request (for API tasks with ``input.headers``
values redacted) and the response body as JSON, and timestamps. The response body stored for a finished execution is exactly what the status endpoint
returns. At most ``max_retained`` finished executions are kept: beyond that the oldest finished ones
are deleted (their ids then answer 404). Running executions are never evicted.

When a file database is opened, executions left ``Running`` by a sandbox that stopped or was killed
can never finish: they are marked ``Error`` (no ``clearTextSolution``; an API execution also gets an
``errorMsg``), so a client polling them gets a terminal answer instead of waiting forever.

One connection guarded by a lock; safe to use from any thread.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from typing import Any

from .. import ApiTaskStatus, VerificationStatus
from ..rules import RUNNING

__all__ = ["ExecutionStore"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS executions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    request TEXT NOT NULL,
    result TEXT,
    created_at REAL NOT NULL,
    finished_at REAL
);
CREATE INDEX IF NOT EXISTS executions_finished ON executions (finished_at) WHERE finished_at IS NOT NULL;
"""


class ExecutionStore:
    """The sandbox's executions; see the module docstring."""

    def __init__(self, path: str | None = None, *, max_retained: int = 10_000) -> None:
        self.path = path or ":memory:"
        self.max_retained = max_retained
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self.interrupted = self._fail_interrupted()
        row = self._db.execute("SELECT COUNT(*) FROM executions WHERE finished_at IS NOT NULL").fetchone()
        self._finished = int(row[0])
        self._evict()

    def _fail_interrupted(self) -> int:
        """Mark executions a previous process left Running as Error; return how many."""
        rows = self._db.execute("SELECT id, kind FROM executions WHERE status = ?", (RUNNING,)).fetchall()
        now = time.time()
        for execution_id, kind in rows:
            if kind == "api":
                message = "the sandbox stopped before the call ended"
                body = {"executionId": execution_id, "status": ApiTaskStatus.ERROR, "errorMsg": message}
            else:
                body = {"executionId": execution_id, "verificationStatus": VerificationStatus.ERROR}
            result = json.dumps(body)
            self._db.execute(
                "UPDATE executions SET status = ?, result = ?, finished_at = ? WHERE id = ?",
                (VerificationStatus.ERROR.value, result, now, execution_id),
            )
        return len(rows)

    def create(self, execution_id: str, kind: str, request: dict[str, Any]) -> None:
        """Record a new Running execution."""
        with self._lock:
            self._db.execute(
                "INSERT INTO executions (id, kind, status, request, created_at) VALUES (?, ?, ?, ?, ?)",
                (execution_id, kind, RUNNING, json.dumps(request), time.time()),
            )

    def finish(self, execution_id: str, status: str, result: dict[str, Any]) -> None:
        """Record the final status and response body, then evict beyond the retention bound."""
        with self._lock:
            cursor = self._db.execute(
                "UPDATE executions SET status = ?, result = ?, finished_at = ? WHERE id = ? AND finished_at IS NULL",
                (status, json.dumps(result), time.time(), execution_id),
            )
            self._finished += cursor.rowcount
            self._evict()

    def _evict(self) -> None:
        excess = self._finished - self.max_retained
        if excess > 0:
            cursor = self._db.execute(
                "DELETE FROM executions WHERE id IN (SELECT id FROM executions WHERE finished_at IS NOT NULL"
                " ORDER BY finished_at, rowid LIMIT ?)",
                (excess,),
            )
            self._finished -= cursor.rowcount

    def get(self, execution_id: str, kind: str | None = None) -> tuple[str, dict[str, Any] | None] | None:
        """``(status, response body or None while running)``, or ``None`` if unknown (or another kind)."""
        with self._lock:
            row = self._db.execute(
                "SELECT kind, status, result FROM executions WHERE id = ?", (execution_id,)
            ).fetchone()
        if row is None or (kind is not None and row[0] != kind):
            return None
        return row[1], (json.loads(row[2]) if row[2] is not None else None)

    def request_of(self, execution_id: str) -> dict[str, Any] | None:
        """The stored request body of an execution."""
        with self._lock:
            row = self._db.execute("SELECT request FROM executions WHERE id = ?", (execution_id,)).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def counts(self) -> dict[str, int]:
        """Number of executions by status."""
        with self._lock:
            rows = self._db.execute("SELECT status, COUNT(*) FROM executions GROUP BY status").fetchall()
        return {status: int(n) for status, n in rows}

    def close(self) -> None:
        with self._lock:
            self._db.close()
