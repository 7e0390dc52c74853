"""Executions in SQLite (stdlib ``sqlite3``): in memory by default, or a file that survives restarts.

One row per execution: id, kind (``function`` or ``api``), status (``Running`` until the execution ends,
then ``Success`` / ``Indeterminate`` / ``Error``), the request (for API tasks with ``input.headers``
values redacted) and the response body as JSON, their size in bytes, and timestamps. The response body
stored for a finished execution is exactly what the status endpoint returns.

Bounded in count and in bytes: at most ``max_retained`` finished executions, and at most ``max_bytes``
bytes of requests and response bodies in all (running executions' requests included). Beyond either,
the oldest finished executions are deleted (their ids then answer 404), except the one that has just
finished, so its status can still be read; running executions are never evicted. :meth:`usage` says
how many bytes are held and how many executions were evicted since the store was opened (what
``GET /_sandbox/stats`` reports as ``storedBytes`` and ``evictedTotal``). One execution's share is
bounded before it is stored: its input by ``SandboxConfig.max_input_bytes`` and the request body
limit, its output by ``TaskLimits.output_bytes`` (an API task's by ``max_api_response_bytes``).

When a file database is opened, executions left ``Running`` by a sandbox that stopped or was killed
can never finish: they are marked ``Error`` (no ``clearTextSolution``; an API execution also gets an
``errorMsg``), so a client polling them gets a terminal answer instead of waiting forever.

A finished execution's answer is stored as the JSON text the status endpoint sends (UTF-8, compact,
as Starlette renders a ``JSONResponse``), so a read sends it as it is, with no parse and no render
on the server's loop; the encoded answers of the executions finished or read last are kept in
memory too (at most :data:`CACHED_ANSWER_BYTES` in all), one ``bytes`` shared by every reader of
the same execution.

One connection guarded by a lock; safe to use from any thread.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections import OrderedDict
from typing import Any

from .. import ApiTaskStatus, VerificationStatus
from ..rules import RUNNING

__all__ = ["CACHED_ANSWER_BYTES", "ExecutionStore", "answer_text"]

#: The most bytes of encoded answers kept in memory, for the executions finished or read last.
CACHED_ANSWER_BYTES = 64 << 20


def answer_text(body: dict[str, Any]) -> str:
    """A response body as the wire carries it: what Starlette's ``JSONResponse`` renders."""
    return json.dumps(body, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":"))


_SCHEMA = """
CREATE TABLE IF NOT EXISTS executions (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    request TEXT NOT NULL,
    result TEXT,
    created_at REAL NOT NULL,
    finished_at REAL,
    size INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS executions_finished ON executions (finished_at) WHERE finished_at IS NOT NULL;
"""


class ExecutionStore:
    """The sandbox's executions; see the module docstring."""

    def __init__(
        self, path: str | None = None, *, max_retained: int = 10_000, max_bytes: int = 256 << 20
    ) -> None:
        self.path = path or ":memory:"
        self.max_retained = max_retained
        self.max_bytes = max_bytes
        #: Executions deleted to keep the bounds, since the store was opened.
        self.evicted_total = 0
        self._lock = threading.Lock()
        self._answers: OrderedDict[str, bytes] = OrderedDict()  # id -> the encoded answer
        self._answer_bytes = 0
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._add_sizes()
        self.interrupted = self._fail_interrupted()
        row = self._db.execute("SELECT COUNT(finished_at), COALESCE(SUM(size), 0) FROM executions").fetchone()
        self._finished, self._bytes = int(row[0]), int(row[1])
        self._evict()

    def _add_sizes(self) -> None:
        """A database written before rows had a size gets the column, filled from the rows."""
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(executions)")}
        if "size" not in columns:
            self._db.execute("ALTER TABLE executions ADD COLUMN size INTEGER NOT NULL DEFAULT 0")
            self._db.execute(
                "UPDATE executions SET size = length(CAST(request AS BLOB))"
                " + COALESCE(length(CAST(result AS BLOB)), 0)"
            )

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
            result = answer_text(body)
            self._db.execute(
                "UPDATE executions SET status = ?, result = ?, finished_at = ?,"
                " size = length(CAST(request AS BLOB)) + ? WHERE id = ?",
                (VerificationStatus.ERROR.value, result, now, len(result.encode("utf-8")), execution_id),
            )
        return len(rows)

    def create(self, execution_id: str, kind: str, request: dict[str, Any]) -> None:
        """Record a new Running execution."""
        text = json.dumps(request)  # ASCII (non-ASCII escaped): its length is its size in bytes
        with self._lock:
            self._db.execute(
                "INSERT INTO executions (id, kind, status, request, created_at, size) VALUES (?, ?, ?, ?, ?, ?)",
                (execution_id, kind, RUNNING, text, time.time(), len(text)),
            )
            self._bytes += len(text)

    def finish(self, execution_id: str, status: str, result: dict[str, Any]) -> None:
        """Record the final status and response body, then evict beyond the bounds (never this one)."""
        text = answer_text(result)
        data = text.encode("utf-8")
        with self._lock:
            cursor = self._db.execute(
                "UPDATE executions SET status = ?, result = ?, finished_at = ?, size = size + ?"
                " WHERE id = ? AND finished_at IS NULL",
                (status, text, time.time(), len(data), execution_id),
            )
            if cursor.rowcount:
                self._finished += 1
                self._bytes += len(data)
                self._remember(execution_id, data)
            self._evict(keep=execution_id)

    def answer(self, execution_id: str, kind: str | None = None) -> tuple[str, bytes | None] | None:
        """``(status, the encoded response body or None while running)``, or ``None`` if unknown (or
        another kind): what the status endpoint sends, as it is stored."""
        with self._lock:
            row = self._db.execute(
                "SELECT kind, status, finished_at IS NOT NULL FROM executions WHERE id = ?", (execution_id,)
            ).fetchone()
            if row is None or (kind is not None and row[0] != kind):
                return None
            if not row[2]:
                return row[1], None
            data = self._answers.get(execution_id)
            if data is not None:
                self._answers.move_to_end(execution_id)
                return row[1], data
            (text,) = self._db.execute(
                "SELECT result FROM executions WHERE id = ?", (execution_id,)
            ).fetchone()
            data = str(text).encode("utf-8")
            self._remember(execution_id, data)
            return row[1], data

    def _remember(self, execution_id: str, data: bytes) -> None:
        if len(data) > CACHED_ANSWER_BYTES:
            return
        self._answers[execution_id] = data
        self._answer_bytes += len(data)
        while self._answer_bytes > CACHED_ANSWER_BYTES:
            _, dropped = self._answers.popitem(last=False)
            self._answer_bytes -= len(dropped)

    def _forget(self, execution_ids: list[str]) -> None:
        for execution_id in execution_ids:
            dropped = self._answers.pop(execution_id, None)
            if dropped is not None:
                self._answer_bytes -= len(dropped)

    def _evict(self, keep: str | None = None) -> None:
        """Delete the oldest finished executions (but ``keep``) until both bounds hold."""
        while self._finished > self.max_retained or self._bytes > self.max_bytes:
            rows = self._db.execute(
                "SELECT id, size FROM executions WHERE finished_at IS NOT NULL AND id IS NOT ?"
                " ORDER BY finished_at, rowid LIMIT 256",
                (keep,),
            ).fetchall()
            if not rows:
                return  # only running executions (and the one just finished) are left
            doomed: list[str] = []
            count, size = self._finished, self._bytes
            for execution_id, row_size in rows:
                if count <= self.max_retained and size <= self.max_bytes:
                    break
                doomed.append(execution_id)
                count -= 1
                size -= int(row_size)
            marks = ",".join("?" * len(doomed))
            self._db.execute(f"DELETE FROM executions WHERE id IN ({marks})", doomed)
            self._forget(doomed)
            self._finished, self._bytes = count, size
            self.evicted_total += len(doomed)

    def usage(self) -> dict[str, int]:
        """Bytes held, the byte bound and executions evicted so far (as ``GET /_sandbox/stats`` says)."""
        with self._lock:
            return {
                "storedBytes": self._bytes,
                "maxStoredBytes": self.max_bytes,
                "evictedTotal": self.evicted_total,
            }

    def get(self, execution_id: str, kind: str | None = None) -> tuple[str, dict[str, Any] | None] | None:
        """``(status, response body or None while running)``, or ``None`` if unknown (or another kind)."""
        found = self.answer(execution_id, kind)
        if found is None:
            return None
        status, data = found
        return status, (None if data is None else json.loads(data))

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
