"""How a batch reads its inputs: each matched to its row in the ledger (a new row, one to submit
again, an execution an earlier run submitted to resume, or a row already done to skip), and the sweep
of executions of earlier runs that this run's inputs did not mention.

A base class of :class:`~._driver.Driver`, which owns the state named below (as :mod:`._requests`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import ValidationError
from ._control import STOP
from ._items import ItemDigest, Job, item_secrets, key_of
from ._plan import OpenExecution, Planner
from ._prefetch import NOT_YET, OnLoop, Prefetch
from ._records import DuplicateKeyError, InputChangedError, LedgerError, RowState
from ._requests import Pending

if TYPE_CHECKING:
    from ._ledger import Ledger

__all__ = ["Inputs"]


class Inputs:
    """The input stream of a run; see the module docstring."""

    _ledger: Ledger
    _job: Job
    _planner: Planner
    _items: Prefetch | OnLoop
    _clock: Callable[[], float]
    _wall: Callable[[], float]
    _run: int
    _position: int
    _digest: ItemDigest | None
    _exhausted: bool
    _next: Pending | None
    _adopt_next: OpenExecution | None
    _sweep_after: int
    _resubmit: bool
    _fatal: BaseException | None
    _level: int

    if TYPE_CHECKING:  # the driver's

        def _fail(self, error: BaseException) -> None: ...

    def _fill(self) -> None:
        """Read inputs until one needs a submit (``_next``), matching each to its row; an input whose
        execution an earlier run submitted is resumed here, when there is room for it."""
        planner = self._planner
        while self._fatal is None and self._level < STOP and self._next is None:
            if self._adopt_next is not None:
                if not planner.has_room:
                    return
                planner.adopt([self._adopt_next], self._clock())
                self._adopt_next = None
            if self._exhausted:
                return
            try:
                item = self._items.take()
                if item is NOT_YET:
                    return  # the stream is slow: the loop goes on, and is woken when it arrives
                self._match(item)
            except StopIteration:
                self._exhausted = True
                planner.sweep()
                return
            except LedgerError as exc:
                self._fail(exc)
            except Exception as exc:  # a bad input, or the input stream itself failing: stop
                self._fail(exc if isinstance(exc, ValidationError) else _stream_error(exc))

    def _match(self, item: Any) -> None:
        ledger, job = self._ledger, self._job
        key, value = key_of(item, self._position)  # checked before anything is written
        self._position += 1
        job.call(value)  # an API call that is not a mapping is refused here, before anything is written
        if self._digest is None:  # the job's part encoded once (the salt is known once bound)
            self._digest = ItemDigest(ledger.salt, job)
        digest = self._digest(value)
        secrets = item_secrets(job, value)
        own = job.kind == "api" and bool(isinstance(value, dict) and value.get("headers"))
        new = ledger.insert_new(key, digest, self._run, own_headers=own)
        if new is not None:
            self._next = (new, key, value, secrets, 0)
            return
        found = ledger.lookup(key)
        assert found is not None
        seq, recorded, state, seen = found
        if seen == self._run:
            raise DuplicateKeyError(key)
        if recorded != digest:
            raise InputChangedError(key)
        ledger.mark_seen(seq, self._run)
        if state is RowState.PENDING or (state is RowState.IN_DOUBT and self._resubmit):
            self._next = (seq, key, value, secrets, 0)
        elif state is RowState.SUBMITTED:
            row = ledger.get(key)
            assert row is not None and row.execution_id is not None
            self._adopt_next = self._resumed(seq, key, row.execution_id, None, secrets)

    def _resumed(
        self, seq: int, key: str, execution_id: str, submitted_at: float | None, secrets: tuple[str, ...]
    ) -> OpenExecution:
        # The poll schedule goes by the execution's age, which outlives the process: wall clock.
        age = 0.0 if submitted_at is None else max(0.0, self._wall() - submitted_at)
        return OpenExecution(seq, key, execution_id, self._clock() - age, secrets=secrets)

    def _sweep(self, limit: int) -> None:
        """A page of executions of earlier runs that this run's inputs did not mention."""
        rows = self._ledger.open_executions(self._run, self._sweep_after, limit)
        if rows:
            self._sweep_after = rows[-1][0]
        shared = item_secrets(self._job, {})
        found = [self._resumed(seq, key, eid, at, shared) for seq, key, eid, at in rows]
        self._planner.adopt(found, self._clock(), exhausted=len(rows) < limit)


def _stream_error(exc: Exception) -> ValidationError:
    """The input stream failed (a generator raising, a file that is not text): a bad input."""
    error = ValidationError("inputs", f"reading the inputs failed: {type(exc).__name__}: {exc}")
    error.__cause__ = exc
    return error
