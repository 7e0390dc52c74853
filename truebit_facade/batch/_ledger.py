"""The durable ledger of a batch: one SQLite file (standard library ``sqlite3``), one row per input.

Rows are keyed by the input's key and hold its state, a digest of the input (``_items.item_digest``),
the execution id once known, and the result or error. Writes are grouped: the driver calls
:meth:`Ledger.commit` before any request starts, so every transition is on disk before the I/O it
announces, at the cost of one commit per batch of requests rather than one per row.

Never written: the inputs themselves (the caller gives them again on resume), header values and the
API key. Results are scrubbed of the row's header values before they are written.

Durability: WAL journal. ``durable=True`` (the default) uses ``synchronous=FULL``: a commit survives
a power cut. ``durable=False`` uses ``NORMAL``: it survives the process's death (SIGKILL, OOM) but a
power cut may lose the last commits — including a ``submitting`` row, which would then be submitted
again. One process at a time: an advisory ``flock`` on the ledger file itself, so every name of the
file meets it (POSIX; :class:`LedgerBusyError`); a file with several hard links is refused. SQLite's
errors (a damaged page, a full disk) surface as :class:`LedgerError`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import urllib.parse
from collections.abc import Iterator
from typing import Any, Literal

from ._items import Job
from ._records import BatchRow, LedgerBusyError, LedgerError, RowState

__all__ = ["Ledger"]

SCHEMA_VERSION = "1"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS rows (
    seq INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    digest TEXT NOT NULL,
    state TEXT NOT NULL,
    execution_id TEXT,
    submitted_at REAL,
    finished_at REAL,
    done_seq INTEGER,
    ok INTEGER,
    status TEXT,
    output TEXT,
    result TEXT,
    error TEXT,
    reads INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    seen INTEGER NOT NULL DEFAULT 0,
    own_headers INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS rows_by_state ON rows (state, seq);
CREATE UNIQUE INDEX IF NOT EXISTS rows_by_done ON rows (done_seq) WHERE done_seq IS NOT NULL;
"""


class _Guarded:
    """The connection, with SQLite's errors as :class:`LedgerError` (a damaged page, a full disk):
    the batch's callers see one error type, which the CLI reports as a usage error."""

    __slots__ = ("_db", "_path")

    def __init__(self, path: str, db: sqlite3.Connection) -> None:
        self._path, self._db = path, db

    def _error(self, exc: sqlite3.Error) -> LedgerError:
        error = LedgerError(f"{self._path}: the ledger cannot be read or written ({exc}); it may be damaged")
        error.__cause__ = exc
        return error

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        try:
            return self._db.execute(sql, params)
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def all(self, sql: str, params: Any = ()) -> list[Any]:
        try:
            return self._db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def one(self, sql: str, params: Any = ()) -> Any:
        try:
            return self._db.execute(sql, params).fetchone()
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def executescript(self, sql: str) -> None:
        try:
            self._db.executescript(sql)
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def commit(self) -> None:
        try:
            self._db.commit()
        except sqlite3.Error as exc:
            raise self._error(exc) from exc

    def close(self) -> None:
        self._db.close()


_ROW = "key, seq, state, execution_id, ok, status, output, result, error, reads, attempts, done_seq"
_PAGE = 500


#: Made once: ``json.dumps`` with options builds an encoder on every call (two per finished task).
_dump = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


class Ledger:
    """A batch's ledger at ``path`` (created if missing). Use as a context manager or :meth:`close`."""

    def __init__(self, path: str | os.PathLike[str], *, durable: bool = True, lock: bool = True) -> None:
        self.path = os.fspath(path)
        self._lock_fd: int | None = None
        self._read_db: _Guarded | None = None
        self._reader_lock = threading.Lock()
        # The file, not the name: symlinks resolved, so that SQLite names its journal after the file.
        real = os.path.realpath(self.path)
        if lock:
            self._take_lock(real)
        try:
            self._db = _Guarded(
                self.path, sqlite3.connect(real, isolation_level="DEFERRED", check_same_thread=False)
            )
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self._db.executescript(_SCHEMA)
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
            self._db.execute("INSERT OR IGNORE INTO meta VALUES ('salt', ?)", (os.urandom(16).hex(),))
            self._db.commit()
            if self._meta("schema") != SCHEMA_VERSION:
                raise LedgerError(f"{self.path}: ledger format {self._meta('schema')!r} is not supported")
            self.salt = bytes.fromhex(self._meta("salt") or "")
            (last,) = self._db.one("SELECT COALESCE(MAX(done_seq), 0) FROM rows")
        except (LedgerError, sqlite3.Error, OSError) as exc:
            self.close()
            if isinstance(exc, LedgerError):
                raise
            raise LedgerError(f"{self.path} is not a usable batch ledger: {exc}") from exc
        self._done_seq = int(last)
        self.dirty = False

    # --- lifecycle -------------------------------------------------------------------------------

    def _take_lock(self, real: str) -> None:
        """An exclusive ``flock`` on the ledger file itself: the kernel keeps it on the inode, so every
        way of naming the file (a symlink, a hard link, a relative path, a bind mount) meets it, in
        this process or another. Released when the descriptor closes (also when the process dies)."""
        try:
            import fcntl
        except ImportError:  # not POSIX: no advisory lock (documented)
            return
        try:
            fd = os.open(real, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o600)
        except OSError as exc:
            raise LedgerError(f"{self.path}: cannot open the ledger: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(fd)
            raise LedgerBusyError(
                f"another batch (in this process or another) is running on {self.path}; wait for it, or use "
                "another ledger"
            ) from None
        links = os.fstat(fd).st_nlink
        if links > 1:
            os.close(fd)
            # SQLite names the journal (-wal) after the path: a run through another name after a crash
            # would not see the commits the journal of the first name holds.
            raise LedgerError(
                f"{self.path} has {links} names (hard links); a ledger must have one: its journal is named "
                "after it. Remove the other links"
            )
        self._lock_fd = fd

    def _release_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    def close(self) -> None:
        db = getattr(self, "_db", None)
        self._db = None  # type: ignore[assignment]
        if self._read_db is not None:
            self._read_db.close()
            self._read_db = None
        try:
            if db is not None:
                try:
                    db.commit()
                finally:
                    db.close()
        finally:
            self._release_lock()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def commit(self) -> None:
        if self.dirty:
            self._db.commit()
            self.dirty = False

    def _write(self, sql: str, params: tuple[Any, ...]) -> sqlite3.Cursor:
        self.dirty = True
        return self._db.execute(sql, params)

    def _meta(self, name: str) -> str | None:
        row = self._db.one("SELECT value FROM meta WHERE name = ?", (name,))
        return None if row is None else str(row[0])

    # --- the job and the run ---------------------------------------------------------------------

    def bind(self, job: Job) -> int:
        """Check that this ledger is ``job``'s (record it if new) and start a run; returns its number."""
        identity = json.dumps(job.identity(), sort_keys=True)
        recorded = self._meta("job")
        if recorded is None:
            self._write("INSERT INTO meta VALUES ('job', ?)", (identity,))
        elif recorded != identity:
            raise LedgerError(
                f"{self.path} is the ledger of another batch ({recorded}); use a new ledger path"
            )
        run = int(self._meta("runs") or 0) + 1
        self._write("INSERT OR REPLACE INTO meta VALUES ('runs', ?)", (str(run),))
        self.commit()
        return run

    def job(self) -> dict[str, str] | None:
        recorded = self._meta("job")
        return None if recorded is None else dict(json.loads(recorded))

    def recover(self) -> int:
        """Rows left ``submitting`` by a run that died: the POST may have gone out, so they are in
        doubt. Returns how many."""
        cur = self._write(
            "UPDATE rows SET state = 'in_doubt', error = ? WHERE state = 'submitting'",
            (_dump({"type": "Interrupted", "message": "the run stopped while submitting it"}),),
        )
        self.commit()
        return cur.rowcount

    # --- rows --------------------------------------------------------------------------------------

    def lookup(self, key: str) -> tuple[int, str, RowState, int] | None:
        """``(seq, digest, state, seen)`` of the row for ``key``."""
        row = self._db.one("SELECT seq, digest, state, seen FROM rows WHERE key = ?", (key,))
        return None if row is None else (row[0], row[1], RowState(row[2]), row[3])

    def insert(self, key: str, digest: str, run: int, *, own_headers: bool = False) -> int:
        """A new pending row. ``own_headers``: the input injects headers of its own (their values are
        needed to scrub its answers, so only a run that is given the input again resumes it)."""
        cur = self._write(
            "INSERT INTO rows (key, digest, state, seen, own_headers) VALUES (?, ?, 'pending', ?, ?)",
            (key, digest, run, int(own_headers)),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    def insert_new(self, key: str, digest: str, run: int, *, own_headers: bool = False) -> int | None:
        """:meth:`insert` when ``key`` has no row yet (its ``seq``), else ``None`` (nothing written):
        one statement for a new key instead of a :meth:`lookup` and an insert."""
        cur = self._write(
            "INSERT INTO rows (key, digest, state, seen, own_headers) VALUES (?, ?, 'pending', ?, ?) "
            "ON CONFLICT (key) DO NOTHING",
            (key, digest, run, int(own_headers)),
        )
        return cur.lastrowid if cur.rowcount == 1 else None

    def mark_seen(self, seq: int, run: int) -> None:
        self._write("UPDATE rows SET seen = ? WHERE seq = ?", (run, seq))

    def mark_submitting(self, seq: int) -> None:
        self._write(
            "UPDATE rows SET state = 'submitting', attempts = attempts + 1, error = NULL WHERE seq = ?",
            (seq,),
        )

    def mark_pending(self, seq: int) -> None:
        self._write("UPDATE rows SET state = 'pending' WHERE seq = ?", (seq,))

    def mark_submitted(self, seq: int, execution_id: str, at: float) -> None:
        self._write(
            "UPDATE rows SET state = 'submitted', execution_id = ?, submitted_at = ? WHERE seq = ?",
            (execution_id, at, seq),
        )

    def mark_in_doubt(self, seq: int, error: dict[str, Any]) -> None:
        self._write("UPDATE rows SET state = 'in_doubt', error = ? WHERE seq = ?", (_dump(error), seq))

    def _next_done(self) -> int:
        self._done_seq += 1
        return self._done_seq

    def mark_finished(
        self,
        seq: int,
        *,
        ok: bool,
        status: str | None,
        output: Any,
        raw: Any,
        reads: int,
        at: float,
        submitted: tuple[str, float] | None = None,
    ) -> None:
        """``submitted``: the execution id and its time, when they come with the result (a held
        submit): :meth:`mark_submitted` and this in one statement."""
        eid, submitted_at = submitted if submitted is not None else (None, None)
        self._write(
            "UPDATE rows SET state = 'finished', ok = ?, status = ?, output = ?, result = ?, error = NULL, "
            "reads = reads + ?, finished_at = ?, done_seq = ?, execution_id = COALESCE(?, execution_id), "
            "submitted_at = COALESCE(?, submitted_at) WHERE seq = ?",
            (
                int(ok),
                status,
                _dump(output),
                _dump(raw),
                reads,
                at,
                self._next_done(),
                eid,
                submitted_at,
                seq,
            ),
        )

    def mark_failed(self, seq: int, error: dict[str, Any], *, reads: int, at: float) -> None:
        """Failed for good; an execution id already recorded is kept."""
        self._write(
            "UPDATE rows SET state = 'failed', error = ?, reads = reads + ?, finished_at = ?, done_seq = ? "
            "WHERE seq = ?",
            (_dump(error), reads, at, self._next_done(), seq),
        )

    def add_reads(self, seq: int, reads: int) -> None:
        """Reads of an execution still open when a run stops (so the per-task figure stays honest)."""
        if reads:
            self._write("UPDATE rows SET reads = reads + ? WHERE seq = ?", (reads, seq))

    def open_executions(self, run: int, after_seq: int, limit: int) -> list[tuple[int, str, str, float]]:
        """``(seq, key, execution_id, submitted_at)`` of rows submitted by an earlier run whose input
        this run was not given (and that inject no headers of their own), after ``after_seq``."""
        return self._db.all(
            "SELECT seq, key, execution_id, submitted_at FROM rows WHERE state = 'submitted' AND seq > ? "
            "AND seen != ? AND own_headers = 0 ORDER BY seq LIMIT ?",
            (after_seq, run, limit),
        )

    # --- reading back ------------------------------------------------------------------------------

    def counts(self, *, reader: bool = False) -> dict[str, int]:
        """Rows per state, plus ``finished_ok``, ``indeterminate`` (finished unverified), ``total`` and
        ``reads`` (of ended rows). ``reader``: as for :meth:`page`."""
        db = self._reader() if reader else self._db
        found = {state.value: 0 for state in RowState}
        ok = unverified = reads = 0
        for state, n, state_ok, state_unverified, state_reads in db.all(
            "SELECT state, COUNT(*), SUM(ok = 1), SUM(ok = 0 AND status = 'Indeterminate'), "
            "COALESCE(SUM(reads), 0) FROM rows GROUP BY state"
        ):
            found[state] = n
            if state == "finished":
                ok, unverified = int(state_ok or 0), int(state_unverified or 0)
            if state in ("finished", "failed"):
                reads += int(state_reads)
        found["finished_ok"] = ok
        found["indeterminate"] = unverified
        found["total"] = sum(found[state.value] for state in RowState)
        found["reads"] = reads
        return found

    def rows(
        self, order: Literal["input", "completion"] = "input", *, state: RowState | None = None
    ) -> Iterator[BatchRow]:
        """Every row (or those in ``state``), in input order or in completion order (only ended rows
        have one), read page by page: memory stays bounded whatever the ledger's size."""
        after: int | None = 0
        while after is not None:
            page, after = self.page(order, state, after)
            yield from page

    def page(
        self,
        order: Literal["input", "completion"],
        state: RowState | None,
        after: int,
        *,
        reader: bool = False,
    ) -> tuple[list[BatchRow], int | None]:
        """One page of :meth:`rows` after position ``after``, and the position of the next (``None``:
        the last page). ``reader``: through a read-only connection of its own, so that another thread
        may read while a run writes (``AsyncBatch`` reads pages off its event loop)."""
        if order not in ("input", "completion"):
            raise ValueError(f"order must be 'input' or 'completion', not {order!r}")
        column = "seq" if order == "input" else "done_seq"
        where = f"{column} > ?" + ("" if order == "input" else f" AND {column} IS NOT NULL")
        params: tuple[Any, ...] = ()
        if state is not None:
            where += " AND state = ?"
            params = (state.value,)
        db = self._reader() if reader else self._db
        found = db.all(
            f"SELECT {_ROW} FROM rows WHERE {where} ORDER BY {column} LIMIT {_PAGE}", (after, *params)
        )
        page = [BatchRow.from_sql(row) for row in found]
        if len(found) < _PAGE:
            return page, None
        return page, found[-1][1] if order == "input" else found[-1][11]

    def _reader(self) -> _Guarded:
        with self._reader_lock:
            if self._read_db is None:
                uri = "file:" + urllib.parse.quote(os.path.realpath(self.path)) + "?mode=ro"
                self._read_db = _Guarded(self.path, sqlite3.connect(uri, uri=True, check_same_thread=False))
            return self._read_db

    def get(self, key: str) -> BatchRow | None:
        row = self._db.one(f"SELECT {_ROW} FROM rows WHERE key = ?", (key,))
        return None if row is None else BatchRow.from_sql(row)
